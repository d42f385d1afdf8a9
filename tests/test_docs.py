"""Docs are tested: every setting, CLI command, API route and error code must be documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest

import seawall
from seawall import errors, reference
from seawall.cli.main import cli
from seawall.errors import SeawallError
from seawall.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "seawall") -> list[str]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")])


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert f"SEAWALL_{name.upper()}" in text


@pytest.mark.parametrize("command", _commands(cli))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`{command}" in _docs_text()


def test_every_api_route_is_documented(node: object) -> None:
    from seawall.web.app import create_app

    app = create_app(node=node)  # type: ignore[arg-type]
    text = _docs_text()
    # The OpenAPI document lists every schema route, whatever router included it.
    operations = [
        f"{method.upper()} {path}"
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]
    assert len(operations) >= 20
    missing = [op for op in operations if op not in text]
    assert missing == []


# -- error codes ----------------------------------------------------------------------------------

_ERROR_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|[^|]*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", re.MULTILINE)
_TREE_LINE = re.compile(
    r"^(?P<indent>(?:│   |    )*)[├└]── (?P<name>\w+)(?:\s+\((?P<exit>\d+), (?P<status>\d+)\))?"
)


def _documented_errors() -> dict[str, tuple[int, int]]:
    text = (ROOT / "docs" / "errors.md").read_text()
    return {
        code: (int(exit_code), int(status)) for code, exit_code, status in _ERROR_ROW.findall(text)
    }


ERROR_CLASSES = sorted(reference.error_classes(), key=lambda cls: cls.code)


def test_every_error_code_is_unique() -> None:
    codes = [cls.code for cls in ERROR_CLASSES]
    assert sorted(code for code in set(codes) if codes.count(code) > 1) == []


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[cls.__name__ for cls in ERROR_CLASSES])
def test_every_error_code_is_in_the_reference(cls: type[SeawallError]) -> None:
    documented = _documented_errors()
    assert cls.code in documented, f"{cls.__name__} ({cls.code}) is missing from docs/errors.md"
    assert documented[cls.code] == (cls.exit_code, cls.http_status), (
        f"docs/errors.md gives {cls.code} exit and status {documented[cls.code]}, "
        f"the class has {(cls.exit_code, cls.http_status)}"
    )


def _drawn_tree() -> dict[str, tuple[str | None, tuple[int, int] | None]]:
    """The tree in seawall.errors' docstring: each class's drawn parent and (exit, status)."""
    doc = errors.__doc__ or ""
    block = doc.split("::", 1)[1].strip("\n").split("\n\n")[0]
    lines = [line.removeprefix("    ") for line in block.splitlines()]
    root = lines[0].split()[0]
    drawn: dict[str, tuple[str | None, tuple[int, int] | None]] = {root: (None, None)}
    parents = [root]
    for line in lines[1:]:
        found = _TREE_LINE.match(line)
        assert found, f"not a tree line in seawall.errors' docstring: {line!r}"
        depth = len(found["indent"]) // 4 + 1
        del parents[depth:]
        numbers = (int(found["exit"]), int(found["status"])) if found["exit"] else None
        drawn[found["name"]] = (parents[depth - 1], numbers)
        parents.append(found["name"])
    return drawn


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[cls.__name__ for cls in ERROR_CLASSES])
def test_every_error_class_says_when_and_what_to_do(cls: type[SeawallError]) -> None:
    assert reference.missing_texts([cls]) == []


def test_the_error_reference_is_generated_from_the_classes() -> None:
    path = ROOT / "docs" / "errors.md"
    text = path.read_text()
    assert text == reference.with_error_reference(text, ERROR_CLASSES), (
        "docs/errors.md differs from the error classes: run `make docs` "
        "(uv run --frozen python -m seawall.reference)"
    )


def test_the_error_reference_names_every_class_and_the_texts_it_lacks() -> None:
    class Unexplained(errors.Conflict):
        code = "unexplained"

    region = reference.error_reference([errors.SeawallError, errors.Conflict, Unexplained])
    rows = [line for line in region.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[1] for row in rows] == [
        "`SeawallError`",
        "`Conflict`",
        "`Unexplained`",
    ]
    assert "missing" in rows[2]
    assert reference.missing_texts([errors.Conflict, Unexplained]) == [
        f"{__name__}.Unexplained has no docstring",
        f"{__name__}.Unexplained has no remedy",
    ]


def test_the_error_tree_drawn_in_errors_py_matches_its_classes() -> None:
    defined = {cls.__name__: cls for cls in ERROR_CLASSES if cls.__module__ == errors.__name__}
    drawn = _drawn_tree()
    assert sorted(drawn) == sorted(defined)
    for name, (parent, numbers) in drawn.items():
        cls = defined[name]
        if parent is None:
            continue
        assert cls.__bases__[0].__name__ == parent, f"{name} is drawn under {parent}"
        # Numbers are drawn where a class changes them; otherwise it keeps its parent's.
        base = defined[parent]
        expected = numbers or (base.exit_code, base.http_status)
        assert (cls.exit_code, cls.http_status) == expected, name


# -- docs are reference, not a diary --------------------------------------------------------------

_DIARY = re.compile(r"\b(this|previous|last) session\b", re.IGNORECASE)
_BENCH_FIGURE = re.compile(r"obj/s|\u00d7|\d\.?\d*x (?:medallion|restic|borg|grep)", re.IGNORECASE)


def test_the_readme_holds_no_benchmark_figures() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    figures = [line for line in lines if _BENCH_FIGURE.search(line)]
    assert figures == [], "benchmark figures belong in bench/RESULTS.md"


@pytest.mark.parametrize(
    "path", [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))], ids=lambda path: path.name
)
def test_docs_do_not_narrate_sessions(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _DIARY.search(line)
    ]
    assert found == [], "docs say how the system works now; runs go to bench/RESULTS.md"


# -- the changelog (Keep a Changelog 1.1.0) -------------------------------------------------------

_CHANGELOG_SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
_RELEASE_HEADING = re.compile(r"^\[(?P<version>\d+\.\d+\.\d+)\] - (?P<date>\d{4}-\d{2}-\d{2})$")


def _changelog_headings(level: str) -> list[str]:
    lines = (ROOT / "CHANGELOG.md").read_text().splitlines()
    return [line.removeprefix(level) for line in lines if line.startswith(level)]


def test_the_changelog_top_release_is_the_package_version() -> None:
    releases = _changelog_headings("## ")
    assert releases[0] == "[Unreleased]"
    top = _RELEASE_HEADING.match(releases[1])
    assert top, f"not a release heading: {releases[1]!r}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert top["version"] == seawall.__version__ == project["version"]
    dated = [_RELEASE_HEADING.match(heading) for heading in releases[1:]]
    assert all(dated), f"every release is '[X.Y.Z] - YYYY-MM-DD': {releases[1:]}"
    dates = [found["date"] for found in dated if found]
    assert dates == sorted(dates, reverse=True), "newest release first"


def test_the_changelog_uses_only_keep_a_changelog_sections() -> None:
    sections = _changelog_headings("### ")
    assert sections
    assert sorted(set(sections) - _CHANGELOG_SECTIONS) == []
