"""What the other pillars say of each CIRT's nation, composed for the CIRT directory.

``seawall.coop`` imports neither ``assess`` nor ``intel``: the edges that show the directory
read both and hand the values in as :class:`seawall.coop.cirts.Signals`. This is the one place
that reads them, for the web pages and for ``seawall coop cirt`` (the CLI, an edge above the
web, imports it from here).
"""

from __future__ import annotations

from seawall.coop import cirts
from seawall.core.context import Ctx
from seawall.errors import Forbidden

SIM3 = "sim3-v2"


def gather_signals(ctx: Ctx, group: str) -> cirts.Signals:
    """The latest SIM3 self-assessment of each member of ``group`` published to it (its
    category levels), and the nations this node exchanges intelligence with: a partner
    with a pull or push on record, and this node's nation when it has pushed to any.

    A caller who may not read a pillar gets that signal named as unavailable, not as zero."""
    # Imported here: the CLI loads this module for every `coop cirt` command, and these
    # pillars are only needed by the listing.
    from seawall.assess.benchmark import build_panel, latest_rows
    from seawall.intel.sync import partner_statuses

    sim3: dict[str, dict[str, float]] = {}
    years: dict[str, int] = {}
    sharing: set[str] = set()
    missing: list[str] = []
    try:
        for nation, row in latest_rows(build_panel(ctx, group, SIM3)).items():
            sim3[nation] = dict(row.dimensions)
            years[nation] = row.year
    except Forbidden:
        missing.append("sim3")
    try:
        for status in partner_statuses(ctx):
            if status.last_pull_at or status.last_push_at:
                sharing.add(status.partner.nation)
            if status.last_push_at:
                sharing.add(ctx.who.nation)
    except Forbidden:
        missing.append("sharing")
    return cirts.Signals(sim3, years, frozenset(sharing), tuple(missing))
