"""Signed offline bundles: intelligence on a USB stick or by email when links are down.

A bundle file is a small signed header followed by a zstd-compressed STIX 2.1 bundle::

    SEAWALL-INTEL-BUNDLE/1\n
    <header: one line of JSON>\n
    <signature: base64 Ed25519>\n
    <zstd frame (with content checksum) of the STIX bundle JSON>

The header holds the sender (nation, node name, identity id, key id, public key), the
recipient (nation and partner name), the creation time, the SHA-256 of the compressed
bundle and ``placement``: for each collection alias, the range ``[start, stop)`` of its
objects in the bundle (object 0 is the sender's identity and goes with every collection).
The detached signature covers ``seawall-bundle/1\n``, the header line, a newline and the
compressed bytes, so changing any byte of the file breaks it. The frame, the signature and
the checks on opening are core's signed package format
(:mod:`seawall.core.federation.packages`); a bundle is the package kind :data:`BUNDLE`.

Export reads as the recipient partner's sync account would
(:func:`seawall.intel.collections.partner_reader`): the collections shared with it, this
nation's own objects, under the partner's ``max_tlp``. A bundle never holds what its
recipient may not read over TAXII. Import trusts nothing before the signature verifies with
the public key registered for a partner of the sender's nation; then the objects go
through :func:`seawall.intel.provenance.receive`, all in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.federation import packages
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.packages import (
    PackageKind,
    open_package,
    refuse_disabled,
    seal_package,
    sender_of,
)
from seawall.core.nations import normalise_nation
from seawall.core.partners import list_partners
from seawall.db.models import Partner
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.errors import Forbidden, InvalidInput, NotFound
from seawall.intel import witness
from seawall.intel.collections import get_collection, list_collections, partner_reader
from seawall.intel.errors import (
    AuditHeadInvalid,
    BundleNotForThisNation,
    BundleSenderUnknown,
    BundleSignatureInvalid,
    BundleUnreadable,
)
from seawall.intel.identity import identity_id, nation_identity
from seawall.intel.provenance import Received, local_collection, receive, stamp_creator
from seawall.intel.sharing import shares_with
from seawall.intel.validation import format_timestamp
from seawall.settings import Settings

MAGIC = b"SEAWALL-INTEL-BUNDLE/1\n"
SIGNING_PREFIX = b"seawall-bundle/1\n"
BUNDLE = PackageKind(
    magic=MAGIC,
    signing_prefix=SIGNING_PREFIX,
    name="Seawall intel bundle",
    noun="bundle",
    unreadable=BundleUnreadable,
    signature_invalid=BundleSignatureInvalid,
    sender_unknown=BundleSenderUnknown,
)


@dataclass(frozen=True)
class ExportedBundle:
    """A bundle ready to write, and what went into it."""

    data: bytes
    recipient_nation: str
    recipient_partner: str
    objects: int
    withheld: int


@dataclass
class ImportedBundle:
    """What an import did."""

    sender_nation: str
    partner: str
    received: Received = field(default_factory=Received)
    # What this node did with the sender's signed audit head (seawall.intel.witness).
    audit_head: str = ""
    audit_head_message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The outcome for ``--json``."""
        return {
            "sender_nation": self.sender_nation,
            "partner": self.partner,
            "added": self.received.added,
            "duplicates": self.received.duplicates,
            "rejected": self.received.rejected,
            "withheld": self.received.withheld,
            "audit_head": self.audit_head,
            "audit_head_message": self.audit_head_message,
        }


def _resolve_recipient(ctx: Ctx, to: str) -> Partner:
    """The partner a bundle is for: by name, or the one partner registered for a nation."""
    wanted = to.strip().lower()
    registered = list_partners(ctx)
    for partner in registered:
        if partner.name == wanted:
            refuse_disabled(partner)
            return partner
    try:
        nation = normalise_nation(to)
    except InvalidInput:
        raise NotFound(
            f"no partner or nation {to!r}",
            cli="give a partner name (`seawall partner list`) or an ISO nation code",
            web="give a partner name (the Partners page, /admin/partners) or an ISO nation code",
        ) from None
    of_nation = [p for p in registered if p.nation == nation]
    if not of_nation:
        raise NotFound(
            f"no partner of {nation} is registered: a bundle goes to a partner, under its "
            f"max_tlp; register one with `seawall partner add NAME --nation {nation} ...`"
        )
    if len(of_nation) > 1:
        names = ", ".join(p.name for p in of_nation)
        raise InvalidInput(
            f"{nation} has several partners ({names}), each with its own max_tlp: "
            "name one with --to"
        )
    refuse_disabled(of_nation[0])
    return of_nation[0]


def _rows(ctx: Ctx, collections: Iterable[IntelCollection], nation: str) -> list[IntelObject]:
    ids = [c.id for c in collections]
    if not ids:
        return []
    stmt = (
        select(IntelObject)
        .where(IntelObject.collection_id.in_(ids), IntelObject.owner_nation == nation)
        .order_by(IntelObject.collection_id, IntelObject.date_added, IntelObject.seq)
    )
    return list(ctx.db.scalars(stmt))


