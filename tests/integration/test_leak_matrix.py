"""The leak matrix: three real nodes, every marking, audience, partner cap and path.

Jamaica runs two nodes (jm1 and jm2) and Trinidad and Tobago one (tt). jm1 holds one object
per TLP level in a collection per audience kind, and objects it received from both partners.
Every path then runs (TAXII as each kind of user and as each partner's sync account, the web
UI, exports, pull, push, and bundles by partner and by nation) under every cap jm1 can set for
its partners, and disabled. Each run asserts the exact set of jm1's objects each user and node
holds, computed from the sharing table in docs/security.md, which this test reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from seawall.core import organisations, partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.errors import PartnerDisabled
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import Partner
from seawall.db.models.intel import IntelObject
from seawall.db.models.intel_sync import IntelOutbox, IntelSyncCursor
from seawall.intel import search
from seawall.intel.bundles import export_bundle, open_bundle
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.identity import identity_id
from seawall.intel.provenance import receive
from seawall.intel.sharing import may_take
from seawall.intel.store import writing
from seawall.intel.sync import sync
from seawall.intel.taxii import MEDIA_TYPE
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.app import create_app
from tests.conftest import EPOCH, LiveServer, free_port, make_node, serve_in_thread, sign_in_by_form

ROOT = Path(__file__).resolve().parents[2]
STAMP = "2026-11-01T10:00:00.000Z"
PASSWORD = "matrix-password-1"
CAPS = ("clear", "green", "amber", "amber+strict", "red", "disabled")
CARICOM = {"JM", "TT"}  # both are members; the groups of the nations in this test


@dataclass(frozen=True)
class Rule:
    """One row of the sharing table."""

    admits: frozenset[str]
    objects: str
    cells: dict[Tlp, str]


def sharing_table() -> dict[str, Rule]:
    """The table under "## Sharing rules" in docs/security.md, by recipient class."""
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## Sharing rules", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, Rule] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = re.match(r"`([a-z-]+)`:", cells[0]) if len(cells) == 8 else None
        if key is None:
            continue
        admits = frozenset(re.findall(r"`([a-z]+)`", cells[1]))
        objects = cells[2].strip("`")
        levels = dict(zip(sorted(Tlp), cells[3:], strict=True))
        rules[key.group(1)] = Rule(admits, objects, levels)
    assert set(rules) == {
        "user-org",
        "user-nation",
        "user-abroad",
        "partner-nation",
        "partner-abroad",
        "partner-disabled",
    }
    return rules


@dataclass(frozen=True)
class Held:
    """One object on jm1, with what the rules need to know about it."""

    id: str
    tlp: Tlp
    audience: Audience
    nation: str
    org: str | None
    submitted_by: str
    received: bool


@dataclass(frozen=True)
class Who:
    """A recipient: a user of jm1, its operator, or a partner node reading jm1."""

    kind: str  # user, operator, partner
    nation: str
    org: str | None = None
    username: str = ""
    partner: str = ""
    cap: Tlp = Tlp.RED
    disabled: bool = False


def receives(rules: dict[str, Rule], obj: Held, who: Who) -> bool:
    """Whether the table lets ``obj`` reach ``who``."""
    if who.kind == "partner":
        if who.disabled:
            key = "partner-disabled"
        else:
            key = "partner-nation" if who.nation == obj.nation else "partner-abroad"
    elif who.org is not None and who.org == obj.org:
        key = "user-org"
    else:
        key = "user-nation" if who.nation == obj.nation else "user-abroad"
    rule = rules[key]
    audience = obj.audience
    kinds = set()
    if audience.is_open:
        kinds.add("open")
    if who.nation in audience.nations:
        kinds.add("nation")
    if who.org is not None and who.org in audience.organisations:
        kinds.add("organisation")
    if set(audience.groups) & ({"CARICOM"} if who.nation in CARICOM else set()):
        kinds.add("group")
    if who.partner and who.partner in audience.partners:
        kinds.add("partner")
    admitted = who.kind == "operator" or bool(kinds & rule.admits)
    if not admitted or rule.objects == "none":
        return False
    if rule.objects == "own" and (obj.received or obj.nation != "JM"):
        return False
    named = who.kind != "partner" and (
        who.username == obj.submitted_by
        or (who.org is not None and who.org in audience.organisations)
    )
    cell = rule.cells[obj.tlp]
    if named:
        return True
    return cell == "yes" or (cell == "cap" and obj.tlp <= who.cap)


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, f'matrix/{name}')}"


def indicator(name: str, tlp: Tlp, creator: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": _id("indicator", name),
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[domain-name:value = '{abs(hash(name)) % 10**8}.matrix.example']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking_id(tlp)],
    }
    if creator:
        obj["created_by_ref"] = identity_id(creator)
    return obj


@dataclass
class Node3:
    """A node served on 127.0.0.1."""

    name: str
    node: Node
    port: int
    live: LiveServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ids(self, among: set[str]) -> set[str]:
        with self.node.unit(self.node.operator()) as ctx:
            return set(ctx.db.scalars(select(IntelObject.stix_id))) & among


@dataclass
class Matrix:
    """jm1, jm2 and tt, with jm1's objects, users and partner records."""

    jm1: Node3
    jm2: Node3
    tt: Node3
    held: dict[str, Held] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    people: dict[str, Who] = field(default_factory=dict)

    @property
    def all_ids(self) -> set[str]:
        return set(self.held)

    def expected(self, rules: dict[str, Rule], who: Who) -> set[str]:
        return {i for i, obj in self.held.items() if receives(rules, obj, who)}

    def partner_as_recipient(self, name: str) -> Who:
        with self.jm1.node.unit(self.jm1.node.operator()) as ctx:
            record = partners.get_partner(ctx, name)
            cap = Tlp[record.max_tlp.upper().replace("+", "_")]
            return Who("partner", record.nation, partner=name, cap=cap, disabled=record.disabled)


