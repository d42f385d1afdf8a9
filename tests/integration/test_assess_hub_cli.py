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
