"""The UI's languages: how a request's language is chosen, and complete catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.requests import Request

from seawall.web import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "seawall" / "web" / "locale"


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


def _extracted() -> set[str]:
    methods = [
        ("src/seawall/web/templates/**.html", "jinja2"),
        ("src/seawall/web/**.py", "python"),
    ]
    options = {"src/seawall/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = extract_from_dir(str(ROOT), methods, options, keywords={"_": None, "N_": None})
    return {str(message) for _, _, message, _, _ in found}


def test_every_message_the_ui_marks_is_in_the_template_and_translated_in_every_catalog() -> None:
    marked = _extracted()
    with (LOCALE / "messages.pot").open("rb") as source:
        template = {str(m.id) for m in read_po(source) if m.id}
    assert marked == template, "run `make i18n` and translate what it adds"
    for language in ("es", "fr", "nl"):
        with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalog = read_po(source)
        missing = [m for m in marked if not (catalog.get(m) and catalog.get(m).string)]
        assert not missing, f"{language} lacks {missing}"
        assert i18n.translations(language).gettext("Collective defence") != "Collective defence"
