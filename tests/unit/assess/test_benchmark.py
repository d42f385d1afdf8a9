"""Regional benchmarking: only consented, published rounds; statements linked to their rows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from seawall.assess.benchmark import PanelRow, rank_nations, region_view, regional_statements
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.rounds import agree, create_round, grant_consent, publish
from seawall.assess.samples import load_sample_assessments
from seawall.core import users
from seawall.core.access import Principal
from seawall.core.node import Node
from seawall.db.models import User

CMM = shipped_frameworks()["cmm-2021"]
DIMS = ["D1", "D2", "D3", "D4", "D5"]


def _of(node: Node, nation: str) -> Principal:
    """An admin of ``nation`` on this node: only someone of a nation records its consent."""
    with node.unit(node.operator()) as ctx:
        name = f"{nation.lower()}-admin"
        if ctx.db.scalar(select(User.id).where(User.username == name)) is None:
            users.add_user(ctx, name, "admin", nation=nation)
        return users.act_as(ctx, name)


def _assess(
    node: Node,
    nation: str,
    year: int,
    by_dimension: dict[str, int],
    consent: str | None = "CARICOM",
    overrides: dict[str, int] | None = None,
    published: bool = True,
) -> str:
    with node.unit(_of(node, nation)) as ctx:
        row = create_round(ctx, nation, "cmm-2021", year)
        for dimension in CMM.dimensions:
            for factor in dimension.factors:
                stage = (overrides or {}).get(factor.id, by_dimension[dimension.id])
                agree(ctx, row.id, factor.id, stage)
        if consent:
            grant_consent(ctx, nation, consent)
        if published:
            publish(ctx, row.id)
        return row.id


def _stages(*values: int) -> dict[str, int]:
    return dict(zip(DIMS, values, strict=True))


ASSESSED = "consenting members with a complete round (CARICOM: 15 members)"


def test_region_statements_use_only_consented_published_rounds(node: Node) -> None:
    jm_old = _assess(node, "JM", 2022, _stages(2, 1, 2, 2, 1))
    jm_new = _assess(node, "JM", 2026, _stages(3, 2, 3, 3, 2))
    tt = _assess(node, "TT", 2026, _stages(3, 1, 2, 3, 1), overrides={"D1.1": 5})
    _assess(node, "BB", 2026, _stages(1, 1, 1, 1, 1), consent="CARIBBEAN")
    _assess(node, "GY", 2026, _stages(1, 1, 1, 1, 1), published=False)
    _assess(node, "DO", 2026, _stages(1, 1, 1, 1, 1), consent="CARIBBEAN")

    with node.unit(node.operator()) as ctx:
        view = region_view(ctx, "caricom")
    assert view.group == "CARICOM"
    assert {(r.nation, r.year) for r in view.panel} == {("JM", 2022), ("JM", 2026), ("TT", 2026)}
    found = {s.key: s for s in view.statements}
    assert list(found) == [
        "start_up",
        "dynamic",
        "dynamic_factor",
        "improved",
        "leaders",
        "strongest",
        "weakest",
    ]

    assert found["start_up"].nations == ("TT",)
    assert found["start_up"].text == (
        f"1 of the 2 {ASSESSED} have at least one dimension at Start-up"
    )
    assert {k: found["start_up"].values[k] for k in ("count", "total", "members")} == {
        "count": 1,
        "total": 2,
        "members": 15,
    }
    assert {(r.round_id, r.item, r.value) for r in found["start_up"].rows} == {
        (tt, "D2", 1.0),
        (tt, "D5", 1.0),
    }

    # One factor at Dynamic is not a dimension at Dynamic: that is the second statement.
    assert found["dynamic"].nations == ()
    assert found["dynamic"].text == f"None of the 2 {ASSESSED} has a dimension at Dynamic"
    assert found["dynamic_factor"].nations == ("TT",)
    assert found["dynamic_factor"].text == (
        f"1 of the 2 {ASSESSED} have at least one factor at Dynamic"
    )
    assert [(r.round_id, r.item, r.value) for r in found["dynamic_factor"].rows] == [
        (tt, "D1.1", 5)
    ]

    assert found["improved"].nations == ("JM",)
    assert found["improved"].text == (
        "1 of the 1 consenting members with two complete rounds (of 2 with a complete round;"
        " CARICOM: 15 members) improved by 0.5 or more in at least 3 dimensions between their"
        " two latest rounds"
    )
    assert {r.round_id for r in found["improved"].rows} == {jm_old, jm_new}
    assert len(found["improved"].rows) == 10  # five dimensions, before and after

    assert found["leaders"].nations == ("JM", "TT")
    assert found["leaders"].text == (
        f"Leaders of the 2 {ASSESSED}, by mean dimension score: JM 2.60, TT 2.10"
    )
    assert found["strongest"].text == (
        "Strongest dimension(s): Cybersecurity Policy and Strategy (mean 3.25); top 3:"
        " D1 3.25, D4 3.00, D3 2.50"
    )
    weakest = {r.item for r in found["weakest"].rows}
    assert weakest == {"D2", "D5"}  # tied at 1.5
    assert found["weakest"].text.endswith("(mean 1.50); bottom 3: D2 1.50, D5 1.50, D3 2.50")

    assert [(n.rank, n.nation, n.year, round(n.overall, 2), n.tier_id) for n in view.ranking] == [
        (1, "JM", 2026, 2.6, "T3"),
        (2, "TT", 2026, 2.1, "T3"),
    ]
    assert [(d.rank, d.dimension, round(d.mean, 2)) for d in view.dimension_ranking] == [
        (1, "D1", 3.25),
        (2, "D4", 3.0),
        (3, "D3", 2.5),
        (4, "D2", 1.5),
        (4, "D5", 1.5),
    ]


def test_a_dimension_is_dynamic_only_when_all_its_factors_are(node: Node) -> None:
    d2 = {f.id: 5 for f in CMM.dimensions[1].factors}
    jm = _assess(node, "JM", 2026, _stages(3, 3, 3, 3, 3), overrides=d2)
    _assess(node, "TT", 2026, _stages(3, 3, 3, 3, 3), overrides={"D1.1": 5, "D3.1": 5})
    with node.unit(node.operator()) as ctx:
        found = {s.key: s for s in region_view(ctx, "CARICOM").statements}
    assert found["dynamic"].nations == ("JM",)
    assert found["dynamic"].text == f"1 of the 2 {ASSESSED} have at least one dimension at Dynamic"
    assert [(r.round_id, r.item, r.value) for r in found["dynamic"].rows] == [
        (jm, f, 5) for f in sorted(d2)
    ]
    assert found["dynamic_factor"].nations == ("JM", "TT")


def test_improved_compares_each_nation_with_its_round_at_or_before_the_baseline(
    node: Node,
) -> None:
    first = _assess(node, "JM", 2019, _stages(1, 1, 1, 1, 1))
    _assess(node, "JM", 2023, _stages(2, 2, 2, 1, 1))
    last = _assess(node, "JM", 2026, _stages(2, 2, 2, 2, 1))
    _assess(node, "TT", 2026, _stages(3, 3, 3, 3, 3))
    with node.unit(node.operator()) as ctx:
        latest_two = {s.key: s for s in region_view(ctx, "CARICOM").statements}
        since_2020 = {s.key: s for s in region_view(ctx, "CARICOM", baseline=2020).statements}
        since_2023 = {s.key: s for s in region_view(ctx, "CARICOM", baseline=2023).statements}
        since_2018 = {s.key: s for s in region_view(ctx, "CARICOM", baseline=2018).statements}
    assert latest_two["improved"].nations == ()  # 2023 to 2026: only D4 rose
    assert since_2023["improved"].nations == ()
    improved = since_2020["improved"]
    assert improved.nations == ("JM",)
    assert improved.text == (
        "1 of the 1 consenting members with a complete round in 2020 or before and a later one"
        " (of 2 with a complete round; CARICOM: 15 members) improved by 0.5 or more in at least"
        " 3 dimensions between that round and their latest"
    )
    assert {(r.round_id, r.year, r.item) for r in improved.rows} == {
        (rid, year, d)
        for rid, year in ((first, 2019), (last, 2026))
        for d in ("D1", "D2", "D3", "D4")
    }
    assert (since_2018["improved"].values["count"], since_2018["improved"].values["compared"]) == (
        0,
        0,
    )


def test_ties_share_a_rank_and_the_leaders_include_ties_at_third_place() -> None:
    def row(nation: str, score: float) -> PanelRow:
        return PanelRow(f"r-{nation}", nation, 2025, None, {}, dict.fromkeys(DIMS, score))

    latest = {n: row(n, s) for n, s in [("JM", 3.0), ("TT", 2.5), ("BB", 2.5), ("GY", 2.0),
                                          ("LC", 2.0), ("BZ", 1.0)]}  # fmt: skip
    assert [(n.rank, n.nation) for n in rank_nations(latest)] == [
        (1, "JM"),
        (2, "BB"),
        (2, "TT"),
        (4, "GY"),
        (4, "LC"),
        (6, "BZ"),
    ]
    panel = list(latest.values())
    leaders = next(s for s in regional_statements(panel, CMM, "CARICOM", 15) if s.key == "leaders")
    assert leaders.nations == ("BB", "JM", "TT")
    assert leaders.values["names"] == "JM 3.00, BB 2.50, TT 2.50"


@st.composite
def panels(draw: st.DrawFn) -> list[PanelRow]:
    rows = []
    for n, nation in enumerate(
        draw(st.sets(st.sampled_from(["JM", "TT", "BB", "GY"]), min_size=1))
    ):
        for year in draw(st.sets(st.integers(2015, 2026), min_size=1, max_size=3)):
            factors = {
                f: draw(st.integers(1, 5))
                for f in draw(st.sets(st.sampled_from(list(CMM.factors())), min_size=1))
            }
            dims: dict[str, list[int]] = {}
            for f, s in factors.items():
                dims.setdefault(CMM.dimension_of()[f], []).append(s)
            rows.append(
                PanelRow(
                    f"r{n}-{year}",
                    nation,
                    year,
                    None,
                    factors,
                    {d: sum(v) / len(v) for d, v in dims.items()},
                )
            )
    return rows


@settings(max_examples=60, deadline=None)
@given(panels())
def test_every_statement_row_is_a_number_in_the_panel(panel: list[PanelRow]) -> None:
    by_id = {r.round_id: r for r in panel}
    for statement in regional_statements(panel, CMM, "CARICOM", 15):
        assert set(statement.nations) <= {r.nation for r in panel}
        for ref in statement.rows:
            row = by_id[ref.round_id]
            assert ref.nation == row.nation and ref.year == row.year
            assert ref.value == (
                row.dimensions.get(ref.item)
                if ref.item in row.dimensions
                else row.factors[ref.item]
            )
        assert {ref.nation for ref in statement.rows} == set(statement.nations)


SAMPLE_NATIONS = ("BB", "BZ", "GY", "JM", "LC", "TT")
SAMPLE_ASSESSED = ASSESSED
SAMPLE_STATEMENTS = [
    (
        "start_up",
        f"3 of the 6 {SAMPLE_ASSESSED} have at least one dimension at Start-up",
        ("BB", "BZ", "LC"),
        [
            ("BB", 2025, "D2", 1.6),
            ("BZ", 2025, "D2", 1.6),
            ("BZ", 2025, "D5", 1.6667),
            ("LC", 2025, "D2", 1.4),
            ("LC", 2025, "D5", 1.8333),
        ],
    ),
    ("dynamic", f"None of the 6 {SAMPLE_ASSESSED} has a dimension at Dynamic", (), []),
    ("dynamic_factor", f"None of the 6 {SAMPLE_ASSESSED} has a factor at Dynamic", (), []),
    (
        "improved",
        "4 of the 6 consenting members with two complete rounds (of 6 with a complete round;"
        " CARICOM: 15 members) improved by 0.5 or more in at least 3 dimensions between their"
        " two latest rounds",
        ("GY", "JM", "LC", "TT"),
        [
            (nation, year, dimension, value)
            for nation, rising in (
                (
                    "GY",
                    {
                        "D1": (1.5, 2.5),
                        "D3": (1.75, 2.75),
                        "D4": (2.0, 2.5),
                        "D5": (1.3333, 2.3333),
                    },
                ),
                ("JM", {"D1": (2.75, 3.25), "D2": (2.0, 2.8), "D3": (2.5, 3.5), "D4": (3.0, 3.5)}),
                ("LC", {"D3": (1.25, 2.75), "D4": (1.75, 2.75), "D5": (1.3333, 1.8333)}),
                (
                    "TT",
                    {"D1": (2.5, 3.0), "D2": (1.6, 2.6), "D4": (2.5, 3.0), "D5": (1.8333, 2.6667)},
                ),
            )
            for dimension, values in rising.items()
            for year, value in zip((2021, 2025), values, strict=True)
        ],
    ),
    (
        "leaders",
        f"Leaders of the 6 {SAMPLE_ASSESSED}, by mean dimension score: JM 3.08, TT 2.85, GY 2.42",
        ("GY", "JM", "TT"),
        [
            (n, 2025, d, v)
            for n, values in (
                ("JM", (3.25, 2.8, 3.5, 3.5, 2.3333)),
                ("TT", (3.0, 2.6, 3.0, 3.0, 2.6667)),
                ("GY", (2.5, 2.0, 2.75, 2.5, 2.3333)),
            )
            for d, v in zip(DIMS, values, strict=True)
        ],
    ),
    (
        "strongest",
        "Strongest dimension(s): Building Cybersecurity Knowledge and Capabilities (mean 2.96);"
        " top 3: D3 2.96, D4 2.83, D1 2.67",
        SAMPLE_NATIONS,
        [
            (n, 2025, "D3", v)
            for n, v in zip(SAMPLE_NATIONS, (3.0, 2.75, 2.75, 3.5, 2.75, 3.0), strict=True)
        ],
    ),
    (
        "weakest",
        "Weakest dimension(s): Cybersecurity Culture and Society (mean 2.00); bottom 3:"
        " D2 2.00, D5 2.14, D1 2.67",
        SAMPLE_NATIONS,
        [
            (n, 2025, "D2", v)
            for n, v in zip(SAMPLE_NATIONS, (1.6, 1.6, 2.0, 2.8, 1.4, 2.6), strict=True)
        ],
    ),
]


def test_the_sample_regions_statements_name_their_nations_and_rows_in_order(node: Node) -> None:
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
    with node.unit(node.operator()) as ctx:
        view = region_view(ctx, "CARICOM")
    by_round = {r.round_id: (r.nation, r.year) for r in view.panel}
    found = [
        (
            s.key,
            s.text,
            s.nations,
            [(ref.nation, ref.year, ref.item, round(ref.value, 4)) for ref in s.rows],
        )
        for s in view.statements
    ]
    assert found == SAMPLE_STATEMENTS
    assert [(n.rank, n.nation, round(n.overall, 2), n.tier_id) for n in view.ranking] == [
        (1, "JM", 3.08, "T3"),
        (2, "TT", 2.85, "T3"),
        (3, "GY", 2.42, "T4"),
        (4, "BB", 2.37, "T4"),
        (5, "BZ", 2.2, "T4"),
        (6, "LC", 2.2, "T4"),
    ]
    assert all(
        by_round[ref.round_id] == (ref.nation, ref.year) for s in view.statements for ref in s.rows
    )


def test_an_incomplete_round_never_replaces_a_nation_in_the_regional_statements(node: Node) -> None:
    # Jamaica's full 2025 round is at Formative everywhere; a 2026 round agreeing one factor
    # at Start-up is published too. The region keeps reading the full round.
    full = _assess(node, "JM", 2025, _stages(2, 2, 2, 2, 2))
    with node.unit(node.operator()) as ctx:
        partial = create_round(ctx, "JM", "cmm-2021", 2026)
        agree(ctx, partial.id, "D1.1", 1)
        publish(ctx, partial.id, partial=True)
        view = region_view(ctx, "CARICOM")
    assert [(r.round_id, r.year) for r in view.panel] == [(full, 2025)]
    assert [(r.round_id, len(r.factors)) for r in view.incomplete] == [(partial.id, 1)]
    found = {s.key: s for s in view.statements}
    assert found["start_up"].nations == ()
    assert {ref.round_id for s in view.statements for ref in s.rows} == {full}
