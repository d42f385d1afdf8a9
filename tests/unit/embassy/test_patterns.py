"""Glob patterns over snapshot paths (``find`` and ``rewrite --exclude``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.embassy.patterns import compile_pattern
from seawall.errors import InvalidInput

PATHS = [
    "srv",
    "srv/records",
    "srv/records/land.csv",
    "srv/records/Land.CSV",
    "srv/records/hr",
    "srv/records/hr/doe.pdf",
    "srv/records/hr/2024/doe.csv",
    "home/ana/land.csv",
]


def matched(pattern: str, *, ignore_case: bool = False) -> set[str]:
    compiled = compile_pattern(pattern, ignore_case=ignore_case)
    return {p for p in PATHS if compiled.matches(p)}


def test_a_pattern_without_a_slash_matches_the_name() -> None:
    assert matched("*.csv") == {
        "srv/records/land.csv",
        "srv/records/hr/2024/doe.csv",
        "home/ana/land.csv",
    }
    assert matched("hr") == {"srv/records/hr"}
    assert matched("d?e.*") == {"srv/records/hr/doe.pdf", "srv/records/hr/2024/doe.csv"}
    assert matched("[lL]and.[!x]sv") == {"srv/records/land.csv", "home/ana/land.csv"}


def test_ignore_case_matches_either_case() -> None:
    assert matched("land.csv") == {"srv/records/land.csv", "home/ana/land.csv"}
    assert matched("LAND.csv", ignore_case=True) == {
        "srv/records/land.csv",
        "srv/records/Land.CSV",
        "home/ana/land.csv",
    }


def test_a_pattern_with_a_slash_matches_the_path() -> None:
    # Rooted at / it matches from the top; otherwise it matches the path's last components.
    assert matched("/srv/records/*.csv") == {"srv/records/land.csv"}
    assert matched("records/*.csv") == {"srv/records/land.csv"}
    assert matched("/records/*.csv") == set()
    assert matched("/srv/records/hr") == {"srv/records/hr"}
    assert matched("/srv/records/hr/") == {"srv/records/hr"}
    assert matched("/srv/*") == {"srv/records"}
    assert matched("/srv/**/*.csv") == {"srv/records/land.csv", "srv/records/hr/2024/doe.csv"}
    assert matched("hr/**") == {"srv/records/hr/doe.pdf", "srv/records/hr/2024/doe.csv"}


def test_covers_takes_in_everything_under_a_match() -> None:
    hr = compile_pattern("/srv/records/hr")
    assert {p for p in PATHS if hr.covers(p)} == {
        "srv/records/hr",
        "srv/records/hr/doe.pdf",
        "srv/records/hr/2024/doe.csv",
    }


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("", "is empty"),
        ("  ", "is empty"),
        ("/", "names no entry"),
        ("[abc", "unclosed '['"),
        ("/srv/[z-a]", "range"),
        ("doe\\", "ends in '\\'"),
    ],
)
def test_bad_patterns_are_refused_in_one_line(pattern: str, complaint: str) -> None:
    with pytest.raises(InvalidInput, match="pattern") as caught:
        compile_pattern(pattern)
    assert complaint in caught.value.message
    assert "\n" not in caught.value.message


NAME = st.text(alphabet="ab*?[]\\-!^.Xé \n", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and s.strip()
)
PATH = st.lists(NAME, min_size=1, max_size=4).map("/".join)


def escape(path: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in path)


@given(PATH, PATH)
def test_a_rooted_escaped_path_matches_that_path_alone(path: str, other: str) -> None:
    pattern = compile_pattern("/" + escape(path))
    assert pattern.matches(path)
    assert pattern.matches(other) == (other == path)


@given(PATH, NAME)
def test_a_star_never_crosses_a_slash(path: str, name: str) -> None:
    star = compile_pattern("/" + escape(path) + "/*")
    assert star.matches(path + "/" + name)
    assert not star.matches(path + "/" + name + "/" + name)
    assert not star.matches(path)
    assert star.covers(path + "/" + name + "/" + name)


@given(PATH, NAME)
def test_a_plain_name_matches_exactly_the_entries_of_that_name(path: str, name: str) -> None:
    pattern = compile_pattern(escape(name))
    assert pattern.matches(path) == (path.rsplit("/", 1)[-1] == name)
