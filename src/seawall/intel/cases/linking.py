"""Finding what to link to a case by search, not by pasted ids.

A search reads through :func:`seawall.intel.search.search`, with the caller's rights: it
finds only objects the caller may read, by value, name or id (or the start of one).
"""

from __future__ import annotations

from dataclasses import dataclass

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.errors import InvalidInput
from seawall.intel import search
from seawall.intel.cases.reading import Case, build_case, find_case
from seawall.intel.cases.writing import link_objects
from seawall.intel.errors import AmbiguousMatch, ObjectNotFound

CANDIDATES = 50  # hits a search offers; a longer value narrows it


@dataclass(frozen=True)
class Candidate:
    """An object a search found, numbered from 1, and whether the caller's nation has
    linked it to the case already."""

    number: int
    hit: search.Found
    linked: bool


def search_linkable(ctx: Ctx, ref: str, text: str, limit: int = CANDIDATES) -> list[Candidate]:
    """The objects the caller may read that a search for ``text`` finds, to link to the case:
    never the case itself or its own notes and links; newest first."""
    require(ctx.who, Perm.INTEL_READ)
    needle = text.strip()
    if len(needle) < 3:
        raise InvalidInput("search for at least 3 characters: a value, a name or an id")
    case = build_case(ctx, find_case(ctx, ref))
    own = {case.id, *(e.object_id for e in case.timeline)}
    linked = {e.target_id for e in case.links if e.nation == ctx.who.nation}
    hits: dict[str, search.Found] = {}
    for hit in search.search(ctx, needle):
        if hit.id not in own:
            hits.setdefault(hit.id, hit)
    ordered = sorted(hits.values(), key=lambda h: (-h.date_added.timestamp(), h.id))[:limit]
    return [Candidate(n, hit, hit.id in linked) for n, hit in enumerate(ordered, start=1)]


def choose(candidates: list[Candidate], picks: tuple[int, ...], text: str) -> list[Candidate]:
    """The picked candidates (by number), or the only one when nothing was picked."""
    if not candidates:
        raise ObjectNotFound(f"nothing you may read matches {text!r}")
    if picks:
        wrong = [p for p in picks if not 0 < p <= len(candidates)]
        if wrong:
            raise InvalidInput(f"pick a number from 1 to {len(candidates)}, not {wrong[0]}")
        return [candidates[p - 1] for p in dict.fromkeys(picks)]
    if len(candidates) > 1:
        raise AmbiguousMatch(
            f"{len(candidates)} objects match {text!r}: pick the ones to link with --pick N"
        )
    return candidates


def link_by_search(
    ctx: Ctx, ref: str, text: str, picks: tuple[int, ...] = (), why: str = ""
) -> Case:
    """Link what a search finds: its only hit, or the picked ones."""
    require(ctx.who, Perm.INTEL_WRITE)
    chosen = choose(search_linkable(ctx, ref, text), picks, text)
    return link_objects(ctx, ref, [c.hit.id for c in chosen], why)