AUDIENCES = {
    "aud-open": Audience(),
    "aud-nation-jm": Audience.of(nations=["JM"]),
    "aud-nation-tt": Audience.of(nations=["JM", "TT"]),
    "aud-partner": Audience.of(partners=["tt-node", "jm2-node"]),
    "aud-group": Audience.of(groups=["CARICOM"]),
}


def _site(tmp: Path, name: str, nation: str) -> Node3:
    site = Node3(name, make_node(tmp / name, None, FrozenClock(EPOCH), nation), free_port())
    site.live = serve_in_thread(create_app(node=site.node), site.port)
    return site


def _account(host: Node3, record: str, guest: Node3, url: str) -> str:
    """A sync account on ``host`` for ``guest``, bound to host's record ``record``."""
    with host.node.unit(host.node.operator()) as ctx:
        if ctx.db.scalar(select(Partner).where(Partner.name == record)) is None:
            partners.add_partner(ctx, record, guest.node.nation, url, max_tlp="red")
        username = f"sync-{record}"
        users.add_user(ctx, username, "analyst", partner=record)
        return tokens.create_token(ctx, "sync", [], username=username).value


def _link(site: Node3, record: str, other: Node3, token: str) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        if ctx.db.scalar(select(Partner).where(Partner.name == record)) is None:
            partners.add_partner(ctx, record, other.node.nation, other.url, max_tlp="red")
        public = load_node_key(other.node.settings).public_text
        link_partner(ctx, site.node.settings, record, token=token, public_key=public)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    tmp = tmp_path_factory.mktemp("matrix")
    jm1, jm2, tt = _site(tmp, "jm1", "JM"), _site(tmp, "jm2", "JM"), _site(tmp, "tt", "TT")
    made = Matrix(jm1, jm2, tt)
    # Each node registers the others; each sync account is bound to its host's record.
    for guest, host, record in ((tt, jm1, "tt-node"), (jm2, jm1, "jm2-node")):
        _link(guest, "jm1-node", jm1, _account(host, record, guest, guest.url))
        _link(jm1, record, guest, _account(guest, "jm1-node", jm1, jm1.url))
    with jm1.node.unit(jm1.node.operator()) as ctx:
        cirt = organisations.add_org(ctx, "JaCIRT", "cirt")
        ministry = organisations.add_org(ctx, "Ministry", "ministry")
        tt_cirt = organisations.add_org(ctx, "TT-CSIRT", "cirt", "TT")
        for name, role, nation, org in (
            ("jm-cirt", "analyst", "JM", cirt.id),
            ("jm-min", "viewer", "JM", ministry.id),
            ("tt-guest", "viewer", "TT", tt_cirt.id),
        ):
            users.add_user(ctx, name, role, password=PASSWORD, nation=nation, org=org)
            made.secrets[name] = tokens.create_token(ctx, "m", [], username=name).value
            made.people[name] = Who("user", nation, org, name)
        audiences = {
            **AUDIENCES,
            "aud-org": Audience.of(organisations=[cirt.id, tt_cirt.id]),
            "received": Audience.of(
                nations=["JM", "TT"], partners=["tt-node", "jm2-node"], groups=["CARICOM"]
            ),
        }
        for alias, audience in audiences.items():
            create_collection(ctx, alias, alias, audience, "green")
        analyst = users.principal_of(users.get_user(ctx, "jm-cirt"))
    for alias, audience in audiences.items():
        if alias == "received":
            continue
        # A partner-only audience admits no user: its objects come from the operator.
        writer = jm1.node.operator() if alias == "aud-partner" else analyst
        with jm1.node.unit(writer) as ctx:
            objects = [indicator(f"{alias}/{level.key}", level) for level in Tlp]
            result = writing.add_objects(ctx, get_collection(ctx, alias), objects)
            assert len(result.added) == len(Tlp), result
        for obj, level in zip(objects, Tlp, strict=True):
            made.held[obj["id"]] = Held(
                obj["id"], level, audience, "JM", writer.org_id, writer.username, False
            )
    with jm1.node.unit(jm1.node.operator()) as ctx:
        received = get_collection(ctx, "received")
        for record, nation in (("tt-node", "TT"), ("jm2-node", "JM")):
            partner = partners.get_partner(ctx, record)
            sent = [indicator(f"{record}/{level.key}", level, nation) for level in Tlp]
            got = receive(ctx, partner, received, sent, "matrix")
            taken = [level for level in Tlp if may_take(level, partner)]
            assert got.added == len(taken) and len(got.withheld) == len(Tlp) - len(taken)
            for obj, level in zip(sent, Tlp, strict=True):
                if level in taken:
                    made.held[obj["id"]] = Held(
                        obj["id"], level, audiences["received"], nation, None,
                        f"partner:{record}", True,
                    )  # fmt: skip
    # Where jm1's objects land on the partners: a collection per alias, shared with jm1.
    for site in (jm2, tt):
        with site.node.unit(site.node.operator()) as ctx:
            for alias in audiences:
                shared = Audience.of(nations=[site.node.nation], partners=["jm1-node"])
                create_collection(ctx, alias, alias, shared, "green")
    yield made
    for site in (jm1, jm2, tt):
        assert site.live is not None
        site.live.stop()
        site.node.close()


