"""Audiences: who may read a collection, as stored and as text (``JM, CARICOM, org:<id>,
partner:<name>``), both ways."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.db.models import Organisation
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput
from seawall.intel.errors import AudienceDamaged

_LISTS = ("nations", "organisations", "groups", "partners")


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v.strip()}))


@dataclass(frozen=True)
class Audience:
    """Who may read a collection; empty means every user of the node.

    Organisations listed here are also the *named* recipients of the collection's
    TLP:RED objects.
    """

    nations: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        nations: Iterable[str] = (),
        organisations: Iterable[str] = (),
        groups: Iterable[str] = (),
        partners: Iterable[str] = (),
    ) -> Audience:
        """An audience with nation codes normalised and duplicates dropped."""
        return cls(
            nations=_clean(normalise_nation(n) for n in nations),
            organisations=_clean(organisations),
            groups=_clean(g.upper() for g in groups),
            partners=_clean(p.lower() for p in partners),
        )

    @classmethod
    def from_json(cls, raw: object) -> Audience:
        """The audience as stored: an object of string lists, a missing list read as empty.

        Anything else raises ValueError, so no reader takes a damaged audience for an open one.
        """
        if not isinstance(raw, dict):
            raise ValueError("is not a JSON object")
        lists: dict[str, tuple[str, ...]] = {}
        for name in _LISTS:
            items = raw.get(name, [])
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                raise ValueError(f"has {name!r} that is not a list of strings")
            lists[name] = tuple(items)
        return cls(**lists)

    def to_json(self) -> dict[str, list[str]]:
        """The audience for storage."""
        return {
            "nations": list(self.nations),
            "organisations": list(self.organisations),
            "groups": list(self.groups),
            "partners": list(self.partners),
        }

    @property
    def is_open(self) -> bool:
        """Whether every user of the node may read the collection."""
        return not (self.nations or self.organisations or self.groups or self.partners)


def audience_of(collection: IntelCollection) -> Audience:
    """A collection's audience, read from its stored form the one way every reader reads it."""
    try:
        return Audience.from_json(collection.audience)
    except ValueError as problem:
        raise AudienceDamaged(
            f"collection {collection.alias!r}: its stored audience {problem}; restore the "
            "collection from a backup"
        ) from None


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
