"""Admission, attacked: who may define, version, delete and speak for what (review findings).

Each test is a reviewer's attack on the store's admission rules, seen to succeed before the
rules were tightened: same-nation partners versioning or deleting the host's objects, an
identity copied to speak for it, nation identities in upper case, sightings claimed for
other nations, a marking id squatted, names the node acts under, tokens a partner minted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from seawall.core import organisations, partners, tokens, users
from seawall.core.access import Principal
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models.intel import IntelObject
from seawall.errors import Forbidden, InvalidInput
from seawall.intel import taxii
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.errors import ObjectNotFound
from seawall.intel.identity import identity_id
from seawall.intel.matching import sightings
from seawall.intel.store import reading, writing
from seawall.intel.store.reading import Filters
from seawall.intel.tlp import TLP2_EXTENSION, Tlp, marking_id
from tests.conftest import EPOCH, make_node

STAMP = "2026-11-01T10:00:00.000Z"
LATER = "2026-11-05T10:00:00.000Z"


def ind(
    tag: str, tlp: Tlp | None = Tlp.GREEN, modified: str = STAMP, **extra: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, tag)}",
        "created": STAMP,
        "modified": modified,
        "pattern": "[domain-name:value = 'evil.example']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        **extra,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


class World:
    def __init__(self, node: Node) -> None:
        self.node = node

    def who(self, username: str) -> Principal:
        with self.node.unit(self.node.operator()) as ctx:
            return users.principal_of(users.get_user(ctx, username))

    def add(
        self, username: str, collection: str, objects: list[dict[str, Any]]
    ) -> writing.AddResult:
        with self.node.unit(self.who(username)) as ctx:
            return writing.add_objects(ctx, get_collection(ctx, collection), objects)

    def read(self, username: str, collection: str, stix_id: str) -> list[dict[str, Any]]:
        with self.node.unit(self.who(username)) as ctx:
            col = get_collection(ctx, collection)
            page = reading.query_objects(ctx, col, Filters(ids=(stix_id,), versions=("all",)))
            return [o.as_dict() for o in page.objects]

    def rows(self, stix_id: str) -> list[tuple[str, str, str, int]]:
        with self.node.unit(self.node.operator()) as ctx:
            return [
                (r.collection_id, r.owner_nation, r.submitted_by, r.tlp)
                for r in ctx.db.scalars(select(IntelObject).where(IntelObject.stix_id == stix_id))
            ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    with node.unit(node.operator()) as ctx:
        cirt = organisations.add_org(ctx, "JaCIRT", "cirt")
        bank = organisations.add_org(ctx, "Bank of JM", "regulator")
        partners.add_partner(ctx, "jm2-node", "JM", "https://jm2.example", max_tlp="amber")
        partners.add_partner(ctx, "tt-node", "TT", "https://tt.example", max_tlp="green")
        users.add_user(ctx, "jm-analyst", "analyst", org=cirt.id)
        users.add_user(ctx, "jm-bank", "analyst", org=bank.id)
        users.add_user(ctx, "bb-person", "analyst", nation="BB")
        users.add_user(ctx, "sync-jm2", "analyst", partner="jm2-node")
        users.add_user(ctx, "sync-tt", "analyst", partner="tt-node")
        # Shared with both partner nodes (and JM users).
        create_collection(
            ctx, "shared", "Shared", Audience.of(nations=["JM"], partners=["jm2-node", "tt-node"])
        )
        create_collection(
            ctx, "shared-2", "Shared 2", Audience.of(nations=["JM"], partners=["tt-node"])
        )
        # An open collection on this node: every user, never a partner.
        create_collection(ctx, "open", "Open", Audience())
        # The bank's private collection (not shared with any partner).
        create_collection(ctx, "bank-only", "Bank", Audience.of(organisations=[bank.id]))
    yield World(node)
    node.close()


# --- F1: a same-nation partner's sync account deletes the host nation's own objects ----------


def test_f1_same_nation_partner_deletes_host_objects(world: World) -> None:
    obj = ind("host-green")
    assert len(world.add("jm-analyst", "shared", [obj]).added) == 1
    with world.node.unit(world.who("sync-jm2")) as ctx, pytest.raises(ObjectNotFound):
        taxii.delete_object(ctx, "shared", obj["id"], Filters(versions=("all",)))
    assert world.rows(obj["id"]), "jm2's sync account deleted JM's own indicator on jm1"


# --- F1b: ... and versions (overwrites / revokes) them --------------------------------------


def test_f1b_same_nation_partner_versions_host_objects(world: World) -> None:
    obj = ind("host-green-2")
    world.add("jm-analyst", "shared", [obj])
    revoked = {**obj, "modified": LATER, "revoked": True}
    result = world.add("sync-jm2", "shared", [revoked])
    # STIX 2.1 s3.6: only the creator (JM's node, which stamps JM's identity on the way out)
    # versions an object; the store says every version keeps the creator of those before it.
    assert not result.added, "jm2 revoked jm1's indicator; jm1 users now read it as revoked"
    assert "belongs to JM" in result.rejected[0].message
    # A local user of the same nation versions it: it is JM's.
    assert world.add("jm-bank", "shared", [{**obj, "modified": LATER}]).added


# --- F2: read-after-write oracle on hidden objects (SCO ids are derived from the value) -------


def test_f2_write_then_read_confirms_a_hidden_object(world: World) -> None:
    secret_ip = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--"
        + str(
            uuid.uuid5(
                uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"),
                json.dumps({"value": "203.0.113.77"}),
            )
        ),
        "value": "203.0.113.77",
        "object_marking_refs": [marking_id(Tlp.AMBER)],
    }
    world.add("jm-analyst", "open", [secret_ip])
    probe = {k: v for k, v in secret_ip.items() if k != "object_marking_refs"}
    probe["object_marking_refs"] = [marking_id(Tlp.CLEAR)]
    other = {**probe, "id": "ipv4-addr--" + str(uuid.uuid4()), "value": "203.0.113.78"}
    answer = world.add("bb-person", "open", [probe, other])
    assert len(answer.accepted) == 2 and not answer.discarded
    # Reading back tells nothing: the writer's own copy of the address is there.
    seen_hidden = world.read("bb-person", "open", probe["id"])
    seen_free = world.read("bb-person", "open", other["id"])
    assert bool(seen_hidden) == bool(seen_free), "read-back reveals the hidden AMBER address"


# --- F3: created_by_ref laundering: copy another nation's identity, then speak as it ----------


def test_f3_partner_launders_a_foreign_identity_then_attributes_to_it(world: World) -> None:
    bank_identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "bank-of-jm")),
        "created": STAMP,
        "modified": STAMP,
        "name": "Bank of Jamaica CSIRT",
        "identity_class": "organization",
        # As JM's users submit it; stamp_creator never stamps identities on the way out.
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }
    world.add("jm-analyst", "shared", [bank_identity])
    forged = ind("tt-forged", created_by_ref=bank_identity["id"])
    first = world.add("sync-tt", "shared", [forged])
    assert first.rejected, "sanity: the rule refuses it at first"
    # TT received the identity by sync; it sends the very same copy back, then speaks for it.
    # (Into another collection shared with it: in "shared" it would be a duplicate.)
    copy = world.add("sync-tt", "shared-2", [bank_identity])
    again = world.add("sync-tt", "shared", [forged])
    assert not again.added, (
        f"identity copy accepted ({len(copy.added)} added); TT now stores objects "
        "created_by_ref the Bank of Jamaica's identity"
    )


# --- F4: uppercase spelling of a nation's identity passes the nation check ------------------


def test_f4_uppercase_nation_identity_is_not_recognised(world: World) -> None:
    jm_upper = identity_id("JM").upper().replace("IDENTITY--", "identity--")
    forged = ind("tt-upper", created_by_ref=jm_upper)
    fake_identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": jm_upper,
        "created": STAMP,
        "modified": STAMP,
        "name": "Jamaica national cyber node (JM)",
        "identity_class": "organization",
        "object_marking_refs": [marking_id(Tlp.CLEAR)],
    }
    result = world.add("sync-tt", "shared", [fake_identity, forged])
    assert not result.added, (
        "TT stored JM's identity (and attributed an indicator to it) in upper case"
    )


# --- F5: the identity check is an oracle on hidden identities, and names their nation -------


def test_f5_created_by_ref_check_reveals_hidden_identity(world: World) -> None:
    hidden = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "victim-org")),
        "created": STAMP,
        "modified": STAMP,
        "name": "Victim Utility Ltd",
        "identity_class": "organization",
        "object_marking_refs": [marking_id(Tlp.RED)],
    }
    world.add("jm-bank", "bank-only", [hidden])
    probe = ind("probe", created_by_ref=hidden["id"])
    result = world.add("bb-person", "open", [probe])
    messages = [r.message for r in result.rejected]
    assert not messages, f"a hidden identity is confirmed to a BB user: {messages}"


# --- F6: a partner's sync account mints long-lived tokens the host cannot list --------------


def test_f6_a_partner_account_mints_no_tokens_and_its_host_sees_its_own(world: World) -> None:
    with world.node.unit(world.who("sync-tt")) as ctx, pytest.raises(Forbidden):
        tokens.create_token(ctx, "mine", [], days=3650)
    with world.node.unit(world.node.operator()) as ctx:
        issued = tokens.create_token(ctx, "sync", [], username="sync-tt")
    with world.node.unit(world.node.operator()) as ctx:
        assert issued.token.id in {t.id for t, _ in tokens.list_tokens(ctx)}
        assert "sync-tt" in {u.username for u in users.list_users(ctx)}


# --- F7: sightings attributed to other nations by where_sighted_refs ------------------------


def test_f7_partner_sighting_claims_other_nations(world: World) -> None:
    target = ind("campaign")
    world.add("jm-analyst", "shared", [target])
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "sighting_of_ref": target["id"],
        "count": 50,
        "where_sighted_refs": [identity_id(n) for n in ("JM", "BB", "LC", "GD")],
        "created_by_ref": identity_id("TT"),
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }
    result = world.add("sync-tt", "shared", [sighting])
    with world.node.unit(world.who("jm-analyst")) as ctx:
        rows = sightings.regional_sightings(ctx)
    nations = set(rows[0].nations) if rows else set()
    assert nations <= {"TT"}, f"TT's one sighting counts as {sorted(nations)}"
    assert "where_sighted_refs names JM" in result.rejected[0].message


# --- F6b: ... and the operator cannot revoke the partner account's token either -------------


def test_f6b_the_host_revokes_a_partner_accounts_token(world: World) -> None:
    with world.node.unit(world.node.operator()) as ctx:
        issued = tokens.create_token(ctx, "sync", [], username="sync-tt")
    with world.node.unit(world.node.operator()) as ctx:
        assert tokens.revoke_token(ctx, issued.token.id).revoked_at is not None


# --- F9: a user named "operator" is the *named* recipient of everything the CLI submitted ---


def test_f9_no_user_takes_a_name_the_node_acts_under(world: World) -> None:
    with world.node.unit(world.node.operator()) as ctx:
        for name in ("operator", "anonymous", "demo"):
            with pytest.raises(InvalidInput, match="the node's own"):
                users.add_user(ctx, name, "viewer", nation="BB")


# --- F11: marking-id squatting: the first definer (another nation) fixes the level ----------


def test_f11_partner_squats_a_marking_id_and_reads_what_it_covers(world: World) -> None:
    # A regional custom marking whose id is published (e.g. in a CARICOM handling guide).
    regional = f"marking-definition--{uuid.uuid5(uuid.NAMESPACE_URL, 'caricom/amber-gov')}"

    def definition(level: str, creator: str) -> dict[str, Any]:
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": regional,
            "created": STAMP,
            "created_by_ref": identity_id(creator),
            "name": "CARICOM government handling",
            "extensions": {
                TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}
            },
        }

    assert world.add("sync-tt", "shared", [definition("clear", "TT")]).added  # TT defines first
    secret = ind("jm-marked-red", tlp=None, object_marking_refs=[regional])
    world.add("jm-analyst", "shared", [definition("red", "JM"), secret])
    assert not world.read("sync-tt", "shared", secret["id"]), (
        "JM's object, marked with JM's RED definition, is read by TT's account as CLEAR"
    )


# --- control (passes): a partner learns nothing of a newer hidden version --------------------


def test_a_partner_learns_nothing_of_a_newer_hidden_version(world: World) -> None:
    v1 = ind("two-versions", Tlp.GREEN)
    v2 = ind("two-versions", Tlp.AMBER, modified=LATER)
    world.add("jm-analyst", "shared", [v1, v2])
    with world.node.unit(world.who("sync-tt")) as ctx:
        col = get_collection(ctx, "shared")
        last = reading.query_objects(ctx, col, Filters()).objects
        vers = reading.get_versions(ctx, col, v1["id"], Filters()).objects
        one = reading.get_object(ctx, col, v1["id"], Filters(versions=("last",))).objects
    assert [o.version.isoformat() for o in last] == [o.version.isoformat() for o in vers]
    assert len(last) == len(vers) == len(one) == 1 and last[0].tlp == Tlp.GREEN


# --- cost: what the writer may read is decided once per collection, not once per row --------


def test_rows_in_the_way_cost_one_audience_lookup_per_collection(world: World) -> None:
    with world.node.unit(world.node.operator()) as ctx:
        create_collection(ctx, "region", "Region", Audience.of(groups=["CARICOM"]))
    hosts = [ind(f"region-{n}") for n in range(6)]
    world.add("jm-analyst", "region", hosts)
    versions = [{**obj, "modified": LATER} for obj in hosts]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with world.node.unit(world.who("bb-person")) as ctx:
        collection = get_collection(ctx, "region")
        engine = ctx.db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            result = writing.add_objects(ctx, collection, versions)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(result.rejected) == len(versions)
    lookups = [s for s in statements if "region_membership" in s.lower()]
    assert len(lookups) <= 2, f"{len(lookups)} region lookups for one collection"
