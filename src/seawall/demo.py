"""Demo data: a Jamaica node with Trinidad and Tobago, Barbados and Belize as partners.

Loading is idempotent: running it twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from seawall.assess.samples import load_sample_assessments
from seawall.catalogs import counted
from seawall.coop.programme_samples import load_sample_programmes
from seawall.coop.samples import load_sample_coop
from seawall.core import organisations, partners, users
from seawall.core.context import Ctx
from seawall.core.evidence import record_evidence
from seawall.core.node import Node
from seawall.db.models import Evidence, Organisation, Partner, User
from seawall.embassy.samples import (
    SAMPLE_PASSPHRASE,
    load_sample_repository,
    load_sample_schedules,
)
from seawall.intel.samples import load_sample_intel

DEMO_PASSWORD = "seawall-demo"  # noqa: S105 - printed on purpose; demo nodes only

ORGS = (
    ("JM", "Jamaica Cyber Incident Response Team (JaCIRT)", "cirt"),
    ("JM", "Ministry of Science, Energy, Telecommunications and Transport", "ministry"),
    ("JM", "Office of Utilities Regulation", "regulator"),
    ("JM", "eGov Jamaica Limited", "data_custodian"),
    ("TT", "Trinidad and Tobago Cyber Security Incident Response Team (TT-CSIRT)", "cirt"),
    ("TT", "CARICOM IMPACS", "regional_body"),
    ("BB", "Barbados National CIRT", "cirt"),
    ("BZ", "Belize National CIRT", "cirt"),
)

USERS = (
    ("admin", "admin", "JM", "Node Administrator", "Jamaica Cyber Incident Response Team (JaCIRT)"),
    ("analyst", "analyst", "JM", "Kemar Campbell", "Jamaica Cyber Incident Response Team (JaCIRT)"),
    (
        "assessor",
        "assessor",
        "JM",
        "Dr. Simone Reid",
        "Ministry of Science, Energy, Telecommunications and Transport",
    ),
    ("custodian", "custodian", "JM", "Andre Thompson", "eGov Jamaica Limited"),
    ("viewer", "viewer", "JM", "Natalie Brown", "Office of Utilities Regulation"),
    (
        "tt-analyst",
        "analyst",
        "TT",
        "Rajesh Maharaj",
        "Trinidad and Tobago Cyber Security Incident Response Team (TT-CSIRT)",
    ),
)

PARTNERS = (
    ("tt-national", "TT", "https://seawall.ttcsirt.gov.tt", "full", "amber", True),
    ("bb-national", "BB", "https://seawall.cirt.gov.bb", "limited", "green", True),
    ("bz-national", "BZ", "https://seawall.cirt.gov.bz", "limited", "green", False),
)


# Sample evidence of intel sharing, until the node has shared for real; the embassy's evidence
# comes from a real sample repository (backup, check and restore drill) below.
EVIDENCE = (
    (
        "intel",
        "intel.sharing",
        "Sample: 42 indicators shared with TT and BB over TAXII this month",
        ["cmm:D1.2"],
        {"indicators": 42, "partners": ["TT", "BB"]},
    ),
)


def _load_evidence(ctx: Ctx) -> list[str]:
    added = []
    for pillar, kind, summary, supports, detail in EVIDENCE:
        exists = ctx.db.scalar(
            select(Evidence.id).where(
                Evidence.nation == ctx.who.nation, Evidence.summary == summary
            )
        )
        if exists is None:
            added.append(record_evidence(ctx, pillar, kind, summary, supports, detail=detail).id)
    return added


def _sign_in(added: list[str]) -> str:
    """How to sign in: the demo password only for the accounts this load gave it."""
    others = [name for name, *_ in USERS[1:5] if name in added]
    if "admin" not in added:
        kept = "admin already exists and keeps their password"
        return f"{kept}; sign in as {others[0]} / {DEMO_PASSWORD}" if others else kept
    also = f" (also {', '.join(others)})" if others else ""
    return f"Sign in as admin / {DEMO_PASSWORD}{also}"


def load_demo(node: Node) -> dict[str, Any]:
    """Load the demo organisations, users and partners; return what was added."""
    added: dict[str, Any] = {"organisations": [], "users": [], "partners": []}
    with node.unit(node.operator("demo")) as ctx:
        for nation, name, kind in ORGS:
            exists = ctx.db.scalar(
                select(Organisation.id).where(
                    Organisation.nation == nation, Organisation.name == name
                )
            )
            if exists is None:
                organisations.add_org(ctx, name, kind, nation)
                added["organisations"].append(name)
        for username, role, nation, display, org_name in USERS:
            if ctx.db.scalar(select(User.id).where(User.username == username)) is not None:
                continue
            org_id = ctx.db.scalar(
                select(Organisation.id).where(
                    Organisation.nation == nation, Organisation.name == org_name
                )
            )
            users.add_user(
                ctx,
                username,
                role,
                password=DEMO_PASSWORD,
                nation=nation,
                org=org_id,
                display_name=display,
            )
            added["users"].append(username)
        for name, nation, url, trust, max_tlp, host in PARTNERS:
            if ctx.db.scalar(select(Partner.id).where(Partner.name == name)) is None:
                partners.add_partner(ctx, name, nation, url, trust, max_tlp, embassy_host=host)
                added["partners"].append(name)
        added["evidence"] = _load_evidence(ctx)
        added["assessment_rounds"] = load_sample_assessments(ctx)
        added["intel_objects"] = load_sample_intel(ctx)
        added["coop_samples"] = load_sample_coop(ctx)
        added["coop_programmes"] = load_sample_programmes(ctx, node.settings)
    added["embassy_repositories"] = load_sample_repository(
        lambda: node.unit(node.operator("demo")), node.settings.home, node.clock
    )
    added["embassy_schedules"] = load_sample_schedules(
        lambda: node.unit(node.operator("demo")), node.settings, node.clock
    )
    counts = (
        counted(len(added["organisations"]), "organisation"),
        counted(len(added["users"]), "user"),
        counted(len(added["partners"]), "partner"),
        counted(len(added["assessment_rounds"]), "sample assessment round"),
        counted(sum(added["intel_objects"].values()), "intel object"),
        counted(len(added["embassy_repositories"]), "embassy repository", "embassy repositories"),
    )
    lines = [
        f"Demo data: {', '.join(counts)} added",
        _sign_in(added["users"]),
        f"Embassy repository gov-records: passphrase {SAMPLE_PASSPHRASE}; sample schedules: "
        "a daily backup (RPO 1d), a weekly check and a monthly restore drill (RTO 1h)",
    ]
    return {**added, "lines": lines}
