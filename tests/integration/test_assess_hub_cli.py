"""A round travels by hand: exported signed on a nation's node, imported at the hub, withdrawn."""

from __future__ import annotations

import json
from pathlib import Path

from seawall.assess.frameworks import shipped_frameworks
from tests.cli import init_node, run_seawall

FACTORS = [f.id for d in shipped_frameworks()["cmm-2021"].dimensions for f in d.factors]


def ok(home: Path, *args: str) -> str:
    done = run_seawall(home, *args)
    assert done.code == 0, done.output
    return done.out


def published_round(home: Path, nation: str, stage: int) -> str:
    created = json.loads(
        ok(home, "assess", "round", "create", "--nation", nation, "--year", "2026", "--json")
    )
    for factor in FACTORS:
        ok(
            home,
            "assess",
            "round",
            "agree",
            created["id"],
            "--factor",
            factor,
            "--stage",
            str(stage),
        )
    ok(home, "assess", "round", "consent", "--nation", nation, "--group", "CARICOM")
    ok(home, "assess", "round", "publish", created["id"])
    return str(created["id"])


def test_a_signed_round_is_held_at_the_hub_until_withdrawn(tmp_path: Path) -> None:
    jm, hub = init_node(tmp_path / "jm", "JM"), init_node(tmp_path / "hub", "TT")
    key = json.loads(ok(jm, "intel", "partner", "key", "--json"))["public_key"]
    ok(hub, "partner", "add", "jm-node", "--nation", "JM", "--url", "https://jm.example")
    ok(hub, "intel", "partner", "link", "jm-node", "--public-key", key)
    round_id = published_round(jm, "JM", 2)

    ok(jm, "assess", "round", "export", round_id, "--signed", "-o", str(tmp_path / "r.pkg"))
    ok(jm, "assess", "round", "export", round_id, "-o", str(tmp_path / "r.json"))
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["stages"] == dict.fromkeys(FACTORS, 2)
    assert doc["groups"] == {"CARICOM": "operator"}

    done = json.loads(ok(hub, "assess", "round", "import", str(tmp_path / "r.pkg"), "--json"))
    assert done == {
        "round": round_id,
        "nation": "JM",
        "action": "publish",
        "outcome": "stored",
        "groups": ["CARICOM"],
        "replaced_entered": [],
    }
    region = json.loads(ok(hub, "assess", "region", "--group", "CARICOM", "--json"))
    assert [(r["nation"], r["year"]) for r in region["panel"]] == [("JM", 2026)]

    # Altered by one byte on the way: refused in one line, nothing held changes.
    data = bytearray((tmp_path / "r.pkg").read_bytes())
    data[-3] ^= 0x01
    (tmp_path / "bad.pkg").write_bytes(bytes(data))
    bad = run_seawall(hub, "assess", "round", "import", str(tmp_path / "bad.pkg"))
    assert bad.code == 77 and len(bad.err_lines) == 1, bad.output
    assert "altered after signing" in bad.err

    ok(
        jm,
        "assess",
        "round",
        "withdraw",
        round_id,
        "--group",
        "CARICOM",
        "--reason",
        "figures under review",
        "-o",
        str(tmp_path / "w.pkg"),
    )
    said = run_seawall(hub, "assess", "round", "import", str(tmp_path / "w.pkg"))
    assert said.code == 0 and f"Round {round_id} of JM: withdrawn from CARICOM" in said.output
    region = json.loads(ok(hub, "assess", "region", "--group", "CARICOM", "--json"))
    assert region["panel"] == []


def region_factors(hub: Path, group: str = "CARICOM") -> list[tuple[str, int, dict[str, int]]]:
    region = json.loads(ok(hub, "assess", "region", "--group", group, "--json"))
    return [(r["nation"], r["year"], r["factors"]) for r in region["panel"]]


def entry_csv(*rounds: tuple[str, int, int]) -> str:
    """A CSV entering each (nation, year, stage) with every factor at that stage."""
    lines = ["nation,year,framework,factor,stage,source,dissent"]
    for nation, year, stage in rounds:
        for factor in FACTORS:
            dissent = '"Ministry, not CIRT, rated it"' if factor == "D2.1" else ""
            lines.append(
                f'"{nation}",{year},,{factor},{stage},"OAS/IDB 2025 report, p. 112",{dissent}'
            )
    return "\n".join(lines) + "\n"


