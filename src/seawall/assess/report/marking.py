"""What a report's pages are marked with: its TLP classification and whether it is sample data.

Both reports print their classification on the cover and in every page's header and footer,
as TLP 2.0 asks of a document (FIRST, "Traffic Light Protocol (TLP) Version 2.0": the label in
the header and footer of every page). A nation report defaults to **TLP:AMBER**: it holds each
stakeholder group's rationale, evidence and dissent, which the nation's government shares on a
need-to-know basis before it decides to publish; a minister's office expects an unpublished
assessment to come marked so. A regional report holds only published, consented figures and
defaults to **TLP:CLEAR**. Whoever writes a report may mark it otherwise (``--tlp``).

Sample data (:mod:`seawall.assess.samples`) says so in every rationale, dissent and source it
writes: a report that uses any of it is watermarked SAMPLE on every page.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess.samples import NOTE
from seawall.catalogs import N_
from seawall.core.tlp import Tlp, parse_tlp
from seawall.db.models.assess import Consensus, Rating

NATION_DEFAULT = Tlp.AMBER
REGION_DEFAULT = Tlp.CLEAR

# TLP 2.0's colours: the label's text on a black background.
COLOURS = {
    Tlp.CLEAR: "#FFFFFF",
    Tlp.GREEN: "#33FF00",
    Tlp.AMBER: "#FFC000",
    Tlp.AMBER_STRICT: "#FFC000",
    Tlp.RED: "#FF2B2B",
}
# Who may receive the report, in TLP 2.0's terms, as the cover says it.
NOTICES = {
    Tlp.CLEAR: N_("Disclosure is not limited: may be shared without restriction."),
    Tlp.GREEN: N_(
        "Limited disclosure: may be shared within the recipients' community, not published."
    ),
    Tlp.AMBER: N_(
        "Limited disclosure: recipients may share it on a need-to-know basis within their "
        "organisation and its clients only."
    ),
    Tlp.AMBER_STRICT: N_(
        "Limited disclosure: recipients may share it on a need-to-know basis within their "
        "organisation only."
    ),
    Tlp.RED: N_("For the eyes and ears of individual recipients only: no further disclosure."),
}


def classification(value: str | Tlp | None, default: Tlp) -> Tlp:
    """A report's TLP level from a name (``amber``, ``TLP:RED``), or ``default`` when none."""
    if value is None or value == "":
        return default
    return value if isinstance(value, Tlp) else parse_tlp(value)


def is_sample(texts: Iterable[str]) -> bool:
    """Whether any of these texts (rationales, dissent, sources) is the sample data's note."""
    return any(NOTE in text for text in texts if text)


def sample_rounds(db: Session, round_ids: Iterable[str]) -> set[str]:
    """Which of this node's own rounds carry the sample note in a rating or a consensus."""
    ids = list(round_ids)
    if not ids:
        return set()
    found: set[str] = set()
    for column, where in (
        (Consensus.dissent, Consensus.round_id),
        (Rating.rationale, Rating.round_id),
    ):
        stmt = select(where).where(where.in_(ids), column.contains(NOTE)).distinct()
        found.update(db.scalars(stmt))
    return found
