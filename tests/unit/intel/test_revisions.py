"""Revising an object: only its holder revokes, re-marks (never looser) and extends it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seawall.core.access import Principal, Role
from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.errors import Forbidden, InvalidInput
from seawall.intel import cases as casework
from seawall.intel import revisions
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.errors import MarkingWouldWiden, NotObjectHolder, ObjectRevoked
from seawall.intel.search import history
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id
from tests import stix
from tests.stix import STAMP, sid

JM = Principal("jm-analyst", "JM", Role.ANALYST, user_id="jm-analyst", org_id=None)
TT = Principal("tt-analyst", "TT", Role.ANALYST, user_id="tt-analyst", org_id=None)
ID = sid("indicator", 1)


def indicator(**extra: Any) -> dict[str, Any]:
    return stix.indicator(
        1,
        "[ipv4-addr:value = '198.51.100.7']",
        name="C2 address",
        valid_until="2026-12-01T00:00:00.000Z",
        **extra,
    )


@pytest.fixture
def shared(node: Node) -> Node:
    with node.unit(node.operator()) as ctx:
        create_collection(ctx, "shared", "Shared", None, "green")
    with node.unit(JM) as ctx:
        assert writing.add_objects(ctx, get_collection(ctx, "shared"), [indicator()]).added
    return node


def newest(node: Node, who: Principal = JM) -> dict[str, Any]:
    with node.unit(who) as ctx:
        return history(ctx, get_collection(ctx, "shared"), ID)[0].body


def actions(node: Node) -> list[str]:
    with node.unit(node.operator()) as ctx:
        rows = ctx.db.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("intel.object."))
        )
        return list(rows)


def test_only_the_holder_revises_and_each_revision_is_a_new_audited_version(shared: Node) -> None:
    node = shared
    for attempt in (
        lambda ctx: revisions.revoke(ctx, "shared", ID),
        lambda ctx: revisions.remark(ctx, "shared", ID, "amber"),
        lambda ctx: revisions.extend(ctx, "shared", ID, "2027-01-01T00:00:00Z"),
    ):
        with node.unit(TT) as ctx, pytest.raises(NotObjectHolder):
            attempt(ctx)
    with node.unit(JM) as ctx:
        extended = revisions.extend(ctx, "shared", ID, "2027-01-01T00:00:00Z")
    assert extended.body["valid_until"] == "2027-01-01T00:00:00.000Z"
    assert extended.body["modified"] > STAMP
    with node.unit(JM) as ctx:
        revisions.revoke(ctx, "shared", ID)
    assert newest(node)["revoked"] is True
    with node.unit(JM) as ctx, pytest.raises(ObjectRevoked):
        revisions.remark(ctx, "shared", ID, "red")
    assert actions(node) == ["intel.object.extended", "intel.object.revoked"]
    with node.unit(JM) as ctx:
        assert len(history(ctx, get_collection(ctx, "shared"), ID)) == 3


def test_a_remarking_never_widens(shared: Node) -> None:
    node = shared
    with node.unit(JM) as ctx:
        revisions.remark(ctx, "shared", ID, "amber")
    assert newest(node)["object_marking_refs"] == [marking_id(Tlp.AMBER)]
    # TT reads the last version it may see: the GREEN one, never the AMBER.
    assert newest(node, TT)["object_marking_refs"] == [marking_id(Tlp.GREEN)]
    for looser in ("green", "clear"):
        with node.unit(JM) as ctx, pytest.raises(MarkingWouldWiden):
            revisions.remark(ctx, "shared", ID, looser)
    with node.unit(JM) as ctx, pytest.raises(InvalidInput, match="already"):
        revisions.remark(ctx, "shared", ID, "amber")


def test_validity_only_moves_later(shared: Node) -> None:
    with shared.unit(JM) as ctx, pytest.raises(InvalidInput, match="later"):
        revisions.extend(ctx, "shared", ID, "2026-11-15T00:00:00Z")
    with shared.unit(JM) as ctx, pytest.raises(InvalidInput, match="timestamp"):
        revisions.extend(ctx, "shared", ID, "next tuesday")
    assert newest(shared)["valid_until"] == "2026-12-01T00:00:00.000Z"


def test_add_to_case_links_through_the_cases_pillar(shared: Node) -> None:
    with shared.unit(JM) as ctx:
        opened = casework.open_case(ctx, "shared", "Phishing wave")
        case = revisions.add_to_case(ctx, opened.id, ID, "seen in the wave")
    assert [e.target_id for e in case.links] == [ID]


def test_no_revision_builds_over_a_newer_version_the_reviser_may_not_see(
    shared: Node, clock: FrozenClock
) -> None:
    node = shared
    colleague = Principal("jm-colleague", "JM", Role.ANALYST, user_id="jm-colleague", org_id=None)
    with node.unit(JM) as ctx:
        revisions.remark(ctx, "shared", ID, "red")  # TLP:RED: its submitter alone reads it
    clock.advance(minutes=5)  # a colleague's version would be the newest one
    assert newest(node, colleague)["object_marking_refs"] == [marking_id(Tlp.GREEN)]
    for attempt in (
        lambda ctx: revisions.remark(ctx, "shared", ID, "amber"),
        lambda ctx: revisions.extend(ctx, "shared", ID, "2027-01-01T00:00:00Z"),
        lambda ctx: revisions.revoke(ctx, "shared", ID),
    ):
        # A new version from the GREEN body would supersede the RED one: looser, and lost.
        with node.unit(colleague) as ctx, pytest.raises(Forbidden, match="newer version"):
            attempt(ctx)
    assert newest(node)["object_marking_refs"] == [marking_id(Tlp.RED)]
    assert newest(node, colleague)["object_marking_refs"] == [marking_id(Tlp.GREEN)]
