"""An object's revocation and validity window, kept beside its body so lists filter by state
with plain columns instead of parsing every body.

The columns say exactly what :func:`seawall.intel.quality.status_of` reads from the body:
``revoked`` is true only for ``"revoked": true``, and a validity timestamp that cannot be
read counts as already past (``status_of`` calls such an object expired).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from seawall.intel.errors import InvalidStixObject
from seawall.intel.validation import parse_timestamp

UNREADABLE = datetime(1970, 1, 1, tzinfo=UTC)  # before any "now": expired at once


class Lifecycle(NamedTuple):
    """The stored state columns of one object version."""

    revoked: bool
    valid_from: datetime | None
    valid_until: datetime | None

    def as_row(self) -> dict[str, Any]:
        """The values of the table's columns."""
        return self._asdict()


def lifecycle_of(body: Mapping[str, Any]) -> Lifecycle:
    """The revocation and validity columns of a STIX object."""
    object_id = str(body.get("id", ""))

    def moment(prop: str) -> datetime | None:
        value = body.get(prop)
        if not isinstance(value, str):
            return None
        try:
            return parse_timestamp(value, object_id, prop)
        except InvalidStixObject:
            return UNREADABLE

    until = moment("valid_until")
    start = moment("valid_from") if body.get("type") == "indicator" else None
    if start is UNREADABLE:
        until, start = UNREADABLE, None  # status_of: an unreadable window is expired
    return Lifecycle(body.get("revoked") is True, start, until)


__all__ = ["UNREADABLE", "Lifecycle", "lifecycle_of"]
