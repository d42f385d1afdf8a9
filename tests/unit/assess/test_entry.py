"""Rounds entered at a hub from CSV or JSON, for nations without a node of their own."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from seawall.assess.benchmark import region_view
from seawall.assess.entry import Entered, detect_format, enter_rounds, parse_csv
from seawall.assess.errors import (
    NoSharedGroup,
    RoundEntryInvalid,
    SignedRoundHeld,
    StageOutOfRange,
    UnknownFactor,
    UnknownFramework,
    WrongFrameworkKind,
)
from seawall.assess.frameworks import shipped_frameworks
from seawall.assess.publication import export_round, import_round, round_document
from seawall.assess.rounds import agree, create_round, grant_consent, publish
from seawall.core import partners, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.links import link_partner
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import ReceivedRound
from seawall.errors import Forbidden, SeawallError, UnknownNation
from tests.conftest import EPOCH, make_node

CMM = shipped_frameworks()["cmm-2021"]
FACTORS = list(CMM.factors())
HEADER = "nation,year,framework,factor,stage,source,dissent\n"
OAS = "OAS/IDB 2025 report, p. 112"


def csv_of(nation: str, year: int, stages: dict[str, int], source: str = OAS) -> str:
    """Rows for one nation's round, framework left blank (the default)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for factor, stage in stages.items():
        writer.writerow([nation, year, "", factor, stage, source, ""])
    return out.getvalue()


def all_at(stage: int) -> dict[str, int]:
    return dict.fromkeys(FACTORS, stage)


@dataclass
class Hub:
    """A CARICOM hub run by Trinidad and Tobago, and Jamaica's node, linked to it."""

    hub: Node
    jm: Node


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Hub]:
    made = Hub(
        hub=make_node(tmp_path / "hub", None, FrozenClock(EPOCH), "TT"),
        jm=make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM"),
    )
    with made.hub.unit(made.hub.operator()) as ctx:
        partners.add_partner(ctx, "jm-node", "JM", "https://jm-node.example")
        key = load_node_key(made.jm.settings).public_text
        link_partner(ctx, made.hub.settings, "jm-node", public_key=key)
    yield made
    made.hub.close()
    made.jm.close()


def enter(node: Node, text: str | bytes, **kwargs: object) -> list[Entered]:
    data = text.encode() if isinstance(text, str) else text
    with node.unit(node.operator()) as ctx:
        return enter_rounds(ctx, data, "rounds.csv", **kwargs)  # type: ignore[arg-type]


def held(node: Node) -> list[ReceivedRound]:
    with node.unit(node.operator()) as ctx:
        rows = list(ctx.db.scalars(select(ReceivedRound).order_by(ReceivedRound.nation)))
        ctx.db.expunge_all()
        return rows


def panel(node: Node, group: str = "CARICOM") -> list[tuple[str, int, dict[str, int]]]:
    with node.unit(node.operator()) as ctx:
        return [(r.nation, r.year, r.factors) for r in region_view(ctx, group).panel]


def published_at_jm(node: Node, stage: int, year: int = 2026) -> str:
    with node.unit(node.operator()) as ctx:
        row = create_round(ctx, "JM", "cmm-2021", year)
        for factor in FACTORS:
            agree(
                ctx,
                row.id,
                factor,
                stage,
                "civil society rated it lower" if factor == "D1.1" else "",
            )
        grant_consent(ctx, "JM", "CARICOM")
        publish(ctx, row.id)
        return row.id


