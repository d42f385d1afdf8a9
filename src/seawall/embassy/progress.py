"""Progress reports of long operations, for the edges to render (the engine draws nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """A progress report for long operations (rendered by the CLI, not here)."""

    phase: str
    files: int = 0
    bytes: int = 0
    total_files: int | None = None
    total_bytes: int | None = None
    current: str = ""


ProgressFn = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    """A progress callback that ignores every report."""
    return None
