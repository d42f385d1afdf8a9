"""Reading the parts of a server-rendered page in tests."""

from __future__ import annotations

import re


def section(page: str, name: str) -> str:
    """The inside of the page's ``<section id="name">``; fails when the page has none."""
    found = re.search(rf'<section[^>]* id="{name}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f'no <section id="{name}"> on the page'
    return found.group(1)
