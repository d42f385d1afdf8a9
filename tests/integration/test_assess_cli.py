"""``seawall assess`` through Click's runner, the real ``main`` and, once, a subprocess.

Every bad input of the maturity issue gets one clear line, a stable exit code, and changes
nothing (the audit log, which records every state change, stays the same length).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from seawall.assess.samples import load_sample_assessments
from seawall.cli.main import cli, main
from seawall.core.evidence import record_evidence
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.settings import load_settings
from tests.integration.test_cli import sw

PASSWORD = {"SEAWALL_USER_PASSWORD": "a-long-password"}
GCI_HEADER = "iso3,overall,legal,technical,organizational,capacity_development,cooperation"
CUSTOM_PACK = """\
format: seawall.framework/1
id: island-resilience
name: Island resilience checklist
version: "1"
kind: custom
source: written for this test
licence: CC0
scale:
  type: stages
  stages:
    - {number: 1, name: Ad hoc}
    - {number: 2, name: Managed}
    - {number: 3, name: Proven}
dimensions:
  - id: R
    name: Recovery
    factors:
      - {id: R.1, name: Offsite copies}
      - {id: R.2, name: Restore drills}
"""
CONTENT_PACK = """\
format: seawall.content/1
framework: cmm-2021
name: CMM indicators (test stand-in, not Oxford's text)
licence: test
indicators:
  - {factor: D1.1, id: D1.1-2a, stage: 2, text: A strategy is being drafted}
"""


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI in-process; a failure shows its output in the assertion."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env=env or {})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def fail(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str]:
    """Run the real ``main`` expecting a failure: its exit code and its stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(home), *args])
    err = capsys.readouterr().err
    assert isinstance(exc.value.code, int)
    return exc.value.code, err


