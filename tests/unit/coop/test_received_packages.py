"""A received package against the record held under its id: refused, unchanged or applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seawall.coop.errors import ForeignRecord
from seawall.coop.sharing import changes_nothing
from seawall.db.models.coop import Programme
from seawall.db.models.coop_laws import LegalInstrument

SIGNED = datetime(2026, 5, 1, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)


def _received(nation: str = "JM") -> LegalInstrument:
    return LegalInstrument(
        id="law-1", nation=nation, received_at=SIGNED, package_sha256="a" * 64, signed_at=SIGNED
    )


def test_a_new_id_or_a_newer_package_changes_the_hub() -> None:
    assert not changes_nothing(None, "law", "JM", "b" * 64, LATER)
    assert not changes_nothing(_received(), "law", "JM", "b" * 64, LATER)


def test_the_same_or_an_older_package_changes_nothing() -> None:
    assert changes_nothing(_received(), "law", "JM", "a" * 64, LATER)
    assert changes_nothing(_received(), "law", "JM", "b" * 64, datetime(2026, 4, 1, tzinfo=UTC))


def test_an_id_held_as_the_hubs_own_or_another_nations_is_refused() -> None:
    own = Programme(id="p-1", nation="JM", received_at=None, package_sha256="", signed_at=None)
    with pytest.raises(ForeignRecord, match="programme p-1 is held here"):
        changes_nothing(own, "programme", "JM", "b" * 64, LATER)
    with pytest.raises(ForeignRecord, match="law law-1 is held here"):
        changes_nothing(_received("TT"), "law", "JM", "b" * 64, LATER)
