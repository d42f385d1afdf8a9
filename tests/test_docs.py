"""Docs are tested: every setting, CLI command and API route must be documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from seawall.cli.main import cli
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