def test_the_matrix_holds_every_marking_and_audience(matrix: Matrix) -> None:
    levels = {obj.tlp for obj in matrix.held.values() if not obj.received}
    assert levels == set(Tlp) and len(matrix.held) >= 30 + 4


def test_users_read_exactly_what_the_table_allows_on_every_path(matrix: Matrix) -> None:
    rules = sharing_table()
    jm1 = matrix.jm1
    operator = Who("operator", "JM", username="operator")
    with jm1.node.unit(jm1.node.operator()) as ctx:
        exported = _export(ctx)
    assert exported == matrix.expected(rules, operator)
    for name, who in matrix.people.items():
        expected = matrix.expected(rules, who)
        assert expected and expected != matrix.all_ids, name
        assert _taxii(jm1, matrix.secrets[name]) == expected, name
        assert _ui(jm1, name) == expected, name
        with jm1.node.unit(jm1.node.operator()) as ctx:
            principal = users.principal_of(users.get_user(ctx, name))
        with jm1.node.unit(principal) as ctx:
            assert _export(ctx) == expected, name
            assert _searched(ctx, matrix) == expected, name


@pytest.mark.parametrize("cap", CAPS)
def test_partners_receive_exactly_what_the_table_allows_on_every_path(
    matrix: Matrix, cap: str
) -> None:
    rules = sharing_table()
    _set_caps(matrix, cap)
    for record, site in (("tt-node", matrix.tt), ("jm2-node", matrix.jm2)):
        who = matrix.partner_as_recipient(record)
        expected = matrix.expected(rules, who)
        # The table leaves something to send under every cap but disabled: the test bites.
        assert bool(expected) == (cap != "disabled"), (record, cap)
        # TAXII, as the partner's sync account reads jm1 (the source of every pull).
        token = _stored_token(site)
        assert _taxii(matrix.jm1, token) == expected, (record, cap, "taxii")
        # Pull: the partner's node pulls from jm1.
        _reset(matrix)
        _directions(site, "jm1-node", pull=True, push=False)
        sync(site.node, "jm1-node")
        assert site.ids(matrix.all_ids) == expected, (record, cap, "pull")
        # Push: jm1 pushes to the partner's node.
        _reset(matrix)
        _directions(matrix.jm1, record, pull=False, push=True)
        sync(matrix.jm1.node, record)
        assert site.ids(matrix.all_ids) == expected, (record, cap, "push")
        # Offline bundles, to the partner by name and to its nation (its only partner there).
        for to in (record, site.node.nation):
            assert _bundled(matrix, to) == expected, (record, cap, "bundle", to)


