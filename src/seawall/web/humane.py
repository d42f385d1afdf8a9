"""Template filters that say times and sizes as people do, in the page's language.

``ago`` turns a moment into "3 hours ago", ``span`` a duration into "2 days", ``decimal``
writes a score as the language does ("3,5"), and ``readable`` rewrites the raw "2669119 bytes"
that stored summaries carry as "2.7 MB" ("1573412 new bytes" as "1.6 MB of new data", with
the ``size`` filter's decimal units) and "an RTO of 3600 s" as "an RTO of 1 hour"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from babel.dates import format_timedelta
from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context

from seawall.web.i18n import size

_BYTES = re.compile(r"\b(\d+) (new )?bytes\b")
# Whole seconds from a minute up ("an RTO of 3600 s"); shorter times read well as they are.
_SECONDS = re.compile(r"\b(\d{2,}) s\b")


def _language(context: Context) -> str:
    return str(context.get("lang", "en"))


@pass_context
def ago(context: Context, moment: object, now: datetime | None = None) -> str:
    """How long ago ``moment`` was ("3 hours ago", "il y a 3 heures"); ``—`` for none.

    "Now" is ``now``, else the page's ``now`` (the node's clock, which its figures use), else
    the wall clock."""
    if not isinstance(moment, datetime):
        return "—"
    at = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    page_now = context.get("now")
    delta = at - (now or (page_now if isinstance(page_now, datetime) else datetime.now(UTC)))
    return format_timedelta(delta, add_direction=True, locale=_language(context))


@pass_context
def span(context: Context, value: object) -> str:
    """A duration in one unit ("2 days", "45 minutes"); ``—`` for none."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta):
        return "—"
    return format_timedelta(value, locale=_language(context))


@pass_context
def readable(context: Context, text: object) -> str:
    """``text`` with each "<number> bytes" said as a size ("2.7 MB") and each "<number> s"
    of a minute or more as a duration ("1 hour")."""
    sized = _BYTES.sub(
        lambda m: str(size(context, int(m.group(1)))) + (" of new data" if m.group(2) else ""),
        str(text),
    )
    return _SECONDS.sub(
        lambda m: span(context, int(m.group(1))) if int(m.group(1)) >= 60 else m.group(0), sized
    )


@pass_context
def decimal(context: Context, value: object) -> str:
    """A number with one decimal, as the page's language writes it ("3,5" in French)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return str(format_decimal(value, "#,##0.0", locale=_language(context)))
