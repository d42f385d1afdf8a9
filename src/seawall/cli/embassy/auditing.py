"""``seawall embassy audit``: partner hosts prove they still hold a sample of the shares."""

from __future__ import annotations

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, repo_option
from seawall.cli.output import emit_json, emit_table, json_option, say
from seawall.embassy.service.auditing import SiteAudit, parse_sample
from seawall.embassy.service.auditing import audit as audit_repository


def _note(site: SiteAudit) -> str:
    if site.error:
        return site.error
    if not site.auditable:
        return "not auditable without download: use check --read-data"
    if site.no_challenge_left:
        return f"{counted(site.no_challenge_left, 'share')} without a challenge left"
    return ""


@click.command()
@repo_option
@click.option("--sample", default="5%", show_default=True, help="Share of the packs to challenge.")
@json_option
@pass_state
def audit(state: CliState, repo_ref: str, sample: str, as_json: bool) -> None:
    """Challenge every partner host for a sample of its shares (no download)."""
    report = audit_repository(access_to(state, repo_ref), parse_sample(sample))
    if as_json:
        emit_json({"sample": report.sample, "sites": [s.as_dict() for s in report.sites]})
    else:
        emit_table(
            "Audit",
            ["Site", "Challenged", "Failed", "Bytes on the wire", "Note"],
            [
                [
                    s.site,
                    s.challenged if s.auditable else "-",
                    len(s.failed),
                    s.wire_bytes,
                    _note(s),
                ]
                for s in report.sites
            ],
        )
        for line in report.problems:
            say(f"failed: {line}")
    if report.problems:
        raise click.exceptions.Exit(1)
