"""The UI's languages: how a request's language is chosen, and complete catalogs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment
from starlette.requests import Request

from seawall import catalogs
from seawall.assess import gaps, rounds
from seawall.core import evidence
from seawall.embassy import registry
from seawall.intel import cases, quality
from seawall.web import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "seawall" / "locale"


def request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", f"{i18n.COOKIE}={cookie}".encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "default", "expected"),
    [
        ("lang=fr", "", "es-ES", "en", ("fr", True)),
        ("lang=fr", "fr", "", "en", ("fr", False)),  # already remembered
        ("lang=xx", "nl", "", "en", ("nl", False)),  # an unknown choice is ignored
        ("", "nl", "es", "en", ("nl", False)),
        ("", "", "es-ES,es;q=0.9,en;q=0.8", "en", ("es", False)),
        ("", "", "de-DE, fr-CA;q=0.5", "en", ("fr", False)),
        ("", "", "nl;q=0, en;q=0.2", "fr", ("en", False)),  # q=0 means "not this one"
        ("", "", "de, *", "nl", ("nl", False)),  # nothing we have: the node's setting
        ("", "", "", "xx", ("en", False)),
    ],
)
def test_a_request_is_answered_in_the_language_it_asks_for_else_the_nodes(
    query: str, cookie: str, accept: str, default: str, expected: tuple[str, bool]
) -> None:
    choice = i18n.choose(request(query, cookie, accept), default)
    assert (choice.language, choice.remember) == expected


def _extracted() -> set[str | tuple[str, ...]]:
    """The messages `make i18n` extracts: a plural one (ngettext, `{% pluralize %}`) as a tuple."""
    with (ROOT / "babel.cfg").open() as config:
        methods, options = parse_mapping_cfg(config)
    # pybabel's own keywords (`{% trans %}` blocks are gettext and ngettext calls) and -k _ -k N_.
    keywords = {**DEFAULT_KEYWORDS, "_": None, "N_": None}
    found = extract_from_dir(str(ROOT), methods, options, keywords=keywords)
    return {
        message if isinstance(message, tuple) else str(message) for _, _, message, _, _ in found
    }


def _translated(entry: Message | None, forms: int) -> bool:
    """Whether a catalog entry is used: not fuzzy, and every (plural) form filled in."""
    if entry is None or entry.fuzzy:
        return False
    if isinstance(entry.string, tuple):
        return len(entry.string) == forms and all(entry.string)
    return bool(entry.string)


def test_every_message_marked_is_in_the_template_and_translated_in_every_catalog() -> None:
    marked = _extracted()
    with (LOCALE / "messages.pot").open("rb") as source:
        template = {m.id for m in read_po(source) if m.id}
    assert marked == template, "run `make i18n` and translate what it adds"
    for language in ("es", "fr", "nl"):
        with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalog = read_po(source, locale=language)
        missing = [m for m in marked if not _translated(catalog.get(m), catalog.num_plurals)]
        assert not missing, f"{language} lacks {missing}"
        assert catalogs.translations(language).gettext("Collective defence") != "Collective defence"


def test_templates_translate_trans_blocks_and_escape_their_variables() -> None:
    # Jinja's i18n extension "newstyle": {% trans %} calls gettext(message, **variables).
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    page = env.from_string(
        "{% trans collection=name %}Objects in {{ collection }}{% endtrans %} · "
        "{% trans count=n %}{{ count }} line{% pluralize %}{{ count }} lines{% endtrans %}"
    )
    english = page.render(**catalogs.template_gettext("en"), name="<b>x</b>", n=2)
    assert english == "Objects in &lt;b&gt;x&lt;/b&gt; · 2 lines"
    spanish = catalogs.template_gettext("es")
    added = "<strong>%(num)s</strong> added"
    assert spanish["ngettext"](added, added, 1) == "<strong>1</strong> añadido"  # markup kept
    assert spanish["ngettext"](added, added, 3) == "<strong>3</strong> añadidos"
    assert spanish["gettext"]("Collective defence") == "Defensa colectiva"


def test_dates_read_in_the_pages_language_and_as_before_in_english() -> None:
    env = Environment(autoescape=True)
    env.filters["when"] = i18n.when
    page = env.from_string("{{ at | when }} · {{ on | when('day') }} · {{ never | when }}")
    at, on = datetime(2026, 12, 3, 13, 2, tzinfo=UTC), date(2026, 5, 1)
    assert page.render(at=at, on=on, never=None) == (
        f"{at.strftime('%d %b %Y %H:%M')} · {on.strftime('%d %b %Y')} · —"
    )
    assert page.render(at=at, on=on, never=None, lang="es") == "03 dic 2026 13:02 · 01 may 2026 · —"
    assert page.render(at=at, on=on, lang="nl").startswith("03 dec 2026 13:02 · 01 mei 2026")


def test_sizes_read_in_the_pages_language() -> None:
    env = Environment(autoescape=True)
    env.filters["size"] = i18n.size
    page = env.from_string("{{ a | size }} · {{ b | size }} · {{ c | size }} · {{ none | size }}")
    values = {"a": 999, "b": 2_669_119, "c": 1_250_000_000, "none": None}
    assert page.render(**values) == "999 B · 2.7 MB · 1.2 GB · —"
    assert page.render(**values, lang="fr") == "999 B · 2,7 MB · 1,2 GB · —"


def test_every_status_and_state_a_page_shows_is_marked_for_translation() -> None:
    shown = {
        *(s.value for s in cases.Status),
        *(d.value for d in cases.Determination),
        *(s.value for s in cases.Severity),
        *(s.value for s in quality.Status),
        *(s.value.replace("_", " ") for s in gaps.ItemStatus),
        rounds.OPEN,
        rounds.PUBLISHED,
        *registry.SUPPORTS,  # an embassy run's kinds
        *evidence.OUTCOMES,  # and outcomes
    }
    assert shown == set(i18n.CORE_WORDS)
    assert catalogs.template_gettext("fr")["_"]("false-positive") == "faux positif"
