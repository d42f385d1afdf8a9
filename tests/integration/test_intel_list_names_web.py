"""Object lists name what a person reads: a relationship by its two ends, a sighting by what
it saw, an indicator's decay as a score out of 100 with when it stops being matched; in the
page's language, and never by a raw STIX id."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
import pytest

from seawall.core.node import Node
from seawall.intel.collections import Audience, create_collection, get_collection
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp
from seawall.web.deps import SESSION_COOKIE
from seawall.web.listing import Decay
from tests.banks import two_banks
from tests.conftest import LiveServer
from tests.html import section
from tests.stix import STAMP, domain, relationship, sighting, stix
from tests.stix import indicator as stix_indicator

LURE = stix_indicator(1, domain("lure.example"), name="Lure domain")
RAT = stix("malware", 2, name="BadRAT", is_family=True)
INDICATES = relationship(3, LURE["id"], "indicates", RAT["id"])
SEEN = sighting(4, LURE["id"], count=3)
HIDDEN = stix("malware", 5, Tlp.RED, name="Bank A's own malware", is_family=True)
TO_HIDDEN = relationship(6, LURE["id"], "related-to", HIDDEN["id"])


@pytest.fixture
def pages(node: Node, live_server: LiveServer) -> httpx.Client:
    with node.unit(node.operator()) as ctx:
        banks = two_banks(ctx)
    with node.unit(banks.principals["x"]) as ctx:
        create_collection(ctx, "region", "Region", None, "green")
        bank_a = Audience(organisations=(banks.orgs["a"],))
        create_collection(ctx, "bank-a", "Bank A", bank_a, "red")
        writing.add_objects(
            ctx, get_collection(ctx, "region"), [LURE, RAT, INDICATES, SEEN, TO_HIDDEN]
        )
        writing.add_objects(ctx, get_collection(ctx, "bank-a"), [HIDDEN])
    client = httpx.Client(base_url=live_server.url, timeout=40)
    client.cookies.set(SESSION_COOKIE, banks.cookies["y"])  # Bank B: may not see HIDDEN
    return client


def _ends(page: str) -> str:
    found = re.search(r'<p id="object-ends">(.*?)</p>', page, re.S)
    assert found, "no ends on the page"
    return " ".join(found.group(1).split())


def _names(page: str) -> dict[str, str]:
    """Each object row's link text, by the object's id."""
    rows = re.findall(r'<a href="/intel/collections/[^/]+/objects/([^"]+)">(.*?)</a>', page, re.S)
    return {i: " ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()) for i, text in rows}


def test_a_list_names_relationships_and_sightings_by_their_ends(pages: httpx.Client) -> None:
    with pages:
        english = _names(pages.get("/intel/collections/region").text)
        spanish_page = pages.get("/intel/collections/region?lang=es").text
        spanish = _names(spanish_page)
    assert english[INDICATES["id"]] == "Lure domain indicates BadRAT"
    assert english[SEEN["id"]] == "Sighting of Lure domain (3 times)"
    # An end the reader may not see is named by its type, never by its name.
    assert english[TO_HIDDEN["id"]] == "Lure domain related to malware"
    assert not any(re.fullmatch(r"[a-z-]+--[0-9a-f-]{36}", name) for name in english.values())
    assert spanish[INDICATES["id"]] == "Lure domain indica BadRAT"
    assert spanish[SEEN["id"]] == "Avistamiento de Lure domain (3 veces)"
    assert spanish[TO_HIDDEN["id"]] == "Lure domain relacionado con malware"
    assert ">indicador</td>" in spanish_page and ">relación</td>" in spanish_page
    assert ">indicador</a>" in spanish_page and ">informe</a>" in spanish_page  # type chips


def test_a_list_tells_an_indicators_decay_out_of_100_and_when_it_is_no_longer_matched(
    pages: httpx.Client,
) -> None:
    with pages:
        english = pages.get("/intel/collections/region").text
        spanish = pages.get("/intel/collections/region?lang=es").text
    # A domain's score falls from 100 to 0 over 180 days, evenly; it is valid from STAMP,
    # 1 Nov 10:00, and the clock reads 23 Nov 09:00 (21.96 days on): 100 * (1 - 21.96 / 180)
    # = 87.8. It falls below 30 at 126 days, 104.04 days from now: in 105 days, rounded up.
    assert STAMP == "2026-11-01T10:00:00.000Z"
    assert re.search(r'<meter [^>]*value="88"', english)
    assert '<span class="decay-score">88/100</span>' in english
    assert "105 days left" in english and "quedan 105 días" in spanish


def test_the_decay_view_says_when_it_never_ends_or_has_ended() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert Decay.of(55.4, None, now, own_end=False, active=True).days_left is None
    assert Decay.of(20, now - timedelta(days=3), now, own_end=False, active=True).days_left == 0
    assert Decay.of(99.6, now + timedelta(hours=1), now, own_end=True, active=True) == Decay(
        100, 30, 1, True, True
    )


def test_a_relationships_and_a_sightings_own_pages_are_named_and_link_their_ends(
    pages: httpx.Client,
) -> None:
    base = "/intel/collections/region/objects"
    with pages:
        seen = pages.get(f"{base}/{SEEN['id']}").text
        link = pages.get(f"{base}/{TO_HIDDEN['id']}?lang=es").text
    assert "<title>Sighting of Lure domain (3 times) · " in seen
    ends = _ends(seen)
    assert f'Sighting of <a href="{base}/{LURE["id"]}">Lure domain</a> · seen 3 times' in ends
    assert "<title>Lure domain relacionado con malware · " in link
    ends = _ends(link)
    # The end the reader may not see: its type, and no link.
    assert f'<a href="{base}/{LURE["id"]}">Lure domain</a> <em>relacionado con</em> malware' in ends
    assert HIDDEN["id"] not in ends


def test_an_objects_page_names_relations_and_types_in_the_pages_language(
    pages: httpx.Client,
) -> None:
    with pages:
        spanish = pages.get(f"/intel/collections/region/objects/{LURE['id']}?lang=es").text
    related = section(spanish, "related")
    assert "<td>indica</td>" in related and "<td>relacionado con</td>" in related
    assert '<span class="badge">indicador</span>' in related
    graph = re.findall(r'fill="#5d6d7e">([^<]+)</text>', spanish)
    assert "indicador" in graph and "indicator" not in graph
    assert "avistamiento de" in spanish  # the sighting's edge


def test_a_tlp_marking_shows_as_its_badge_not_its_id(pages: httpx.Client) -> None:
    with pages:
        page = pages.get(f"/intel/collections/region/objects/{LURE['id']}").text
    markings = section(page, "markings")
    (marking,) = LURE["object_marking_refs"]
    assert "TLP:GREEN" in markings and f">{marking}<" not in markings
