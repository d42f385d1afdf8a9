"""Administration commands: users, tokens, organisations and partners."""

from __future__ import annotations

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import (
    ask_secret,
    emit_json,
    emit_or_say,
    emit_or_table,
    fmt_time,
    json_option,
    say,
)
from seawall.core import organisations, partners, tokens, users


@click.group()
def user() -> None:
    """Manage the people who sign in to this node."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, help="admin, analyst, assessor, custodian or viewer.")
@click.option("--nation", default=None, help="ISO code (default: the node's nation).")
@click.option("--org", default=None, help="Organisation id or name.")
@click.option(
    "--partner",
    default=None,
    help="Make this a partner node's sync account (its nation; acts under its max_tlp).",
)
@click.option("--name", "display_name", default="", help="Full name.")
@click.option("--email", default="", help="Email address.")
@click.option(
    "--password",
    envvar="SEAWALL_USER_PASSWORD",
    default=None,
    help="Initial password (or SEAWALL_USER_PASSWORD; prompted if absent).",
)
@json_option
@pass_state
def user_add(
    state: CliState,
    username: str,
    role: str,
    nation: str | None,
    org: str | None,
    partner: str | None,
    display_name: str,
    email: str,
    password: str | None,
    as_json: bool,
) -> None:
    """Add a user."""
    secret = password or ask_secret("Password", "SEAWALL_USER_PASSWORD")
    users.check_password_rule(secret)
    with state.operator_unit() as ctx:
        row = users.add_user(
            ctx,
            username,
            role,
            password=secret,
            nation=nation,
            org=org,
            display_name=display_name,
            email=email,
            partner=partner,
        )
    emit_or_say(
        as_json,
        {
            "id": row.id,
            "username": row.username,
            "role": row.role,
            "nation": row.nation,
            "partner": partner.strip().lower() if partner else None,
        },
        f"Added {row.username} ({row.role}, {row.nation})",
    )


@user.command("list")
@json_option
@pass_state
def user_list(state: CliState, as_json: bool) -> None:
    """List this nation's users."""
    with state.operator_unit() as ctx:
        rows = users.list_users(ctx)
    emit_or_table(
        as_json,
        [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "nation": u.nation,
                "disabled": u.disabled,
                "last_login_at": u.last_login_at,
            }
            for u in rows
        ],
        "Users",
        ["Username", "Name", "Role", "Status", "Last sign-in"],
        (
            (
                u.username,
                u.display_name,
                u.role,
                "disabled" if u.disabled else "active",
                fmt_time(u.last_login_at),
            )
            for u in rows
        ),
    )


@user.command("disable")
@click.argument("username")
@pass_state
def user_disable(state: CliState, username: str) -> None:
    """Disable a user; their sessions and tokens stop working."""
    with state.operator_unit() as ctx:
        row = users.set_disabled(ctx, username, True)
    say(f"Disabled {row.username}")


@user.command("enable")
@click.argument("username")
@pass_state
def user_enable(state: CliState, username: str) -> None:
    """Re-enable a user and clear any lock-out."""
    with state.operator_unit() as ctx:
        row = users.set_disabled(ctx, username, False)
    say(f"Enabled {row.username}")


@click.group()
def token() -> None:
    """Manage API tokens (stored hashed; shown once)."""


@token.command("create")
@click.option("--user", "username", required=True, help="Whose token it is.")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--scope", "scopes", multiple=True, help="A permission; repeat. Default: all.")
@click.option("--days", type=int, default=90, show_default=True, help="Lifetime in days.")
@json_option
@pass_state
def token_create(
    state: CliState, username: str, name: str, scopes: tuple[str, ...], days: int, as_json: bool
) -> None:
    """Create a token and print it once."""
    with state.operator_unit() as ctx:
        issued = tokens.create_token(ctx, name, scopes, days, username=username)
    if as_json:
        emit_json(
            {
                "id": issued.token.id,
                "token": issued.value,
                "scopes": issued.token.scopes,
                "expires_at": issued.token.expires_at,
            }
        )
    else:
        say(f"Token {issued.token.id} for {username}, expires {fmt_time(issued.token.expires_at)}")
        click.echo(issued.value)


@token.command("revoke")
@click.argument("token_id")
@pass_state
def token_revoke(state: CliState, token_id: str) -> None:
    """Revoke a token by id."""
    with state.operator_unit() as ctx:
        row = tokens.revoke_token(ctx, token_id)
    say(f"Revoked token {row.id}")


@token.command("list")
@json_option
@pass_state
def token_list(state: CliState, as_json: bool) -> None:
    """List tokens (never their secrets)."""
    with state.operator_unit() as ctx:
        rows = tokens.list_tokens(ctx)
    emit_or_table(
        as_json,
        [
            {
                "id": t.id,
                "user": u,
                "name": t.name,
                "scopes": t.scopes,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
                "last_used_at": t.last_used_at,
            }
            for t, u in rows
        ],
        "API tokens",
        ["Id", "User", "Name", "Expires", "Status"],
        (
            (t.id, u, t.name, fmt_time(t.expires_at), "revoked" if t.revoked_at else "active")
            for t, u in rows
        ),
    )


@click.group()
def org() -> None:
    """Manage organisations (CIRT, ministry, regulator, data custodian, regional body)."""


