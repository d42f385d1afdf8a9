"""The node log: tracebacks are kept, the secrets in their frames are not."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from seawall.core.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _fail_holding_a_secret() -> None:
    password = "hunter2-not-for-logs"
    token = f"sw_abc_{password}"
    raise RuntimeError(f"boom after {len(token)} characters")


def _log_a_failure() -> None:
    log = structlog.get_logger("seawall.test")
    try:
        _fail_holding_a_secret()
    except RuntimeError:
        log.exception("web.unhandled", ref="r1", password="also-secret")


@pytest.mark.parametrize("as_json", [True, False])
def test_a_logged_failure_keeps_its_traceback_and_none_of_its_secrets(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info", json=as_json)
    _log_a_failure()
    out = capsys.readouterr().out
    assert "_fail_holding_a_secret" in out and "RuntimeError: boom after" in out
    assert "hunter2" not in out and "also-secret" not in out
    if as_json:
        event = json.loads(out)
        assert event["event"] == "web.unhandled" and event["password"] == "***"
        assert "Traceback" in event["exception"]