def test_a_csv_of_two_nations_gives_the_exact_panel(nodes: Hub) -> None:
    # Grenada by its ISO3 code, Saint Lucia by name (any case), Grenada's 2025 figures too.
    stages_gd = {f: 1 + i % 5 for i, f in enumerate(FACTORS)}
    text = (
        HEADER
        + csv_of("GRD", 2026, stages_gd)
        + csv_of("saint lucia", 2026, all_at(2), "CARICOM IMPACS survey 2026")
        + csv_of("grd", 2025, all_at(1))
    )
    done = enter(nodes.hub, text)

    assert [(e.nation, e.year, e.framework_id, e.rows, e.outcome) for e in done] == [
        ("GD", 2026, "cmm-2021", 23, "stored"),
        ("LC", 2026, "cmm-2021", 23, "stored"),
        ("GD", 2025, "cmm-2021", 23, "stored"),
    ]
    assert panel(nodes.hub) == [
        ("GD", 2025, all_at(1)),
        ("GD", 2026, stages_gd),
        ("LC", 2026, all_at(2)),
    ]
    # Every group the hub holds with the nation as a member, each naming who entered it.
    rows = {(r.nation, r.year): r for r in held(nodes.hub)}
    assert rows["GD", 2026].groups == dict.fromkeys(
        ["CARIBBEAN", "CARICOM", "LAC", "OECS"], "operator"
    )
    assert rows["LC", 2026].groups == dict.fromkeys(
        ["CARIBBEAN", "CARICOM", "LAC", "OECS"], "operator"
    )
    assert {(r.nation, r.year, r.source, r.entered_by, r.sender_key_id) for r in rows.values()} == {
        ("GD", 2026, OAS, "operator", ""),
        ("GD", 2025, OAS, "operator", ""),
        ("LC", 2026, "CARICOM IMPACS survey 2026", "operator", ""),
    }
    assert all(r.entered for r in rows.values())
    with nodes.hub.unit(nodes.hub.operator()) as ctx:
        assert {r.source for r in region_view(ctx, "CARICOM").panel} == {"entered"}
    assert rows["GD", 2026].published_at == EPOCH
    with nodes.hub.unit(nodes.hub.operator()) as ctx:
        audit = [
            (e.actor, e.target, e.detail)
            for e in ctx.db.scalars(
                select(AuditEntry).where(AuditEntry.action == "assess.round.entered")
            )
        ]
    assert [(a, t) for a, t, _ in audit] == [
        ("operator", rows["GD", 2026].round_id),
        ("operator", rows["LC", 2026].round_id),
        ("operator", rows["GD", 2025].round_id),
    ]
    assert {k: audit[0][2][k] for k in ("nation", "year", "rows", "source", "by")} == {
        "nation": "GD",
        "year": 2026,
        "rows": 23,
        "source": OAS,
        "by": "operator",
    }


def test_a_group_restricts_where_entered_rounds_count(nodes: Hub) -> None:
    enter(nodes.hub, HEADER + csv_of("GD", 2026, all_at(3)), groups=("oecs",))
    assert [r.groups for r in held(nodes.hub)] == [{"OECS": "operator"}]
    assert panel(nodes.hub, "CARICOM") == []
    assert panel(nodes.hub, "OECS") == [("GD", 2026, all_at(3))]
    with pytest.raises(NoSharedGroup) as caught:
        enter(nodes.hub, HEADER + csv_of("Jamaica", 2026, all_at(3)), groups=("OECS",))
    assert str(caught.value) == (
        "rounds.csv: row 2, column nation: JM is not a member of OECS at this hub"
    )


def test_a_round_exported_as_json_is_entered_with_the_same_stages(nodes: Hub) -> None:
    round_id = published_at_jm(nodes.jm, 3)
    with nodes.jm.unit(nodes.jm.operator()) as ctx:
        doc = round_document(ctx, round_id)
    data = json.dumps(doc, indent=2).encode()
    assert detect_format(data) == "json"

    [done] = enter(nodes.hub, data)
    assert (done.nation, done.year, done.outcome, done.groups) == (
        "JM",
        2026,
        "stored",
        ("CARICOM",),
    )
    [row] = held(nodes.hub)
    assert row.stages == doc["stages"] == all_at(3)
    assert row.dissent == {"D1.1": "civil society rated it lower"}
    assert row.published_at == EPOCH and row.published_by == "operator"
    assert row.source == f"round {round_id} of JM exported unsigned by its node (rounds.csv)"
    assert row.entered and row.round_id != round_id
    assert panel(nodes.hub) == [("JM", 2026, all_at(3))]

    # A list of documents is taken whole; the same round again replaces the one entered.
    [again] = enter(nodes.hub, json.dumps([doc]).encode())
    assert (again.outcome, again.round_id) == ("replaced", done.round_id)
    assert len(held(nodes.hub)) == 1