def export_bundle(
    ctx: Ctx, settings: Settings, to: str, collection: str | None = None
) -> ExportedBundle:
    """A signed bundle of this nation's objects that partner ``to`` may read.

    ``to`` names a partner, or a nation with exactly one registered partner. The partner
    reads the bundle as its sync account would read this node over TAXII: only the
    collections shared with it, only this nation's own objects, under its ``max_tlp``.
    """
    require(ctx.who, Perm.INTEL_READ)
    nation = settings.nation
    # The bundle speaks for this node's nation: only its own people may have it made.
    require_nation(ctx.who, nation, f"{nation} intel to export")
    partner = _resolve_recipient(ctx, to)
    chosen = [get_collection(ctx, collection)] if collection else list_collections(ctx)
    if collection and not shares_with(ctx.db, chosen[0], partner):
        raise Forbidden(
            f"collection {chosen[0].alias!r} is not shared with {partner.name}: its audience "
            f"names neither the partner, {partner.nation}, nor a group {partner.nation} is in"
        )
    chosen = [c for c in chosen if shares_with(ctx.db, c, partner)]
    by_id = {c.id: c for c in chosen}
    reader = partner_reader(partner)
    objects: list[dict[str, Any]] = [nation_identity(nation)]
    placement: dict[str, list[int]] = {}
    withheld = 0
    for row in _rows(ctx, chosen, nation):
        if row.stix_id == identity_id(nation):
            continue  # object 0 already
        if not reader.may_read(row.tlp, row.owner_nation, row.owner_org, row.submitted_by):
            withheld += 1
            continue
        # Rows come grouped by collection, so each collection is one range.
        span = placement.setdefault(by_id[row.collection_id].alias, [len(objects), len(objects)])
        span[1] = len(objects) + 1
        objects.append(stamp_creator(json.loads(row.body), nation))
    stix = {"type": "bundle", "id": f"bundle--{ctx.ids()}", "objects": objects}
    raw = json.dumps(stix, separators=(",", ":"), ensure_ascii=False).encode()
    key = load_node_key(settings)
    header = {
        "sender": {**sender_of(settings, key), "identity": identity_id(nation)},
        "recipient": {"nation": partner.nation, "partner": partner.name},
        "created": format_timestamp(ctx.now()),
        "placement": placement,
        "audit_head": witness.bundle_head(ctx, settings, partner),
    }
    data = seal_package(BUNDLE, key, header, raw)
    count = len(objects) - 1
    ctx.record(
        "intel.bundle.exported",
        partner.nation,
        partner=partner.name,
        collections=sorted(placement),
        objects=count,
        withheld=withheld,
        key_id=key.key_id,
    )
    return ExportedBundle(data, partner.nation, partner.name, count, withheld)


@dataclass(frozen=True)
class OpenedBundle:
    """A bundle whose signature has been checked against a registered partner's key."""

    partner: Partner
    sender_nation: str
    recipient_nation: str
    objects: list[dict[str, Any]]
    placement: dict[str, list[int]]
    audit_head: Any = None

    def objects_of(self, alias: str) -> list[dict[str, Any]]:
        """The objects of one collection, with the sender's identity first."""
        start, stop = self.placement[alias]
        return self.objects[:1] + self.objects[start:stop]


def read_frame(data: bytes) -> tuple[bytes, str, bytes]:
    """The header line, signature and compressed payload of a bundle file, untrusted."""
    return packages.read_frame(BUNDLE, data)


def open_bundle(data: bytes, partners: Iterable[Partner]) -> OpenedBundle:
    """Verify a bundle against the partners' registered keys; only then read its content."""
    opened = open_package(BUNDLE, data, partners)
    header, partner, nation = opened.header, opened.partner, opened.sender_nation
    try:
        stix = json.loads(opened.payload)
        recipient = str(header["recipient"]["nation"]).upper()
        placement = header["placement"]
        objects = stix["objects"]
        if stix.get("type") != "bundle" or not isinstance(objects, list):
            raise TypeError("bundle")
        if not all(isinstance(o, dict) for o in objects) or not isinstance(placement, dict):
            raise TypeError("objects")
        for alias, span in placement.items():
            if not (isinstance(alias, str) and isinstance(span, list) and len(span) == 2):
                raise TypeError("placement")
            if not all(isinstance(i, int) for i in span) or not 1 <= span[0] <= span[1]:
                raise TypeError("placement")
            if span[1] > len(objects):
                raise TypeError("placement")
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
        raise BUNDLE.refuse("a signed bundle of an unknown shape") from None
    return OpenedBundle(partner, nation, recipient, objects, placement, header.get("audit_head"))


def import_bundle(
    ctx: Ctx, settings: Settings, data: bytes, collection: str | None = None
) -> ImportedBundle:
    """Verify a bundle, check it was made for this nation, and store what it carries."""
    require(ctx.who, Perm.INTEL_WRITE)
    opened = open_bundle(data, list_partners(ctx))
    if opened.recipient_nation != settings.nation:
        raise BundleNotForThisNation(
            f"this bundle was filtered for {opened.recipient_nation}, not {settings.nation}; "
            "nothing was imported"
        )
    partner = opened.partner
    result = ImportedBundle(opened.sender_nation, partner.name)
    for alias in sorted(opened.placement):
        target = (
            get_collection(ctx, collection)
            if collection
            else local_collection(ctx, alias, alias, partner)
        )
        objects = opened.objects_of(alias)
        result.received.merge(receive(ctx, partner, target, objects, f"bundle:{partner.name}"))
    if opened.audit_head is not None:
        # A refused head is kept as evidence in this transaction; the objects still count.
        try:
            kept = witness.keep_head(ctx, partner, opened.audit_head, "bundle")
            result.audit_head, result.audit_head_message = kept.outcome, kept.message
        except AuditHeadInvalid as exc:
            result.audit_head, result.audit_head_message = "invalid", exc.message
    ctx.record(
        "intel.bundle.imported",
        partner.id,
        partner=partner.name,
        added=result.received.added,
        duplicates=result.received.duplicates,
        rejected=len(result.received.rejected),
        withheld=len(result.received.withheld),
    )
    return result
