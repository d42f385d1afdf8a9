"""Key slots: passphrases and recovery keys wrap one master key; wrong secrets are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seawall.embassy.errors import BadRepositoryConfig, WrongPassphrase
from seawall.embassy.keys import (
    KeySlot,
    make_passphrase_slot,
    make_recovery_slot,
    new_master_key,
    new_recovery_key,
    unlock,
)

from .conftest import FAST_KDF

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_passphrase_slot_unwraps_the_master_key() -> None:
    master = new_master_key()
    slot = make_passphrase_slot(master, "first passphrase", created=NOW, kdf=FAST_KDF)
    stored = KeySlot.from_json(slot.to_json())
    got, used = unlock([stored], passphrase="first passphrase")
    assert got.secret == master.secret and used.id == slot.id
    assert master.secret not in slot.to_json()


def test_wrong_passphrase_is_refused_clearly() -> None:
    master = new_master_key()
    slot = make_passphrase_slot(master, "right", created=NOW, kdf=FAST_KDF)
    with pytest.raises(WrongPassphrase, match="opens none of the 1 key slots"):
        unlock([slot], passphrase="wrong")


def test_any_of_several_slots_opens_the_same_master() -> None:
    master = new_master_key()
    recovery = new_recovery_key()
    slots = [
        make_passphrase_slot(master, "alpha", created=NOW, kdf=FAST_KDF),
        make_passphrase_slot(master, "beta", created=NOW, kdf=FAST_KDF),
        make_recovery_slot(master, recovery, created=NOW),
    ]
    assert unlock(slots, passphrase="beta")[0].secret == master.secret
    assert unlock(slots, recovery_key=recovery)[0].secret == master.secret
    with pytest.raises(WrongPassphrase):
        unlock(slots, recovery_key=new_recovery_key())


def test_derived_keys_differ_by_purpose() -> None:
    master = new_master_key()
    keys = {master.data_key, master.id_key, master.mac_key, master.secret}
    assert len(keys) == 4


def test_slot_cannot_be_moved_to_another_id() -> None:
    master = new_master_key()
    slot = make_passphrase_slot(master, "pw", created=NOW, kdf=FAST_KDF)
    moved = KeySlot.from_json(slot.to_json().replace(slot.id.encode(), b"0" * 16))
    with pytest.raises(WrongPassphrase):
        unlock([moved], passphrase="pw")


def test_malformed_slot_and_empty_passphrase_are_refused() -> None:
    with pytest.raises(BadRepositoryConfig):
        KeySlot.from_json(b"{not json")
    with pytest.raises(BadRepositoryConfig):
        make_passphrase_slot(new_master_key(), "", created=NOW, kdf=FAST_KDF)
