"""Audiences written as text: ``JM, CARICOM, org:<id>, partner:<name>``, both ways."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.db.models import Organisation
from seawall.errors import InvalidInput
from seawall.intel.collections import Audience


def parse_audience(values: Iterable[str]) -> Audience:
    """An audience from text values: ``JM``, ``CARICOM``, ``org:ID``, ``partner:NAME``.

    A two-letter value is a nation, a longer bare value a region group; ``nation:``,
    ``group:``, ``org:`` and ``partner:`` say which explicitly. Commas separate several.
    """
    buckets: dict[str, list[str]] = {"nation": [], "group": [], "org": [], "partner": []}
    for raw in values:
        for item in (v.strip() for v in raw.split(",")):
            if not item:
                continue
            kind, sep, name = item.partition(":")
            if not sep:
                kind, name = ("nation" if len(item) == 2 else "group"), item
            bucket = buckets.get(kind.strip().lower())
            if bucket is None or not name.strip():
                raise InvalidInput(
                    f"audience {item!r} is not understood: use a nation (JM), a group "
                    "(CARICOM), org:<id> or partner:<name>"
                )
            bucket.append(name.strip())
    return Audience.of(buckets["nation"], buckets["org"], buckets["group"], buckets["partner"])


def organisation_names(ctx: Ctx) -> dict[str, str]:
    """Organisation ids to names, for showing audiences to people."""
    return {str(i): str(n) for i, n in ctx.db.execute(select(Organisation.id, Organisation.name))}


def describe_audience(audience: Audience, names: Mapping[str, str] | None = None) -> str:
    """An audience as one line of text; organisations by name when ``names`` has them."""
    if audience.is_open:
        return "everyone on this node"
    parts = [*audience.nations, *audience.groups]
    parts += [(names or {}).get(o) or f"org:{o}" for o in audience.organisations]
    parts += [f"partner:{p}" for p in audience.partners]
    return ", ".join(parts)
