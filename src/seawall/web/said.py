"""What a stored run or evidence record says, in the page's language.

A run (and the evidence it records) keeps an English one-line summary, and the figures it was
made from in its ``detail``. A page says it again from those figures with the catalogs' plural
forms; a record whose figures a page cannot read (an older kind) shows its stored line.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from jinja2 import pass_context
from jinja2.runtime import Context

from seawall.catalogs import translations


def _counts(words: NullTranslations, detail: dict[str, Any]) -> str | None:
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


def run_line(language: str, kind: str, detail: dict[str, Any] | None, summary: str) -> str:
    """A run's summary in ``language``, from its figures where a page can read them."""
    words = translations(language)
    said = _counts(words, detail or {}) if kind in ("check", "embassy.check") else None
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
    if record.kind != "embassy.check" or not isinstance(repository, str):
        return str(record.summary)
    said = _counts(translations(language), detail)
    if said is None:
        return str(record.summary)
    words = translations(language)
    line = words.gettext("Data embassy check of %(repository)s: %(figures)s")
    return line % {"repository": repository, "figures": said}
