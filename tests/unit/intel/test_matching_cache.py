"""The compiled-set cache: what it wrote reads back, and a damaged or unwritable cache is a
miss (the set is compiled again), never a failed match."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.intel.matching.compiled import Compiled, Indicator, read_cached, write_cached
from seawall.intel.matching.observables import Kind, Observable
from seawall.intel.tlp import Tlp

KEY = "k" * 64


def _compiled() -> Compiled:
    window = (datetime(2026, 1, 1, tzinfo=UTC), None)
    entries = [
        (
            Indicator(f"indicator--{n}", "feeds", Tlp.AMBER, f"i{n}", window),
            ((Observable(Kind.DOMAIN, f"{n}.evil.example"),),),
        )
        for n in range(3)
    ]
    return Compiled.of(entries, not_matchable=2)


def test_a_cached_set_reads_back_readable_by_the_node_only(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    write_cached(folder, KEY, _compiled())
    found = read_cached(folder, KEY)
    assert found is not None
    assert found.not_matchable == 2
    assert found.key == KEY
    assert found.indicator(1) == _compiled().indicator(1)
    assert found.parts.equals(_compiled().parts)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name.removeprefix(KEY) for p in folder.iterdir()) == [
        ".indicators.arrow",
        ".json",
        ".labels.jsonl",
        ".offsets.bin",
        ".parts.arrow",
    ]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


@pytest.mark.parametrize("meta", ["{}", "[]", '{"not_matchable": "x"}', "null", "{", "\xff"])
def test_a_damaged_meta_file_is_a_miss(tmp_path: Path, meta: str) -> None:
    write_cached(tmp_path, KEY, _compiled())
    (tmp_path / f"{KEY}.json").write_text(meta, encoding="latin-1")
    assert read_cached(tmp_path, KEY) is None


@pytest.mark.parametrize(
    "table", ["indicators.arrow", "labels.jsonl", "offsets.bin", "parts.arrow"]
)
@pytest.mark.parametrize("size", [0, 10, 100])
def test_a_truncated_table_is_a_miss(tmp_path: Path, table: str, size: int) -> None:
    write_cached(tmp_path, KEY, _compiled())
    with (tmp_path / f"{KEY}.{table}").open("r+b") as file:
        file.truncate(size)
    assert read_cached(tmp_path, KEY) is None


def test_a_cache_that_cannot_be_written_is_left_alone(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder should be")
    write_cached(blocked, KEY, _compiled())
    assert blocked.read_text() == "a file where the folder should be"
    assert read_cached(blocked, KEY) is None


MOMENTS = st.one_of(
    st.none(),
    st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
)


@settings(max_examples=50, deadline=None)
@given(windows=st.lists(st.tuples(MOMENTS, MOMENTS), min_size=1, max_size=20))
def test_windows_come_back_to_the_microsecond_in_utc(
    tmp_path_factory: pytest.TempPathFactory, windows: list[tuple[datetime | None, ...]]
) -> None:
    entries = [
        (
            Indicator(f"indicator--{n}", "feeds", Tlp.GREEN, f"i{n}", (start, until)),
            ((Observable(Kind.DOMAIN, f"{n}.evil.example"),),),
        )
        for n, (start, until) in enumerate(windows)
    ]
    folder = tmp_path_factory.mktemp("cache")
    write_cached(folder, KEY, Compiled.of(entries))
    for compiled in (Compiled.of(entries), read_cached(folder, KEY)):
        assert compiled is not None
        assert compiled.windows() == windows
        keys = list(range(0, len(windows), 2))
        assert compiled.windows_of(keys) == {key: windows[key] for key in keys}
        compiled.load(keys)
        assert [compiled.indicator(key).window for key in keys] == [windows[k] for k in keys]
        # in datetime.UTC, whose comparisons with a record's time cost the least
        moments = [m for window in compiled.windows() for m in window if m is not None]
        assert all(moment.tzinfo is UTC for moment in moments)
