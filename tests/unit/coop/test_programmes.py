"""Programmes and partner organisations: nation boundaries, permissions, checks, evidence,
and the packages a shareable record queues for the hub."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from seawall.coop import organisations, programmes
from seawall.coop.errors import (
    OrganisationInvalid,
    ProgrammeExists,
    ProgrammeInvalid,
    ProgrammeNotFound,
)
from seawall.coop.fields import Catalogue, OrganisationDraft, ProgrammeDraft
from seawall.coop.sharing import QUEUE_KIND
from seawall.core import partners
from seawall.core.access import Principal, Role
from seawall.core.node import Node
from seawall.db.models import AuditEntry, Evidence, FederationOutbox
from seawall.errors import Forbidden

WRITER = Principal("jm-assessor", "JM", Role.ASSESSOR)
VIEWER = Principal("jm-viewer", "JM", Role.VIEWER)
FOREIGN = Principal("tt-assessor", "TT", Role.ASSESSOR)
CATALOGUE = Catalogue(
    {"cmm-2021": frozenset({"D1.1", "D1.2", "D4.1"}), "sim3-v2": frozenset({"O-1"})},
    {"cmm": "cmm-2021", "sim3": "sim3-v2"},
)


def draft(ref: str = "JM-CIRT-1", **values: object) -> ProgrammeDraft:
    fields: dict[str, object] = {
        "name": "National CIRT capacity",
        "funders": ("Inter-American Development Bank",),
        "implementers": ("OAS CICTE",),
        "beneficiaries": ("JAM",),
        "addresses": ("cmm:D1.2", "sim3:O-1"),
        "start": date(2025, 1, 1),
        "end": date(2027, 12, 31),
        "budget": Decimal("1500000"),
        "currency": "usd",
        "status": "Ongoing",
        **values,
    }
    return ProgrammeDraft(ref=ref, **fields)  # type: ignore[arg-type]


def test_a_programme_is_stored_as_checked_and_audited(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        row, outcome = programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
        assert outcome == "added"
        assert (row.nation, row.beneficiaries, row.addresses) == (
            "JM",
            ["JM"],
            ["cmm-2021:D1.2", "sim3-v2:O-1"],
        )
        assert (row.budget, row.currency, row.status) == (Decimal("1500000.00"), "USD", "ongoing")
        actions = list(ctx.db.scalars(select(AuditEntry.action)))
    assert "coop.programme.added" in actions


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"addresses": ("cmm:D9.9",)}, "addresses: cmm-2021 has no item 'D9.9'"),
        ({"addresses": ("nist:GV.OC",)}, "addresses: unknown framework 'nist'"),
        ({"addresses": ("D1.2",)}, "addresses: 'D1.2' is not a framework item"),
        ({"beneficiaries": ("Atlantis",)}, "beneficiaries: "),
        ({"status": "paused"}, "unknown status 'paused'"),
        ({"currency": ""}, "currency: a budget needs its currency"),
        ({"currency": "XXQ"}, "currency: 'XXQ' is not an ISO 4217 code"),
        ({"end": date(2024, 1, 1)}, "end: 2024-01-01 is before the start 2025-01-01"),
        ({"name": "  "}, "name: required"),
    ],
)
def test_a_bad_field_is_refused_naming_it(
    node: Node, values: dict[str, object], message: str
) -> None:
    with node.unit(WRITER) as ctx, pytest.raises(ProgrammeInvalid) as caught:
        programmes.save_programme(ctx, node.settings, draft(**values), CATALOGUE)
    assert message in caught.value.message


def test_a_viewer_may_not_add_and_another_nation_sees_nothing(node: Node) -> None:
    with node.unit(VIEWER) as ctx, pytest.raises(Forbidden):
        programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
    with node.unit(WRITER) as ctx:
        programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
        with pytest.raises(ProgrammeExists):
            programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
    with node.unit(FOREIGN) as ctx:
        assert programmes.list_programmes(ctx) == []
        with pytest.raises(ProgrammeNotFound):
            programmes.get_programme(ctx, "JM-CIRT-1")
        with pytest.raises(ProgrammeNotFound):
            programmes.set_shareable(ctx, node.settings, "JM-CIRT-1", True)
    with node.unit(VIEWER) as ctx:
        assert [r.ref for r in programmes.list_programmes(ctx)] == ["JM-CIRT-1"]


def test_programmes_filter_by_nation_partner_and_factor(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
        programmes.save_programme(
            ctx,
            node.settings,
            draft("OECS-DTP", funders=("World Bank",), implementers=("CARICOM IMPACS",),
                  beneficiaries=("LC", "GD"), addresses=("cmm-2021:D4.1",)),
            CATALOGUE,
        )  # fmt: skip
        refs = lambda **f: [r.ref for r in programmes.list_programmes(ctx, **f)]  # noqa: E731
        assert refs(nation="Grenada") == ["OECS-DTP"]
        assert refs(partner="impacs") == ["OECS-DTP"]
        assert refs(partner="development bank") == ["JM-CIRT-1"]
        assert refs(factor="cmm-2021:D1.2") == ["JM-CIRT-1"]
        assert refs(factor="D4.1") == ["OECS-DTP"]
        assert programmes.partners_named(programmes.list_programmes(ctx)) == [
            "CARICOM IMPACS",
            "Inter-American Development Bank",
            "OAS CICTE",
            "World Bank",
        ]


def test_a_completed_programme_leaves_evidence_for_its_factors(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
        programmes.save_programme(
            ctx, node.settings, draft(status="completed", outputs="JaCIRT SOPs"), CATALOGUE,
            replace_existing=True,
        )  # fmt: skip
        _, again = programmes.save_programme(
            ctx, node.settings, draft(status="completed", outputs="JaCIRT SOPs"), CATALOGUE,
            replace_existing=True,
        )  # fmt: skip
        [evidence] = ctx.db.scalars(select(Evidence).where(Evidence.pillar == "coop"))
    assert again == "unchanged"
    assert (evidence.nation, evidence.kind, evidence.supports) == (
        "JM",
        "coop.programme.completed",
        ["cmm-2021:D1.2", "sim3-v2:O-1"],
    )


def test_a_shareable_record_is_queued_for_the_hub_and_unsharing_queues_a_withdrawal(
    node: Node,
) -> None:
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, "caricom-hub", "TT", "https://hub.example", hub_for=["CARICOM"])
        partners.add_partner(ctx, "bb-national", "BB", "https://bb.example")
    with node.unit(WRITER) as ctx:
        programmes.save_programme(ctx, node.settings, draft("PRIVATE"), CATALOGUE)
        programmes.save_programme(ctx, node.settings, draft(shareable=True), CATALOGUE)
        queued = list(ctx.db.scalars(select(FederationOutbox)))
        assert [(q.kind, q.key.split(":")[0]) for q in queued] == [(QUEUE_KIND, "programme")]
        first = queued[0].payload
        programmes.set_shareable(ctx, node.settings, "JM-CIRT-1", False)
        [pending] = ctx.db.scalars(
            select(FederationOutbox).where(FederationOutbox.state == "pending")
        )
    # The withdrawal supersedes the share still waiting: only the latest word travels.
    assert pending.payload != first and pending.key == queued[0].key


def test_organisations_are_checked_and_kept_per_nation(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        row, _ = organisations.save_organisation(
            ctx,
            node.settings,
            OrganisationDraft("Caribbean Telecommunications Union", "regional body", "CTU", "TT"),
        )
        assert (row.kind, row.country) == ("regional_body", "TT")
        with pytest.raises(OrganisationInvalid, match="unknown kind"):
            organisations.save_organisation(ctx, node.settings, OrganisationDraft("X", "bank"))
        with pytest.raises(OrganisationInvalid, match="website"):
            organisations.save_organisation(
                ctx, node.settings, OrganisationDraft("X", "cirt", website="ftp://x")
            )
        assert organisations.get_organisation(ctx, "ctu").id == row.id
    with node.unit(FOREIGN) as ctx:
        assert organisations.list_organisations(ctx) == []


def test_a_partner_filter_reads_an_organisations_acronym_as_its_name(node: Node) -> None:
    with node.unit(WRITER) as ctx:
        programmes.save_programme(ctx, node.settings, draft(), CATALOGUE)
        programmes.save_programme(
            ctx, node.settings, draft("JM-TRAIN", funders=("Institute of Training",)), CATALOGUE
        )
        assert [r.ref for r in programmes.list_programmes(ctx, partner="IDB")] == []
        organisations.save_organisation(
            ctx,
            node.settings,
            OrganisationDraft("Inter-American Development Bank", "development partner", "IDB"),
        )
        organisations.save_organisation(
            ctx,
            node.settings,
            OrganisationDraft(
                "International Telecommunication Union", "development partner", "ITU"
            ),
        )
        assert [r.ref for r in programmes.list_programmes(ctx, partner="idb")] == ["JM-CIRT-1"]
        # An acronym is matched whole: ITU is not read inside "Institute".
        assert programmes.list_programmes(ctx, partner="ITU") == []
        assert [r.ref for r in programmes.list_programmes(ctx, partner="inter-american")] == [
            "JM-CIRT-1"
        ]
