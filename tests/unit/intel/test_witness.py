"""Keeping a partner's signed audit head (as bundles and sync do), between two real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.core import audit, partners
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import Partner
from seawall.intel import witness
from tests.conftest import EPOCH, make_node


@dataclass
class Pair:
    """TT publishes heads; JM witnesses them (TT is its partner, with TT's key)."""

    jm: Node
    tt: Node

    def write(self, n: int) -> None:
        """``n`` more entries in TT's log."""
        with self.tt.unit(self.tt.operator()) as ctx:
            for i in range(n):
                ctx.record("test.entry", str(i))
        self.tt.clock.advance(seconds=1)  # type: ignore[attr-defined]

    def head(self, since: int | None = None) -> dict[str, Any]:
        with self.tt.unit(self.tt.operator()) as ctx:
            return witness.signed_head(ctx, self.tt.settings, since)

    def keep(self, published: dict[str, Any]) -> witness.Witnessed:
        with self.jm.unit(self.jm.operator()) as ctx:
            return witness.keep_head(ctx, self.partner(ctx), published, "bundle")

    def partner(self, ctx: Any) -> Partner:
        return partners.get_partner(ctx, "tt-node")

    def refusals(self) -> list[str]:
        with self.jm.unit(self.jm.operator()) as ctx:
            found = audit.search(ctx.db, audit.AuditFilter(action="intel.audit_head.refused"))
            return [e.detail["reason"] for e in found]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    jm = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    tt = make_node(tmp_path / "tt", None, FrozenClock(EPOCH), "TT")
    with jm.unit(jm.operator()) as ctx:
        partners.add_partner(ctx, "tt-node", "TT", "http://127.0.0.1:9")
        public = load_node_key(tt.settings).public_text
        link_partner(ctx, jm.settings, "tt-node", public_key=public)
    yield Pair(jm, tt)
    jm.close()
    tt.close()


def test_a_head_linked_below_the_held_one_still_advances_it(pair: Pair) -> None:
    # A bundle links to the head the recipient last acknowledged, which may be older than
    # the one it holds now (a sync moved it on since): the entries past the held head count.
    first = pair.head()
    assert pair.keep(first).outcome == "new"
    pair.write(3)
    second = pair.head(since=first["count"])
    assert pair.keep(second).outcome == "advanced"
    pair.write(2)
    third = pair.head(since=first["count"])
    assert len(third["proof"]) == third["count"] - first["count"]
    kept = pair.keep(third)
    assert (kept.outcome, kept.count, kept.hash) == ("advanced", third["count"], third["hash"])
    assert pair.keep(third).outcome == "unchanged"


def test_a_late_head_is_stale_and_an_unlinked_one_is_not_kept(pair: Pair) -> None:
    early = pair.head()
    pair.write(2)
    later = pair.head()
    assert pair.keep(later).outcome == "new"
    # Made before the held head, with a lower count: an old statement arriving late.
    assert pair.keep(early).outcome == "stale"
    pair.write(1)
    unlinked = pair.keep(pair.head())
    assert (unlinked.outcome, unlinked.count) == ("unlinked", later["count"])
    assert pair.refusals() == []


def test_a_head_far_ahead_is_brought_up_in_steps(pair: Pair, monkeypatch: Any) -> None:
    monkeypatch.setattr(witness, "MAX_PROOF", 4)
    first = pair.head()
    pair.keep(first)
    pair.write(9)
    step = pair.head(since=first["count"])
    assert step["count"] == first["count"] + 4 and len(step["proof"]) == 4
    assert pair.keep(step).outcome == "advanced"


def test_a_head_beyond_a_shortened_log_carries_no_proof(pair: Pair) -> None:
    published = pair.head(since=10_000)
    assert (published["since"], published["proof"]) == (None, [])


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_hash_in_a_proof_is_refused_as_no_extension(pair: Pair, data: Any) -> None:
    with pair.jm.unit(pair.jm.operator()) as ctx:
        held = witness.held_count(ctx, pair.partner(ctx))
    if held is None:
        pair.keep(pair.head())
        with pair.jm.unit(pair.jm.operator()) as ctx:
            held = witness.held_count(ctx, pair.partner(ctx))
    assert held is not None
    pair.write(data.draw(st.integers(1, 4), "more entries"))
    published = pair.head(since=held)
    index = data.draw(st.integers(0, 3), "hash") % len(published["proof"])
    offset = data.draw(st.integers(1, 15), "another digit")
    original = published["proof"][index]
    hexdigits = "0123456789abcdef"
    published["proof"][index] = (
        original[:-1] + hexdigits[(hexdigits.index(original[-1]) + offset) % 16]
    )
    before = len(pair.refusals())
    kept = pair.keep(published)
    assert (kept.outcome, kept.count) == ("refused", held)
    assert pair.refusals()[: len(pair.refusals()) - before] == ["not_an_extension"]