def test_a_signed_round_replaces_one_entered_at_the_hub_and_is_never_overwritten(
    nodes: Hub,
) -> None:
    [entered] = enter(nodes.hub, HEADER + csv_of("JAM", 2026, all_at(1)))
    round_id = published_at_jm(nodes.jm, 4)
    with nodes.jm.unit(nodes.jm.operator()) as ctx:
        package = export_round(ctx, nodes.jm.settings, round_id).data
    with nodes.hub.unit(nodes.hub.operator()) as ctx:
        done = import_round(ctx, package)
    assert (done.outcome, done.replaced_entered) == ("stored", (entered.round_id,))
    assert [(r.round_id, r.entered) for r in held(nodes.hub)] == [(round_id, False)]
    with nodes.hub.unit(nodes.hub.operator()) as ctx:
        assert [r.source for r in region_view(ctx, "CARICOM").panel] == ["received"]
    assert panel(nodes.hub) == [("JM", 2026, all_at(4))]

    nodes.hub.clock.advance(hours=1)  # type: ignore[attr-defined]
    with pytest.raises(SignedRoundHeld) as caught:
        enter(
            nodes.hub, HEADER + csv_of("GD", 2026, all_at(2)) + csv_of("Jamaica", 2026, all_at(1))
        )
    assert str(caught.value) == (
        "rounds.csv: row 25, column nation: JM 2026 (cmm-2021) is held here as signed by "
        "JM's own node; its word stands, so nothing was entered"
    )
    assert [(r.nation, r.round_id) for r in held(nodes.hub)] == [("JM", round_id)]
    assert panel(nodes.hub) == [("JM", 2026, all_at(4))]


