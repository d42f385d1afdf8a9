"""``seawall intel export --format rpz --zone NAME`` takes the zone's name as the exports
write names (IDNA 2008 with UTS #46 mapping, as the matcher compares them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import init_node, run_seawall


def test_the_zone_name_is_written_as_the_matcher_writes_names(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    made = run_seawall(home, "intel", "export", "--format", "rpz", "--zone", "RPZ.Straße.DE.")
    assert made.code == 0, made.output
    assert made.out.splitlines()[0] == "$ORIGIN rpz.xn--strae-oqa.de."


@pytest.mark.parametrize("zone", ["\u2603.example", "rpz.\uff45xample", "a b.example", ""])
def test_a_zone_that_is_no_dns_name_is_refused_before_any_export(tmp_path: Path, zone: str) -> None:
    home = init_node(tmp_path / "jm")
    made = run_seawall(home, "intel", "export", "--format", "rpz", "--zone", zone)
    assert made.code == 65 and made.out == ""
    assert made.err_lines == [f"error: --zone {zone!r} is not a DNS name"]
