"""Nations by ISO 3166-1 code, and the region groups they belong to."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.db.models import Nation, RegionGroup, RegionMembership
from seawall.errors import NotFound, UnknownNation


@dataclass(frozen=True)
class Region:
    """A region group as shipped in ``core/data/regions.toml``."""

    code: str
    name: str
    hub: str
    members: tuple[str, ...]


def normalise_nation(code: str) -> str:
    """Turn an alpha-2 or alpha-3 code, or an English name, any case, into alpha-2.

    A name is ISO 3166-1's name, common name or official name ("Trinidad and Tobago",
    "Bolivia", "Republic of Trinidad and Tobago"), or the part of the name before a comma or
    a bracket ("Venezuela", "Sint Maarten") where that fits only one nation. Accents, "&" for
    "and", "St." for "Saint" and a leading "The" do not matter. A name fitting two nations
    ("Virgin Islands") is refused rather than guessed.
    """
    cleaned = (code or "").strip().upper()
    country = None
    if len(cleaned) == 2:
        country = pycountry.countries.get(alpha_2=cleaned)
    elif len(cleaned) == 3:
        country = pycountry.countries.get(alpha_3=cleaned)
    if country is not None:
        return str(country.alpha_2)
    if len(cleaned) > 3:
        key = _name_key(cleaned)
        primary, aliases = _names()
        found = primary.get(key) or aliases.get(key)
        if found is not None:
            return found
        raise UnknownNation(
            f"unknown nation {code!r}: use an ISO 3166-1 code such as JM or JAM, "
            "or an English name such as Jamaica"
        )
    raise UnknownNation(f"unknown nation code {code!r}: use an ISO 3166-1 code such as JM or JAM")


def _name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^a-z0-9]+", " ", plain.replace("&", " and ")).split()
    words = ["saint" if w == "st" else w for w in words]
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Keys that name exactly one nation."""
    seen: dict[str, set[str]] = {}
    for key, iso2 in pairs:
        seen.setdefault(key, set()).add(iso2)
    return {key: next(iter(codes)) for key, codes in seen.items() if len(codes) == 1 and key}


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """Name keys to alpha-2: ISO names first, then the shortened names that fit one nation."""
    primary: list[tuple[str, str]] = []
    aliases: list[tuple[str, str]] = []
    for country in pycountry.countries:
        iso2 = str(country.alpha_2)
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                primary.append((_name_key(name), iso2))
                aliases.append((_name_key(re.split(r"[,(]", name)[0]), iso2))
    return _unique(primary), _unique(aliases)


def nation_name(iso2: str) -> str:
    """The common English name of a nation."""
    country = pycountry.countries.get(alpha_2=iso2)
    if country is None:
        raise UnknownNation(f"unknown nation code {iso2!r}")
    return str(getattr(country, "common_name", None) or country.name)


@cache
def shipped_regions() -> tuple[Region, ...]:
    """The region groups shipped with the package."""
    text = resources.files("seawall.core").joinpath("data/regions.toml").read_text()
    raw = tomllib.loads(text)
    return tuple(
        Region(code, body["name"], body["hub"], tuple(body["members"]))
        for code, body in raw.items()
    )


def seed_nations(db: Session) -> int:
    """Insert every ISO 3166-1 country and the shipped regions; returns how many were new."""
    known = set(db.scalars(select(Nation.iso2)))
    added = 0
    for country in pycountry.countries:
        if country.alpha_2 in known:
            continue
        db.add(
            Nation(
                iso2=country.alpha_2,
                iso3=country.alpha_3,
                name=getattr(country, "common_name", None) or country.name,
            )
        )
        added += 1
    db.flush()
    groups = set(db.scalars(select(RegionGroup.code)))
    for region in shipped_regions():
        if region.code in groups:
            continue
        db.add(RegionGroup(code=region.code, name=region.name, hub=region.hub))
        db.flush()
        for iso2 in region.members:
            db.add(RegionMembership(group_code=region.code, nation=iso2))
    db.flush()
    return added


def region_members(db: Session, group: str) -> list[str]:
    """The alpha-2 codes of a region group's members, sorted."""
    code = group.strip().upper()
    if db.get(RegionGroup, code) is None:
        names = ", ".join(sorted(db.scalars(select(RegionGroup.code))))
        raise NotFound(f"unknown region group {group!r}: choose one of {names}")
    stmt = select(RegionMembership.nation).where(RegionMembership.group_code == code)
    return sorted(db.scalars(stmt))


def groups_of(db: Session, iso2: str) -> list[str]:
    """The region groups a nation belongs to."""
    stmt = select(RegionMembership.group_code).where(RegionMembership.nation == iso2)
    return sorted(db.scalars(stmt))
