"""The outside index page (GCI) through a real uvicorn: its pillar chart reads in the page's
language, as HTML bars that a phone can read, never a drawing with an English legend."""

from __future__ import annotations

import re
from contextlib import closing

import httpx

PASSWORD = "a-long-password"
PILLARS = {
    "en": [
        "Legal Measures",
        "Technical Measures",
        "Organizational Measures",
        "Capacity Development",
        "Cooperation",
    ],
    "es": [
        "Medidas jurídicas",
        "Medidas técnicas",
        "Medidas organizativas",
        "Desarrollo de capacidades",
        "Cooperación",
    ],
    "fr": [
        "Mesures juridiques",
        "Mesures techniques",
        "Mesures organisationnelles",
        "Développement des capacités",
        "Coopération",
    ],
    "nl": [
        "Juridische maatregelen",
        "Technische maatregelen",
        "Organisatorische maatregelen",
        "Capaciteitsopbouw",
        "Samenwerking",
    ],
}


def chart(page: str) -> str:
    found = re.search(r'<figure class="pillar-chart" id="gci-bars">(.*?)</figure>', page, re.S)
    assert found, "no pillar chart on the page"
    return found.group(1)


def test_the_gci_pillar_chart_reads_in_the_pages_language(viewer: httpx.Client) -> None:
    with closing(viewer) as http:
        pages = {
            lang: http.get(f"/assess/index?edition=gci-2024&group=CARIBBEAN&lang={lang}").text
            for lang in PILLARS
        }
        hub = http.get("/assess?lang=es").text
    rows = {
        lang: re.findall(r'<span class="pillar-nation">([^<]*)</span>', chart(page))
        for lang, page in pages.items()
    }
    table = re.findall(r"<tr class=\"[^\"]*\">\s*<td><b>([A-Z]{3})</b>", pages["en"])
    assert len(table) == 17
    assert rows["en"][:4] == ["DOM", "CUB", "JAM", "TTO"]
    assert len(rows["en"]) == len(table) and all(len(r) == len(table) for r in rows.values())
    for lang, names in PILLARS.items():
        drawn = chart(pages[lang])
        legend = re.findall(r'<li><span class="swatch swatch-\d"></span>([^<]*)</li>', drawn)
        assert legend == names, lang
        assert "<svg" not in drawn and "<img" not in drawn
        head = pages[lang].split('id="index-rows"')[1].split("</thead>")[0]
        assert all(name in head for name in names), lang
        if lang != "en":
            assert not any(name in pages[lang] for name in PILLARS["en"][:4]), lang
    # The alternative figures are said in the page's language.
    alt = re.findall(r'<li class="alt">(.*?)</li>', chart(pages["es"]), re.S)
    assert len(alt) == 1 and "GUY" in alt[0] and "(cifras alternativas)" in alt[0]
    # The tiers are named in the page's language too, here and on the Maturity page.
    jam = pages["es"].split("<b>JAM</b>")[1].split("</tr>")[0]
    assert "T3 En consolidación" in jam and "Establishing" not in pages["es"]
    assert "T3 En consolidación" in hub
    # The reader's own nation stands out.
    assert re.search(r'<li class="mine">\s*<span class="pillar-nation">JAM<', chart(pages["en"]))
