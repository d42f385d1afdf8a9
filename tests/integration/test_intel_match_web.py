"""The Match logs page's retro-hunt: a real uvicorn, a real Zeek log from 2013, and an
indicator valid from 2026 that only a hunt reaching back finds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seawall.core import users
from seawall.core.node import Node
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.matching import sightings
from seawall.intel.store.writing import add_objects
from tests import stix
from tests.conftest import LiveServer, sign_in_by_form

ZEEK = Path(__file__).parents[1] / "data" / "zeek"
PASSWORD = "a-long-password"


@pytest.fixture
def browser(live_server: LiveServer, node: Node) -> Iterator[httpx.Client]:
    indicator = stix.indicator(7, stix.domain("maxmind.com"), None, name="maxmind lookups")
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "analyst", "analyst", password=PASSWORD)
        shared = create_collection(ctx, "shared", "Shared", Audience(), "green")
        add_objects(ctx, shared, [indicator], request_id="test")
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        sign_in_by_form(http, "analyst", PASSWORD)
        yield http


def _match(browser: httpx.Client, **fields: str) -> str:
    form = browser.get("/intel/match")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    answer = browser.post(
        "/intel/match",
        data={"csrf_token": token.group(1), **fields},
        files={"file": ("dns.log", (ZEEK / "dns.log").read_bytes(), "text/plain")},
    )
    return answer.text


def test_the_match_page_hunts_back_with_since_or_ignoring_validity(browser: httpx.Client) -> None:
    assert "<strong>0</strong> matched" in _match(browser)
    for hunt in ({"since": "2013-09-01"}, {"ignore_validity": "1"}):
        page = _match(browser, **hunt)
        assert "<strong>1</strong> matched" in page, page[-3000:]
        assert "<td>11</td>" in page
    refused = _match(browser, since="last tuesday")
    assert "--since" in refused or "not a time" in refused
    assert re.search(r"last tuesday(&#39;|&#x27;|')? is not a time", refused), refused[-3000:]


def test_the_match_page_compiles_the_indicators_once_into_the_cli_s_cache(
    browser: httpx.Client, node: Node
) -> None:
    folder = sightings.cache_folder(node.settings.home)
    assert "<strong>1</strong> matched" in _match(browser, ignore_validity="1")
    sets = sorted(folder.glob("*.json"))
    assert len(sets) == 1  # the analyst's set, compiled by this run
    written = sets[0].stat().st_mtime_ns
    assert "<strong>1</strong> matched" in _match(browser, ignore_validity="1")
    assert sorted(folder.glob("*.json")) == sets
    assert sets[0].stat().st_mtime_ns == written  # read, not compiled again
    other = stix.indicator(8, stix.domain("guyspy.com"), None, name="guyspy")
    with node.unit(node.operator()) as ctx:
        add_objects(ctx, get_collection(ctx, "shared"), [other], request_id="test")
    assert "<strong>2</strong> matched" in _match(browser, ignore_validity="1")
    assert len(list(folder.glob("*.json"))) == 2  # what the analyst may read changed
