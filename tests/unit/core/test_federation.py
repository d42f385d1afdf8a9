"""Core's federation: the partner errors, node identity and signed packages every pillar uses."""

from __future__ import annotations

import pytest

from seawall.core.federation import errors as federation_errors
from seawall.errors import SeawallError
from seawall.intel import errors as intel_errors

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