BAD_CSV = [
    pytest.param(
        HEADER + "JM,2026,,D1.1,3,src,\nAtlantis,2026,,D1.1,3,src,\n",
        UnknownNation,
        "row 3, column nation: unknown nation 'Atlantis': use an ISO 3166-1 code such as "
        "JM or JAM, or an English name such as Jamaica",
        id="unknown-nation",
    ),
    pytest.param(
        HEADER + "JM,2026,cmm-2099,D1.1,3,src,\n",
        UnknownFramework,
        "row 2, column framework: unknown framework 'cmm-2099': choose one of ",
        id="unknown-framework",
    ),
    pytest.param(
        HEADER + "JM,2026,gci-2024,legal,3,src,\n",
        WrongFrameworkKind,
        "row 2, column framework: gci-2024 is an index, not rated in stages: "
        "import its figures with `seawall assess index import`",
        id="index-framework",
    ),
    pytest.param(
        HEADER + "JM,2026,,D9.9,3,src,\n",
        UnknownFactor,
        "row 2, column factor: 'D9.9' is not a factor of cmm-2021: use an id such as D1.1",
        id="unknown-factor",
    ),
    pytest.param(
        HEADER
        + "".join(f"JM,2026,,{f},2,src,\n" for f in FACTORS[:5])
        + f"JM,2026,,{FACTORS[5]},6,src,\n",
        StageOutOfRange,
        "row 7, column stage: 6 is outside the cmm-2021 scale 1-5",
        id="stage-above",
    ),
    pytest.param(
        HEADER + "JM,2026,,D1.1,three,src,\n",
        StageOutOfRange,
        "row 2, column stage: 'three' is not a whole number on the cmm-2021 scale 1-5",
        id="stage-not-a-number",
    ),
    pytest.param(
        HEADER + "JM,2026,,D1.1,3,  ,\n",
        RoundEntryInvalid,
        "row 2, column source: missing: say where the figures come from",
        id="missing-source",
    ),
    pytest.param(
        HEADER + "JM,2026,,D1.1,3,src,\nGD,2026,,D1.1,3,src,\njam,2026,cmm-2021,D1.1,2,other,\n",
        RoundEntryInvalid,
        "row 4, column factor: D1.1 of JM 2026 (cmm-2021) is given already in row 2",
        id="duplicate-factor",
    ),
    pytest.param(
        HEADER + "JM,twenty,,D1.1,3,src,\n",
        RoundEntryInvalid,
        "row 2, column year: 'twenty' is not a year: use a whole number from 1990 to 2100",
        id="year-not-a-number",
    ),
    pytest.param(
        HEADER + "JM,1890,,D1.1,3,src,\n",
        RoundEntryInvalid,
        "row 2, column year: '1890' is not a year: use a whole number from 1990 to 2100",
        id="year-implausible",
    ),
    pytest.param(
        "nation,year,framework,factor,source\nJM,2026,,D1.1,src\n",
        RoundEntryInvalid,
        "row 1, column stage: missing from the header "
        "(nation,year,framework,factor,stage,source, and optionally dissent)",
        id="missing-column",
    ),
    pytest.param(
        "nation,year,framework,factor,stage,source,dissnet\nJM,2026,,D1.1,3,src,x\n",
        RoundEntryInvalid,
        "row 1, column dissnet: not a column of a round entry "
        "(nation,year,framework,factor,stage,source, and optionally dissent)",
        id="unknown-column",
    ),
    pytest.param(
        HEADER + "JM,2026,,D1.1,3,src,,extra\n",
        RoundEntryInvalid,
        "row 2, column 8: more cells than the header names",
        id="extra-cell",
    ),
    pytest.param(
        HEADER,
        RoundEntryInvalid,
        "row 1, column nation: no rows after the header",
        id="no-rows",
    ),
]


@pytest.mark.parametrize(("text", "error", "message"), BAD_CSV)
def test_a_bad_csv_is_refused_in_one_line_and_nothing_is_stored(
    nodes: Hub, text: str, error: type[SeawallError], message: str
) -> None:
    with pytest.raises(error) as caught:
        enter(nodes.hub, text)
    said = str(caught.value)
    assert "\n" not in said
    assert said.startswith(f"rounds.csv: {message}"), said
    assert held(nodes.hub) == []


def test_all_or_nothing_across_nations(nodes: Hub) -> None:
    text = HEADER + csv_of("GD", 2026, all_at(2)) + "LC,2026,,D1.1,0,src,\n"
    with pytest.raises(StageOutOfRange, match=r"^rounds.csv: row 25, column stage: 0 is outside"):
        enter(nodes.hub, text)
    assert held(nodes.hub) == []


BAD_JSON = [
    pytest.param(
        lambda d: d["stages"].update({"D1.1": 7}),
        StageOutOfRange,
        "document 1, field stages.D1.1: 7 is outside the cmm-2021 scale 1-5",
        id="stage",
    ),
    pytest.param(
        lambda d: d["stages"].update({"D9.9": 2}),
        UnknownFactor,
        "document 1, field stages.D9.9: 'D9.9' is not a factor of cmm-2021: use an id such as D1.1",
        id="factor",
    ),
    pytest.param(
        lambda d: d["round"].update({"nation": "Atlantis"}),
        UnknownNation,
        "document 1, field round.nation: unknown nation 'Atlantis'",
        id="nation",
    ),
    pytest.param(
        lambda d: d["round"].update({"year": "2026"}),
        RoundEntryInvalid,
        "document 1, field round.year: not a round document (Input should be a valid integer)",
        id="year",
    ),
    pytest.param(
        lambda d: d.update({"action": "withdraw"}),
        RoundEntryInvalid,
        "document 1, field action: 'withdraw': only a published round (\"publish\") is entered",
        id="action",
    ),
]


