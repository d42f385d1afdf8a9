"""The UI's languages: English first, then Spanish, French and Dutch (the Caribbean's others).

A page's language is chosen, in order, by ``?lang=`` (which is remembered in a cookie), the
cookie, the browser's ``Accept-Language``, and the node's ``language`` setting. Its words
come from the node's catalogs (:mod:`seawall.catalogs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from seawall.catalogs import LANGUAGES, N_, template_gettext

COOKIE = "seawall_lang"


# The core keeps these words in English, stores and compares them; a page shows one as
# `{{ _(word) }}`, found in the page's catalog because it is marked here.
CORE_WORDS = (
    # an assessment round, and an item of its roadmap
    N_("open"),
    N_("published"),
    N_("planned"),
    N_("in progress"),
    N_("done"),
    N_("dropped"),
    # an incident case: its status and its determination
    N_("new"),
    N_("closed"),
    N_("suspected"),
    N_("confirmed"),
    N_("false-positive"),
    # an incident case: its severity
    N_("low"),
    N_("medium"),
    N_("high"),
    N_("critical"),
    # an indicator's state
    N_("active"),
    N_("expired"),
    N_("revoked"),
    N_("not yet valid"),
    # an embassy run: its kind and its outcome (also an evidence record's)
    N_("backup"),
    N_("check"),
    N_("audit"),
    N_("repair"),
    N_("restore"),
    N_("exposure"),
    N_("success"),
    N_("partial"),
    N_("failure"),
)


def page_words(language: str, request: Request | None = None) -> dict[str, Any]:
    """What every page needs to speak ``language``: the gettext functions, ``lang`` (which
    the ``when`` filter reads) and the language switcher's links for ``request``."""
    return {
        "lang": language,
        "languages": LANGUAGES,
        "language_links": language_links(request),
        **template_gettext(language),
    }


def language_links(request: Request | None) -> dict[str, str]:
    """Each language's link from this page: the same page and query with ``lang`` set.

    A page that answers a form was reached by POST, and a GET of its address would be
    refused (405): its links switch on the page the form was on, from a same-site Referer.
    """
    path, query = "/", ""
    if request is not None and request.method in ("GET", "HEAD"):
        path, query = request.url.path, request.url.query
    elif request is not None:
        came_from = urlsplit(request.headers.get("referer", ""))
        if came_from.netloc == request.url.netloc and came_from.path.startswith("/"):
            path, query = came_from.path, came_from.query
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    return {code: f"{path}?{urlencode([*kept, ('lang', code)])}" for code in LANGUAGES}


# How much of a moment a page shows, as CLDR patterns: in English they read as the
# pages always have ("03 Dec 2026 13:02"), and in the other languages with their month names.
WHEN = {
    "day": "dd MMM y",
    "minute": "dd MMM y HH:mm",
    "second": "dd MMM y HH:mm:ss",
    "recent": "dd MMM HH:mm",
    "day-of-month": "dd MMM",
}


@pass_context
def size(context: Context, count: object) -> str:
    """A number of bytes for people, in the page's language (``2,5 MB`` in French); ``—``
    for none. Decimal units, as disks and transfer rates are sold."""
    if not isinstance(count, int) or isinstance(count, bool):
        return "—"
    return in_bytes(count, str(context.get("lang", "en")))


def in_bytes(count: int, language: str) -> str:
    """``count`` bytes in ``language``, as the ``size`` filter shows them."""
    value, unit = float(count), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    shape = "#,##0" if unit == "B" else "#,##0.0"
    return f"{format_decimal(value, shape, locale=language)} {unit}"


@pass_context
def when(context: Context, moment: object, shown: str = "minute") -> str:
    """A date or time in the page's language (the ``when`` filter); ``—`` for none."""
    if not isinstance(moment, date):  # None, or a value the template does not have
        return "—"
    language = str(context.get("lang", "en"))
    if isinstance(moment, datetime):
        return format_datetime(moment, WHEN[shown], tzinfo=UTC, locale=language)
    return format_date(moment, WHEN[shown], locale=language)


@dataclass(frozen=True)
class Choice:
    """The language a request is answered in, and whether to remember it in the cookie."""

    language: str
    remember: bool


def choose(request: Request, default: str) -> Choice:
    """The language for a request: ``?lang=``, the cookie, Accept-Language, then ``default``."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return Choice(asked, remember=asked != request.cookies.get(COOKIE))
    kept = request.cookies.get(COOKIE, "")
    if kept in LANGUAGES:
        return Choice(kept, remember=False)
    preferred = _accepted(request.headers.get("accept-language", ""))
    found = negotiate_locale(preferred, list(LANGUAGES), sep="-") if preferred else None
    if found:
        return Choice(str(Locale.parse(found, sep="-").language), remember=False)
    return Choice(default if default in LANGUAGES else "en", remember=False)


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for at, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, at, tag.strip().lower()))
    # Babel matches whole tags ("es-es" is not "es"), so each tag's language follows it.
    out: list[str] = []
    for _, _, tag in sorted(ranked):
        out += [tag, tag.split("-")[0]]
    return list(dict.fromkeys(out))
