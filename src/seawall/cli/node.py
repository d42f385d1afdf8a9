"""Node commands: init, serve, demo."""

from __future__ import annotations

import copy
from typing import Any

import click

from seawall.cli.context import CliState, pass_state
from seawall.cli.output import ask_secret, emit_json, emit_or_say, json_option, say
from seawall.core.logs import QUIET, configure_logging
from seawall.core.node import Node, init_node
from seawall.core.ports import check_port
from seawall.core.users import add_user, check_password_rule
from seawall.db.engine import safe_url


@click.command()
@click.option("--nation", default=None, help="ISO 3166 code of the nation this node serves.")
@click.option("--name", "node_name", default=None, help="Display name of the node.")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default SQLite in the home).")
@click.option("--admin", "admin_user", default=None, help="Create this admin user.")
@click.option(
    "--admin-password",
    envvar="SEAWALL_ADMIN_PASSWORD",
    default=None,
    help="Password for --admin (or SEAWALL_ADMIN_PASSWORD; prompted if absent).",
)
@json_option
@pass_state
def init(
    state: CliState,
    nation: str | None,
    node_name: str | None,
    database_url: str | None,
    admin_user: str | None,
    admin_password: str | None,
    as_json: bool,
) -> None:
    """Create (or upgrade) the node home, database schema and reference data."""
    settings = state.settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    password = ""
    if admin_user:  # asked and checked before the node is made, so a refusal leaves none
        password = admin_password or ask_secret(
            f"Password for {admin_user}", "SEAWALL_ADMIN_PASSWORD"
        )
        check_password_rule(password)
    node = init_node(settings, nation or settings.nation, node_name)
    _make_node_key(node)
    if admin_user:
        # The node init just made, not state.node(): settings may name a nation it lacks.
        with node.unit(node.operator()) as ctx:
            add_user(ctx, admin_user, "admin", password=password)
    summary = {
        "home": str(node.settings.home),
        "nation": node.nation,
        "database": safe_url(node.settings.effective_database_url),
    }
    emit_or_say(
        as_json,
        summary,
        f"Node ready in {summary['home']} for {summary['nation']} ({summary['database']})",
    )


def _make_node_key(node: Node) -> None:
    """The node's Ed25519 signing key, made at init so its making is audited (it is the
    nation's identity to partners, and signs every bundle)."""
    from seawall.core.federation.identity import key_path, load_node_key

    if key_path(node.settings).exists():
        return
    key = load_node_key(node.settings)
    with node.unit(node.operator()) as ctx:
        ctx.record("intel.node_key.created", key.key_id, public_key=key.public_text)


@click.command()
@click.option("--host", default=None, help="Address to bind (default from settings).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default from settings)."
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Print a line per request on stdout.",
)
@pass_state
def serve(state: CliState, host: str | None, port: int | None, access_log: bool) -> None:
    """Serve the web UI, the API and TAXII."""
    import uvicorn

    from seawall.web.app import create_app

    node = state.node()
    settings = node.settings
    bind_host, bind_port = host or settings.host, port or settings.port
    check_port(bind_host, bind_port)  # a busy port is one line naming its holder, up front
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(node=node)
    say(f"Seawall serving {node.nation} on http://{bind_host}:{bind_port}")
    ticker = None
    if settings.schedule_interval_seconds:  # embassy schedules and alert delivery
        from seawall.embassy.scheduling import Ticker

        ticker = Ticker(lambda: node.unit(node.operator("scheduler")), node.clock, settings)
        ticker.start()
    try:
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            log_config=server_log_config(access_log),
            access_log=access_log,
        )
    finally:
        if ticker is not None:
            ticker.stop()


def server_log_config(access_log: bool = True) -> dict[str, Any]:
    """uvicorn's logging: its warnings and errors on stderr, and (``access_log``) one line per
    request on stdout, ``127.0.0.1:52114 - "GET /assess HTTP/1.1" 200``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"] = {"level": "WARNING"}
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    config["formatters"]["access"] = {
        "()": "uvicorn.logging.AccessFormatter",
        "fmt": '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s',
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        "use_colors": False,
    }
    for chatty in QUIET:
        config["loggers"][chatty] = {"level": "ERROR"}
    return config


@click.command()
@json_option
@pass_state
def demo(state: CliState, as_json: bool) -> None:
    """Load realistic demo data: a Jamaica node with Trinidad and Tobago, Barbados and Belize."""
    from seawall.demo import load_demo

    node = state.node()
    summary = load_demo(node)
    if as_json:
        emit_json(summary)
    else:
        for line in summary["lines"]:
            say(line)


COMMANDS = (init, serve, demo)
