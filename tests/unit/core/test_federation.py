"""Core's federation: the partner errors, node identity and signed packages every pillar uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.core.clock import FrozenClock
from seawall.core.federation import errors as federation_errors
from seawall.core.federation import identity
from seawall.errors import SeawallError
from seawall.intel import errors as intel_errors
from seawall.intel import identity as intel_identity
from tests.conftest import EPOCH, make_node

PARTNER_ERRORS = {
    "PartnerError": ("partner_error", 69, 502),
    "PartnerUnreachable": ("partner_unreachable", 69, 502),
    "PartnerTimedOut": ("partner_timed_out", 69, 502),
    "PartnerAnsweredGarbage": ("partner_answered_garbage", 69, 502),
    "PartnerAnsweredTooMuch": ("partner_answered_too_much", 69, 502),
    "PartnerRefused": ("partner_refused", 69, 502),
    "PartnerIdentityMismatch": ("partner_identity_mismatch", 77, 502),
    "PartnerNotLinked": ("partner_not_linked", 65, 422),
    "InvalidPublicKey": ("invalid_public_key", 65, 422),
    "PartnerDisabled": ("partner_disabled", 77, 403),
}


@pytest.mark.parametrize("name", sorted(PARTNER_ERRORS))
def test_the_partner_errors_are_cores_with_their_codes_unchanged(name: str) -> None:
    cls = getattr(federation_errors, name)
    assert issubclass(cls, SeawallError)
    assert (cls.code, cls.exit_code, cls.http_status) == PARTNER_ERRORS[name]
    # Intel raises and catches the very same classes.
    assert getattr(intel_errors, name) is cls


def test_a_node_proves_its_nation_with_its_key_and_intel_adds_its_stix_identity(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    key = identity.load_node_key(node.settings)
    proof = identity.identity_proof(node.settings, "challenge-0123456789")
    assert proof["nation"] == "JM"
    assert (proof["public_key"], proof["key_id"]) == (key.public_text, key.key_id)
    signed = identity.identity_challenge("JM", "challenge-0123456789")
    assert identity.verify_signature(key.public_text, proof["signature"], signed)
    # The same signature proves nothing for another nation or another challenge.
    assert not identity.verify_signature(
        key.public_text,
        proof["signature"],
        identity.identity_challenge("TT", "challenge-0123456789"),
    )
    stix = intel_identity.identity_proof(node.settings, "challenge-0123456789")
    assert stix == {**proof, "identity": intel_identity.identity_id("JM")}
    assert intel_identity.load_node_key is identity.load_node_key