@org.command("add")
@click.argument("name")
@click.option(
    "--kind", required=True, help="cirt, ministry, regulator, data_custodian, regional_body."
)
@click.option("--nation", default=None, help="ISO code (default: the node's nation).")
@json_option
@pass_state
def org_add(state: CliState, name: str, kind: str, nation: str | None, as_json: bool) -> None:
    """Add an organisation."""
    with state.operator_unit() as ctx:
        row = organisations.add_org(ctx, name, kind, nation)
    emit_or_say(
        as_json,
        {"id": row.id, "name": row.name, "kind": row.kind, "nation": row.nation},
        f"Added {row.name} ({row.kind}, {row.nation})",
    )


@org.command("list")
@json_option
@pass_state
def org_list(state: CliState, as_json: bool) -> None:
    """List this nation's organisations."""
    with state.operator_unit() as ctx:
        rows = organisations.list_orgs(ctx)
    emit_or_table(
        as_json,
        [{"id": o.id, "name": o.name, "kind": o.kind, "nation": o.nation} for o in rows],
        "Organisations",
        ["Name", "Kind", "Id"],
        ((o.name, o.kind, o.id) for o in rows),
    )


@click.group()
def partner() -> None:
    """Manage partner nodes."""


@partner.command("add")
@click.argument("name")
@click.option("--nation", required=True, help="The partner's ISO nation code.")
@click.option("--url", required=True, help="The partner node's base URL.")
@click.option("--trust", default="limited", show_default=True, help="full, limited or none.")
@click.option(
    "--max-tlp", default="green", show_default=True, help="Most sensitive TLP it may get."
)
@click.option("--no-pull", is_flag=True, help="Do not pull intel from it.")
@click.option("--no-push", is_flag=True, help="Do not push intel to it.")
@click.option("--embassy-host", is_flag=True, help="It hosts our embassy shares.")
@click.option(
    "--hub-for",
    "hub_for",
    multiple=True,
    metavar="GROUP",
    help="It is the hub of this region group: our published rounds go to it (repeat).",
)
@json_option
@pass_state
def partner_add(
    state: CliState,
    name: str,
    nation: str,
    url: str,
    trust: str,
    max_tlp: str,
    no_pull: bool,
    no_push: bool,
    embassy_host: bool,
    hub_for: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add a partner node."""
    with state.operator_unit() as ctx:
        row = partners.add_partner(
            ctx,
            name,
            nation,
            url,
            trust,
            max_tlp,
            not no_pull,
            not no_push,
            embassy_host,
            hub_for=hub_for,
        )
    emit_or_say(
        as_json,
        {"id": row.id, "name": row.name, "nation": row.nation, "url": row.url},
        f"Added partner {row.name} ({row.nation}) at {row.url}",
    )


@partner.command("disable")
@click.argument("name")
@pass_state
def partner_disable(state: CliState, name: str) -> None:
    """Stop all exchange with a partner: sync, pushes and bundles."""
    with state.operator_unit() as ctx:
        row = partners.set_partner_disabled(ctx, name, True)
    say(f"Disabled partner {row.name}: nothing is exchanged with it until it is enabled")


@partner.command("enable")
@click.argument("name")
@pass_state
def partner_enable(state: CliState, name: str) -> None:
    """Resume exchange with a partner."""
    with state.operator_unit() as ctx:
        row = partners.set_partner_disabled(ctx, name, False)
    say(f"Enabled partner {row.name}")


@partner.command("list")
@json_option
@pass_state
def partner_list(state: CliState, as_json: bool) -> None:
    """List partner nodes."""
    with state.operator_unit() as ctx:
        rows = partners.list_partners(ctx)
    emit_or_table(
        as_json,
        [
            {
                "id": p.id,
                "name": p.name,
                "nation": p.nation,
                "url": p.url,
                "trust": p.trust,
                "max_tlp": p.max_tlp,
                "pull": p.pull,
                "push": p.push,
                "embassy_host": p.embassy_host,
                "hub_for": list(p.hub_for or []),
                "disabled": p.disabled,
            }
            for p in rows
        ],
        "Partners",
        ["Name", "Nation", "URL", "Trust", "Max TLP", "Embassy host", "Hub for"],
        (
            (
                p.name,
                p.nation,
                p.url,
                p.trust,
                p.max_tlp.upper(),
                "yes" if p.embassy_host else "no",
                ", ".join(p.hub_for or []) or "-",
            )
            for p in rows
        ),
    )


@partner.command("deliver")
@click.argument("name", required=False)
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per call.")
@json_option
@pass_state
@click.pass_context
def partner_deliver(
    click_ctx: click.Context, state: CliState, name: str | None, timeout: float, as_json: bool
) -> None:
    """Deliver queued signed packages (rounds for a hub) to every partner due, or to NAME."""
    # Imported here: the HTTP client costs every other command's start-up otherwise.
    from seawall.core.federation import delivery

    reports = delivery.deliver(state.node(), name, timeout=timeout)
    if as_json:
        emit_json([r.as_dict() for r in reports])
    elif not reports:
        say("Nothing to deliver.")
    for r in [] if as_json else reports:
        if r.skipped:
            say(f"{r.partner}: skipped ({r.skipped})")
            continue
        said = f"{r.partner}: {len(r.delivered)} delivered, {len(r.refused)} refused"
        said += f", {r.pending} waiting"
        say(said + (f"; failed: {r.error}" if r.error else ""))
        for refused in r.refused:
            say(f"  refused {refused['kind']} {refused['key']}: {refused['message']}")
    if any(r.error for r in reports):
        click_ctx.exit(69)


COMMANDS = (user, token, org, partner)
