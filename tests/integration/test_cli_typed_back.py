"""Every id a CLI list prints can be typed back into the command that takes it, at 80 and at 60
columns; a mistyped command name gets the closest names; an empty list says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.cli import output
from tests.cli import Outcome, run_seawall

ENV = {
    "SEAWALL_EMBASSY_PASSPHRASE": "correct-horse-battery-staple",
    "SEAWALL_USER_PASSWORD": "a-long-enough-password-1",
}


def sw(home: Path, *args: str) -> Outcome:
    return run_seawall(home, *args, env=ENV)


def ok(home: Path, *args: str) -> Outcome:
    done = sw(home, *args)
    assert done.code == 0, done.output
    return done


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("typed")
    h = tmp / "node"
    ok(h, "init", "--nation", "JM")
    ok(h, "assess", "round", "create", "--nation", "JM", "--year", "2026")
    ok(h, "assess", "round", "create", "--nation", "JM", "--year", "2025")
    ok(h, "assess", "round", "create", "--nation", "JM", "--year", "2026", "--framework", "sim3-v2")
    ok(h, "user", "add", "kemar", "--role", "analyst")
    ok(h, "token", "create", "--user", "kemar", "--name", "ci")
    ok(h, "org", "add", "Ministry of Science, Energy, Telecommunications", "--kind", "ministry")
    ok(h, "coop", "law", "import", "--starter")
    ok(h, "coop", "programme", "add", "--ref", "JM-CIRT-2026", "--name", "A national CIRT for all")
    ok(h, "partner", "add", "tt-national-node", "--nation", "TT", "--url", "https://tt.example")
    sites = [tmp / f"site-{i}" for i in range(3)]
    for site in sites:
        site.mkdir()
    (tmp / "data").mkdir()
    (tmp / "data" / "a.txt").write_text("records\n")
    ok(h, "embassy", "init", "--name", "gov-records", "--shares", "2-of-3",
       *[f"--site=file://{s}" for s in sites])  # fmt: skip
    ok(h, "embassy", "backup", "--repo", "gov-records", str(tmp / "data"))
    ok(h, "embassy", "schedule", "add", "--repo", "gov-records", "backup", str(tmp / "data"),
       "--every", "1d")  # fmt: skip
    return h


@pytest.fixture(params=[80, 60], ids=["80-columns", "60-columns"])
def columns(request: pytest.FixtureRequest) -> Iterator[int]:
    """The terminal's width (a CliRunner's output is no terminal: Rich would use 80)."""
    before = output.console.width
    output.console.width = request.param
    yield request.param
    output.console.width = before


def printed_column(table: str, header: str) -> list[str]:
    """The values a Rich table printed in the column named ``header``, one per row."""
    lines = table.splitlines()
    head = next(line for line in lines if line.startswith("┃"))
    index = [cell.strip() for cell in head.strip("┃").split("┃")].index(header)
    values = []
    for line in lines:
        if line.startswith("│"):
            cell = line.strip("│").split("│")[index].strip()
            if cell:
                values.append(cell)
    return values


# (list command, its JSON ids' key, the column, the commands the id is typed into)
LISTS = [
    (("assess", "round", "list"), "id", "Id", [("assess", "round", "show", "{}")]),
    (("assess", "round", "list"), "key", "Key", [("assess", "round", "show", "{}")]),
    (("token", "list"), "id", "Id", [("token", "revoke", "{}")]),
    (("org", "list"), "id", "Id", [("user", "add", "o-{n}", "--role", "viewer", "--org", "{}")]),
    (("coop", "law", "list"), "id", "Id", [("coop", "law", "show", "{}")]),
    (
        ("embassy", "schedule", "list"),
        "id",
        "Id",
        [("embassy", "schedule", "disable", "{}"), ("embassy", "schedule", "enable", "{}")],
    ),
    (("coop", "programme", "list"), "ref", "Ref", [("coop", "programme", "show", "{}")]),
    (
        ("partner", "list"),
        "name",
        "Name",
        [("partner", "disable", "{}"), ("partner", "enable", "{}")],
    ),
    (("user", "list"), "username", "Username", [("user", "enable", "{}")]),
    (("embassy", "list"), "name", "Name", [("embassy", "snapshots", "--repo", "{}")]),
    (
        ("embassy", "snapshots", "--repo", "gov-records"),
        "id",
        "Id",
        [("embassy", "ls", "--repo", "gov-records", "{}")],
    ),
]


def json_ids(data: object, key: str) -> list[str]:
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    assert isinstance(items, list)
    return [str(item[key]) for item in items]


@pytest.mark.parametrize(
    ("listing", "key", "header", "typed"), LISTS, ids=[" ".join(x[0]) for x in LISTS]
)
def test_every_id_a_list_prints_can_be_typed_back(
    home: Path,
    columns: int,
    listing: tuple[str, ...],
    key: str,
    header: str,
    typed: list[tuple[str, ...]],
) -> None:
    table = ok(home, *listing).out
    assert all(len(line) <= columns for line in table.splitlines()), table
    full = json_ids(ok(home, *listing, "--json").json(), key)
    shown = printed_column(table, header)
    assert shown, table
    for n, value in enumerate(shown):
        assert "…" not in value and any(f.startswith(value) for f in full), (value, table)
        for command in typed:
            args = [a.format(value, n=f"{columns}-{n}") for a in command]
            back = sw(home, *args)
            assert back.code == 0, (args, back.output)


def test_a_unique_prefix_and_a_natural_key_name_a_round(home: Path) -> None:
    rounds = ok(home, "assess", "round", "list", "--json").json()
    first = rounds[0]["id"]
    for ref in (first[:4], first[:8], first.upper()[:8]):
        assert ok(home, "assess", "round", "show", ref, "--json").json()["id"] == first, ref
    natural = ok(home, "assess", "round", "show", "JM/2025", "--json").json()
    assert natural["year"] == 2025 and natural["key"] == "JM/2025"
    assert [r["key"] for r in rounds] == ["JM/2026", "JM/sim3-v2/2026", "JM/2025"]


def test_an_ambiguous_prefix_names_the_candidates(home: Path) -> None:
    ids = [r["id"] for r in ok(home, "assess", "round", "list", "--json").json()]
    # Two uuid4 ids share a prefix of at most a few characters; find one of 4 or none.
    common = next((i for i in range(4, 0, -1) if ids[0][:i] == ids[1][:i]), 0)
    too_short = sw(home, "assess", "round", "show", ids[0][:3])
    assert too_short.code == 66 and "no assessment round" in too_short.err
    if common >= 4:
        both = sw(home, "assess", "round", "show", ids[0][:common])
        assert both.code == 65 and ids[0] in both.err and ids[1] in both.err


def test_a_mistyped_group_gets_the_closest_name(tmp_path: Path) -> None:
    typo = run_seawall(tmp_path, "asses")
    assert typo.code == 2 and "Did you mean 'assess'?" in typo.err
    nested = run_seawall(tmp_path, "intel", "serch")
    assert "Did you mean 'search'?" in nested.err


def test_an_empty_list_says_nothing_found(home: Path) -> None:
    none = ok(home, "coop", "org", "list")
    assert none.out.strip() == "Partner organisations: nothing found", none.out
