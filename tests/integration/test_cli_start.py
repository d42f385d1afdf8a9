"""What a command imports before it starts: a command pays only for the libraries it uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from seawall.cli.main import LazyGroup, cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    result = CliRunner().invoke(cli, ["--home", str(h), "init", "--nation", "JM", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nation"] == "JM"
    return h


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m seawall ARGS``; the run and every module it imported."""
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_HOME"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "seawall", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return done, modules


def test_listing_collections_does_not_load_the_matching_engine(home: Path) -> None:
    done, modules = imported("--home", str(home), "intel", "collection", "list")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Collections: nothing found" in done.stdout
    assert "seawall.cli.intel" in modules  # the measure is real: the intel group was loaded
    heavy = {m for m in modules if m.split(".")[0] in {"polars", "numpy", "pyarrow"}}
    assert heavy == set()
    assert "seawall.intel.matching.columnar" not in modules


def test_matching_still_loads_it(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text("2026-12-07T06:00:00Z 10.0.0.1 query example.org A\n")
    done, modules = imported("--home", str(home), "intel", "match", str(log), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "polars" in modules


def test_the_top_help_names_every_pillar_without_loading_one() -> None:
    done, modules = imported("--help")
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("alerts", "assess", "coop", "embassy", "intel"):
        assert f"\n  {name} " in done.stdout
        assert f"seawall.cli.{name}" not in modules
    assert "Collective defence: STIX 2.1 intelligence shared under TLP 2.0." in done.stdout


@pytest.mark.parametrize("limit", [30, 45, 80, 200])
def test_each_pillars_summary_in_the_top_help_is_its_own_first_line(limit: int) -> None:
    group = cli
    assert isinstance(group, LazyGroup)
    assert set(group.summaries) == set(group.lazy)
    for name, load in group.lazy.items():
        said = click.Command(name, help=group.summaries[name]).get_short_help_str(limit)
        assert said == load().get_short_help_str(limit), name


GC_STATE = """
import gc, os, sys
from seawall.cli import main as entry
def report(code):
    print(gc.isenabled(), gc.get_freeze_count() > 1000, file=sys.stderr, flush=True)
    real(code)
real, os._exit = os._exit, report
sys.argv = ["seawall", *sys.argv[1:]]
entry.main()
"""


@pytest.mark.parametrize("args", [["audit", "--help"], ["intel", "collection", "--help"]])
def test_a_command_collects_cycles_again_once_its_modules_are_imported(args: list[str]) -> None:
    # The collector is off while the command's modules are imported, then on again, with
    # what the imports made left out of every later collection (frozen).
    done = subprocess.run(
        [sys.executable, "-c", GC_STATE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["True", "True"]
