"""Message catalogs: the node's words in English, Spanish, French and Dutch.

The catalogs are gettext ``.po`` files shipped in the package (``seawall/locale``), one per
language, read with Babel once per process. Any layer may translate with them: the web UI
in the language a request chooses (:mod:`seawall.web.i18n`), a nation's report in the
language it is written for. A message missing from a catalog shows in English.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "nl": "Nederlands",
}
DOMAIN = "messages"


def N_(message: str) -> str:  # gettext's name for "mark now, translate when shown"
    """Mark a message for the catalogs; it is translated where it is shown."""
    return message


def counted(number: int, noun: str, plural: str = "", *, grouped: bool = False) -> str:
    """A count and its noun in English, for the CLI and stored lines: ``1 file``,
    ``2 files``; ``plural`` for a noun that does not just take an s (``repositories``);
    ``grouped`` writes thousands apart (``1,200 lines``)."""
    words = noun if number == 1 else plural or noun + "s"
    return f"{number:,} {words}" if grouped else f"{number} {words}"


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of one language (English, and any language without one, translate nothing)."""
    if language == "en" or language not in LANGUAGES:
        return NullTranslations()
    path = resources.files("seawall").joinpath(f"locale/{language}/LC_MESSAGES/{DOMAIN}.po")
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def template_gettext(language: str) -> dict[str, Callable[..., Markup]]:
    """``_``, ``gettext`` and ``ngettext`` for a template in ``language``, as it calls them.

    Jinja's i18n extension is installed "newstyle": a ``{% trans name=x %}`` block calls
    ``gettext(message, name=x)``. The translation is trusted (it comes from our catalogs),
    and every variable is escaped into it, as Jinja's own newstyle functions do.
    """
    catalog = translations(language)
    # S704: the markup is the catalog's own (shipped in the package, as the templates are);
    # what a caller passes in goes through Markup's %, which escapes it.

    def gettext(message: str, **variables: Any) -> Markup:
        return Markup(catalog.gettext(message)) % variables  # noqa: S704

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return Markup(catalog.ngettext(singular, plural, num)) % variables  # noqa: S704

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
