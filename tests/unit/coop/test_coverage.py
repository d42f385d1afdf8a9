"""Gap coverage: uncovered where no active programme addresses a nation's factor, possible
duplication where two or more do (pure, property-tested)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from seawall.coop.coverage import GapRef, Offer, cover

NATIONS = ("JM", "GD", "LC", "DM")
ITEMS = ("cmm-2021:D1.1", "cmm-2021:D1.2", "cmm-2021:D4.1", "sim3-v2:O-1")
STATUSES = ("planned", "ongoing", "completed", "cancelled")

gaps = st.lists(
    st.builds(
        lambda nation, item: GapRef(nation, *item.split(":"), current=1, target=3),
        st.sampled_from(NATIONS),
        st.sampled_from(ITEMS),
    ),
    max_size=8,
    unique_by=lambda g: (g.nation, g.ref),
)
offers = st.lists(
    st.builds(
        lambda n, status, who, what: Offer(
            f"p{n}", f"P-{n}", f"Programme {n}", "JM", status, frozenset(who), frozenset(what)
        ),
        st.integers(0, 10_000),
        st.sampled_from(STATUSES),
        st.sets(st.sampled_from(NATIONS), max_size=4),
        st.sets(st.sampled_from(ITEMS), max_size=4),
    ),
    max_size=6,
    unique_by=lambda o: o.id,
)


@given(gaps, offers)
def test_a_gap_is_uncovered_iff_no_active_programme_addresses_it_for_its_nation(
    found: list[GapRef], programmes: list[Offer]
) -> None:
    coverage = cover(found, programmes)
    assert [c.gap for c in coverage.cells] == found
    for cell in coverage.cells:
        active = [
            o
            for o in programmes
            if o.status in ("planned", "ongoing")
            and cell.gap.nation in o.beneficiaries
            and cell.gap.ref in o.addresses
        ]
        assert cell.uncovered == (not active)
        assert cell.duplicated == (len(active) >= 2)
        assert {o.id for o in cell.programmes} == {o.id for o in active}
        assert all(o.status == "completed" for o in cell.past)


def test_an_oecs_example_names_uncovered_and_duplicated_gaps() -> None:
    found = [
        GapRef("LC", "cmm-2021", "D1.2", 1, 3),  # two programmes: possible duplication
        GapRef("LC", "cmm-2021", "D4.1", 1, 3),  # nobody: uncovered
        GapRef("GD", "cmm-2021", "D1.2", 2, 3),  # one programme
    ]
    programmes = [
        Offer("a", "OECS-DTP", "OECS digital transformation", "LC", "ongoing",
              frozenset({"LC", "GD"}), frozenset({"cmm-2021:D1.2"})),
        Offer("b", "CSIRT-LC", "CSIRT for Saint Lucia", "LC", "planned",
              frozenset({"LC"}), frozenset({"cmm-2021:D1.2"})),
        Offer("c", "LAW-2019", "Cybercrime bill", "LC", "completed",
              frozenset({"LC"}), frozenset({"cmm-2021:D4.1"})),
    ]  # fmt: skip
    coverage = cover(found, programmes)
    assert [(c.gap.nation, c.gap.factor_id) for c in coverage.uncovered] == [("LC", "D4.1")]
    assert [(c.gap.nation, c.gap.factor_id) for c in coverage.duplicated] == [("LC", "D1.2")]
    assert [o.ref for o in coverage.cell("LC", "cmm-2021:D4.1").past] == ["LAW-2019"]  # type: ignore[union-attr]
    assert coverage.nations == ["LC", "GD"]
    assert coverage.items == ["cmm-2021:D1.2", "cmm-2021:D4.1"]
