"""``seawall embassy host``: keeping partner nations' shares here, and releasing ours there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, repo_option
from seawall.cli.output import (
    emit_json,
    emit_or_say,
    emit_or_table,
    emit_table,
    fmt_time,
    json_option,
)
from seawall.core.clock import as_utc
from seawall.embassy import service
from seawall.embassy.hosting import agreements, guest, objects
from seawall.embassy.hosting.store import HostedBlobs, hosted_root
from seawall.errors import InvalidInput


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date such as 2027-12-31") from None
    return as_utc(found, "--expires")


def _size(value: str | None, what: str) -> int | None:
    return None if value is None else agreements.parse_size(value, what)


def _gib(value: int) -> str:
    return f"{value / (1 << 30):.2f} GiB"


def _row(found: agreements.Hosted) -> list[Any]:
    a, usage = found.agreement, found.usage
    return [
        a.name,
        f"{found.partner.name} ({found.partner.nation})",
        f"{_gib(usage.stored_bytes)} of {_gib(a.quota_bytes)}",
        f"{a.retention_days} d",
        fmt_time(a.expires_at),
        fmt_time(a.last_write_at),
        fmt_time(a.last_check_at),
        found.refusals,
    ]


COLUMNS = ["Agreement", "Guest", "Kept", "Retention", "Ends", "Last write", "Last check", "Refused"]


@click.group("host")
def host() -> None:
    """Host partner nations' embassy shares: agreements, usage and refusals."""


@host.group("agreement")
def agreement() -> None:
    """Hosting agreements for guest partners."""


@agreement.command("add")
@click.argument("name")
@click.option("--guest", required=True, help="The guest's partner record (name or id).")
@click.option("--quota", required=True, help="Space for the guest, e.g. 500GiB.")
@click.option("--retention-days", type=int, required=True, help="Days a replaced share is kept.")
@click.option("--expires", required=True, help="When the agreement ends, e.g. 2027-12-31.")
@click.option("--bandwidth", default=None, help="Most the guest may write a day, e.g. 50GiB.")
@click.option("--guest-key", default="", help="The guest repository's embassy public key.")
@json_option
@pass_state
def agreement_add(
    state: CliState,
    name: str,
    guest: str,
    quota: str,
    retention_days: int,
    expires: str,
    bandwidth: str | None,
    guest_key: str,
    as_json: bool,
) -> None:
    """Promise the partner GUEST space here under NAME (its site is seawall://HOST/NAME)."""
    with state.operator_unit() as ctx:
        row = agreements.add_agreement(
            ctx,
            name,
            guest,
            quota_bytes=agreements.parse_size(quota, "--quota"),
            retention_days=retention_days,
            expires_at=_when(expires) or ctx.now(),
            bandwidth_bytes=_size(bandwidth, "--bandwidth") or 0,
            signing_key=guest_key,
        )
        found = agreements.describe(ctx, row)
    emit_or_say(as_json, found.as_dict(), f"Agreement {name} made for {found.partner.name}")


@agreement.command("list")
@json_option
@pass_state
def agreement_list(state: CliState, as_json: bool) -> None:
    """Every agreement: guest, space kept, retention, end, last write and check, refusals."""
    with state.operator_unit() as ctx:
        found = agreements.hosted(ctx)
    emit_or_table(
        as_json,
        [h.as_dict() for h in found],
        "Hosting agreements",
        COLUMNS,
        [_row(h) for h in found],
    )


@agreement.command("show")
@click.argument("name")
@json_option
@pass_state
def agreement_show(state: CliState, name: str, as_json: bool) -> None:
    """One agreement with its usage and its latest refusals."""
    with state.operator_unit() as ctx:
        found = agreements.describe(ctx, agreements.find_agreement(ctx, name))
        refused = agreements.refusals(ctx, name, limit=20)
    rows = [[r.at, r.actor, r.code, r.name, r.size, r.message] for r in refused]
    if as_json:
        emit_json(
            {**found.as_dict(), "refused": [agreements.refusal_dict(r, name) for r in refused]}
        )
        return
    emit_table(f"Agreement {name}", COLUMNS, [_row(found)])
    if rows:
        emit_table("Refused", ["At", "By", "Code", "Object", "Bytes", "Why"], rows)


@agreement.command("extend")
@click.argument("name")
@click.option("--quota", default=None, help="New space for the guest, e.g. 1TiB.")
@click.option("--retention-days", type=int, default=None, help="New retention in days.")
@click.option("--bandwidth", default=None, help="New daily cap (0 for none).")
@click.option("--expires", default=None, help="New end date.")
@click.option("--reason", default="", help="Why (required to shorten retention).")
@json_option
@pass_state
def agreement_extend(
    state: CliState,
    name: str,
    quota: str | None,
    retention_days: int | None,
    bandwidth: str | None,
    expires: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Change an agreement's terms; retention is shortened only with --reason."""
    with state.operator_unit() as ctx:
        row = agreements.change_agreement(
            ctx,
            name,
            quota_bytes=_size(quota, "--quota"),
            retention_days=retention_days,
            bandwidth_bytes=_size(bandwidth, "--bandwidth"),
            expires_at=_when(expires),
            reason=reason,
        )
        found = agreements.describe(ctx, row)
    emit_or_say(as_json, found.as_dict(), f"Agreement {name} changed")


@host.command("list")
@json_option
@pass_state
def host_list(state: CliState, as_json: bool) -> None:
    """What this node hosts, for whom and how much, and what it refused."""
    with state.operator_unit() as ctx:
        found = agreements.hosted(ctx)
        refused = agreements.refusals(ctx, limit=50)
        names = {h.agreement.id: h.agreement.name for h in found}
    rows = [[r.at, names.get(r.agreement_id, ""), r.actor, r.code, r.name, r.size] for r in refused]
    if as_json:
        emit_json(
            {
                "agreements": [h.as_dict() for h in found],
                "refused": [
                    agreements.refusal_dict(r, names.get(r.agreement_id, "")) for r in refused
                ],
            }
        )
        return
    emit_table("Hosted here", COLUMNS, [_row(h) for h in found])
    emit_table("Refused", ["At", "Agreement", "By", "Code", "Object", "Bytes"], rows)


@host.command("sweep")
@json_option
@pass_state
def host_sweep(state: CliState, as_json: bool) -> None:
    """Purge the versions guests released whose retention has passed."""
    blobs = HostedBlobs(hosted_root(state.settings()))
    with state.operator_unit() as ctx:
        purged = objects.sweep(ctx, blobs)
    emit_or_say(as_json, purged, f"Purged {counted(sum(purged.values()), 'version')}")


@host.command("release")
@repo_option
@json_option
@pass_state
def host_release(state: CliState, repo_ref: str, as_json: bool) -> None:
    """Sign, with the repository's embassy key, that its partner hosts may purge what was
    replaced or deleted until now, once their retention has passed."""
    access = access_to(state, repo_ref)
    with service.opened(access) as found:
        answers = guest.release(found.repo.sites, found.repo.master, access.clock.now())
        found.event("embassy.hosting.released", sites=[a.site for a in answers])
    emit_or_table(
        as_json,
        [a.__dict__ for a in answers],
        "Released",
        ["Site", "Release before", "Purged"],
        [[a.site, a.release_before, a.purged] for a in answers],
    )
