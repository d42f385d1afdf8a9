"""MISP timestamps and uuids as STIX ones: the same input always gives the same id and time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from seawall.intel.errors import InvalidStixObject
from seawall.intel.misp.mapping import NAMESPACE
from seawall.intel.validation import parse_timestamp


def epoch(value: Any, fallback: datetime) -> datetime:
    """A MISP time (epoch seconds, or an ISO 8601 string) as UTC; ``fallback`` when unreadable."""
    if value in (None, ""):
        return fallback
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    try:
        return parse_timestamp(str(value).replace("+00:00", "Z"))
    except InvalidStixObject:
        text = str(value)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return fallback
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stix_uuid(value: Any, *seed: str) -> str:
    """``value`` when it is a uuid STIX accepts (RFC 4122, versions 1-5), else one made from
    ``seed``, so an item without a usable uuid gets the same STIX id each time."""
    try:
        parsed = uuid.UUID(str(value))
        if parsed.version in (1, 2, 3, 4, 5) and str(parsed)[19] in "89ab":
            return str(parsed)
    except ValueError:
        pass
    return str(uuid.uuid5(NAMESPACE, "/".join(seed)))
