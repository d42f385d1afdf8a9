"""The neighbourhood graph's layout and drawing: pure, so checked over many shapes."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from seawall.intel.correlation import Correlated, Correlation
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.neighbourhood import Link, Neighbourhood, Ref
from seawall.intel.tlp import Tlp
from seawall.web.relationgraph import (
    MAX_NODES,
    RINGS,
    SIZE,
    Place,
    colour_of,
    graph_of,
    radial_layout,
)


@given(st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=30))
def test_every_node_is_placed_inside_the_square_on_its_hops_ring(children: list[int]) -> None:
    places = [Place(f"n{i}", "c", 1) for i in range(len(children))]
    places += [Place(f"n{i}.{j}", f"n{i}", 2) for i, k in enumerate(children) for j in range(k)]
    spots = radial_layout("c", places)
    assert set(spots) == {"c", *(p.id for p in places)}
    assert spots["c"] == (SIZE / 2, SIZE / 2)
    for place in places:
        x, y = spots[place.id]
        assert 0 <= x <= SIZE and 0 <= y <= SIZE
        distance = math.dist((x, y), spots["c"])
        assert math.isclose(distance, SIZE * RINGS[place.hop])
        assert y + 30 <= SIZE  # the two label lines under it fit
    # No two nodes on one spot.
    rounded = {(round(x, 3), round(y, 3)) for x, y in spots.values()}
    assert len(rounded) == len(spots)


def test_the_drawing_names_and_colours_nodes_links_what_is_seen_and_caps_the_count() -> None:
    center = Ref("indicator--1", "indicator", "Lure domain", "region")
    rat = Ref("malware--2", "malware", "BadRAT", "region")
    hidden = Ref("malware--3", "malware", "")
    around = Neighbourhood(
        center,
        relationships=[
            Link(Ref("relationship--4", "relationship", "indicates"), "indicates", center, rat),
            Link(Ref("relationship--5", "relationship", "indicates"), "indicates", center, hidden),
        ],
        correlation=Correlation(
            (Observable(Kind.DOMAIN, "lure.example"),),
            [
                Correlated("c", f"indicator--x{i}", "indicator", f"copy {i}", Tlp.GREEN, "JM", ())
                for i in range(40)
            ],
            False,
        ),
    )
    graph = graph_of(around)
    assert graph is not None
    assert len(graph.nodes) == MAX_NODES + 1 and graph.left_out == 42 - MAX_NODES
    by_name = {n.name: n for n in graph.nodes}
    assert by_name["BadRAT"].href == "/intel/collections/region/objects/malware--2"
    assert by_name["BadRAT"].colour == colour_of("malware") != colour_of("indicator")
    assert by_name["malware"].href is None  # unseen: its type only, no link
    assert {e.label for e in graph.edges} == {"indicates", "shares a value"}
    assert graph_of(Neighbourhood(center)) is None


def test_the_outer_ring_hangs_from_its_parent() -> None:
    center = Ref("indicator--1", "indicator", "Lure domain", "region")
    rat = Ref("malware--2", "malware", "BadRAT", "region")
    crew = Ref("intrusion-set--3", "intrusion-set", "Lure Crew", "region")
    link = Link(Ref("relationship--4", "relationship", "indicates"), "indicates", center, rat)
    around = Neighbourhood(center, relationships=[link], second=[(rat.id, "uses", crew)])
    graph = graph_of(around)
    assert graph is not None
    spots = {n.name: (n.x, n.y) for n in graph.nodes}
    assert {(e.label, (e.x1, e.y1), (e.x2, e.y2)) for e in graph.edges} == {
        ("indicates", spots["Lure domain"], spots["BadRAT"]),
        ("uses", spots["BadRAT"], spots["Lure Crew"]),
    }
