"""Sample programmes and partner organisations for the Jamaica demo node.

The partners are real organisations Jamaica and the region work with; the programmes, their
figures and dates are fictional, and every record says so in its note. Loading is idempotent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from seawall.coop.fields import SAMPLE_NOTE, OrganisationDraft, ProgrammeDraft
from seawall.coop.organisations import save_organisation
from seawall.coop.programmes import save_programme
from seawall.core.context import Ctx
from seawall.db.models.coop import CoopOrganisation, Programme
from seawall.settings import Settings

ORGANISATIONS = (
    OrganisationDraft("Commonwealth Telecommunications Organisation", "development_partner",
                      "CTO", "GB", "https://cto.int"),
    OrganisationDraft("International Telecommunication Union", "development_partner", "ITU",
                      "", "https://www.itu.int"),
    OrganisationDraft("Inter-American Development Bank", "development_partner", "IDB", "",
                      "https://www.iadb.org"),
    OrganisationDraft("Caribbean Cyber Security Center", "regional_body", "CCSC"),
    OrganisationDraft("United States Cyber Command", "government", "USCYBERCOM", "US",
                      "https://www.cybercom.mil"),
    OrganisationDraft("CARICOM IMPACS", "regional_body", "IMPACS", "TT",
                      "https://caricomimpacs.org"),
)  # fmt: skip

PROGRAMMES = (
    ProgrammeDraft(
        ref="SAMPLE-JM-CIRT",
        name="JaCIRT incident handling and SIM3 uplift",
        funders=("Inter-American Development Bank",),
        implementers=("OAS CICTE",),
        beneficiaries=("JM",),
        addresses=("cmm-2021:D1.2", "sim3-v2:O-1", "sim3-v2:P-1", "gci-2024:technical"),
        start=date(2025, 3, 1),
        end=date(2027, 2, 28),
        budget=Decimal("1200000"),
        currency="USD",
        status="ongoing",
        outputs="Incident handling procedures; two tabletop exercises a year",
        shareable=True,
    ),
    ProgrammeDraft(
        ref="SAMPLE-CTO-STRATEGY",
        name="National cybersecurity strategy review",
        funders=("Commonwealth Telecommunications Organisation",),
        implementers=("Commonwealth Telecommunications Organisation",),
        beneficiaries=("JM",),
        addresses=("cmm-2021:D1.1", "gci-2024:organizational"),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        budget=Decimal("180000"),
        currency="GBP",
        status="planned",
    ),
    ProgrammeDraft(
        ref="SAMPLE-ITU-CIRT-DRILL",
        name="Regional CyberDrill for the Americas",
        funders=("International Telecommunication Union",),
        implementers=("International Telecommunication Union",),
        beneficiaries=("JM", "TT", "BB", "BZ"),
        addresses=("cmm-2021:D1.2", "gci-2024:cooperation"),
        start=date(2025, 9, 1),
        end=date(2025, 9, 30),
        status="completed",
        outputs="Drill report shared with the participating CIRTs",
    ),
    ProgrammeDraft(
        ref="SAMPLE-CCSC-AWARE",
        name="Cyber awareness for small businesses",
        funders=("Caribbean Cyber Security Center",),
        implementers=("Caribbean Cyber Security Center",),
        beneficiaries=("JM",),
        addresses=("cmm-2021:D3.1", "cmm-2021:D2.1"),
        start=date(2026, 4, 1),
        end=date(2027, 3, 31),
        budget=Decimal("95000"),
        currency="USD",
        status="planned",
    ),
    ProgrammeDraft(
        ref="SAMPLE-CYBERCOM-CI",
        name="Critical infrastructure protection exercises",
        funders=("United States Cyber Command",),
        implementers=("United States Cyber Command", "Jamaica Defence Force"),
        beneficiaries=("JM",),
        addresses=("cmm-2021:D1.3", "cmm-2021:D1.4", "cmm-2021:D1.2"),
        start=date(2025, 6, 1),
        end=date(2026, 11, 30),
        status="ongoing",
    ),
)


def load_sample_programmes(ctx: Ctx, settings: Settings) -> list[str]:
    """Add the sample organisations and programmes this node lacks; their names and refs."""
    added: list[str] = []
    for org in ORGANISATIONS:
        held = ctx.db.scalar(
            select(CoopOrganisation.id).where(
                CoopOrganisation.nation == ctx.who.nation, CoopOrganisation.name == org.name
            )
        )
        if held is None:
            org = OrganisationDraft(**{**org.__dict__, "note": SAMPLE_NOTE})
            added.append(save_organisation(ctx, settings, org)[0].name)
    for programme in PROGRAMMES:
        held = ctx.db.scalar(
            select(Programme.id).where(
                Programme.nation == ctx.who.nation, Programme.ref == programme.ref
            )
        )
        if held is None:
            programme = ProgrammeDraft(**{**programme.__dict__, "note": SAMPLE_NOTE})
            added.append(save_programme(ctx, settings, programme)[0].ref)
    return added
