"""An object's neighbourhood drawn as an inline SVG graph (no script, no CDN).

The object sits at the centre; the objects one step away sit on a ring around it, and
those two steps away on an outer ring, each within its parent's slice of the circle.
Every node shows a name and a type, never a raw id, takes its colour from its type, and
links to its page when the reader may see it. The drawing has a viewBox, so it scales
down to a 390 px phone screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from seawall.intel.neighbourhood import Neighbourhood, Ref

SIZE = 360
# Each ring's radius, as a share of the drawing's side: the outer ring leaves room for the
# two label lines under its lowest node.
RINGS = {1: 0.27, 2: 0.40}
MAX_NODES = 24
# (type prefix) -> fill; anything else is grey.
COLOURS: dict[str, str] = {
    "indicator": "#c0392b",
    "malware": "#8e44ad",
    "tool": "#6c5ce7",
    "threat-actor": "#d35400",
    "intrusion-set": "#d35400",
    "campaign": "#e67e22",
    "attack-pattern": "#16a085",
    "report": "#2c6fbb",
    "incident": "#b9770e",
    "sighting": "#1e8449",
    "identity": "#566573",
    "vulnerability": "#a93226",
    "infrastructure": "#117a65",
}
OBSERVABLE = "#5d6d7e"
OTHER = "#7f8c8d"
_SCO = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file", "artifact"})


def colour_of(kind: str) -> str:
    """The fill of a node of type ``kind``."""
    if kind in _SCO:
        return OBSERVABLE
    return COLOURS.get(kind, OTHER)


@dataclass(frozen=True)
class Place:
    """Where one node goes: its id, the node it hangs from and its hop from the centre."""

    id: str
    parent: str
    hop: int


def radial_layout(
    center: str, places: Sequence[Place], size: int = SIZE
) -> dict[str, tuple[float, float]]:
    """Positions in a ``size`` square: the centre in the middle, hop 1 on an inner ring,
    hop 2 on an outer ring inside its parent's slice. Nodes of unknown parents or beyond
    hop 2 are left out."""
    mid = size / 2
    spots: dict[str, tuple[float, float]] = {center: (mid, mid)}
    first = [p for p in places if p.hop == 1]
    radii = {hop: size * share for hop, share in RINGS.items()}
    angles: dict[str, float] = {}
    slice_ = 2 * math.pi / max(1, len(first))
    for i, place in enumerate(first):
        angles[place.id] = -math.pi / 2 + i * slice_
    for parent, angle in list(angles.items()):
        children = [p for p in places if p.hop == 2 and p.parent == parent]
        for j, child in enumerate(children):
            angles[child.id] = angle + slice_ * ((j + 0.5) / len(children) - 0.5) * 0.9
    hops = {p.id: p.hop for p in places}
    for node, angle in angles.items():
        radius = radii[hops[node]]
        spots[node] = (mid + radius * math.cos(angle), mid + radius * math.sin(angle))
    return spots


@dataclass(frozen=True)
class GraphNode:
    """One drawn node."""

    x: float
    y: float
    name: str  # the label, shortened to fit
    type: str
    colour: str
    href: str | None
    center: bool
    # Labels near the sides run toward the middle, so none is cut off by the viewBox.
    anchor: str = "middle"
    full_name: str = ""  # the whole name, the node's tooltip

    @property
    def label_x(self) -> float:
        """Where the labels start, end or centre."""
        return {"start": self.x - 8, "end": self.x + 8}.get(self.anchor, self.x)


@dataclass(frozen=True)
class GraphEdge:
    """One drawn edge, with its label at its middle."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class Graph:
    """Everything the template draws."""

    size: int
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    left_out: int


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _anchor(x: float, size: int) -> str:
    # Only the outer ring comes this close to the sides; the inner ring's labels centre.
    if x < size * 0.15:
        return "start"
    if x > size * 0.85:
        return "end"
    return "middle"


def graph_of(around: Neighbourhood, size: int = SIZE) -> Graph | None:
    """The graph of a neighbourhood, or None when nothing is around the object."""
    neighbours = around.neighbours()
    if not neighbours:
        return None
    shown = neighbours[:MAX_NODES]
    center = around.center
    places = [Place(ref.id, center.id, 1) for _, ref in shown]
    ring = {ref.id for _, ref in shown}
    outer = [(p, label, ref) for p, label, ref in around.second if p in ring]
    outer = outer[: max(0, MAX_NODES - len(shown))]
    places += [Place(ref.id, parent, 2) for parent, _, ref in outer]
    spots = radial_layout(center.id, places, size)
    refs: dict[str, Ref] = {center.id: center, **{ref.id: ref for _, ref in shown}}
    refs.update({ref.id: ref for _, _, ref in outer})
    cx, cy = spots[center.id]
    edges = tuple(GraphEdge(cx, cy, *spots[ref.id], label=label) for label, ref in shown) + tuple(
        GraphEdge(*spots[parent], *spots[ref.id], label=label) for parent, label, ref in outer
    )
    nodes = tuple(
        GraphNode(
            x=x,
            y=y,
            name=_short(refs[i].name or refs[i].type),
            type=refs[i].type,
            colour=colour_of(refs[i].type),
            href=refs[i].href,
            center=i == center.id,
            anchor=_anchor(x, size),
            full_name=refs[i].name or refs[i].type,
        )
        for i, (x, y) in spots.items()
    )
    return Graph(size, nodes, edges, len(neighbours) - len(shown))


__all__ = ["Graph", "GraphEdge", "GraphNode", "Place", "colour_of", "graph_of", "radial_layout"]
