"""What a stored run or evidence record says, in the page's language.

A run (and the evidence it records) keeps an English one-line summary, and the figures it was
made from in its ``detail``. A page says it again from those figures with the catalogs' plural
forms; a record whose figures a page cannot read (an older kind) shows its stored line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from babel.numbers import format_decimal
from babel.support import NullTranslations
from jinja2 import pass_context
from jinja2.runtime import Context

from seawall.catalogs import N_, translations
from seawall.web.i18n import in_bytes


def _counts(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """A check's figures: ``1 pack, 5 shares read, 0 problems``; None for other figures."""
    packs, shares, problems = (detail.get(k) for k in ("packs", "shares_read", "problems"))
    if not (isinstance(packs, int) and isinstance(shares, int) and isinstance(problems, list)):
        return None
    return ", ".join(
        (
            words.ngettext("%(num)s pack", "%(num)s packs", packs) % {"num": packs},
            words.ngettext("%(num)s share read", "%(num)s shares read", shares) % {"num": shares},
            words.ngettext("%(num)s problem", "%(num)s problems", len(problems))
            % {"num": len(problems)},
        )
    )


def _backup(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """A backup's figures: ``snapshot 1a2b3c4d: 11 files, 2.7 MB, 1.6 MB new``."""
    snapshot, files, size, stored = (
        detail.get(k) for k in ("snapshot", "files", "bytes", "stored_bytes")
    )
    if not (isinstance(snapshot, str) and isinstance(files, int)):
        return None
    if not (isinstance(size, int) and isinstance(stored, int)):
        return None
    line = words.ngettext(
        "snapshot %(snapshot)s: %(num)s file, %(size)s, %(stored)s new",
        "snapshot %(snapshot)s: %(num)s files, %(size)s, %(stored)s new",
        files,
    )
    return line % {
        "snapshot": snapshot[:8],
        "num": files,
        "size": in_bytes(size, language),
        "stored": in_bytes(stored, language),
    }


def _drill(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """A restore drill's figures: ``restore drill of 1a2b3c4d: 11 files, 2.7 MB in 4.9 s
    against an RTO of 1 hour``."""
    snapshot, files, size, seconds = (
        detail.get(k) for k in ("snapshot", "files", "bytes", "rto_measured_seconds")
    )
    if not (isinstance(snapshot, str) and isinstance(files, int) and isinstance(size, int)):
        return None
    if not isinstance(seconds, int | float):
        return None
    line = words.ngettext(
        "restore drill of %(snapshot)s: %(num)s file, %(size)s in %(seconds)s s",
        "restore drill of %(snapshot)s: %(num)s files, %(size)s in %(seconds)s s",
        files,
    ) % {
        "snapshot": snapshot[:8],
        "num": files,
        "size": in_bytes(size, language),
        "seconds": format_decimal(seconds, "#,##0.0", locale=language),
    }
    target = detail.get("rto_target_seconds")
    if isinstance(target, int | float) and not isinstance(target, bool):
        held_to = format_timedelta(timedelta(seconds=target), locale=language)
        against = words.gettext("against an RTO of %(target)s") % {"target": held_to}
        line = f"{line} {against}"
    problems = detail.get("problems")
    if isinstance(problems, list) and problems:
        count = words.ngettext("%(num)s problem", "%(num)s problems", len(problems))
        line = f"{line}; {count % {'num': len(problems)}}"
    return line


def _restored(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """A restore's figures: ``1a2b3c4d restored: 11 files, 2.7 MB``."""
    snapshot, files, size = (detail.get(k) for k in ("snapshot", "files", "bytes"))
    if not (isinstance(snapshot, str) and isinstance(files, int) and isinstance(size, int)):
        return None
    line = words.ngettext(
        "%(snapshot)s restored: %(num)s file, %(size)s",
        "%(snapshot)s restored: %(num)s files, %(size)s",
        files,
    )
    return line % {"snapshot": snapshot[:8], "num": files, "size": in_bytes(size, language)}


Sayer = Callable[[NullTranslations, str, dict[str, Any]], str | None]

# Each run kind a page says from its figures, and its evidence record's line.
_SAID: dict[str, tuple[Sayer, str]] = {
    "check": (_counts, N_("Data embassy check of %(repository)s: %(figures)s")),
    "backup": (_backup, N_("Data embassy backup of %(repository)s: %(figures)s")),
    "drill": (_drill, N_("Data embassy restore drill of %(repository)s: %(figures)s")),
    "restore": (_restored, N_("Data embassy restore of %(repository)s: %(figures)s")),
}


def _figures(language: str, kind: str, detail: dict[str, Any]) -> str | None:
    """A run's figures in ``language``; None for a kind or figures a page cannot read."""
    said = _SAID.get(kind.removeprefix("embassy."))
    return None if said is None else said[0](translations(language), language, detail)


def run_line(language: str, kind: str, detail: dict[str, Any] | None, summary: str) -> str:
    """A run's summary in ``language``, from its figures where a page can read them."""
    said = _figures(language, kind, detail or {})
    return summary if said is None else said


@pass_context
def run_summary(context: Context, run: Any) -> str:
    """The ``run_summary`` filter: an embassy run's summary in the page's language."""
    return run_line(str(context.get("lang", "en")), run.kind, run.detail, run.summary)


@pass_context
def evidence_summary(context: Context, record: Any) -> str:
    """The ``evidence_summary`` filter: an evidence record's summary in the page's language
    (a data embassy run's from its figures; others as stored)."""
    language = str(context.get("lang", "en"))
    detail = getattr(record, "detail", None) or {}
    repository = detail.get("repository")
    said = _figures(language, str(record.kind), detail)
    if said is None or not isinstance(repository, str):
        return str(record.summary)
    line = translations(language).gettext(_SAID[str(record.kind).removeprefix("embassy.")][1])
    return line % {"repository": repository, "figures": said}
