"""Schemathesis fuzzes the TAXII operations: no 5xx, declared statuses and media types only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from seawall.core import tokens, users
from seawall.core.clock import SystemClock
from seawall.core.node import init_node
from seawall.intel.collections import create_collection
from seawall.intel.taxii import MEDIA_TYPE
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.conftest import serve_in_thread

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home: Path = tmp_path_factory.mktemp("taxii-fuzz")
    node = init_node(load_settings(home=home), "JM", "Fuzz node", clock=SystemClock())
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "fuzzer", "analyst")
        token = tokens.create_token(ctx, "fuzz", [], username="fuzzer").value
        create_collection(ctx, "fuzzed")
    live = serve_in_thread(create_app(node=node))
    yield live.url, token
    live.stop()
    node.close()


def test_taxii_routes_declare_the_taxii_media_type(fuzz_target: tuple[str, str]) -> None:
    url, _ = fuzz_target
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    taxii = [op.ok() for op in schema.get_all_operations() if op.ok().path.startswith("/taxii2")]
    assert len(taxii) == 11
    for operation in taxii:
        for status, response in operation.definition.raw["responses"].items():
            if status != "200" or operation.method != "delete":
                assert list(response["content"]) == [MEDIA_TYPE], (operation.label, status)


def test_taxii_operations_never_fail_and_match_their_schema(
    fuzz_target: tuple[str, str],
) -> None:
    url, token = fuzz_target
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    operations = [
        op.ok() for op in schema.get_all_operations() if op.ok().path.startswith("/taxii2")
    ]
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
