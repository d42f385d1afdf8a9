"""A hub and two nations' nodes on 127.0.0.1: shareable programmes and organisations reach
the hub with their source nation; private ones never leave; a withdrawal removes one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seawall.coop import organisations, programmes
from seawall.coop.coverage import GapRef, group_coverage
from seawall.coop.errors import ReceivedRecordReadOnly
from seawall.coop.fields import OrganisationDraft, ProgrammeDraft
from seawall.core.access import Principal, Role
from seawall.core.federation.delivery import deliver
from seawall.db.models import AuditEntry, FederationOutbox
from seawall.db.models.coop import Programme
from tests.integration.test_regional_hub import Node4, Region, _post
from tests.integration.test_regional_hub import region as region  # the same hub and links

SIGNED_IN = {"JM": Principal("jm-officer", "JM", Role.ASSESSOR),
             "GD": Principal("gd-officer", "GD", Role.ASSESSOR)}  # fmt: skip
HUB_READER = Principal("tt-coordinator", "TT", Role.VIEWER)


def _add(site: Node4, ref: str, shareable: bool, beneficiaries: tuple[str, ...] = ()) -> None:
    with site.node.unit(SIGNED_IN[site.node.nation]) as ctx:
        programmes.save_programme(
            ctx,
            site.node.settings,
            ProgrammeDraft(
                ref=ref,
                name=f"{ref} programme",
                funders=("Inter-American Development Bank",),
                beneficiaries=beneficiaries,
                addresses=("cmm-2021:D1.2",),
                status="ongoing",
                shareable=shareable,
            ),
        )


def _outcomes(site: Node4) -> list[tuple[str, str]]:
    [report] = deliver(site.node, "caricom-hub", timeout=10)
    assert report.error == "", report.error
    return sorted((d["outcome"], d["key"].split(":")[0]) for d in report.delivered + report.refused)


def _held(region: Region) -> set[tuple[str, str]]:
    with region.hub.node.unit(HUB_READER) as ctx:
        return {(r.nation, r.ref) for r in programmes.list_programmes(ctx)}


def test_shareable_records_reach_the_hub_with_their_nation_and_private_ones_do_not(
    region: Region,
) -> None:
    jm, gd = region.nations["JM"], region.nations["GD"]
    _add(jm, "JM-CIRT", shareable=True)
    _add(jm, "JM-INTERNAL", shareable=False)
    _add(gd, "GD-LAW", shareable=True, beneficiaries=("GD", "LC"))
    with jm.node.unit(SIGNED_IN["JM"]) as ctx:
        organisations.save_organisation(
            ctx, jm.node.settings, OrganisationDraft("Caribbean Cyber Security Center", "cirt",
                                                     "CCSC", shareable=True)
        )  # fmt: skip
        organisations.save_organisation(
            ctx, jm.node.settings, OrganisationDraft("US Cyber Command", "government")
        )
    assert _held(region) == set()  # queued, not yet delivered

    assert _outcomes(jm) == [("stored", "organisation"), ("stored", "programme")]
    assert _outcomes(gd) == [("stored", "programme")]
    # Each nation's node holds its own records only; the hub holds the shared ones of both.
    assert _held(region) == {("JM", "JM-CIRT"), ("GD", "GD-LAW")}
    with region.hub.node.unit(HUB_READER) as ctx:
        assert [(o.nation, o.acronym) for o in organisations.list_organisations(ctx)] == [
            ("JM", "CCSC")
        ]
        row = programmes.get_programme(ctx, "GD-LAW")
        assert (row.beneficiaries, row.received_at is not None) == (["GD", "LC"], True)
        actors = set(ctx.db.scalars(
            select(AuditEntry.actor).where(AuditEntry.action.like("coop.%.received"))
        ))  # fmt: skip
    assert actors == {"sync-jm", "sync-gd"}
    with jm.node.unit(SIGNED_IN["JM"]) as ctx:
        assert {r.ref for r in programmes.list_programmes(ctx)} == {"JM-CIRT", "JM-INTERNAL"}
    with gd.node.unit(SIGNED_IN["GD"]) as ctx:
        assert {r.ref for r in programmes.list_programmes(ctx)} == {"GD-LAW"}

    # The hub's coordinator sees OECS coverage from the shared records, and changes none.
    with region.hub.node.unit(HUB_READER) as ctx:
        coverage = group_coverage(
            ctx,
            "OECS",
            [GapRef("GD", "cmm-2021", "D1.2", 1, 3), GapRef("LC", "cmm-2021", "D4.1", 1, 3)],
        )
        assert [(c.gap.nation, [o.ref for o in c.programmes]) for c in coverage.cells] == [
            ("GD", ["GD-LAW"]),
            ("LC", []),
        ]
    with (
        region.hub.node.unit(region.hub.node.operator()) as ctx,
        pytest.raises(ReceivedRecordReadOnly),
    ):
        programmes.set_shareable(ctx, region.hub.node.settings, "GD-LAW", False)

    # Jamaica makes its programme private again: the withdrawal removes it at the hub.
    jm.node.clock.advance(hours=1)  # type: ignore[attr-defined]
    with jm.node.unit(SIGNED_IN["JM"]) as ctx:
        programmes.set_shareable(ctx, jm.node.settings, "JM-CIRT", False)
    assert _outcomes(jm) == [("withdrawn", "programme")]
    assert _held(region) == {("GD", "GD-LAW")}
    assert _outcomes(jm) == []
    with region.hub.node.unit(region.hub.node.operator()) as ctx:
        tombstone = ctx.db.get(Programme, next(
            r.id for r in ctx.db.scalars(select(Programme).where(Programme.nation == "JM"))
        ))  # fmt: skip
        assert tombstone is not None and tombstone.withdrawn_at is not None


def test_a_package_borrowed_by_another_nations_account_is_refused(region: Region) -> None:
    jm, gd = region.nations["JM"], region.nations["GD"]
    _add(jm, "JM-CIRT", shareable=True)
    with jm.node.unit(jm.node.operator()) as ctx:
        [row] = ctx.db.scalars(select(FederationOutbox)).all()
        data = row.payload
    borrowed = _post(gd, region.hub, data)
    assert (borrowed["outcome"], borrowed["error"]) == ("refused", "package_sender_unknown")
    assert _held(region) == set()
    assert _post(jm, region.hub, data)["outcome"] == "stored"
    assert _post(jm, region.hub, data)["duplicate"] is True
    assert _held(region) == {("JM", "JM-CIRT")}
