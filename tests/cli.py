"""Run the real ``seawall`` CLI in-process, through ``main()`` and its error translator.

- :func:`run_seawall` -> :class:`Outcome` (exit code, stdout, stderr)
- :func:`init_node` makes a node home with ``seawall init``; :func:`site_dirs` makes empty
  local embassy site folders
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from seawall.cli.main import main


@dataclass
class Outcome:
    """What one ``seawall`` run left: its exit code and what it wrote."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def output(self) -> str:
        """Stdout, then stderr."""
        return self.out + self.err

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_seawall(
    home: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """Run ``seawall --home HOME ARGS`` in-process through main(), the real error translator."""
    runner = CliRunner()
    with runner.isolation(input=stdin, env=env) as streams:
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, streams[0].getvalue().decode(), streams[1].getvalue().decode())


def init_node(home: Path, nation: str = "JM") -> Path:
    """A node home made by ``seawall init --nation NATION``; returns ``home``."""
    made = run_seawall(home, "init", "--nation", nation)
    assert made.code == 0, made.output
    return home


def site_dirs(parent: Path, count: int = 5) -> list[Path]:
    """``count`` empty folders ``site-1`` ... under ``parent``, for local embassy sites."""
    dirs = [parent / f"site-{i}" for i in range(1, count + 1)]
    for d in dirs:
        d.mkdir()
    return dirs
