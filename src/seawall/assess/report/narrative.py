"""The nation report's words from its figures: the executive summary, the findings by
dimension with their change since the previous round, and the recommendations.

Every sentence is chosen and filled from the report's numbers, in the report's language (the
node's catalogs), so a summary never says what the figures do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from gettext import NullTranslations
from typing import TYPE_CHECKING

from seawall.assess.gaps import Gap, ItemStatus
from seawall.db.models.assess import RoadmapItem

if TYPE_CHECKING:
    from seawall.assess.report.document import NationReport

HIGH, MEDIUM, LOW = 1, 2, 3
# A change smaller than this (on the 1-5 stage scale) reads as "unchanged".
STEADY = 0.005
OPEN_ITEMS = (ItemStatus.PLANNED.value, ItemStatus.IN_PROGRESS.value)


@dataclass(frozen=True)
class FactorFinding:
    """One factor's agreed stage now and in the previous published round."""

    factor_id: str
    factor_name: str
    stage: int | None
    previous: int | None

    @property
    def change(self) -> int | None:
        """The stages gained (negative: lost), or None when either round lacks it."""
        if self.stage is None or self.previous is None:
            return None
        return self.stage - self.previous


@dataclass(frozen=True)
class DimensionFinding:
    """A dimension's score in the latest round, the previous one's, and its factors."""

    dimension_id: str
    name: str
    score: float | None
    previous: float | None
    factors: tuple[FactorFinding, ...]

    @property
    def change(self) -> float | None:
        """The score's change since the previous round, or None (first round, not assessed)."""
        if self.score is None or self.previous is None:
            return None
        return self.score - self.previous


@dataclass(frozen=True)
class Recommendation:
    """A factor to raise (its gap) or a roadmap action to carry, with its priority."""

    priority: int  # HIGH, MEDIUM or LOW
    factor_id: str
    factor_name: str
    gap: Gap | None
    items: tuple[RoadmapItem, ...]
    overdue: bool


def findings(report: NationReport) -> list[DimensionFinding]:
    """Each dimension of the latest round beside the previous published round."""
    latest = report.latest
    if latest is None:
        return []
    before = report.rounds[-2] if len(report.rounds) > 1 else None
    agreed = {f.factor_id: f.agreed_stage for f in report.factors}
    out: list[DimensionFinding] = []
    for dimension in report.framework.dimensions:
        factors = tuple(
            FactorFinding(f.id, f.name, agreed.get(f.id), report.previous_stages.get(f.id))
            for f in dimension.factors
        )
        out.append(
            DimensionFinding(
                dimension.id,
                dimension.name,
                latest.scores.get(dimension.id),
                before.scores.get(dimension.id) if before else None,
                factors,
            )
        )
    return out


def recommendations(
    gaps: Sequence[Gap], roadmap: Sequence[RoadmapItem], today: date
) -> list[Recommendation]:
    """The gaps and the open roadmap actions, most urgent first.

    High: a gap of two stages or more, or an open action past its due date. Medium: a gap of
    one stage. Low: an open action on a factor that is not (or no longer) below its target.
    Within a priority, the larger gap first, then the earliest due action, then the factor."""
    open_items: dict[str, list[RoadmapItem]] = {}
    for item in sorted(roadmap, key=lambda i: (i.due, i.action)):
        if item.status in OPEN_ITEMS:
            open_items.setdefault(item.factor_id, []).append(item)
    out: list[Recommendation] = []
    for gap in gaps:
        items = tuple(open_items.pop(gap.factor_id, ()))
        overdue = any(i.due < today for i in items)
        priority = HIGH if gap.gap >= 2 or overdue else MEDIUM
        out.append(Recommendation(priority, gap.factor_id, gap.factor_name, gap, items, overdue))
    for factor_id, rest in open_items.items():
        overdue = any(i.due < today for i in rest)
        out.append(
            Recommendation(HIGH if overdue else LOW, factor_id, "", None, tuple(rest), overdue)
        )

    def order(r: Recommendation) -> tuple[int, int, date, str]:
        first_due = r.items[0].due if r.items else date.max
        return (r.priority, -(r.gap.gap if r.gap else 0), first_due, r.factor_id)

    return sorted(out, key=order)


