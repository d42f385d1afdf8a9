"""The commands that set up a real node work as written in a fresh shell: after `make setup`
the project's own executables are in .venv/bin, while uv may not be on PATH (pip --user puts it
in ~/.local/bin, which a fresh login shell need not have)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text.split("## Setting up a real node", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_setting_up_a_real_node_needs_no_uv_on_path() -> None:
    commands = _setup_commands()
    assert commands[0] == "make setup"
    for command in commands[1:]:
        program = command.split()[0]
        assert program != "uv", f"{command!r} fails with 'uv: command not found' after make"
        if "/" in program:
            assert (ROOT / program).is_file(), f"{program} is not made by make setup"
