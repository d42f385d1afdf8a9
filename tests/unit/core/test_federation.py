"""Core's federation: the partner errors, node identity and signed packages every pillar uses."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from seawall.core.clock import FrozenClock
from seawall.core.federation import errors as federation_errors
from seawall.core.federation import identity, packages, retries, tokens
from seawall.db.models import Partner
from seawall.errors import NodeNotInitialised, SeawallError
from seawall.intel import bundles
from seawall.intel import errors as intel_errors
from seawall.intel import identity as intel_identity
from seawall.intel.errors import BundleUnreadable
from seawall.settings import load_settings
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
    # Intel raises and catches the very same classes: it holds no copy of its own.
    assert name not in vars(intel_errors)


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
    # The key and the challenge are core's alone: intel holds no copy of them.
    assert not {"load_node_key", "identity_challenge", "NodeKey"} & set(vars(intel_identity))


TEST_KIND = packages.PackageKind(
    magic=b"SEAWALL-TEST-PACKAGE/1\n",
    signing_prefix=b"seawall-test-package/1\n",
    name="Seawall test package",
    noun="package",
)


def _partner(nation: str, public_key: str, disabled: bool = False) -> Partner:
    return Partner(
        id=f"p-{nation.lower()}",
        name=f"{nation.lower()}-node",
        nation=nation,
        owner_nation="TT",
        url="http://127.0.0.1:9",
        public_key=public_key,
        disabled=disabled,
    )


def test_a_package_of_any_kind_opens_only_with_the_senders_registered_key(
    tmp_path: Path,
) -> None:
    jm = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    key = identity.load_node_key(jm.settings)
    header = {"sender": packages.sender_of(jm.settings, key), "note": "drill"}
    data = packages.seal_package(TEST_KIND, key, header, b"payload " * 100)
    assert data.startswith(b"SEAWALL-TEST-PACKAGE/1\n")
    opened = packages.open_package(TEST_KIND, data, [_partner("JM", key.public_text)])
    assert (opened.sender_nation, opened.payload) == ("JM", b"payload " * 100)
    assert opened.header["note"] == "drill"
    flipped = bytearray(data)
    flipped[-1] ^= 1
    with pytest.raises(federation_errors.PackageSignatureInvalid, match="altered after signing"):
        packages.open_package(TEST_KIND, bytes(flipped), [_partner("JM", key.public_text)])
    other = identity.NodeKey(Ed25519PrivateKey.generate()).public_text
    with pytest.raises(federation_errors.PackageSenderUnknown, match="no registered partner"):
        packages.open_package(TEST_KIND, data, [_partner("JM", other)])
    with pytest.raises(federation_errors.PartnerDisabled):
        packages.open_package(TEST_KIND, data, [_partner("JM", key.public_text, disabled=True)])
    # A package of one kind is never read as another: intel bundles have their own magic.
    with pytest.raises(BundleUnreadable, match="not a Seawall intel bundle"):
        packages.open_package(bundles.BUNDLE, data, [_partner("JM", key.public_text)])


def test_a_partner_token_opens_only_for_its_partner_under_the_node_secret(tmp_path: Path) -> None:
    jm = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    sealed = tokens.seal_token(jm.settings, "p-tt", "token-for-tt")
    assert "token-for-tt" not in sealed
    assert tokens.open_token(jm.settings, "p-tt", sealed) == "token-for-tt"
    # The partner id is bound in: a sealed token moved to another partner's row does not open.
    with pytest.raises(federation_errors.PartnerNotLinked, match="store it again"):
        tokens.open_token(jm.settings, "p-bb", sealed)
    with pytest.raises(federation_errors.PartnerNotLinked):
        tokens.open_token(jm.settings, "p-tt", "not base64!")
    # Another node secret reads nothing.
    other = make_node(tmp_path / "tt", None, FrozenClock(EPOCH), "TT")
    with pytest.raises(federation_errors.PartnerNotLinked):
        tokens.open_token(other.settings, "p-tt", sealed)
    bare = load_settings(home=tmp_path / "empty")
    with pytest.raises(NodeNotInitialised, match="seawall init"):
        tokens.seal_token(bare, "p-tt", "token-for-tt")


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    waits = [retries.backoff(n) for n in range(0, 12)]
    assert waits[:4] == [
        timedelta(0),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert waits[-1] == timedelta(hours=1)
