"""What a stored run or evidence record says, in the page's language.

A run (and the evidence it records) keeps an English one-line summary, and the figures it was
made from in its ``detail``. A page says it again from those figures with the catalogs' plural
forms; a record whose figures a page cannot read (an older record, an unknown kind) shows its
stored line. Every evidence kind a pillar records is said here: the data embassy's runs, the
intel pillar's log matches and closed cases, the coop pillar's completed programmes and legal
instruments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeGuard

from babel.dates import format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations
from jinja2 import pass_context
from jinja2.runtime import Context

from seawall.catalogs import N_, translations
from seawall.coop.matrix import KIND_NAMES, STATUS_NAMES
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


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _texts(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _against(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """A match's tail: ``against 40 shared indicators: 3 matched``."""
    indicators, matched = detail.get("indicators"), detail.get("matched")
    if not (_count(indicators) and _count(matched)):
        return None
    against = words.ngettext(
        "against %(num)s shared indicator", "against %(num)s shared indicators", indicators
    ) % {"num": format_decimal(indicators, locale=language)}
    hits = words.ngettext("%(num)s matched", "%(num)s matched", matched)
    return f"{against}: {hits % {'num': format_decimal(matched, locale=language)}}"


def _logs_matched(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``Matched 1,200 log lines (zeek-dns) against 40 shared indicators: 3 matched``."""
    lines, formats, against = (
        detail.get("lines"),
        detail.get("formats"),
        _against(words, language, detail),
    )
    if not (_count(lines) and _texts(formats) and against):
        return None
    head = words.ngettext(
        "Matched %(num)s log line (%(formats)s)", "Matched %(num)s log lines (%(formats)s)", lines
    ) % {"num": format_decimal(lines, locale=language), "formats": ", ".join(formats)}
    return f"{head} {against}"


def _logs_followed(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``Followed dns.log (zeek-dns): matched 1,200 log lines as they were written against
    40 shared indicators: 3 matched``."""
    lines, name, fmt = (detail.get(k) for k in ("lines", "log", "format"))
    against = _against(words, language, detail)
    if not (_count(lines) and isinstance(name, str) and against):
        return None
    if not (fmt is None or isinstance(fmt, str)):
        return None
    head = words.ngettext(
        "Followed %(log)s (%(format)s): matched %(num)s log line as it was written",
        "Followed %(log)s (%(format)s): matched %(num)s log lines as they were written",
        lines,
    ) % {
        "log": name,
        "format": fmt or words.gettext("empty"),
        "num": format_decimal(lines, locale=language),
    }
    return f"{head} {against}"


def _case_closed(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``Case 'Phishing wave' closed (confirmed); nations on it: JM, TT``."""
    title, determination, nations = (detail.get(k) for k in ("title", "determination", "nations"))
    if not (isinstance(title, str) and isinstance(determination, str) and _texts(nations)):
        return None
    closed = words.gettext("Case '%(title)s' closed (%(determination)s)") % {
        "title": title,
        "determination": words.gettext(determination),
    }
    on_it = words.ngettext("nation on it: %(nations)s", "nations on it: %(nations)s", len(nations))
    return f"{closed}; {on_it % {'nations': ', '.join(nations)}}"


def _shared(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``Sample: 42 indicators shared with TT and BB over TAXII this month``."""
    indicators, partners = detail.get("indicators"), detail.get("partners")
    if not (_count(indicators) and _texts(partners) and partners):
        return None
    line = words.ngettext(
        "Sample: %(num)s indicator shared with %(partners)s over TAXII this month",
        "Sample: %(num)s indicators shared with %(partners)s over TAXII this month",
        indicators,
    )
    return line % {
        "num": format_decimal(indicators, locale=language),
        "partners": format_list(partners, locale=language),
    }


def _programme(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``Programme JM-CIRT-2026 completed: A national CIRT (IDB, OAS)``."""
    ref, name, funders = (detail.get(k) for k in ("ref", "name", "funders"))
    if not (isinstance(ref, str) and isinstance(name, str) and _texts(funders)):
        return None
    return words.gettext("Programme %(ref)s completed: %(name)s (%(funders)s)") % {
        "ref": ref,
        "name": name,
        "funders": ", ".join(funders) or words.gettext("unnamed funders"),
    }


def _law(words: NullTranslations, language: str, detail: dict[str, Any]) -> str | None:
    """``JM Data protection: draft -> enacted (Data Protection Act, 2020-06-19)``."""
    nation, kind, before, after = (detail.get(k) for k in ("nation", "kind", "before", "after"))
    if not (isinstance(nation, str) and kind in KIND_NAMES):
        return None
    if not (before in STATUS_NAMES and after in STATUS_NAMES):
        return None
    said = (
        f"{nation} {words.gettext(KIND_NAMES[str(kind)])}: "
        f"{words.gettext(STATUS_NAMES[str(before)])} -> {words.gettext(STATUS_NAMES[str(after)])}"
    )
    title, day = detail.get("title"), detail.get("date")
    if isinstance(title, str) and title:
        dated = day if isinstance(day, str) and day else words.gettext("no date")
        said += f" ({title}, {dated})"
    return said


# Each evidence kind the other pillars record, said from its ``detail``.
_EVIDENCE: dict[str, Sayer] = {
    "intel.logs.matched": _logs_matched,
    "intel.logs.followed": _logs_followed,
    "intel.case.closed": _case_closed,
    "intel.sharing": _shared,
    "coop.programme.completed": _programme,
    "coop.law.cell_changed": _law,
}


def evidence_line(language: str, kind: str, detail: dict[str, Any] | None, summary: str) -> str:
    """An evidence record's summary in ``language``, from its figures where a page can read
    them, else its stored line."""
    detail = detail or {}
    sayer = _EVIDENCE.get(kind)
    if sayer is not None:
        said = sayer(translations(language), language, detail)
        return summary if said is None else said
    figures, repository = _figures(language, kind, detail), detail.get("repository")
    if figures is None or not isinstance(repository, str):
        return summary
    line = translations(language).gettext(_SAID[kind.removeprefix("embassy.")][1])
    return line % {"repository": repository, "figures": figures}


# Each pillar as the navigation names it, for an evidence record's badge.
PILLAR_NAMES: dict[str, str] = {
    "assess": N_("Maturity"),
    "intel": N_("Collective defence"),
    "embassy": N_("Data embassy"),
    "coop": N_("Cooperation"),
}


@pass_context
def pillar_name(context: Context, pillar: str) -> str:
    """The ``pillar_name`` filter: a pillar as the page's navigation names it."""
    name = PILLAR_NAMES.get(pillar)
    return pillar if name is None else translations(str(context.get("lang", "en"))).gettext(name)


@pass_context
def run_summary(context: Context, run: Any) -> str:
    """The ``run_summary`` filter: an embassy run's summary in the page's language."""
    return run_line(str(context.get("lang", "en")), run.kind, run.detail, run.summary)


@pass_context
def evidence_summary(context: Context, record: Any) -> str:
    """The ``evidence_summary`` filter: an evidence record's summary in the page's language."""
    detail = getattr(record, "detail", None)
    return evidence_line(
        str(context.get("lang", "en")), str(record.kind), detail, str(record.summary)
    )
