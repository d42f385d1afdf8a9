"""Structured logging: JSON events with dotted names, secrets never included."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = {"password", "token", "secret", "passphrase", "key", "authorization", "cookie"}


def _drop_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "***"
    return event


def configure_logging(level: str = "info", json: bool = True) -> None:
    """Configure structlog and the standard library once per process."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, format="%(message)s")
    # Alembic narrates every schema check at INFO; only its warnings matter at run time.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
    # A traceback is logged as plain text in both modes. Never with local variables (the
    # console's default, and dict_tracebacks'): they hold passwords, tokens and settings.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    # WeasyPrint narrates layout (unsupported CSS, fonts) as warnings, and fontTools its
    # subsetting: neither is the server's business; a report that fails raises.
    for chatty in QUIET:
        logging.getLogger(chatty).setLevel(max(numeric, logging.ERROR))
    # APScheduler narrates each pass of the ticker at INFO; its warnings (a missed run) stay.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )


QUIET = ("weasyprint", "fontTools")
"""Libraries whose warnings stay out of the server console."""


log = structlog.get_logger("seawall")
