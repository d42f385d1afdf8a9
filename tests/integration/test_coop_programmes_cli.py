"""``seawall coop programme``, ``org`` and ``coverage`` through the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.cli import init_node, run_seawall

CSV = (
    "Title,Funder,Implementer,Beneficiary countries,Factors,Start date,End date,Budget,Currency,"
    "Status,ref\n"
    "National CIRT,IDB,OAS CICTE,JM,cmm:D1.2; sim3:O-1,2025-01,2027-12,1500000,USD,ongoing,"
    "JM-CIRT\n"
    "Awareness,CTU,CTU,JM,cmm:D1.2,2025-10,2026-03,,,planned,JM-AWARE\n"
)


def test_programmes_from_add_to_coverage(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    added = run_seawall(
        home, "coop", "programme", "add", "--ref", "JM-LAW", "--name", "Cybercrime Act review",
        "--funder", "Commonwealth Telecommunications Organisation", "--factor", "cmm:D4.1",
        "--status", "ongoing", "--budget", "250000", "--currency", "GBP", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert added.json()["addresses"] == ["cmm-2021:D4.1"]
    source = tmp_path / "programmes.csv"
    source.write_text(CSV)
    imported = run_seawall(home, "coop", "programme", "import", str(source), "--json")
    assert imported.json() == {"added": ["JM-CIRT", "JM-AWARE"], "updated": [], "unchanged": []}
    listed = run_seawall(home, "coop", "programme", "list", "--factor", "D1.2", "--json").json()
    assert [p["ref"] for p in listed] == ["JM-AWARE", "JM-CIRT"]
    shown = run_seawall(home, "coop", "programme", "show", "JM-CIRT")
    assert "funders: IDB" in shown.output and "1500000.00 USD" in shown.output
    assert "2025-01-01 to 2027-12-31" in shown.output

    out = tmp_path / "out.json"
    assert run_seawall(home, "coop", "programme", "export", "-o", str(out)).code == 0
    again = run_seawall(home, "coop", "programme", "import", str(out), "--json").json()
    assert sorted(again["unchanged"]) == ["JM-AWARE", "JM-CIRT", "JM-LAW"]

    # A round with D1.2, D4.1 and D5.1 below target 3: two programmes on D1.2, one on D4.1.
    assert (
        run_seawall(home, "assess", "round", "create", "--nation", "JM", "--year", "2026").code == 0
    )
    for factor, stage in (("D1.2", 1), ("D4.1", 2), ("D5.1", 2), ("D1.1", 3)):
        agreed = run_seawall(
            home, "assess", "round", "agree", "JM/2026", "--factor", factor, "--stage", str(stage),
            "--reason", "workshop",
        )  # fmt: skip
        assert agreed.code == 0, agreed.err
    covered = run_seawall(
        home, "coop", "coverage", "--nation", "JM", "--default-target", "3", "--json"
    )
    assert covered.code == 0, covered.err
    cells = {g["factor"]: g for g in covered.json()["gaps"]}
    assert sorted(cells) == ["cmm-2021:D1.2", "cmm-2021:D4.1", "cmm-2021:D5.1"]
    assert cells["cmm-2021:D1.2"]["duplication"] and not cells["cmm-2021:D1.2"]["uncovered"]
    assert [p["ref"] for p in cells["cmm-2021:D4.1"]["programmes"]] == ["JM-LAW"]
    assert cells["cmm-2021:D5.1"]["uncovered"]
    table = run_seawall(home, "coop", "coverage", "--nation", "JM", "--default-target", "3")
    assert "UNCOVERED" in table.output and "1 uncovered, 1 possible duplication" in table.output


def test_refusals_are_one_line(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,name,status\nA,Fine,planned\nB,Broken,paused\n")
    refused = run_seawall(home, "coop", "programme", "import", str(bad))
    assert refused.code == 65
    [line] = refused.err_lines
    assert "row 3, column status: unknown status 'paused': choose one of planned," in line
    assert run_seawall(home, "coop", "programme", "list", "--json").json() == []
    missing = run_seawall(home, "coop", "programme", "show", "NOPE")
    assert missing.code == 66 and "seawall coop programme list" in missing.err
    assert run_seawall(home, "coop", "coverage").code == 65
    env = {"SEAWALL_USER_PASSWORD": "a-long-password"}
    assert run_seawall(home, "user", "add", "jm-viewer", "--role", "viewer", env=env).code == 0
    denied = run_seawall(
        home, "coop", "programme", "--as", "jm-viewer", "add", "--ref", "X", "--name", "X"
    )
    assert denied.code == 77 and "cannot change cooperation records" in denied.err
    assert run_seawall(home, "coop", "org", "add", "--name", "ITU", "--kind", "bank").code == 65
    org = run_seawall(
        home, "coop", "org", "add", "--name", "International Telecommunication Union",
        "--acronym", "ITU", "--kind", "development partner", "--json",
    )  # fmt: skip
    assert org.json()["kind"] == "development_partner"
    assert run_seawall(home, "coop", "org", "show", "itu", "--json").json()["acronym"] == "ITU"
    assert len(run_seawall(home, "coop", "org", "list", "--json").json()) == 1


def test_the_demo_node_has_sample_programmes_marked_as_such(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    first = run_seawall(home, "demo", "--json")
    assert first.code == 0, first.err
    assert "SAMPLE-JM-CIRT" in first.json()["coop_programmes"]
    assert run_seawall(home, "demo", "--json").json()["coop_programmes"] == []
    listed = run_seawall(home, "coop", "programme", "list", "--json").json()
    assert len(listed) == 5
    assert all(p["note"].startswith("SAMPLE DATA") for p in listed)
    orgs = run_seawall(home, "coop", "org", "list", "--json").json()
    assert {o["acronym"] for o in orgs} >= {"CTO", "ITU", "IDB", "CCSC", "USCYBERCOM", "IMPACS"}
    covered = run_seawall(home, "coop", "coverage", "--nation", "JM", "--json")
    assert covered.code == 0, covered.err
    cells = {g["factor"]: g for g in covered.json()["gaps"]}
    # The sample round's D1.2 gap has two programmes on it: a possible duplication.
    assert cells["cmm-2021:D1.2"]["duplication"], cells.get("cmm-2021:D1.2")
    # A group without --default-target has only this node's targets: the table says how to
    # see the other members' gaps rather than passing them over in silence.
    region = run_seawall(home, "coop", "coverage", "--group", "CARICOM")
    assert region.code == 0, region.err
    assert "give --default-target" in region.err
    wider = run_seawall(home, "coop", "coverage", "--group", "CARICOM", "--default-target", "3")
    assert "--default-target" not in wider.err


def test_a_programme_funds_its_own_nations_roadmap_items_only(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    added = run_seawall(
        home, "coop", "programme", "add", "--ref", "JM-CIRT", "--name", "National CIRT",
        "--funder", "IDB", "--factor", "cmm:D1.2", "--status", "ongoing",
    )  # fmt: skip
    assert added.code == 0, added.err
    items = {}
    for nation in ("JM", "TT"):
        item = run_seawall(
            home, "assess", "roadmap", "add", "--nation", nation, "--factor", "D1.2",
            "--action", "Stand up the CIRT", "--owner", "MSET", "--due", "2027-06-30", "--json",
        )  # fmt: skip
        assert item.code == 0, item.err
        items[nation] = item.json()["id"]
    refused = run_seawall(home, "coop", "programme", "fund", "JM-CIRT", "--item", items["TT"])
    assert refused.code == 65 and "a programme funds its own nation's roadmap" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    funded = run_seawall(
        home, "coop", "programme", "fund", "JM-CIRT", "--item", items["JM"], "--json"
    )
    assert funded.code == 0, funded.err
    assert funded.json()["funds_items"] == [items["JM"]]


def test_share_and_unshare_flip_a_programme_and_say_so(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    added = run_seawall(
        home, "coop", "programme", "add", "--ref", "JM-LAW", "--name", "Cybercrime Act review",
        "--funder", "CTO", "--factor", "cmm:D4.1",
    )  # fmt: skip
    assert added.code == 0, added.err
    shared = run_seawall(home, "coop", "programme", "share", "JM-LAW")
    assert shared.code == 0, shared.err
    assert "Programme JM-LAW is shared with the nation's hubs" in shared.output
    private = run_seawall(home, "coop", "programme", "unshare", "JM-LAW", "--json")
    assert private.code == 0, private.err
    assert private.json()["shareable"] is False
    again = run_seawall(home, "coop", "programme", "share", "JM-LAW", "--json")
    assert again.json()["shareable"] is True
