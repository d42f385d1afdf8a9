"""The nation's STIX ``identity`` object, and intel's answer to an identity challenge.

Each nation has one STIX identity with a deterministic id (UUIDv5 of the nation code), so
every node writes the same object for the same nation and ``created_by_ref`` names a
nation the same way on every node. It is STIX (with a TLP marking), so it is intel's; the
node's signing key and the challenge it answers are every pillar's, in
:mod:`seawall.core.federation.identity`.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import pycountry

from seawall.core.federation import identity as federation
from seawall.core.nations import nation_name
from seawall.intel.tlp import Tlp, marking_id
from seawall.settings import Settings

# A fixed namespace: the identity of a nation must be the same id on every node.
NAMESPACE = uuid.UUID("6b0f3c52-6f2e-5a8e-9d7a-5ea3a11c0de1")
IDENTITY_CREATED = "2024-01-01T00:00:00.000Z"


def identity_id(nation: str) -> str:
    """The deterministic STIX id of a nation's identity."""
    return f"identity--{uuid.uuid5(NAMESPACE, f'seawall/nation/{nation.upper()}')}"


@cache
def _nations_by_identity() -> dict[str, str]:
    return {identity_id(country.alpha_2): country.alpha_2 for country in pycountry.countries}


def nation_of_identity(ref: str | None) -> str | None:
    """The nation whose identity ``ref`` is, or None for any other identity."""
    # STIX ids may come in uppercase hex; the same UUID names the same nation.
    return _nations_by_identity().get((ref or "").lower()) if isinstance(ref, str) else None


def nation_identity(nation: str) -> dict[str, Any]:
    """The STIX ``identity`` of a nation's node; the same object on every node."""
    code = nation.upper()
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(code),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": f"{nation_name(code)} national cyber node ({code})",
        "identity_class": "organization",
        "sectors": ["government"],
        "object_marking_refs": [marking_id(Tlp.CLEAR)],
    }


def identity_proof(settings: Settings, challenge: str) -> dict[str, str]:
    """Core's answer to an identity challenge, with the nation's STIX identity id."""
    return {
        **federation.identity_proof(settings, challenge),
        "identity": identity_id(settings.nation),
    }
