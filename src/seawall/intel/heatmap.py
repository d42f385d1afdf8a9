"""A technique heat map per nation or for the region, like ATT&CK Navigator's layers.

The grid is an ATT&CK matrix the caller may see (imported with ``seawall intel attack
import``): one column per tactic, in the matrix's order, and in it each technique of that
tactic; a sub-technique's count rolls up into its parent's cell. A cell counts, for the
nation (or every nation, for the region):

- **objects**: distinct objects linked to the technique (:mod:`seawall.intel.techniques`:
  a relationship either way, or a report holding both), linked by that nation (the nation
  that holds the relationship or the report);
- **sightings**: sightings that nation holds of those objects.

Only what the caller may see counts: every row goes through the store's policy, so the
same map differs by reader exactly as TAXII would. A technique linked but outside the matrix
(another domain, or no ATT&CK imported) is listed as unplaced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation
from seawall.errors import InvalidInput
from seawall.intel.attack import attack_id
from seawall.intel.techniques import (
    LINKING,
    Held,
    newest_visible,
    not_mitre,
    phases_of,
    some_version_names,
    some_version_refers,
    tactic_name,
    technique_url,
)
from seawall.intel.validation import listed

# An ATT&CK matrix's external id, and the kill chain its techniques name.
DOMAINS = {
    "enterprise-attack": "mitre-attack",
    "ics-attack": "mitre-ics-attack",
    "mobile-attack": "mitre-mobile-attack",
}
_NOT_LINKED = frozenset(
    {"attack-pattern", "relationship", "identity", "marking-definition", "report", "sighting"}
)
SHADES = 5
"""Colour steps of a cell: 0 (nothing) to SHADES - 1 (the top score)."""


@dataclass(frozen=True)
class Cell:
    """One technique in the grid, with what the nation (or region) linked to it."""

    attack_id: str
    name: str
    objects: int = 0
    sightings: int = 0
    shade: int = 0
    subtechniques: tuple[tuple[str, str, int], ...] = ()
    nations: tuple[tuple[str, int], ...] = ()

    @property
    def score(self) -> int:
        """Objects plus sightings: what colours the cell."""
        return self.objects + self.sightings

    @property
    def url(self) -> str:
        """The technique's page on attack.mitre.org."""
        return technique_url(self.attack_id)

    def as_json(self) -> dict[str, Any]:
        """The cell for ``--json`` and the API."""
        return {
            "attack_id": self.attack_id,
            "name": self.name,
            "objects": self.objects,
            "sightings": self.sightings,
            "score": self.score,
            "subtechniques": [
                {"attack_id": i, "name": n, "score": s} for i, n, s in self.subtechniques
            ],
            "nations": dict(self.nations),
        }


@dataclass(frozen=True)
class Column:
    """One tactic of the matrix and its techniques."""

    shortname: str
    name: str
    attack_id: str
    cells: list[Cell]


@dataclass
class HeatMap:
    """The grid for one matrix, as one reader sees one nation's (or the region's) links."""

    domain: str
    matrix: str
    nation: str | None
    columns: list[Column] = field(default_factory=list)
    unplaced: list[Cell] = field(default_factory=list)
    domains: list[tuple[str, str]] = field(default_factory=list)
    nations: list[str] = field(default_factory=list)
    top: int = 0

    @property
    def legend(self) -> list[tuple[int, int]]:
        """(shade, the highest score it shows) for each shade a score can take on this map."""
        out: list[tuple[int, int]] = []
        for shade in range(1, SHADES):
            upper = self.top * shade // (SHADES - 1)
            if upper >= 1 and (not out or upper > out[-1][1]):
                out.append((shade, upper))
        return out

    @property
    def linked(self) -> int:
        """How many techniques in the grid have anything linked."""
        return sum(1 for c in self.columns for cell in c.cells if cell.score)

    def as_json(self) -> dict[str, Any]:
        """The heat map for ``--json`` and the API: only cells with a score, by tactic."""
        return {
            "domain": self.domain,
            "matrix": self.matrix,
            "nation": self.nation,
            "nations": self.nations,
            "top": self.top,
            "tactics": [
                {
                    "tactic": c.shortname,
                    "name": c.name,
                    "attack_id": c.attack_id,
                    "techniques": [cell.as_json() for cell in c.cells if cell.score],
                }
                for c in self.columns
            ],
            "unplaced": [cell.as_json() for cell in self.unplaced],
        }