def test_a_partial_round_exported_as_json_is_entered_partial(nodes: Hub) -> None:
    with nodes.jm.unit(nodes.jm.operator()) as ctx:
        row = create_round(ctx, "JM", "cmm-2021", 2025)
        agree(ctx, row.id, "D1.1", 2)
        grant_consent(ctx, "JM", "CARICOM")
        publish(ctx, row.id, partial=True)
        doc = round_document(ctx, row.id)
    complete = published_at_jm(nodes.jm, 3)
    with nodes.jm.unit(nodes.jm.operator()) as ctx:
        whole = round_document(ctx, complete)
    enter(nodes.hub, json.dumps([doc, whole]).encode())
    assert {(r.year, r.partial) for r in held(nodes.hub)} == {(2025, True), (2026, False)}


@pytest.mark.parametrize(("change", "error", "message"), BAD_JSON)
def test_a_bad_json_document_is_refused_in_one_line(
    nodes: Hub, change: object, error: type[SeawallError], message: str
) -> None:
    round_id = published_at_jm(nodes.jm, 3)
    with nodes.jm.unit(nodes.jm.operator()) as ctx:
        doc = round_document(ctx, round_id)
    change(doc)  # type: ignore[operator]
    with pytest.raises(error) as caught:
        enter(nodes.hub, json.dumps(doc))
    said = str(caught.value)
    assert "\n" not in said
    assert said.startswith(f"rounds.csv: {message}"), said
    assert held(nodes.hub) == []


def test_broken_json_is_refused_in_one_line(nodes: Hub) -> None:
    with pytest.raises(RoundEntryInvalid) as caught:
        enter(nodes.hub, '{"action": "publish",\n  "round": }')
    assert str(caught.value) == "rounds.csv: line 2, column 12: not JSON (Expecting value)"


def test_entering_needs_assess_publish(nodes: Hub) -> None:
    with nodes.hub.unit(nodes.hub.operator()) as ctx:
        users.add_user(ctx, "reader", "viewer", "a long enough password", nation="TT")
        reader = users.act_as(ctx, "reader")
    with nodes.hub.unit(reader) as ctx, pytest.raises(Forbidden):
        enter_rounds(ctx, (HEADER + csv_of("GD", 2026, all_at(2))).encode(), "rounds.csv")
    assert held(nodes.hub) == []


def test_formats_are_told_apart_by_content() -> None:
    assert detect_format(b"SEAWALL-ASSESS-ROUND/1\n{}") == "package"
    assert detect_format(b'\xef\xbb\xbf  [{"action": "publish"}]') == "json"
    assert detect_format(HEADER.encode()) == "csv"


# The parser is pure: any set of rounds written as CSV reads back as the same rounds.
NATIONS = ["JM", "JAM", "Jamaica", "TT", "tto", "Trinidad and Tobago", "GD", "Grenada"]
ISO2 = {"JM": "JM", "JAM": "JM", "Jamaica": "JM", "TT": "TT", "tto": "TT"}
ISO2 |= {"Trinidad and Tobago": "TT", "GD": "GD", "Grenada": "GD"}


# Cell text: anything but a lone carriage return, which csv.writer leaves unquoted.
CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=30)


@st.composite
def entries(draw: st.DrawFn) -> list[tuple[str, int, str, dict[str, int], dict[str, str]]]:
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(["JM", "TT", "GD"]), st.integers(2000, 2030)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    made = []
    for iso2, year in keys:
        factors = draw(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=23, unique=True))
        stages = {f: draw(st.integers(1, 5)) for f in factors}
        dissent = {f: draw(CELL.filter(str.strip)) for f in factors[:1]}
        name = draw(st.sampled_from([n for n in NATIONS if ISO2[n] == iso2]))
        made.append((name, year, draw(CELL.filter(str.strip)), stages, dissent))
    return made