def test_a_hub_enters_rounds_from_csv_for_nations_without_a_node(tmp_path: Path) -> None:
    hub = init_node(tmp_path / "hub", "TT")
    (tmp_path / "rounds.csv").write_text(entry_csv(("Saint Lucia", 2025, 2), ("GRD", 2025, 3)))
    done = json.loads(ok(hub, "assess", "round", "import", str(tmp_path / "rounds.csv"), "--json"))
    assert [(d["nation"], d["year"], d["rows"], d["outcome"], d["groups"]) for d in done] == [
        ("LC", 2025, 23, "stored", ["CARIBBEAN", "CARICOM", "LAC", "OECS"]),
        ("GD", 2025, 23, "stored", ["CARIBBEAN", "CARICOM", "LAC", "OECS"]),
    ]
    assert region_factors(hub) == [
        ("GD", 2025, dict.fromkeys(FACTORS, 3)),
        ("LC", 2025, dict.fromkeys(FACTORS, 2)),
    ]

    # One bad cell anywhere: one line naming its row and column, and nothing more is stored.
    bad = entry_csv(("Dominica", 2025, 2)).replace(",D3.2,2,", ",D3.2,7,")
    (tmp_path / "bad.csv").write_text(bad)
    refused = run_seawall(hub, "assess", "round", "import", str(tmp_path / "bad.csv"))
    row = 2 + FACTORS.index("D3.2")
    assert refused.code == 65 and refused.err_lines == [
        f"error: bad.csv: row {row}, column stage: 7 is outside the cmm-2021 scale 1-5"
    ], refused.output
    assert [n for n, _, _ in region_factors(hub)] == ["GD", "LC"]


def test_a_round_exported_as_json_is_entered_at_the_hub_and_a_signed_one_replaces_it(
    tmp_path: Path,
) -> None:
    jm, hub = init_node(tmp_path / "jm", "JM"), init_node(tmp_path / "hub", "TT")
    round_id = published_round(jm, "JM", 4)
    ok(jm, "assess", "round", "export", round_id, "-o", str(tmp_path / "r.json"))
    ok(jm, "assess", "round", "export", round_id, "--signed", "-o", str(tmp_path / "r.pkg"))

    said = run_seawall(hub, "assess", "round", "import", str(tmp_path / "r.json")).output
    assert "of JM 2026 (cmm-2021, 23 factors): entered for CARICOM" in said
    assert region_factors(hub) == [("JM", 2026, dict.fromkeys(FACTORS, 4))]

    key = json.loads(ok(jm, "intel", "partner", "key", "--json"))["public_key"]
    ok(hub, "partner", "add", "jm-node", "--nation", "JM", "--url", "https://jm.example")
    ok(hub, "intel", "partner", "link", "jm-node", "--public-key", key)
    said = run_seawall(hub, "assess", "round", "import", str(tmp_path / "r.pkg")).output
    assert f"Round {round_id} of JM: now held for CARICOM" in said
    assert "It replaces the round entered here" in said
    region = json.loads(ok(hub, "assess", "region", "--group", "CARICOM", "--json"))
    assert [(r["round_id"], r["nation"]) for r in region["panel"]] == [(round_id, "JM")]

    # The nation's own word stands: entering it again at the hub is refused in one line.
    (tmp_path / "jm.csv").write_text(entry_csv(("Jamaica", 2026, 1)))
    refused = run_seawall(hub, "assess", "round", "import", str(tmp_path / "jm.csv"))
    assert refused.code == 73 and refused.err_lines == [
        "error: jm.csv: row 2, column nation: JM 2026 (cmm-2021) is held here as signed by "
        "JM's own node; its word stands, so nothing was entered"
    ], refused.output
    refused = run_seawall(
        hub, "assess", "round", "import", str(tmp_path / "r.pkg"), "--group", "CARICOM"
    )
    assert refused.code == 65 and len(refused.err_lines) == 1, refused.output