@dataclass
class _Links:
    # Per technique: (nation that linked it, object) and (nation that sighted it, sighting).
    objects: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    sightings: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    nations: set[str] = field(default_factory=set)

    def scored(self, idents: list[str]) -> tuple[int, int, tuple[tuple[str, int], ...]]:
        """Distinct objects and sightings linked to any of ``idents``, and each nation's share."""
        objects = {pair for i in idents for pair in self.objects.get(i, ())}
        sightings = {pair for i in idents for pair in self.sightings.get(i, ())}
        shares = Counter(n for n, _ in objects) + Counter(n for n, _ in sightings)
        return (
            len({o for _, o in objects}),
            len({s for _, s in sightings}),
            tuple(sorted(shares.items())),
        )


def _links(ctx: Ctx, patterns: Mapping[str, Held], nation: str | None) -> _Links:
    """What each technique (by ATT&CK id) has linked: objects, then sightings of them."""
    ids = {stix_id: attack_id(h.body) for stix_id, h in patterns.items()}
    out = _Links()

    def link(ident: str | None, other: str, holder: Held) -> None:
        if ident is None or other in patterns:
            return
        out.nations.add(holder.owner_nation)
        if nation is None or holder.owner_nation == nation:
            out.objects.setdefault(ident, set()).add((holder.owner_nation, other))

    # Only objects naming an attack-pattern can link one: the database narrows them first.
    naming = some_version_names(ctx, LINKING, ['"attack-pattern--'])
    for holder in newest_visible(ctx, LINKING, not_mitre(), ids=naming).values():
        if holder.type == "relationship":
            source = str(holder.body.get("source_ref"))
            target = str(holder.body.get("target_ref"))
            if target in ids:
                link(ids[target], source, holder)
            elif source in ids:
                link(ids[source], target, holder)
            continue
        refs = [str(r) for r in listed(holder.body, "object_refs")]
        held = [ids[r] for r in refs if r in ids]
        for ref in refs:
            if ref.partition("--")[0] not in _NOT_LINKED:
                for ident in held:
                    link(ident, ref, holder)
    linked = sorted({o for pairs in out.objects.values() for _, o in pairs})
    seen: dict[str, set[tuple[str, str]]] = {}
    for sighting in _sightings_of(ctx, linked):
        of = str(sighting.body.get("sighting_of_ref"))
        if of in linked and (nation is None or sighting.owner_nation == nation):
            seen.setdefault(of, set()).add((sighting.owner_nation, sighting.id))
    for ident, pairs in out.objects.items():
        out.sightings[ident] = {s for _, o in pairs for s in seen.get(o, set())}
    return out


def _sightings_of(ctx: Ctx, linked: list[str]) -> list[Held]:
    """The newest visible sightings of the ``linked`` objects: the database picks them out of
    every sighting."""
    sightings = some_version_refers(ctx, "sighting", "sighting_of_ref", linked)
    return list(newest_visible(ctx, ["sighting"], ids=sightings).values())


def _matrices(ctx: Ctx) -> dict[str, Held]:
    out: dict[str, Held] = {}
    for held in newest_visible(ctx, ["x-mitre-matrix"]).values():
        domain = attack_id(held.body)
        if domain in DOMAINS:
            out[domain] = held
    return out