def _taxii(site: Node3, token: str) -> set[str]:
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
    found: set[str] = set()
    with httpx.Client(base_url=f"{site.url}/taxii2/api/", headers=headers, timeout=20) as http:
        listed = http.get("collections/")
        if listed.status_code in (401, 403):
            # A disabled partner's account is refused outright: 401 when its token is read
            # afresh, 403 (partner_disabled) from a token verified in the last two seconds.
            return found
        assert listed.status_code == 200, listed.text
        for collection in listed.json().get("collections", []):
            page = http.get(
                f"collections/{collection['id']}/objects/",
                params={"match[version]": "all", "limit": "10000"},
            )
            assert page.status_code == 200, page.text
            found |= {o["id"] for o in page.json().get("objects", [])}
    return found - {identity_id("JM"), identity_id("TT")}


def _ui(site: Node3, username: str) -> set[str]:
    found: set[str] = set()
    with httpx.Client(base_url=site.url, timeout=20) as http:
        signed = sign_in_by_form(http, username, PASSWORD)
        assert signed.status_code in (200, 303), signed.text[:300]
        for alias in [*AUDIENCES, "aud-org", "received"]:
            page = http.get(f"/intel/collections/{alias}")
            if page.status_code == 404:
                continue
            assert page.status_code == 200, page.text[:300]
            found |= set(re.findall(r"/objects/(indicator--[0-9a-f-]{36})", page.text))
    return found


def _export(ctx: Any) -> set[str]:
    done = search.export(ctx, "stix", search.readable_collections(ctx), "m", "matrix", True)
    return {o["id"] for o in done.document["objects"] if o["type"] == "indicator"}


def _searched(ctx: Any, matrix: Matrix) -> set[str]:
    return {f.id for f in search.search(ctx, "matrix.example", limit=1000)} & matrix.all_ids


def _bundled(matrix: Matrix, to: str) -> set[str]:
    jm1 = matrix.jm1
    with jm1.node.unit(jm1.node.operator()) as ctx:
        try:
            data = export_bundle(ctx, jm1.node.settings, to).data
        except PartnerDisabled:
            return set()
    sender = Partner(
        name="jm1", nation="JM", public_key=load_node_key(jm1.node.settings).public_text
    )
    return {o["id"] for o in open_bundle(data, [sender]).objects} - {identity_id("JM")}


def _set_caps(matrix: Matrix, cap: str) -> None:
    with matrix.jm1.node.unit(matrix.jm1.node.operator()) as ctx:
        for record in ("tt-node", "jm2-node"):
            partner = partners.get_partner(ctx, record)
            partner.disabled = cap == "disabled"
            partner.max_tlp = "red" if cap == "disabled" else cap


def _directions(site: Node3, record: str, pull: bool, push: bool) -> None:
    with site.node.unit(site.node.operator()) as ctx:
        partner = partners.get_partner(ctx, record)
        partner.pull, partner.push = pull, push


def _stored_token(site: Node3) -> str:
    from seawall.core.federation.links import partner_token

    with site.node.unit(site.node.operator()) as ctx:
        partner = partners.get_partner(ctx, "jm1-node")
        return partner_token(ctx, site.node.settings, partner)


def _reset(matrix: Matrix) -> None:
    """Forget every exchange of jm1's objects: partners' copies, cursors, queue, backoff."""
    for site in (matrix.jm1, matrix.jm2, matrix.tt):
        with site.node.unit(site.node.operator()) as ctx:
            if site is not matrix.jm1:
                ctx.db.execute(
                    delete(IntelObject).where(IntelObject.submitted_by == "partner:jm1-node")
                )
            ctx.db.execute(delete(IntelSyncCursor))
            ctx.db.execute(delete(IntelOutbox))
            for partner in partners.list_partners(ctx):
                from seawall.core.federation.links import link_state

                state = link_state(ctx, partner.id)
                state.failures, state.next_attempt_at = 0, None
