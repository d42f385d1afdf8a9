"""A follow state nested past Python's stack is refused as any broken state is: one typed
line, exit 65, nothing followed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.intel.errors import UnreadableLog
from seawall.intel.matching.following import Position, load_position, save_position
from tests.cli import init_node
from tests.cli import run_seawall as sw

DEEP = 100_000


def _fields(**changed: object) -> str:
    """A state's JSON object with ``changed`` fields written as given (raw JSON text)."""
    fields: dict[str, object] = {"path": "/x/dns.log", "device": 1, "inode": 2, "offset": 3}
    fields["head"] = "00"
    parts = [f"{json.dumps(k)}:{changed.get(k, json.dumps(v))}" for k, v in fields.items()]
    return "{" + ",".join(parts) + "}"


def test_a_state_nested_past_the_stack_is_refused_as_a_broken_one(tmp_path: Path) -> None:
    state = tmp_path / "follow.state"
    state.write_text("{")
    with pytest.raises(UnreadableLog) as broken:
        load_position(state)
    assert str(broken.value) == (
        f"cannot read the follow state {state}: Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)"
    )
    for deep in ("[" * DEEP + "]" * DEEP, "[" * DEEP, _fields(path="[" * DEEP + "]" * DEEP)):
        state.write_text(deep)
        with pytest.raises(UnreadableLog) as nested:
            load_position(state)
        assert str(nested.value) == f"cannot read the follow state {state}: nested too deeply"


def test_a_state_nested_near_the_stack_limit_is_refused_never_raised(tmp_path: Path) -> None:
    # Below the limit json reads it, and the nested value is no path, number or digest.
    state = tmp_path / "follow.state"
    for depth in range(1, 1200, 7):
        nested = "[" * depth + "]" * depth
        for text in (nested, *(_fields(**{k: nested}) for k in ("path", "offset", "head"))):
            state.write_text(text)
            with pytest.raises(UnreadableLog, match="follow state"):
                load_position(state)
    save_position(state, Position("/x/dns.log", 1, 2, 3, "00"))  # a good one still reads
    assert load_position(state) == Position("/x/dns.log", 1, 2, 3, "00")


def test_the_cli_says_a_nested_state_is_unreadable_in_one_line(tmp_path: Path) -> None:
    home = init_node(tmp_path / "home")
    log, state = tmp_path / "dns.log", tmp_path / "follow.state"
    log.write_text("")
    for text, why in (("{", "Expecting property name"), ("[" * DEEP, "nested too deeply")):
        state.write_text(text)
        out = sw(home, "intel", "match", str(log), "--follow", "--state", str(state))
        assert out.code == 65
        assert out.err_lines == [
            f"error: cannot read the follow state {state}: {why}"
            + (" enclosed in double quotes: line 1 column 2 (char 1)" if text == "{" else "")
        ]
