"""Signed offline bundles between two real nodes: TLP for the recipient, signature, sender."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.federation.errors import InvalidPublicKey
from seawall.core.federation.identity import key_path, load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import Partner
from seawall.db.models.intel import IntelObject
from seawall.errors import Forbidden, InvalidInput, NotFound
from seawall.intel.bundles import export_bundle, import_bundle, open_bundle, read_frame
from seawall.intel.collections import Audience, create_collection
from seawall.intel.errors import (
    BundleNotForThisNation,
    BundleSenderUnknown,
    BundleSignatureInvalid,
    BundleUnreadable,
)
from seawall.intel.identity import identity_id
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id
from tests.conftest import EPOCH, make_node

STAMP = "2026-11-01T10:00:00.000Z"
BUNDLE_ERRORS = (BundleUnreadable, BundleSignatureInvalid, BundleSenderUnknown)


def indicator(n: int, tlp: Tlp | None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'bundle/{n}')}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[domain-name:value = 'bad{n}.example']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


LEVELS: list[Tlp | None] = [None, *Tlp]


@dataclass
class Pair:
    """A Jamaican sender and a Trinidadian receiver that know each other's keys."""

    jm: Node
    tt: Node
    sent: dict[Tlp | None, dict[str, Any]]

    def count(self, node: Node) -> int:
        with node.unit(node.operator()) as ctx:
            return ctx.db.scalar(select(func.count()).select_from(IntelObject)) or 0

    def ids(self, node: Node) -> set[str]:
        with node.unit(node.operator()) as ctx:
            return set(ctx.db.scalars(select(IntelObject.stix_id)))

    def export(self, to: str = "jm-partner-tt", collection: str | None = None) -> bytes:
        with self.jm.unit(self.jm.operator()) as ctx:
            return export_bundle(ctx, self.jm.settings, to, collection).data

    def load(self, data: bytes, node: Node | None = None) -> Any:
        target = node or self.tt
        with target.unit(target.operator()) as ctx:
            return import_bundle(ctx, target.settings, data)


def _pair(tmp: Path) -> Pair:
    jm = make_node(tmp / "jm", None, FrozenClock(EPOCH), "JM")
    tt = make_node(tmp / "tt", None, FrozenClock(EPOCH), "TT")
    sent = {level: indicator(i, level) for i, level in enumerate(LEVELS)}
    with jm.unit(jm.operator()) as ctx:
        row = create_collection(ctx, "shared", "Shared", Audience.of(nations=["TT", "BB"]), "green")
        writing.add_objects(ctx, row, list(sent.values()))
        partners.add_partner(ctx, "jm-partner-tt", "TT", "https://tt.example", max_tlp="red")
    with tt.unit(tt.operator()) as ctx:
        partners.add_partner(ctx, "jm-node", "JM", "https://jm.example")
        link_partner(ctx, tt.settings, "jm-node", public_key=load_node_key(jm.settings).public_text)
    return Pair(jm, tt, sent)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = _pair(tmp_path)
    yield made
    made.jm.close()
    made.tt.close()


def test_the_signing_key_is_made_once_with_mode_0600(pair: Pair) -> None:
    first = load_node_key(pair.jm.settings)
    assert stat.S_IMODE(os.stat(key_path(pair.jm.settings)).st_mode) == 0o600
    assert load_node_key(pair.jm.settings).public_text == first.public_text
    assert first.public_text.startswith("ed25519:") and len(first.key_id) == 16


