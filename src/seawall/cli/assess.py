"""``seawall assess``: maturity assessments, indices, regional benchmarks and reports.

Every command acts as the node operator, or with ``seawall assess --as USER`` as one of this
node's users, so that the core's role and nation checks apply exactly as they do on the web.
The commands live beside this group: ``assess_frameworks`` (frameworks, content, index),
``assess_rounds`` (round), ``assess_gaps`` (gaps, roadmap) and ``assess_reports`` (region,
report, export); ``seawall.cli.main`` adds them to the group when ``assess`` is first invoked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from seawall.assess.frameworks import DEFAULT_FRAMEWORK
from seawall.cli.context import CliState
from seawall.core import users
from seawall.core.context import Ctx

AS_USER = "seawall.assess.as"

framework_option = click.option(
    "--framework", "framework_id", default=DEFAULT_FRAMEWORK, show_default=True
)


@click.group()
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="USER",
    help="Act as this node user (their role and nation apply); default: the node operator.",
)
@click.pass_context
def assess(ctx: click.Context, as_user: str | None) -> None:
    """National cybersecurity maturity: CMM and GCI assessments, regions, reports."""
    ctx.meta[AS_USER] = as_user


@contextmanager
def unit(state: CliState) -> Iterator[Ctx]:
    """A unit of work as the operator, or as the user named with ``--as``."""
    as_user = click.get_current_context().meta.get(AS_USER)
    with state.operator_unit() as ctx:
        if as_user:
            ctx.who = users.act_as(ctx, as_user, source="cli")
        yield ctx