def executive_summary(report: NationReport, catalog: NullTranslations) -> list[str]:
    """Three to six sentences from the figures, in ``catalog``'s language."""
    gettext, ngettext = catalog.gettext, catalog.ngettext
    latest = report.latest
    if latest is None:
        return [
            gettext(
                "%(nation)s has no published %(framework)s round yet: there is nothing to report."
            )
            % {"nation": report.nation_name, "framework": report.framework.name}
        ]
    names = {d.id: d.name for d in report.framework.dimensions}
    scores = latest.scores
    top = report.framework.stages.highest
    out: list[str] = []
    if latest.mean is not None:
        out.append(
            ngettext(
                "In its %(year)s round, %(nation)s scores %(mean).2f of %(top)s on average "
                "across the %(num)d dimension assessed.",
                "In its %(year)s round, %(nation)s scores %(mean).2f of %(top)s on average "
                "across the %(num)d dimensions assessed.",
                len(scores),
            )
            % {
                "year": latest.year,
                "nation": report.nation_name,
                "mean": latest.mean,
                "top": top,
                "num": len(scores),
            }
        )
        strongest, weakest = latest.strongest, latest.weakest
        if strongest is not None and weakest is not None and strongest != weakest:
            out.append(
                gettext(
                    "The strongest dimension is %(strong)s (%(strong_score).2f); the weakest "
                    "is %(weak)s (%(weak_score).2f)."
                )
                % {
                    "strong": f"{strongest} {names[strongest]}",
                    "strong_score": scores[strongest],
                    "weak": f"{weakest} {names[weakest]}",
                    "weak_score": scores[weakest],
                }
            )
    else:
        out.append(
            gettext("The %(year)s round agrees no stage yet: no dimension is assessed.")
            % {"year": latest.year}
        )
    out.append(_change_sentence(report, catalog))
    out.append(_gap_sentence(report, catalog))
    disputed = sum(1 for f in report.factors if f.disagreement)
    if disputed:
        out.append(
            ngettext(
                "The stakeholder groups' ratings differ by two stages or more on %(num)d factor.",
                "The stakeholder groups' ratings differ by two stages or more on %(num)d factors.",
                disputed,
            )
            % {"num": disputed}
        )
    if latest.partial:
        total = len(report.framework.factors())
        out.append(
            gettext(
                "Caveat: the round was published as partial, with %(agreed)d of %(total)d "
                "factors agreed; a dimension without an agreed factor is not assessed."
            )
            % {"agreed": latest.agreed, "total": total}
        )
    return out[:6]


def _change_sentence(report: NationReport, catalog: NullTranslations) -> str:
    gettext, ngettext = catalog.gettext, catalog.ngettext
    latest = report.latest
    assert latest is not None
    if len(report.rounds) < 2:
        return gettext(
            "This is the first published round: there is no earlier round to compare with."
        )
    before = report.rounds[-2]
    common = [d for d in latest.scores if d in before.scores]
    if not common:
        return gettext(
            "The %(before)s round assessed none of the same dimensions: there is no change "
            "to report."
        ) % {"before": before.year}
    change = sum(latest.scores[d] - before.scores[d] for d in common) / len(common)
    rose = sum(1 for d in common if latest.scores[d] - before.scores[d] > STEADY)
    fell = sum(1 for d in common if before.scores[d] - latest.scores[d] > STEADY)
    values = {"before": before.year, "change": abs(change), "rose": rose, "fell": fell}
    if change > STEADY:
        lead = gettext("Since the %(before)s round the mean score rose by %(change).2f") % values
    elif change < -STEADY:
        lead = gettext("Since the %(before)s round the mean score fell by %(change).2f") % values
    else:
        lead = gettext("Since the %(before)s round the mean score is unchanged") % values
    tail = ngettext(
        "%(num)d dimension rose and %(fell)d fell.",
        "%(num)d dimensions rose and %(fell)d fell.",
        rose,
    ) % {"num": rose, "fell": fell}
    return f"{lead}: {tail}"


def _gap_sentence(report: NationReport, catalog: NullTranslations) -> str:
    gettext, ngettext = catalog.gettext, catalog.ngettext
    open_items = [i for i in report.roadmap if i.status in OPEN_ITEMS]
    overdue = sum(1 for i in open_items if i.due < report.generated_at.date())
    if report.gaps:
        stages = sum(g.gap for g in report.gaps)
        text = ngettext(
            "%(num)d factor is below its target, by %(stages)d stages in all",
            "%(num)d factors are below their targets, by %(stages)d stages in all",
            len(report.gaps),
        ) % {"num": len(report.gaps), "stages": stages}
    elif report.has_targets:
        text = gettext("No factor is below its target")
    else:
        text = gettext("No target is set, so no gap is measured")
    actions = ngettext(
        "%(num)d roadmap action is open (%(overdue)d past due).",
        "%(num)d roadmap actions are open (%(overdue)d past due).",
        len(open_items),
    ) % {"num": len(open_items), "overdue": overdue}
    return f"{text}; {actions}"
