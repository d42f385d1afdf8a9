"""Sample laws and CIRT entries for the demo node (Jamaica), every one marked sample data.

The records are fictional: each is stored with ``sample`` set, its note says it is sample
data, and its source is an example.org page, so no sample can pass for a checked fact (the
sourced starter data is ``seawall coop law import --starter``). They cover Jamaica and a few
members of OECS and CARICOM without a node of their own, which the hub's operator may enter.
Loading goes through the pillar's own import, so it is checked, audited and idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from seawall.coop import cirts, laws
from seawall.core.context import Ctx

ORIGIN = "demo samples"
SOURCE = "https://example.org/seawall-sample/"

# (nation, kind, title, status, date)
INSTRUMENTS = (
    ("JM", "data_protection", "Sample Data Protection Act", "in_force", "2023-12"),
    ("JM", "cybercrime", "Sample Cybercrimes Act", "in_force", "2015"),
    ("JM", "electronic_transactions", "Sample Electronic Transactions Act", "in_force", "2007"),
    ("JM", "cirt_mandate", "Sample CIRT Establishment Order", "enacted", "2016-03"),
    ("JM", "critical_infrastructure", "Sample Critical Infrastructure Bill", "draft", "2025"),
    ("JM", "national_strategy", "Sample National Cyber Security Strategy", "in_force", "2015"),
    ("JM", "budapest_convention", "Sample Budapest Convention accession", "none", ""),
    ("LC", "data_protection", "Sample Data Protection Act", "enacted", "2011"),
    ("LC", "cybercrime", "Sample Cybercrime Bill", "draft", "2024-06"),
    ("GD", "cybercrime", "Sample Electronic Crimes Act", "in_force", "2013"),
    ("GD", "budapest_convention", "Sample Budapest Convention accession", "in_force", "2013"),
    ("GY", "cybercrime", "Sample Cybercrime Act", "in_force", "2018"),
    ("GY", "national_strategy", "Sample National Cybersecurity Strategy", "draft", "2024"),
    ("AG", "electronic_transactions", "Sample Electronic Transactions Act", "enacted", "2006"),
)

CIRTS: tuple[dict[str, Any], ...] = (
    {
        "nation": "JM",
        "name": "Sample Jamaica National CIRT",
        "status": "established",
        "established": "2015",
        "mandate": "Sample mandate: national incident coordination for government and CI.",
        "constituency": "Government ministries, agencies and critical infrastructure operators",
        "services": ["incident handling", "vulnerability alerts", "awareness"],
        "email": "cirt@example.org",
        "phone": "+1 876 555 0100",
        "website": f"{SOURCE}jm-cirt",
        "pgp_fingerprint": "0000 1111 2222 3333 4444 5555 6666 7777 8888 9999",
        "first_url": f"{SOURCE}first/jm-cirt",
        "ti_url": f"{SOURCE}ti/jm-cirt",
        "ti_status": "listed",
    },
    {
        "nation": "GY",
        "name": "Sample Guyana National CIRT",
        "status": "established",
        "established": "2013",
        "services": ["incident handling", "forensics"],
        "email": "cirt@example.org",
    },
    {"nation": "LC", "name": "Sample Saint Lucia CIRT", "status": "establishing"},
    {"nation": "GD", "name": "Sample Grenada CIRT", "status": "planned"},
)


def load_sample_coop(ctx: Ctx) -> dict[str, int]:
    """Add the sample instruments and CIRT entries; returns how many of each were added
    (none when they are there already)."""
    instruments = [
        {
            "nation": nation,
            "kind": kind,
            "title": title,
            "status": status,
            "date": date,
            "source": f"{SOURCE}{nation.lower()}/{kind}",
            "sample": True,
        }
        for nation, kind, title, status, date in INSTRUMENTS
    ]
    done = laws.load_instruments(ctx, instruments, ORIGIN)
    entries = [
        {"source": f"{SOURCE}{entry['nation'].lower()}/cirt", **entry, "sample": True}
        for entry in CIRTS
    ]
    counts = cirts.import_cirts(ctx, json.dumps(entries).encode(), ORIGIN)
    return {"instruments": done.added, "cirts": counts["added"]}
