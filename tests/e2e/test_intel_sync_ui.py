"""The partner sync page: every partner, its queue, its state and this node's key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from seawall.core.federation.identity import load_node_key
from seawall.core.node import Node
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


def test_analyst_sees_each_partner_and_this_nodes_key(page: Page, demo_node: Node) -> None:
    sign_in(page, "analyst")
    page.click("nav >> text=Collective defence")
    page.click("#sync-link")
    expect(page.locator("h1")).to_have_text("Sync between nations")
    for name in ("bb-national", "bz-national", "tt-national"):
        row = page.locator("tr", has_text=name)
        expect(row).to_contain_text("never")
        expect(row).to_contain_text("no token")
    expect(page.locator("tr", has_text="tt-national")).to_contain_text("TLP:AMBER")
    key = load_node_key(demo_node.settings)
    expect(page.locator("body")).to_contain_text(key.public_text)
    shoot(page, "intel-09-sync")
