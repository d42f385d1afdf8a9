"""Glob patterns over snapshot paths, as ``find`` and ``rewrite --exclude`` take them.

A pattern without ``/`` matches an entry's name, wherever it lies. A pattern with ``/``
matches the path: rooted at ``/`` it matches from the top (``/srv/records/*.csv``),
otherwise it matches the path's last components (``records/*.csv``), as restic's patterns
do. ``*`` matches any run of characters but ``/``, ``?`` one such character, ``[abc]``,
``[a-z]`` and ``[!abc]`` (or ``[^abc]``) one of (or none of) a set, ``**`` as a whole
component any number of directories, and ``\\`` makes the next character plain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seawall.errors import InvalidInput


@dataclass(frozen=True)
class PathPattern:
    """A compiled glob pattern over ``/``-separated snapshot paths (no leading ``/``)."""

    text: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        """True when ``path`` itself matches."""
        return self.regex.fullmatch(path) is not None

    def covers(self, path: str) -> bool:
        """True when ``path`` or a directory above it matches (excluding a directory
        takes in everything under it)."""
        if self.matches(path):
            return True
        end = path.find("/")
        while end != -1:
            if self.matches(path[:end]):
                return True
            end = path.find("/", end + 1)
        return False


def compile_pattern(text: str, *, ignore_case: bool = False) -> PathPattern:
    """Compile ``text``; InvalidInput, in one line, when it is not a pattern."""
    if not text.strip():
        raise InvalidInput(f"pattern {text!r} is empty; give a name or path glob, e.g. '*.csv'")
    anchored = text.startswith("/")
    parts = [part for part in text.split("/") if part]
    if not parts:
        raise InvalidInput(f"pattern {text!r} names no entry; give a name or path glob")
    body = ""
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        if part == "**":
            body += ".*" if last else "(?:[^/]+/)*"
        else:
            body += _component(part, text) + ("" if last else "/")
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    try:
        regex = re.compile(("" if anchored else "(?:.*/)?") + body, flags)
    except re.error as exc:
        raise InvalidInput(f"pattern {text!r} is not a glob: {exc}") from None
    return PathPattern(text, regex)


def compile_patterns(
    texts: list[str] | tuple[str, ...], *, ignore_case: bool = False
) -> list[PathPattern]:
    """Compile each of ``texts``; at least one is needed."""
    if not texts:
        raise InvalidInput("give at least one pattern")
    return [compile_pattern(t, ignore_case=ignore_case) for t in texts]


def _component(part: str, whole: str) -> str:
    """The regex of one path component of a pattern."""
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            if i + 1 == len(part):
                raise InvalidInput(f"pattern {whole!r} ends in '\\'; escape it as '\\\\'")
            i += 1
            out.append(re.escape(part[i]))
        elif char == "[":
            cls, i = _char_class(part, i, whole)
            out.append(cls)
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _char_class(part: str, start: int, whole: str) -> tuple[str, int]:
    """The regex of the class opening at ``part[start]``, and the index of its ``]``."""
    i = start + 1
    negate = i < len(part) and part[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(part) and (part[i] != "]" or first):
        first = False
        char = part[i]
        if char == "\\" and i + 1 < len(part):
            i += 1
            items.append(re.escape(part[i]))
        elif char == "-" and items and i + 1 < len(part) and part[i + 1] != "]":
            items.append("-")
        else:
            items.append(re.escape(char))
        i += 1
    if i >= len(part):
        raise InvalidInput(f"pattern {whole!r} has an unclosed '['; escape it as '\\['")
    # A negated class must not match the separator either: ``*`` never crosses a ``/``.
    return "[" + ("^/" if negate else "") + "".join(items) + "]", i
