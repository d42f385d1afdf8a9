"""The harmonisation matrix's pure core: a cell is its most advanced instrument, or unknown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from seawall.coop.matrix import (
    KINDS,
    STATUSES,
    UNKNOWN,
    Instrument,
    build_matrix,
    changed_cells,
)
from seawall.coop.matrix_export import matrix_csv

NATIONS = ("JM", "TT", "BB", "GD")
instruments = st.builds(
    Instrument,
    nation=st.sampled_from(NATIONS),
    kind=st.sampled_from(KINDS),
    title=st.text("abc", min_size=1, max_size=3),
    status=st.sampled_from(STATUSES),
    date=st.sampled_from(["", "2015", "2020-06", "2023-12-01"]),
    source=st.just("https://example.org/law"),
)


@given(st.lists(instruments, max_size=30), st.lists(st.sampled_from(NATIONS), unique=True))
def test_a_cell_is_the_most_advanced_instrument_and_unknown_stays_unknown(
    items: list[Instrument], nations: list[str]
) -> None:
    matrix = build_matrix(nations, items)
    assert matrix.nations == tuple(nations)
    for nation in nations:
        for kind in KINDS:
            cell = matrix.cell(nation, kind)
            mine = [i for i in items if i.nation == nation and i.kind == kind]
            if not mine:
                assert cell.status == UNKNOWN and cell.best is None
                continue
            top = max(STATUSES.index(i.status) for i in mine)
            assert cell.status == STATUSES[top]
            assert cell.best is not None and cell.best.status == cell.status
            assert len(cell.instruments) == len(mine)


@given(st.lists(instruments, max_size=20), instruments)
def test_adding_an_instrument_never_lowers_a_cell(
    items: list[Instrument], extra: Instrument
) -> None:
    before = build_matrix(NATIONS, items)
    after = build_matrix(NATIONS, [*items, extra])
    for key, cell in after.cells.items():
        old = before.cells[key].status
        if old != UNKNOWN:
            assert STATUSES.index(cell.status) >= STATUSES.index(old)
    assert after.cell(extra.nation, extra.kind).status != UNKNOWN
    for old_cell, new_cell in changed_cells(before, after):
        assert (new_cell.nation, new_cell.kind) == (extra.nation, extra.kind)
        assert old_cell.status in (UNKNOWN, *STATUSES)


def test_between_equal_statuses_the_later_date_wins() -> None:
    older = Instrument("JM", "cybercrime", "Cybercrimes Act 2010", "in_force", "2010")
    newer = Instrument("JM", "cybercrime", "Cybercrimes Act 2015", "in_force", "2015")
    draft = Instrument("JM", "cybercrime", "Cybercrimes (Amendment) Bill", "draft", "2025")
    cell = build_matrix(["JM"], [older, draft, newer]).cell("JM", "cybercrime")
    assert cell.best == newer
    assert [i.title for i in cell.instruments] == [newer.title, older.title, draft.title]


def test_instruments_of_other_nations_are_left_out() -> None:
    matrix = build_matrix(["JM"], [Instrument("TT", "cybercrime", "Bill", "draft")])
    assert matrix.nations == ("JM",)
    assert all(c.status == UNKNOWN for c in matrix.row("JM"))
    assert not matrix.sample


def test_the_csv_says_of_each_cell_whether_it_is_sample_data() -> None:
    matrix = build_matrix(
        ["JM"],
        [
            Instrument("JM", "cybercrime", "Sample Act", "in_force", "2015", "https://x/", True),
            Instrument(
                "JM", "data_protection", "Data Protection Act", "in_force", "2020", "https://y/"
            ),
        ],
    )
    header, row = (line.split(",") for line in matrix_csv(matrix).decode().splitlines())
    cells = dict(zip(header, row, strict=True))
    assert cells["cybercrime_sample"] == "true"
    assert cells["data_protection_sample"] == "false"
    assert cells["critical_infrastructure_sample"] == "false"  # unknown: no data at all


def test_a_sample_instrument_never_hides_a_real_one() -> None:
    demo = Instrument("JM", "cybercrime", "Sample Cyber Act", "in_force", "2024", sample=True)
    real = Instrument("JM", "cybercrime", "Cybercrimes Bill", "draft", "2010")
    cell = build_matrix(["JM"], [demo, real]).cell("JM", "cybercrime")
    assert cell.best == real and cell.status == "draft"
    assert cell.instruments == (real, demo)
    assert not build_matrix(["JM"], [demo, real]).sample
    only_demo = build_matrix(["JM"], [demo]).cell("JM", "cybercrime")
    assert only_demo.best == demo and only_demo.status == "in_force"
