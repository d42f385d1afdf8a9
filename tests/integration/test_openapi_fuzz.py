"""Schemathesis fuzzes every API operation: no 5xx, and every response matches the schema.

Three passes, each with few examples per operation so the file runs in about half a
minute: valid requests (positive), requests that break the schema (negative), and the
TAXII operations again with a real collection, object and status in the path, so that
filters, cursors and envelopes reach the store instead of stopping at a 404.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from seawall.core import tokens, users
from seawall.core.clock import SystemClock
from seawall.core.node import init_node
from seawall.intel import taxii
from seawall.intel.collections import Audience, create_collection
from seawall.settings import load_settings
from seawall.web.app import create_app
from tests.conftest import serve_in_thread

# A signed package travels as bytes, like any octet stream.
schemathesis.serializer.alias("application/vnd.seawall.package", "application/octet-stream")


@dataclass
class FuzzTarget:
    """A live node, a token for its admin, and a real collection, object and status."""

    url: str
    token: str
    path_parameters: dict[str, str]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    node = init_node(load_settings(home=home), "JM", "Fuzz node", clock=SystemClock())
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "fuzzer", "admin", password="a-long-password")
        token = tokens.create_token(ctx, "fuzz", [], username="fuzzer").value
    with node.unit(node.operator()) as ctx:
        collection = create_collection(ctx, "fuzz", "Fuzz", Audience(), "green")
        indicator = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-11-01T10:00:00.000Z",
            "modified": "2026-11-01T10:00:00.000Z",
            "pattern": "[ipv4-addr:value = '45.77.12.9']",
            "pattern_type": "stix",
            "valid_from": "2026-11-01T10:00:00.000Z",
        }
        status = taxii.add_objects(
            ctx, collection.id, json.dumps({"objects": [indicator]}).encode(), 10**6
        )
        known = {
            "collection_id": collection.id,
            "object_id": indicator["id"],
            "status_id": status["id"],
        }
    live = serve_in_thread(create_app(node=node))
    yield FuzzTarget(live.url, token, known)
    live.stop()
    node.close()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A request that breaks the schema may be refused in any declared way, never with a 5xx,
# and the refusal is in the operation's media type (TAXII's for TAXII).
NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance]


def fuzz_operations(
    target: FuzzTarget,
    operations: list[Any],
    checks: list[Any],
    mode: GenerationMode = GenerationMode.POSITIVE,
    examples: int = 20,
    **fixed: Any,
) -> int:
    """Run each operation's Hypothesis strategy against the server; a failure names it.

    Returns how many operations were fuzzed: in negative mode an operation with nothing to
    break (no parameters, no body) is passed over, so a caller can tell a run that tried
    nothing from one that passed.
    """
    fuzzed = 0
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode, **fixed)

        @given(case=strategy)
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=target.url,
                headers={"Authorization": f"Bearer {target.token}"},
                checks=checks,
            )

        try:
            fuzz()
        except Unsatisfiable:
            # Negative mode on an operation with nothing to break (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        except Exception as exc:
            raise AssertionError(f"{operation.label} ({mode.value}): {exc}") from exc
        fuzzed += 1
    return fuzzed


def all_operations(target: FuzzTarget) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{target.url}/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_api_never_fails_and_always_matches_its_schema(fuzz_target: FuzzTarget) -> None:
    # schemathesis' pytest plugin does not yet run under pytest 9, so drive each operation's
    # Hypothesis strategy directly; a failure names the operation.
    operations = all_operations(fuzz_target)
    assert len(operations) >= 15
    fuzz_operations(fuzz_target, operations, CHECKS)


def test_requests_that_break_the_schema_are_refused_without_failing(
    fuzz_target: FuzzTarget,
) -> None:
    operations = all_operations(fuzz_target)
    assert len(operations) >= 15
    fuzzed = fuzz_operations(fuzz_target, operations, NEGATIVE_CHECKS, GenerationMode.NEGATIVE, 8)
    # About half the operations take parameters or a body to break (15 of 35); a run
    # that passed over them all would have checked nothing.
    assert fuzzed >= 10, f"only {fuzzed} of {len(operations)} operations were fuzzed"


def test_taxii_filters_and_envelopes_reach_a_real_collection(fuzz_target: FuzzTarget) -> None:
    operations = [
        op
        for op in all_operations(fuzz_target)
        if op.path.startswith("/taxii2/") and "{" in op.path
    ]
    assert len(operations) >= 7
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        known = {k: v for k, v in fuzz_target.path_parameters.items() if k in names}
        # DELETE's 200 has no body, but is declared with one (see the test below).
        checks = CHECKS if operation.method != "delete" else CHECKS[:-1]
        fuzz_operations(fuzz_target, [operation], checks, examples=15, path_parameters=known)
        fuzz_operations(
            fuzz_target,
            [operation],
            NEGATIVE_CHECKS,
            GenerationMode.NEGATIVE,
            8,
            path_parameters=known,
        )


def test_taxii_delete_declares_its_answer_without_a_body(fuzz_target: FuzzTarget) -> None:
    schema = httpx.get(f"{fuzz_target.url}/api/v1/openapi.json").json()
    deleted = schema["paths"]["/taxii2/api/collections/{collection_id}/objects/{object_id}/"]
    assert "content" not in deleted["delete"]["responses"]["200"]