def audit_length(home: Path) -> int:
    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            return int(ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    finally:
        node.close()


def refused(
    capsys: pytest.CaptureFixture[str], home: Path, args: list[str], code: int, text: str
) -> None:
    """The command fails with ``code``, one line naming the problem, and changes nothing."""
    before = audit_length(home)
    got, err = fail(capsys, home, *args)
    assert got == code, err
    assert text in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert audit_length(home) == before


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    run(h, "init", "--nation", "JM")
    return h


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node with the sample rounds of six CARICOM states (read-only tests share it)."""
    h = tmp_path_factory.mktemp("sampled") / "node"
    run(h, "init", "--nation", "JM")
    node = Node(load_settings(home=h))
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
    node.close()
    return h


def test_frameworks_list_and_a_custom_pack_import(home: Path, tmp_path: Path) -> None:
    listed = json.loads(run(home, "assess", "frameworks", "list", "--json").stdout)
    assert {p["id"] for p in listed} == {"cmm-2021", "gci-2024", "nist-csf-2.0", "sim3-v2"}
    sim3 = next(p for p in listed if p["id"] == "sim3-v2")
    assert (sim3["dimensions"], sim3["factors"], sim3["shipped"]) == (4, 45, True)
    cmm = next(p for p in listed if p["id"] == "cmm-2021")
    assert (cmm["dimensions"], cmm["factors"], cmm["shipped"]) == (5, 23, True)
    pack = tmp_path / "island.yaml"
    pack.write_text(CUSTOM_PACK)
    imported = json.loads(run(home, "assess", "frameworks", "import", str(pack), "--json").stdout)
    assert imported == {
        "id": "island-resilience",
        "name": "Island resilience checklist",
        "factors": 2,
    }
    listed = json.loads(run(home, "assess", "frameworks", "list", "--json").stdout)
    assert any(p["id"] == "island-resilience" and not p["shipped"] for p in listed)
    created = json.loads(
        run(
            home, "assess", "round", "create", "--nation", "JM", "--framework",
            "island-resilience", "--year", "2026", "--json",
        ).stdout
    )  # fmt: skip
    assert created["framework"] == "island-resilience"


def test_a_pack_that_does_not_validate_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CUSTOM_PACK.replace('version: "1"', "version: 1"))
    refused(
        capsys, home, ["assess", "frameworks", "import", str(bad)], 65, "pack bad.yaml: version"
    )
    dup = tmp_path / "dup.yaml"
    dup.write_text(CUSTOM_PACK.replace("id: R.2", "id: R.1"))
    refused(capsys, home, ["assess", "frameworks", "import", str(dup)], 65, "duplicate id 'R.1'")
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: [unclosed\n")
    refused(capsys, home, ["assess", "frameworks", "import", str(broken)], 65, "fix the YAML")
    listed = json.loads(run(home, "assess", "frameworks", "list", "--json").stdout)
    assert len(listed) == 4


def test_content_is_imported_only_with_its_sha256(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "cmm-content.yaml"
    pack.write_text(CONTENT_PACK)
    digest = hashlib.sha256(pack.read_bytes()).hexdigest()
    args = ["assess", "content", "import", str(pack), "--framework", "cmm-2021"]
    refused(capsys, home, args, 65, "pass the sha256 published with your licensed copy")
    refused(capsys, home, [*args, "--sha256", "0" * 64], 65, f"content pack sha256 is {digest}")
    imported = json.loads(run(home, *args, "--sha256", digest, "--json").stdout)
    assert imported["sha256"] == digest and imported["framework"] == "cmm-2021"


def test_index_show_json_rows_carry_iso3_scores_and_tier(home: Path) -> None:
    rows = json.loads(
        run(home, "assess", "index", "show", "gci-2024", "--group", "caribbean", "--json").stdout
    )
    assert len(rows) == 17  # 16 states, Guyana twice (Data360 and ITU's own profile)
    jam = next(r for r in rows if r["iso3"] == "JAM")
    assert (jam["overall"], jam["tier"], jam["tier_name"]) == (
        pytest.approx(58.03, abs=0.01),
        "T3",
        "Establishing",
    )
    assert {"pillar_legal", "pillar_technical", "pillar_cooperation"} <= set(jam)
    assert all(r["source"] for r in rows)
    caricom = json.loads(
        run(home, "assess", "index", "show", "gci-2024", "--group", "CARICOM", "--json").stdout
    )
    assert "DOM" not in {r["iso3"] for r in caricom}
    editions = json.loads(run(home, "assess", "index", "list", "--json").stdout)
    gci2020 = next(e for e in editions if e["id"] == "gci-2020")
    assert "not strictly comparable" in gci2020["comparability"]
    table = run(home, "assess", "index", "show", "gci-2024", "--group", "caribbean").output
    assert "JAM" in table and "T3" in table and "[2]" in table


def test_an_index_edition_imports_from_csv_and_bad_csvs_change_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def csv_file(name: str, body: str) -> str:
        path = tmp_path / name
        path.write_text(f"{GCI_HEADER},source\n{body}")
        return str(path)

    base = ["assess", "index", "import", "--edition", "gci-2026", "--year", "2026"]
    missing = csv_file("missing.csv", "JAM,60,17,,16,9,11,ITU\n")
    refused(capsys, home, [*base, missing], 65, "row 2 column technical: missing score")
    text = csv_file("text.csv", "JAM,60,17,7,16,9,11,ITU\nTTO,57,9,seven,17,13,11,ITU\n")
    refused(capsys, home, [*base, text], 65, "row 3 column technical: 'seven' is not a number")
    nation = csv_file("nation.csv", "XXX,60,17,7,16,9,11,ITU\n")
    refused(capsys, home, [*base, nation], 65, "unknown nation 'XXX'")
    extra = csv_file("extra.csv", "JAM,60,17,7,16,9,11,ITU,stray\n")
    refused(capsys, home, [*base, extra], 65, "row 2 has more cells than the header")
    good_row = csv_file("row.csv", "JAM,60,17,7,16,9,11,ITU\n")
    for year in ("-1", "99999999999"):
        bad_year = ["assess", "index", "import", "--edition", "gci-x", "--year", year, good_row]
        refused(capsys, home, bad_year, 65, "is not plausible: use 1990-2100")
    editions = json.loads(run(home, "assess", "index", "list", "--json").stdout)
    assert "gci-2026" not in {e["id"] for e in editions}

    good = csv_file("good.csv", "JAM,60.5,17,7,16,9,11.5,ITU GCI 2026 country profile\n")
    rows = json.loads(run(home, *base, good, "--json").stdout)
    assert [(r["iso3"], r["tier"]) for r in rows] == [("JAM", "T3")]
    shown = json.loads(run(home, "assess", "index", "show", "gci-2026", "--json").stdout)
    assert shown[0]["source"] == "ITU GCI 2026 country profile"


def test_a_round_from_creation_to_publication(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = json.loads(
        run(
            home, "assess", "round", "create", "--nation", "JM", "--framework", "cmm-2021",
            "--year", "2026", "--json",
        ).stdout
    )  # fmt: skip
    rid = created["id"]
    assert (created["nation"], created["status"]) == ("JM", "open")
    listed = json.loads(run(home, "assess", "round", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [rid]

    for group, stage in (("government", 4), ("academia", 2), ("private-sector", 3)):
        rated = json.loads(
            run(
                home, "assess", "round", "rate", rid, "--group", group, "--factor", "D1.1",
                "--stage", str(stage), "--rationale", f"{group} view",
                "--evidence", "https://example.gov.jm/strategy.pdf", "--json",
            ).stdout
        )  # fmt: skip
        assert rated["stage"] == stage
    run(home, "assess", "round", "rate", "JM/2026", "--group", "government", "--factor", "D5.4",
        "--stage", "3")  # fmt: skip

    view = json.loads(run(home, "assess", "round", "consensus", rid, "--json").stdout)
    d11 = next(f for f in view if f["factor"] == "D1.1")
    assert d11["ratings"] == {"academia": 2, "government": 4, "private_sector": 3}
    assert (d11["spread"], d11["disagreement"], d11["mean"]) == (2, True, 3.0)
    assert "civil_society" in d11["missing_groups"]
    assert d11["rationales"] == {
        "academia": "academia view",
        "government": "government view",
        "private_sector": "private-sector view",
    }
    assert d11["evidence"] == {
        g: ["https://example.gov.jm/strategy.pdf"]
        for g in ("academia", "government", "private_sector")
    }
    flagged = json.loads(
        run(home, "assess", "round", "consensus", rid, "--flagged", "--json").stdout
    )
    assert [f["factor"] for f in flagged] == ["D1.1"]

    agreed = json.loads(
        run(
            home, "assess", "round", "agree", "JM/cmm-2021/2026", "--factor", "D1.1", "--stage",
            "3", "--dissent", "Academia: no budget line yet", "--json",
        ).stdout
    )  # fmt: skip
    assert agreed == {
        "round_id": rid,
        "factor": "D1.1",
        "agreed_stage": 3,
        "dissent": "Academia: no budget line yet",
        "reason": "",
    }
    run(home, "assess", "round", "agree", rid, "--factor", "D5.4", "--stage", "2")

    run(home, "assess", "gaps", "target", "--nation", "JM", "--factor", "D5.4", "--stage", "4")
    found = json.loads(run(home, "assess", "gaps", "show", rid, "--json").stdout)
    assert [(g["factor"], g["current"], g["target"], g["gap"]) for g in found] == [
        ("D5.4", 2, 4, 2)
    ]
    wider = json.loads(
        run(home, "assess", "gaps", "show", rid, "--default-target", "4", "--json").stdout
    )
    assert {g["factor"] for g in wider} == {"D1.1", "D5.4"}

    item = json.loads(
        run(
            home, "assess", "roadmap", "add", "--nation", "JM", "--factor", "D5.4", "--action",
            "Quarterly restore drills", "--owner", "eGov Jamaica", "--due", "2027-03-31", "--json",
        ).stdout
    )  # fmt: skip
    assert (item["status"], item["progress"], item["due"]) == ("planned", 0, "2027-03-31")
    early = ["assess", "roadmap", "add", "--nation", "JM", "--factor", "D5.4", "--action", "x",
             "--owner", "y", "--due", "1900-01-01"]  # fmt: skip
    refused(capsys, home, early, 65, "not plausible")
    done = ["assess", "roadmap", "update", item["id"], "--status", "done", "--progress", "10"]
    refused(capsys, home, done, 65, "a done item is 100% done, not 10%")
    nope = ["assess", "roadmap", "list", "--nation", "JM", "--framework", "nope"]
    refused(capsys, home, nope, 65, "unknown framework 'nope': choose one of")
    run(home, "assess", "roadmap", "update", item["id"], "--status", "in-progress",
        "--progress", "40", "--note", "first drill done")  # fmt: skip
    roadmap = json.loads(run(home, "assess", "roadmap", "list", "--nation", "JM", "--json").stdout)
    assert [(h["status"], h["progress"]) for h in roadmap[0]["history"]] == [
        ("planned", 0),
        ("in_progress", 40),
    ]

    consent = json.loads(
        run(
            home, "assess", "round", "consent", "--nation", "JM", "--group", "caricom", "--json"
        ).stdout
    )
    assert consent == {"nation": "JM", "consenting_groups": ["CARICOM"]}
    incomplete = ["assess", "round", "publish", rid]
    refused(
        capsys,
        home,
        incomplete,
        73,
        f"round {rid} agrees 2 of 23 factors of cmm-2021; not agreed: D1.2, D1.3, D1.4 and "
        "18 more: agree them, or publish it as partial",
    )
    published = json.loads(
        run(home, "assess", "round", "publish", rid, "--partial", "--json").stdout
    )
    assert (published["status"], published["groups"]) == ("published", ["CARICOM"])
    assert published["partial"] is True
    shown = json.loads(run(home, "assess", "round", "show", rid, "--json").stdout)
    assert (shown["status"], shown["agreed"], shown["disagreements"]) == ("published", 2, 1)
    assert shown["partial"] is True
    # D1 and D5 have agreed factors; the others are not assessed: null, never 0.
    assert shown["scores"] == {"D1": 3.0, "D2": None, "D3": None, "D4": None, "D5": 2.0}
    assert "not assessed" in run(home, "assess", "round", "show", rid).output
    assert "published (partial)" in run(home, "assess", "round", "show", rid).output
    listed = json.loads(run(home, "assess", "round", "list", "--json").stdout)
    assert [(r["id"], r["partial"]) for r in listed] == [(rid, True)]
    assert "(partial)" in run(home, "assess", "round", "list").output  # the table wraps it
    assert shown["rated"]["government"] == 2
    # Two of 23 factors agreed: published, but it does not stand for Jamaica in the region.
    region = json.loads(run(home, "assess", "region", "--group", "CARICOM", "--json").stdout)
    assert region["panel"] == []
    assert region["incomplete"] == [{"round_id": rid, "nation": "JM", "year": 2026, "agreed": 2}]


def test_bad_inputs_get_one_line_and_change_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rid = json.loads(
        run(home, "assess", "round", "create", "--nation", "JM", "--year", "2026", "--json").stdout
    )["id"]
    run(home, "user", "add", "tt-assessor", "--role", "assessor", "--nation", "TT", env=PASSWORD)
    run(home, "user", "add", "jm-assessor", "--role", "assessor", "--nation", "JM", env=PASSWORD)
    rating = ["round", "rate", rid, "--group", "government", "--factor", "D1.1"]
    rate = ["assess", *rating]
    cases: list[tuple[list[str], int, str]] = [
        ([*rate, "--stage", "6"], 65, "stage for D1.1 6 is outside the scale"),
        ([*rate, "--stage", "0"], 65, "use a whole number from 1 to 5"),
        (["assess", "--as", "tt-assessor", *rating, "--stage", "3"], 66, "no assessment round"),
        (
            [
                "assess",
                "--as",
                "tt-assessor",
                "round",
                "create",
                "--nation",
                "JM",
                "--year",
                "2027",
            ],
            66,
            "no nation JM to assess visible to tt-assessor",
        ),
        (
            [
                "assess",
                "round",
                "rate",
                rid,
                "--group",
                "bankers",
                "--factor",
                "D1.1",
                "--stage",
                "3",
            ],
            65,
            "unknown stakeholder group 'bankers'",
        ),
        (
            [*rate[:-2], "--factor", "D9.9", "--stage", "3"],
            65,
            "'D9.9' is not a factor of cmm-2021",
        ),
        (
            [
                "assess",
                "round",
                "create",
                "--nation",
                "JM",
                "--framework",
                "cmm-1999",
                "--year",
                "2027",
            ],
            65,
            "unknown framework 'cmm-1999'",
        ),
        (
            ["assess", "round", "create", "--nation", "ZZ", "--year", "2027"],
            65,
            "unknown nation code 'ZZ'",
        ),
        (["assess", "index", "show", "gci-1999"], 66, "unknown index edition 'gci-1999'"),
        (["assess", "round", "show", "JM/2031"], 66, "no cmm-2021 round 2031 for JM"),
        (["assess", "round", "show", "JM/x/y/z"], 65, "NATION/FRAMEWORK/YEAR"),
    ]
    for args, code, text in cases:
        refused(capsys, home, args, code, text)

    run(home, "assess", "round", "agree", rid, "--factor", "D1.1", "--stage", "3")
    refused(
        capsys,
        home,
        ["assess", "--as", "jm-assessor", "round", "publish", rid],
        77,
        "jm-assessor's role (assessor) cannot publish maturity assessments",
    )
    refused(capsys, home, ["assess", "round", "publish", rid], 77, "has not consented")
    shown = json.loads(run(home, "assess", "round", "show", rid, "--json").stdout)
    assert shown["status"] == "open"
    # The assessor of the nation itself may rate: the refusals above were about who, not how.
    run(home, "assess", "--as", "jm-assessor", *rating, "--stage", "3")


def test_region_report_and_exports(
    sampled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    region = json.loads(run(sampled, "assess", "region", "--group", "CARICOM", "--json").stdout)
    assert {r["nation"] for r in region["panel"]} == {"JM", "TT", "BB", "BZ", "GY", "LC"}
    keys = [s["key"] for s in region["statements"]]
    assert keys == [
        "start_up",
        "dynamic",
        "dynamic_factor",
        "improved",
        "leaders",
        "strongest",
        "weakest",
    ]
    start_up = region["statements"][0]
    assert start_up["nations"] and all(r["value"] < 2 for r in start_up["rows"])
    assert (start_up["values"]["total"], start_up["values"]["members"]) == (6, 15)
    assert [n["nation"] for n in region["ranking"][:3]] == ["JM", "TT", "GY"]
    shown = run(sampled, "assess", "region", "--group", "CARICOM").stdout  # all of it, not stderr
    assert "3 of the 6 consenting members with a complete round (CARICOM: 15 members)" in shown
    assert "T3 Establishing" in shown
    since = json.loads(
        run(sampled, "assess", "region", "--baseline", "2020", "--json").stdout
    )  # no sample round is as old as 2020
    improved = next(s for s in since["statements"] if s["key"] == "improved")
    assert (improved["values"]["count"], improved["values"]["compared"]) == (0, 0)

    html = tmp_path / "jm.html"
    run(sampled, "assess", "report", "--nation", "JM", "--format", "html", "-o", str(html))
    text = html.read_text()
    assert "Jamaica" in text and text.count("data:image/svg+xml;base64,") >= 4
    pdf = tmp_path / "jm.pdf"
    run(sampled, "assess", "report", "--nation", "JAM", "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
    dutch = tmp_path / "jm-nl.html"
    run(sampled, "assess", "report", "--nation", "JM", "--format", "html", "--language", "nl",
        "--out", str(dutch))  # fmt: skip
    assert "Executive summary" in text  # the node's language, English by default
    in_dutch = dutch.read_text()
    assert "Samenvatting" in in_dutch and "Executive summary" not in in_dutch

    rounds_csv = tmp_path / "jm.csv"
    run(sampled, "assess", "export", "--nation", "JM", "--format", "csv", "--out", str(rounds_csv))
    lines = rounds_csv.read_text().splitlines()
    assert lines[0].startswith("round_id,nation,framework,year,status,partial,dimension,factor")
    assert len(lines) == 1 + 3 * 23  # 2021, 2025 and the open 2026 round
    one = tmp_path / "jm-2025.json"
    run(sampled, "assess", "export", "--nation", "JM", "--year", "2025", "--format", "json",
        "--out", str(one))  # fmt: skip
    records = json.loads(one.read_text())
    assert len(records) == 23 and {r["status"] for r in records} == {"published"}
    index_csv = tmp_path / "gci.csv"
    run(sampled, "assess", "export", "--data", "index", "--group", "CARICOM", "--format", "csv",
        "--out", str(index_csv))  # fmt: skip
    assert "iso3" in index_csv.read_text().splitlines()[0]
    region_csv = tmp_path / "region.csv"
    run(sampled, "assess", "export", "--data", "region", "--group", "CARICOM", "--format", "csv",
        "--out", str(region_csv))  # fmt: skip
    assert region_csv.read_text().startswith("statement,text,round_id,nation,year,item,value")
    panel_csv = tmp_path / "panel.csv"
    run(sampled, "assess", "export", "--data", "panel", "--group", "CARICOM", "--format", "csv",
        "--out", str(panel_csv))  # fmt: skip
    panel_lines = panel_csv.read_text().splitlines()
    assert panel_lines[0].startswith("group,framework,round_id,nation,year,source,complete")
    assert len(panel_lines) == 1 + 6 * 2 * 23  # six nations, 2021 and 2025, every factor
    refused(
        capsys,
        sampled,
        ["assess", "export", "--nation", "DO", "--format", "csv", "--out", str(tmp_path / "x")],
        66,
        "no cmm-2021 round for DO",
    )
    assert not (tmp_path / "x").exists()


def test_suggested_evidence_and_a_real_subprocess(sampled: Path) -> None:
    node = Node(load_settings(home=sampled))
    with node.unit(node.operator()) as ctx:
        record_evidence(ctx, "embassy", "embassy.restore", "drill", ["cmm:D1.2", "cmm:D5.4"])
    node.close()
    found = json.loads(run(sampled, "assess", "round", "evidence", "JM/2026", "--json").stdout)
    assert sorted(e["factor"] for e in found) == ["D1.2", "D5.4"]
    shown = sw(sampled, "assess", "index", "show", "gci-2024", "--group", "caribbean", "--json")
    assert shown.returncode == 0, shown.stderr
    assert {r["iso3"] for r in json.loads(shown.stdout)} >= {"JAM", "TTO", "BRB", "GUY"}