def test_a_bundle_carries_only_what_the_recipient_nation_may_read(pair: Pair) -> None:
    data = pair.export()
    header, _, payload = read_frame(data)
    assert data.startswith(b"SEAWALL-INTEL-BUNDLE/1\n")
    assert payload[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame of the STIX bundle
    assert json.loads(zstandard.ZstdDecompressor().decompress(payload))["type"] == "bundle"
    assert json.loads(header)["recipient"] == {"nation": "TT", "partner": "jm-partner-tt"}
    done = pair.load(data)
    public = {pair.sent[level]["id"] for level in (None, Tlp.CLEAR, Tlp.GREEN)}
    assert pair.ids(pair.tt) == public | {identity_id("JM")}
    assert done.received.added == 4 and done.partner == "jm-node"
    # The sender's nation identity names the objects that had no creator.
    with pair.tt.unit(pair.tt.operator()) as ctx:
        bodies = [json.loads(b) for b in ctx.db.scalars(select(IntelObject.body))]
        owners = set(ctx.db.scalars(select(IntelObject.owner_nation)))
    assert all(
        b.get("created_by_ref") == identity_id("JM") for b in bodies if b["type"] != "identity"
    )
    assert owners == {"JM"}
    # Importing the same bundle again adds nothing.
    assert pair.load(data).received.duplicates == 4


def test_a_bundle_for_a_bare_nation_goes_to_its_partner_under_its_cap(pair: Pair) -> None:
    with pair.jm.unit(pair.jm.operator()) as ctx:
        partners.add_partner(ctx, "bb-node", "BB", "https://bb.example", max_tlp="clear")
    sender = Partner(
        name="jm-node", nation="JM", public_key=load_node_key(pair.jm.settings).public_text
    )
    opened = open_bundle(pair.export("BB"), [sender])
    # The cap is CLEAR: the unmarked object travels under the collection's GREEN default.
    assert {o["id"] for o in opened.objects} == {identity_id("JM"), pair.sent[Tlp.CLEAR]["id"]}
    assert opened.recipient_nation == "BB"


def test_a_bundle_for_a_nation_without_one_partner_is_refused(pair: Pair) -> None:
    with pytest.raises(NotFound, match="no partner of LC"):
        pair.export("LC")
    with pair.jm.unit(pair.jm.operator()) as ctx:
        partners.add_partner(ctx, "tt-second", "TT", "https://tt2.example")
    with pytest.raises(InvalidInput, match="several partners"):
        pair.export("TT")


def test_a_bundle_leaves_out_collections_not_shared_with_the_partner(pair: Pair) -> None:
    private = indicator(99, Tlp.CLEAR)
    public = indicator(98, Tlp.CLEAR)
    with pair.jm.unit(pair.jm.operator()) as ctx:
        home = create_collection(ctx, "home", "Home", Audience.of(nations=["JM"]), "clear")
        writing.add_objects(ctx, home, [private])
        everyone = create_collection(ctx, "everyone", "Everyone", Audience(), "clear")
        writing.add_objects(ctx, everyone, [public])
    opened = open_bundle(pair.export(), [_sender(pair)])
    ids = {o["id"] for o in opened.objects}
    assert private["id"] not in ids and public["id"] not in ids
    assert set(opened.placement) == {"shared"}
    with pytest.raises(Forbidden, match="not shared with jm-partner-tt"):
        pair.export(collection="home")


def _sender(pair: Pair) -> Partner:
    return Partner(
        name="jm-node", nation="JM", public_key=load_node_key(pair.jm.settings).public_text
    )


def test_only_the_nodes_own_nation_may_have_a_bundle_made(pair: Pair) -> None:
    # A Trinidadian account on the Jamaican node reads through TAXII as TT; it must not get
    # a bundle of Jamaica's objects addressed to TT, which would skip the policy for readers.
    guest = Principal("tt-analyst", "TT", Role.ANALYST)
    with pytest.raises(NotFound), pair.jm.unit(guest) as ctx:
        export_bundle(ctx, pair.jm.settings, "TT")


def test_a_bundle_for_another_nation_is_refused(pair: Pair, tmp_path: Path) -> None:
    bb = make_node(tmp_path / "bb", None, FrozenClock(EPOCH), "BB")
    try:
        with bb.unit(bb.operator()) as ctx:
            partners.add_partner(ctx, "jm-node", "JM", "https://jm.example")
            link_partner(
                ctx, bb.settings, "jm-node", public_key=load_node_key(pair.jm.settings).public_text
            )
        with pytest.raises(BundleNotForThisNation, match="filtered for TT, not BB"):
            pair.load(pair.export(), bb)
        assert pair.count(bb) == 0
    finally:
        bb.close()


def test_a_bundle_from_an_unregistered_key_is_refused(pair: Pair, tmp_path: Path) -> None:
    data = pair.export()
    with pair.tt.unit(pair.tt.operator()) as ctx:
        other = make_node(tmp_path / "other", None, FrozenClock(EPOCH), "JM")
        link_partner(
            ctx, pair.tt.settings, "jm-node", public_key=load_node_key(other.settings).public_text
        )
        other.close()
    with pytest.raises(BundleSenderUnknown, match="no registered partner holds"):
        pair.load(data)
    assert pair.count(pair.tt) == 0


def test_a_bundle_with_changed_content_is_refused(pair: Pair) -> None:
    header, signature, payload = read_frame(pair.export())
    stix = json.loads(zstandard.ZstdDecompressor().decompress(payload))
    stix["objects"].append(pair.sent[Tlp.RED])
    changed = zstandard.ZstdCompressor(write_checksum=True).compress(json.dumps(stix).encode())
    data = b"SEAWALL-INTEL-BUNDLE/1\n" + header + b"\n" + signature.encode() + b"\n" + changed
    with pytest.raises(BundleSignatureInvalid, match="altered after signing"):
        pair.load(data)
    assert pair.count(pair.tt) == 0


def test_garbage_is_not_a_bundle(pair: Pair) -> None:
    junks = (
        b"",
        b"hello",
        zstandard.ZstdCompressor().compress(b"[1, 2]"),
        b"SEAWALL-INTEL-BUNDLE/1\n{}\nnot base64!\nxyz",
        b"SEAWALL-INTEL-BUNDLE/1\n[]\nAAAA\nxyz",
    )
    for junk in junks:
        with pytest.raises(BundleUnreadable, match="not a Seawall intel bundle"):
            pair.load(junk)
    with pytest.raises(InvalidPublicKey), pair.tt.unit(pair.tt.operator()) as ctx:
        link_partner(ctx, pair.tt.settings, "jm-node", public_key="ed25519:bm90IGEga2V5")


@pytest.fixture(scope="module")
def shared_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pair, bytes]]:
    made = _pair(tmp_path_factory.mktemp("bundles"))
    yield made, made.export()
    made.jm.close()
    made.tt.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_tampered_byte_is_refused_and_nothing_is_ingested(
    shared_pair: tuple[Pair, bytes], data: st.DataObject
) -> None:
    pair, bundle = shared_pair
    where = data.draw(st.integers(0, len(bundle) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(bundle)
    tampered[where] ^= flip
    with pytest.raises(BUNDLE_ERRORS):
        pair.load(bytes(tampered))
    assert pair.count(pair.tt) == 0