@settings(max_examples=60, deadline=None)
@given(rounds=entries(), crlf=st.booleans())
def test_any_rounds_written_as_csv_read_back_the_same(
    rounds: list[tuple[str, int, str, dict[str, int], dict[str, str]]], crlf: bool
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["nation", "year", "framework", "factor", "stage", "source", "dissent"])
    for name, year, source, stages, dissent in rounds:
        for factor, stage in stages.items():
            writer.writerow(
                [name, year, "cmm-2021", factor, stage, source, dissent.get(factor, "")]
            )
    parsed = parse_csv(out.getvalue(), "x.csv", shipped_frameworks())
    assert [(p.nation, p.year, p.framework_id, p.stages, p.dissent, p.source) for p in parsed] == [
        (ISO2[n], y, "cmm-2021", s, {f: t.strip() for f, t in d.items()}, src.strip())
        for n, y, src, s, d in rounds
    ]


def test_rows_count_as_in_a_spreadsheet_blank_lines_included(nodes: Hub) -> None:
    text = HEADER + "JM,2026,,D1.1,3,src,\n\n,,,,,,\nJM,2026,,D1.2,9,src,\n"
    with pytest.raises(StageOutOfRange, match=r"^rounds.csv: row 5, column stage: 9 is outside"):
        parse_csv(text, "rounds.csv", shipped_frameworks())


def test_entering_again_after_a_day_replaces_what_the_hub_entered(nodes: Hub) -> None:
    [first] = enter(nodes.hub, HEADER + csv_of("GD", 2026, all_at(1)))
    nodes.hub.clock.advance(days=1)  # type: ignore[attr-defined]
    [second] = enter(nodes.hub, HEADER + csv_of("Grenada", 2026, all_at(2), "corrected"))
    assert (second.round_id, second.outcome) == (first.round_id, "replaced")
    [row] = held(nodes.hub)
    assert (row.stages, row.source) == (all_at(2), "corrected")
    assert row.received_at == EPOCH + timedelta(days=1)


BAD_CELLS = {
    "nation": ["Atlantis", "ZZ", ""],
    "year": ["20x6", "1800", "", "2026.0"],
    "framework": ["cmm-2099", "gci-2024"],
    "factor": ["D9.9", ""],
    "stage": ["0", "6", "three", "", "2.5"],
    "source": ["", "   "],
}


@settings(max_examples=80, deadline=None)
@given(
    stages=st.dictionaries(st.sampled_from(FACTORS), st.integers(1, 5), min_size=1),
    data=st.data(),
)
def test_any_one_bad_cell_is_named_by_its_row_and_column(
    stages: dict[str, int], data: st.DataObject
) -> None:
    rows = [
        ["Jamaica", "2026", "cmm-2021", f, str(s), "OAS/IDB 2025 report"] for f, s in stages.items()
    ]
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(sorted(BAD_CELLS)))
    rows[index][COLUMN_AT[column]] = data.draw(st.sampled_from(BAD_CELLS[column]))
    text = "nation,year,framework,factor,stage,source\n" + "".join(",".join(r) + "\n" for r in rows)
    with pytest.raises(SeawallError) as caught:
        parse_csv(text, "x.csv", shipped_frameworks())
    said = str(caught.value)
    assert said.startswith(f"x.csv: row {index + 2}, column {column}: "), said
    assert "\n" not in said


COLUMN_AT = {
    c: i for i, c in enumerate(["nation", "year", "framework", "factor", "stage", "source"])
}


def test_the_documented_example_reads_as_documented() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "assess.md").read_text()
    example = text.split("```csv\n", 1)[1].split("```", 1)[0]
    parsed = parse_csv(example, "example.csv", shipped_frameworks())
    assert [(p.nation, p.year, p.stages, p.dissent, p.source) for p in parsed] == [
        ("GD", 2025, {"D1.1": 2, "D1.2": 1}, {}, "OAS/IDB 2025 report, p. 112"),
        (
            "LC",
            2025,
            {"D1.1": 3},
            {"D1.1": "Ministry, not CIRT, rated it 2"},
            "CARICOM IMPACS survey 2025",
        ),
    ]