def _shade(score: int, top: int) -> int:
    if score <= 0 or top <= 0:
        return 0
    return max(1, -(-score * (SHADES - 1) // top))


def heatmap(ctx: Ctx, nation: str | None = None, domain: str | None = None) -> HeatMap:
    """The technique heat map of one nation (or the region, for None), as the caller sees it.

    ``domain`` is a matrix's id (``enterprise-attack``, ``ics-attack``); by default
    Enterprise when the caller sees it, else the first matrix there is.
    """
    require(ctx.who, Perm.INTEL_READ)
    if domain is not None and domain not in DOMAINS:
        raise InvalidInput(f"no ATT&CK matrix {domain!r}: use one of {', '.join(sorted(DOMAINS))}")
    wanted = normalise_nation(nation) if nation else None
    matrices = _matrices(ctx)
    chosen = domain or ("enterprise-attack" if "enterprise-attack" in matrices else None)
    chosen = chosen or next(iter(sorted(matrices)), "enterprise-attack")
    matrix = matrices.get(chosen)
    patterns = newest_visible(ctx, ["attack-pattern"])
    links = _links(ctx, patterns, wanted)
    result = HeatMap(
        domain=chosen,
        matrix=str(matrix.body.get("name")) if matrix else "",
        nation=wanted,
        domains=[(d, str(m.body.get("name"))) for d, m in sorted(matrices.items())],
        nations=sorted(links.nations),
    )
    names: dict[str, str] = {}
    for held in patterns.values():
        ident = attack_id(held.body)
        if ident is not None:
            names.setdefault(ident, str(held.body.get("name") or ident))

    placed: set[str] = set()
    columns: list[tuple[Held, list[tuple[str, list[str]]]]] = []
    if matrix is not None:
        tactics = newest_visible(ctx, ["x-mitre-tactic"])
        chain = DOMAINS[chosen]
        by_tactic: dict[str, dict[str, list[str]]] = {}
        for held in patterns.values():
            ident = attack_id(held.body)
            phases = phases_of(held.body, [chain])
            if ident is None or not phases:
                continue
            parent = ident.split(".")[0]
            for phase in phases:
                subs = by_tactic.setdefault(phase, {}).setdefault(parent, [])
                if ident != parent:
                    subs.append(ident)
        for ref in listed(matrix.body, "tactic_refs"):
            tactic = tactics.get(str(ref))
            if tactic is None:
                continue
            short = str(tactic.body.get("x_mitre_shortname"))
            techniques = sorted(
                by_tactic.get(short, {}).items(), key=lambda kv: names.get(kv[0], kv[0])
            )
            columns.append((tactic, techniques))
    built: list[tuple[Held, list[Cell]]] = []
    for tactic, techniques in columns:
        cells: list[Cell] = []
        for parent, subs in techniques:
            everyone = [parent, *sorted(set(subs))]
            objects, sightings, shares = links.scored(everyone)
            placed.update(everyone)
            parts = [(s, links.scored([s])) for s in sorted(set(subs))]
            cells.append(
                Cell(
                    parent,
                    names.get(parent, parent),
                    objects,
                    sightings,
                    subtechniques=tuple(
                        (s, names.get(s, s), o + n) for s, (o, n, _) in parts if o + n
                    ),
                    nations=shares,
                )
            )
        built.append((tactic, cells))
    unplaced = [
        Cell(i, names.get(i, i), objects, sightings, nations=shares)
        for i in sorted(links.objects)
        if i not in placed
        for objects, sightings, shares in [links.scored([i])]
    ]
    result.top = max(
        [c.score for _, cells in built for c in cells] + [c.score for c in unplaced], default=0
    )
    for tactic, cells in built:
        short = str(tactic.body.get("x_mitre_shortname"))
        result.columns.append(
            Column(
                short,
                tactic_name(short, {short: str(tactic.body.get("name"))}),
                attack_id(tactic.body) or "",
                [_shaded(c, result.top) for c in cells],
            )
        )
    result.unplaced = [_shaded(c, result.top) for c in unplaced]
    return result


def _shaded(cell: Cell, top: int) -> Cell:
    return Cell(
        cell.attack_id,
        cell.name,
        cell.objects,
        cell.sightings,
        _shade(cell.score, top),
        cell.subtechniques,
        cell.nations,
    )


__all__ = ["DOMAINS", "SHADES", "Cell", "Column", "HeatMap", "heatmap"]
