"""``seawall embassy host``: the host's admin makes, lists, shows and extends agreements."""

from __future__ import annotations

from pathlib import Path

from tests.cli import init_node, run_seawall


def test_the_host_admin_makes_and_extends_an_agreement_but_shortens_only_with_a_reason(
    tmp_path: Path,
) -> None:
    home = init_node(tmp_path / "tt", "TT")
    made = run_seawall(
        home, "partner", "add", "jm-node", "--nation", "JM", "--url", "https://jm.example"
    )
    assert made.code == 0, made.err
    added = run_seawall(
        home,
        "embassy", "host", "agreement", "add", "jm-records",
        "--guest", "jm-node", "--quota", "500GiB", "--retention-days", "90",
        "--expires", "2099-12-31", "--bandwidth", "50GiB", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    terms = added.json()
    assert (terms["name"], terms["guest"], terms["nation"]) == ("jm-records", "jm-node", "JM")
    assert (terms["quota_bytes"], terms["retention_days"]) == (500 << 30, 90)
    assert terms["bandwidth_bytes"] == 50 << 30 and terms["stored_bytes"] == 0

    shortened = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records", "--retention-days", "30"
    )
    assert shortened.code == 73 and "without a reason" in shortened.err
    longer = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records",
        "--retention-days", "120", "--quota", "1TiB", "--json",
    )  # fmt: skip
    assert longer.code == 0, longer.err
    assert (longer.json()["retention_days"], longer.json()["quota_bytes"]) == (120, 1 << 40)
    reasoned = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records",
        "--retention-days", "60", "--reason", "treaty amended 2026-12", "--json",
    )  # fmt: skip
    assert reasoned.code == 0 and reasoned.json()["retention_days"] == 60

    listed = run_seawall(home, "embassy", "host", "list", "--json").json()
    assert [a["name"] for a in listed["agreements"]] == ["jm-records"]
    assert listed["refused"] == []
    shown = run_seawall(home, "embassy", "host", "agreement", "show", "jm-records", "--json")
    assert shown.json()["refused"] == [] and shown.json()["last_write_at"] is None
    table = run_seawall(home, "embassy", "host", "agreement", "list")
    assert table.code == 0 and "Hosting agreements" in table.out
    bad = run_seawall(
        home, "embassy", "host", "agreement", "add", "x",
        "--guest", "jm-node", "--quota", "lots", "--retention-days", "9", "--expires", "2099-01-01",
    )  # fmt: skip
    assert bad.code == 65 and "500GiB" in bad.err
    assert run_seawall(home, "embassy", "host", "sweep", "--json").json() == {"jm-records": 0}
