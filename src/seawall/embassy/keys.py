"""The master key and the key slots that wrap it (passphrases via Argon2id, recovery keys).

The master key is 32 random bytes; every working key is derived from it with HKDF
(see :class:`MasterKey`). A key slot holds the master key encrypted under a
key-encryption key (KEK): for a passphrase slot ``Argon2id(passphrase, salt)``,
for a recovery slot ``HKDF(recovery key, salt)``. Changing a passphrase adds a slot
and removes another; the data is never re-encrypted.

A key change (:class:`KeyChange`) is worked out first and published last, by
:func:`change_keys`: the change is recorded and its secret handed out before any site
holds the new slot, so no failure leaves the sites with a slot whose secret nobody has.
"""

from __future__ import annotations

import base64
import json
import os
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Literal, Protocol

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from seawall.embassy.custody import CustodianShare, split_key
from seawall.embassy.errors import (
    IO_ERRORS,
    BadRepositoryConfig,
    KeySlotMissing,
    LastKeySlot,
    WrongPassphrase,
)
from seawall.embassy.sealing import derive_key
from seawall.embassy.sites.base import Site
from seawall.embassy.store import RepositoryStore
from seawall.errors import InvalidInput, SeawallError

KEY_SIZE = 32
SALT_SIZE = 16
NONCE_SIZE = 12
SLOT_AAD = b"seawall-embassy/v1 keyslot "
RECOVERY_INFO = b"seawall-embassy/v1 recovery kek"
MIN_PASSPHRASE = 12
SlotKind = Literal["passphrase", "recovery"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise BadRepositoryConfig(f"key slot field {what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise BadRepositoryConfig(f"key slot field {what} is not valid base64") from None


@dataclass(frozen=True)
class MasterKey:
    """The repository master key and the purpose keys derived from it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_SIZE:
            raise ValueError("master key must be 32 bytes")

    def _derive(self, purpose: str) -> bytes:
        return derive_key(self.secret, b"", f"seawall-embassy/v1 {purpose}".encode())

    @cached_property
    def data_key(self) -> bytes:
        """Base key for sealed chunks and metadata (each blob derives its own key)."""
        return self._derive("data")

    @cached_property
    def id_key(self) -> bytes:
        """Key of the keyed BLAKE3 chunk ids."""
        return self._derive("chunk-id")

    @cached_property
    def mac_key(self) -> bytes:
        """Key of the keyed BLAKE3 pack ids and share MACs."""
        return self._derive("share-mac")

    @cached_property
    def chunker_seed(self) -> int:
        """Secret FastCDC gear seed, so cut points do not fingerprint known files."""
        # pyfastcdc shifts the seed left by one inside a uint64, so keep it below 2**63.
        return int.from_bytes(self._derive("chunker-seed")[:8], "little") % (1 << 63) or 1


def new_master_key() -> MasterKey:
    """Fresh random master key material from the OS CSPRNG."""
    return MasterKey(os.urandom(KEY_SIZE))


def new_recovery_key() -> bytes:
    """A fresh 32-byte recovery key, to be split among custodians."""
    return os.urandom(KEY_SIZE)


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters (memory in KiB); RFC 9106's second recommendation."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """Argon2id of the NFC-normalised UTF-8 passphrase into a 32-byte KEK."""
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        return hash_secret_raw(
            secret,
            salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            hash_len=KEY_SIZE,
            type=Type.ID,
        )


DEFAULT_KDF = KdfParams()


@dataclass(frozen=True)
class KeySlot:
    """One wrapped copy of the master key, stored as ``keys/<id>`` on every site."""

    id: str
    kind: SlotKind
    label: str
    created: str
    salt: bytes
    nonce: bytes
    wrapped: bytes
    kdf: KdfParams | None = None

    @property
    def name(self) -> str:
        """Object name of the slot on a site."""
        return f"keys/{self.id}"

    def to_json(self) -> bytes:
        """The slot as canonical JSON bytes."""
        doc: dict[str, Any] = {
            "version": 1,
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "created": self.created,
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
            "aead": "AES-256-GCM",
        }
        if self.kdf is not None:
            doc["kdf"] = {
                "algorithm": "argon2id",
                "version": 19,
                "time_cost": self.kdf.time_cost,
                "memory_cost_kib": self.kdf.memory_cost,
                "parallelism": self.kdf.parallelism,
            }
        else:
            doc["kdf"] = {"algorithm": "hkdf-sha256"}
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> KeySlot:
        """Parse a stored slot; BadRepositoryConfig when malformed."""
        try:
            doc = json.loads(data)
            kind = doc["kind"]
            if kind not in ("passphrase", "recovery") or doc.get("version") != 1:
                raise BadRepositoryConfig("key slot has an unknown kind or version")
            kdf = None
            if kind == "passphrase":
                spec = doc["kdf"]
                if spec["algorithm"] != "argon2id":
                    raise BadRepositoryConfig("key slot uses an unknown KDF")
                kdf = KdfParams(
                    int(spec["time_cost"]), int(spec["memory_cost_kib"]), int(spec["parallelism"])
                )
            return cls(
                id=str(doc["id"]),
                kind=kind,
                label=str(doc.get("label", "")),
                created=str(doc.get("created", "")),
                salt=_unb64(doc["salt"], "salt"),
                nonce=_unb64(doc["nonce"], "nonce"),
                wrapped=_unb64(doc["wrapped"], "wrapped"),
                kdf=kdf,
            )
        except (ValueError, KeyError, TypeError):
            raise BadRepositoryConfig(
                "a key slot is not valid JSON; repair from another site"
            ) from None


def read_slots(sites: Sequence[Site]) -> list[KeySlot]:
    """The key slots readable on ``sites``, one per slot id."""
    found: dict[str, KeySlot] = {}
    for site in sites:
        with suppress(*IO_ERRORS):
            for name in site.list("keys/"):
                with suppress(*IO_ERRORS, BadRepositoryConfig):
                    slot = KeySlot.from_json(site.get(name))
                    found.setdefault(slot.id, slot)
    return list(found.values())


def _wrap(
    master: MasterKey,
    kek: bytes,
    *,
    slot_id: str,
    kind: SlotKind,
    label: str,
    created: datetime,
    salt: bytes,
    kdf: KdfParams | None,
) -> KeySlot:
    nonce = os.urandom(NONCE_SIZE)
    wrapped = AESGCM(kek).encrypt(nonce, master.secret, SLOT_AAD + slot_id.encode())
    return KeySlot(slot_id, kind, label, created.isoformat(), salt, nonce, wrapped, kdf)


def check_passphrase_rule(passphrase: str) -> None:
    """Refuse a passphrase shorter than the rule (spaces do not count): it alone guards a
    government's copies in other nations."""
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise InvalidInput(
            f"passphrase is too short: use at least {MIN_PASSPHRASE} characters besides "
            "spaces (a few words are easy to remember and hard to guess)"
        )


def make_passphrase_slot(
    master: MasterKey,
    passphrase: str,
    *,
    created: datetime,
    label: str = "",
    kdf: KdfParams = DEFAULT_KDF,
) -> KeySlot:
    """A slot that opens with ``passphrase``."""
    if not passphrase:
        raise BadRepositoryConfig("an empty passphrase is not allowed; choose a long one")
    salt = os.urandom(SALT_SIZE)
    return _wrap(
        master,
        kdf.derive(passphrase, salt),
        slot_id=os.urandom(8).hex(),
        kind="passphrase",
        label=label,
        created=created,
        salt=salt,
        kdf=kdf,
    )


def make_recovery_slot(
    master: MasterKey, recovery_key: bytes, *, created: datetime, label: str = "recovery"
) -> KeySlot:
    """A slot that opens with a 32-byte recovery key (see :mod:`custody`)."""
    if len(recovery_key) != KEY_SIZE:
        raise BadRepositoryConfig("a recovery key must be 32 bytes")
    salt = os.urandom(SALT_SIZE)
    return _wrap(
        master,
        derive_key(recovery_key, salt, RECOVERY_INFO),
        slot_id=os.urandom(8).hex(),
        kind="recovery",
        label=label,
        created=created,
        salt=salt,
        kdf=None,
    )


def open_slot(
    slot: KeySlot, *, passphrase: str | None = None, recovery_key: bytes | None = None
) -> MasterKey | None:
    """The master key if the secret opens this slot, else None."""
    if slot.kind == "passphrase" and passphrase is not None and slot.kdf is not None:
        kek = slot.kdf.derive(passphrase, slot.salt)
    elif slot.kind == "recovery" and recovery_key is not None and len(recovery_key) == KEY_SIZE:
        kek = derive_key(recovery_key, slot.salt, RECOVERY_INFO)
    else:
        return None
    try:
        secret = AESGCM(kek).decrypt(slot.nonce, slot.wrapped, SLOT_AAD + slot.id.encode())
    except InvalidTag:
        return None
    return MasterKey(secret)


def unlock(
    slots: list[KeySlot], *, passphrase: str | None = None, recovery_key: bytes | None = None
) -> tuple[MasterKey, KeySlot]:
    """Try every slot; the master key and the slot that opened, or WrongPassphrase."""
    for slot in slots:
        master = open_slot(slot, passphrase=passphrase, recovery_key=recovery_key)
        if master is not None:
            return master, slot
    what = "recovery key" if recovery_key is not None else "passphrase"
    raise WrongPassphrase(
        f"the {what} opens none of the {len(slots)} key slots; check it and retry"
    )


@dataclass(frozen=True)
class KeyChange:
    """A key change worked out before anything is written: the slot it adds, the slot it
    retires, and the custodian shares of a new recovery key (which open the added slot)."""

    adds: KeySlot | None = None
    retires: KeySlot | None = None
    shares: tuple[CustodianShare, ...] = ()


def plan_removal(slots: list[KeySlot], slot_id: str) -> KeyChange:
    """Retire a slot; never the last passphrase slot."""
    found = {s.id: s for s in slots}
    if slot_id not in found:
        raise KeySlotMissing(f"no key slot {slot_id}; list them first")
    if not [s for s in slots if s.id != slot_id and s.kind == "passphrase"]:
        raise LastKeySlot("that is the last passphrase slot; add another passphrase first")
    return KeyChange(retires=found[slot_id])


class KeyStore(RepositoryStore, Protocol):
    """A store that knows the slot it was opened with, which a passphrase change retires,
    and the master key itself, which a new slot wraps."""

    opened_with: KeySlot

    @property
    def master(self) -> MasterKey:
        """The repository master key."""
        ...


def list_key_slots(repo: RepositoryStore) -> list[KeySlot]:
    """The key slots found on the reachable sites."""
    return read_slots([site for _, site in repo.reachable()])


# A key change is planned by the functions below, then carried out by change_keys, which
# records and hands out its secret before any site holds the new slot. The add, remove and
# change functions further below plan and carry out at once and record nothing: the CLI
# audits through change_keys.


def plan_passphrase(
    repo: KeyStore, passphrase: str, *, label: str = "", kdf: KdfParams = DEFAULT_KDF
) -> KeyChange:
    """Another passphrase's slot, not yet written anywhere."""
    check_passphrase_rule(passphrase)
    slot = make_passphrase_slot(
        repo.master, passphrase, created=repo.clock.now(), label=label, kdf=kdf
    )
    return KeyChange(adds=slot)


def plan_recovery_key(
    repo: KeyStore, *, custodians: int, threshold: int, label: str = "recovery"
) -> KeyChange:
    """A recovery slot whose fresh key is split among ``custodians`` (any ``threshold``
    open it), not yet written anywhere."""
    key = new_recovery_key()
    shares = split_key(key, custodians=custodians, threshold=threshold)
    slot = make_recovery_slot(repo.master, key, created=repo.clock.now(), label=label)
    return KeyChange(adds=slot, shares=tuple(shares))


def plan_passphrase_change(
    repo: KeyStore, new: str, *, kdf: KdfParams = DEFAULT_KDF, label: str = ""
) -> KeyChange:
    """A slot for ``new`` that retires the slot this session opened with."""
    if repo.opened_with.kind != "passphrase":
        raise WrongPassphrase("open with the passphrase to change it, not a recovery key")
    added = plan_passphrase(repo, new, label=label or repo.opened_with.label, kdf=kdf)
    return replace(added, retires=repo.opened_with)


def _nothing(_change: KeyChange) -> None:
    """Hand out nothing: a passphrase change's secret is already with its holder."""


def change_keys(
    repo: KeyStore,
    change: KeyChange,
    *,
    record: Callable[[], AbstractContextManager[object]],
    deliver: Callable[[KeyChange], None] = _nothing,
    failed: Callable[[SeawallError], None] | None = None,
) -> None:
    """Carry out a key change so that no failure strands a slot whose secret nobody has.

    1. Every site must answer, or nothing happens.
    2. Inside ``record`` (the transaction that audits the change, and commits on leaving
       it), ``deliver`` hands out the custodian shares: if the audit or the delivery fails,
       nothing was published, and shares already printed open nothing.
    3. The new slot is written to every site; if a site fails, it is taken back from all of
       them, ``failed`` records the error, and the error says the shares open nothing.
    4. The retired slot is deleted last, so the repository always opens with one of them.
    """
    repo.require_sites(degraded=False, what="the key change")
    with record():
        deliver(change)
    try:
        if change.adds is not None:
            try:
                repo.put_everywhere(change.adds.name, change.adds.to_json())
            except SeawallError:
                for _, site in repo.reachable():
                    with suppress(SeawallError):
                        site.delete(change.adds.name)
                raise
        if change.retires is not None:
            repo.delete_everywhere(change.retires.name)
            if repo.opened_with.id == change.retires.id and change.adds is not None:
                repo.opened_with = change.adds
    except SeawallError as exc:
        if failed is not None:
            failed(exc)
        if change.adds is None:
            raise
        void = "; the custodian shares handed out open nothing" if change.shares else ""
        taken_back = f"the new key slot was taken back{void}: run it again"
        exc.message = f"{exc.message}; {taken_back}"
        exc.web_message = f"{exc.web_message}; {taken_back}"
        exc.args = (exc.message,)
        raise


def add_passphrase(
    repo: KeyStore, passphrase: str, *, label: str = "", kdf: KdfParams = DEFAULT_KDF
) -> KeySlot:
    """Add a slot that opens with another passphrase."""
    change = plan_passphrase(repo, passphrase, label=label, kdf=kdf)
    change_keys(repo, change, record=nullcontext)
    assert change.adds is not None
    return change.adds


def add_recovery_key(
    repo: KeyStore, *, custodians: int, threshold: int, label: str = "recovery"
) -> list[CustodianShare]:
    """Create a recovery key slot and split the key among custodians."""
    change = plan_recovery_key(repo, custodians=custodians, threshold=threshold, label=label)
    change_keys(repo, change, record=nullcontext)
    return list(change.shares)


def remove_key_slot(repo: KeyStore, slot_id: str) -> None:
    """Delete a slot from every site; the last passphrase slot cannot be removed."""
    change_keys(repo, plan_removal(list_key_slots(repo), slot_id), record=nullcontext)


def change_passphrase(
    repo: KeyStore, new: str, *, kdf: KdfParams = DEFAULT_KDF, label: str = ""
) -> KeySlot:
    """Re-wrap the master key under ``new`` and drop the slot this session opened with."""
    change_keys(repo, plan_passphrase_change(repo, new, kdf=kdf, label=label), record=nullcontext)
    return repo.opened_with
