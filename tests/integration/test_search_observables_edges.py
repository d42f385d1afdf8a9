"""The search page and ``seawall intel search`` find a name written in Unicode by its punycode
and the other way round: both edges call the same core search."""

from __future__ import annotations

import re

import httpx

from seawall.core.node import Node
from seawall.intel.collections import create_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from tests.cli import run_seawall
from tests.stix import indicator, sid

IDN = "\u0430\u0440\u0440\u04cf\u0435.com"  # a Cyrillic look-alike of apple.com
PUNY = "xn--80ak6aa92e.com"


def _ids(page: str) -> set[str]:
    return set(
        re.findall(
            r'<div class="small muted mono intel-oid phone-hide">(indicator--[0-9a-f-]+)</div>',
            page,
        )
    )


def test_the_page_and_the_cli_find_a_name_in_either_form(node: Node, viewer: httpx.Client) -> None:
    with node.unit(node.operator()) as ctx:
        collection = create_collection(ctx, "phish", "Phish", None, "green")
        writing.add_objects(
            ctx,
            collection,
            [
                indicator(1, f"[domain-name:value = '{IDN}']", Tlp.GREEN),
                indicator(2, f"[domain-name:value = '{PUNY}']", Tlp.GREEN),
                indicator(3, "[domain-name:value = 'apple.com']", Tlp.GREEN),
                indicator(4, f"[domain-name:value = '{IDN}']", Tlp.RED),  # not the viewer's
            ],
        )
    both = {sid("indicator", 1), sid("indicator", 2)}
    for text in (IDN, PUNY, PUNY.upper() + "."):
        page = viewer.get("/intel/search", params={"q": text})
        assert page.status_code == 200
        assert "2 results for" in page.text and _ids(page.text) == both, text
        shown = run_seawall(node.settings.home, "intel", "search", text, "--json")
        assert shown.code == 0, shown.output
        # The CLI reads as the node's operator, who may read the RED one too.
        assert shown.json()["total"] == 3
        assert {f["id"] for f in shown.json()["items"]} == {*both, sid("indicator", 4)}
    viewer.close()  # before the server stops: its kept-alive socket is not left to the GC
