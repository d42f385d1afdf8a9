"""Witnessed audit heads: partners hold this node's signed audit head, and it holds theirs.

The audit chain (:mod:`seawall.core.audit`) shows an edit to anyone who lacks the node
secret. Someone holding the database *and* the secret can still delete the newest entries
(and move the head row), or re-forge the whole chain, and ``audit verify`` alone passes. As
Certificate Transparency's monitors hold a log's signed tree heads, each partner therefore
holds this node's signed audit head, and ``audit verify --witnesses`` checks the local chain
against the heads the partners hold.

A head is ``{nation, key_id, count, hash, root, at}``, signed with the node's Ed25519 key
over ``seawall-audit-head/1\\n`` and the canonical JSON of those fields (a prefix no other
statement uses, so an identity answer or a bundle can never pass for a head). ``count`` is
the newest entry's seq and ``hash`` its chain hash. ``root`` is a keyless SHA-256 chain
over the hex hash of every entry up to ``count``::

    root_0 = "0" * 64;  root_i = SHA-256(root_(i-1) + hash_i)   (hex text)

The root lets a witness holding head ``h`` check, without the node secret, that a newer
head ``n`` extends it: the publisher sends the hashes of the entries after ``since`` (a
count at or below ``h``) up to ``n``, and the witness folds those after ``h`` onto the root
it holds. A log truncated and then written past its old head, or rewritten below it, has
no such proof; nor may a later head have a lower count. Either is refused, kept beside the
held head as evidence, and recorded in the witness's own audit log.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from seawall.core import audit
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.federation.errors import (
    InvalidPublicKey,
    PartnerAnsweredGarbage,
    PartnerDisabled,
    PartnerRefused,
)
from seawall.core.federation.identity import (
    AUDIT_HEAD_PREFIX,
    load_node_key,
    public_key_id,
    verify_signature,
)
from seawall.core.federation.link import PartnerLink
from seawall.core.node import Node
from seawall.core.partners import get_partner
from seawall.db.models import Partner
from seawall.db.models.intel_sync import IntelAuditHead
from seawall.errors import NotFound, SeawallError
from seawall.intel.errors import AuditHeadConflict, AuditHeadInvalid
from seawall.intel.validation import format_timestamp, parse_timestamp
from seawall.settings import Settings

HEAD_PREFIX = AUDIT_HEAD_PREFIX
# The most entry hashes one publication carries (about 66 bytes each in JSON). A witness
# further behind is brought up in steps: each head is at most this far past ``since``.
MAX_PROOF = 10_000
# Rows of intel_audit_heads: a partner's head this node witnesses, one it refused (kept as
# evidence), and the head of ours a partner last said it holds.
HELD, REFUSED, ACKNOWLEDGED = "held", "refused", "acknowledged"
# What keep_head did with a head.
NEW, ADVANCED, UNCHANGED, STALE, UNLINKED = "new", "advanced", "unchanged", "stale", "unlinked"
# What publish_head reports for a partner that does not witness us (no key of ours
# registered there, or a node without the witness endpoint).
UNWITNESSED = "unwitnessed"
REASONS = {
    "count_went_down": "a later head with a lower count",
    "hash_differs": "another hash at the same count",
    "not_an_extension": "the entries sent as proof do not lead from the held head to it",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_NATION = re.compile(r"[A-Z]{2}")
_COUNT_MAX = 2**62


@dataclass(frozen=True)
class SignedHead:
    """A node's statement of its audit chain's newest entry, with its signature."""

    nation: str
    key_id: str
    count: int
    hash: str
    root: str
    at: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        """The fields the signature covers."""
        return {
            "nation": self.nation,
            "key_id": self.key_id,
            "count": self.count,
            "hash": self.hash,
            "root": self.root,
            "at": self.at,
        }

    def as_dict(self) -> dict[str, Any]:
        """The head as it travels: its fields and the signature."""
        return asdict(self)


@dataclass(frozen=True)
class Published:
    """A head as published: with the entry hashes from ``since`` that link it to an older one."""

    head: SignedHead
    since: int | None
    proof: tuple[str, ...]


@dataclass(frozen=True)
class Witnessed:
    """What a witness did with a head, and the head it holds afterwards."""

    outcome: str
    count: int
    hash: str
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the witness endpoint answers it."""
        return asdict(self)


def head_bytes(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes a head's signature covers."""
    body = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return HEAD_PREFIX + body.encode()


def fold(root: str, hashes: Iterable[str]) -> str:
    """The root after ``hashes`` follow the entry whose root is ``root``."""
    for digest in hashes:
        root = hashlib.sha256((root + digest).encode()).hexdigest()
    return root


@dataclass(frozen=True)
class ChainPoint:
    """The local chain at one entry: its seq, its hash and the root up to it."""

    count: int
    hash: str
    root: str


GENESIS_POINT = ChainPoint(0, audit.GENESIS, audit.GENESIS)


def chain_points(db: Any, counts: Collection[int]) -> tuple[dict[int, ChainPoint], ChainPoint]:
    """The local chain at each of ``counts`` it reaches, and at its newest entry."""
    found = {0: GENESIS_POINT} if 0 in counts else {}
    point = GENESIS_POINT
    for seq, digest in audit.hashes(db):
        point = ChainPoint(seq, digest, fold(point.root, (digest,)))
        if seq in counts:
            found[seq] = point
    return found, point


# --- publishing our head --------------------------------------------------------------


def signed_head(ctx: Ctx, settings: Settings, since: int | None = None) -> dict[str, Any]:
    """This node's audit head, signed, with the proof that it extends the head at ``since``.

    ``since`` is the count a witness holds for us. The head is then at most MAX_PROOF
    entries past it. A ``since`` beyond the local chain (a witness holding more than this
    log has) gets the newest head and no proof, which that witness refuses.
    """
    key = load_node_key(settings)
    point, proof = GENESIS_POINT, []
    upto = None if since is None else since + MAX_PROOF
    for seq, digest in audit.hashes(ctx.db, upto):
        point = ChainPoint(seq, digest, fold(point.root, (digest,)))
        if since is not None and seq > since:
            proof.append(digest)
    # Entries missing in the middle leave no proof of the right length: publish unlinked.
    linked = since is not None and len(proof) == point.count - since
    fields = {
        "nation": settings.nation,
        "key_id": key.key_id,
        "count": point.count,
        "hash": point.hash,
        "root": point.root,
        "at": format_timestamp(ctx.now()),
    }
    return {
        **fields,
        "signature": key.sign(head_bytes(fields)),
        "since": since if linked else None,
        "proof": proof if linked else [],
    }


def head_for_caller(ctx: Ctx, settings: Settings, since: int | None) -> dict[str, Any] | None:
    """Our signed head for an identity proof, or None for a caller who may not read intel."""
    if not ctx.who.can(Perm.INTEL_READ):
        return None
    return signed_head(ctx, settings, since)


def publish_head(node: Node, partner_id: str, link: PartnerLink) -> Witnessed:
    """Hand this node's head to a partner to witness, linked to the head it holds.

    A partner that does not witness us (it registers no key of ours, or has no witness
    endpoint) answers 404: that is outcome ``unwitnessed``, not a failure. A head the
    partner refuses as contradicting the one it holds raises PartnerRefused (409).
    """
    key = load_node_key(node.settings)
    try:
        held = link.witnessed_head(key.key_id)
    except PartnerRefused as exc:
        if exc.status != 404:
            raise
        return Witnessed(UNWITNESSED, 0, "", exc.message)
    since = None
    if held is not None:
        try:
            since = parse_head(held).count
        except AuditHeadInvalid:
            raise PartnerAnsweredGarbage(
                f"partner {link.name} answered with an audit head of ours that is no head"
            ) from None
    with node.unit(node.operator()) as ctx:
        published = signed_head(ctx, node.settings, since)
    answer = link.publish_head(published)
    outcome, count, digest = answer.get("outcome"), answer.get("count"), answer.get("hash")
    if not (isinstance(outcome, str) and _is_count(count) and isinstance(digest, str)):
        raise PartnerAnsweredGarbage(
            f"partner {link.name} answered our audit head without outcome, count and hash"
        )
    assert isinstance(count, int)
    with node.unit(node.operator()) as ctx:
        partner = get_partner(ctx, partner_id)
        if (count, digest) == (published["count"], published["hash"]):
            _acknowledge(ctx, partner, parse_head(published))
        ctx.record(
            "intel.audit_head.published",
            partner.id,
            name=partner.name,
            count=published["count"],
            outcome=outcome,
        )
    return Witnessed(outcome, count, digest)


def _acknowledge(ctx: Ctx, partner: Partner, head: SignedHead) -> None:
    """Remember the head of ours the partner holds, so a bundle can link to it."""
    _store(ctx, partner, held_head(ctx, partner.id, ACKNOWLEDGED), ACKNOWLEDGED, head, "witness")


def acknowledged_count(ctx: Ctx, partner: Partner) -> int | None:
    """The count of the head of ours that ``partner`` last said it holds."""
    row = held_head(ctx, partner.id, ACKNOWLEDGED)
    return row.count if row else None


def bundle_head(ctx: Ctx, settings: Settings, partner: Partner | None) -> dict[str, Any]:
    """Our signed head for a bundle's header, linked to what the recipient partner holds."""
    return signed_head(ctx, settings, acknowledged_count(ctx, partner) if partner else None)


# --- keeping a partner's head ---------------------------------------------------------


def _invalid(what: str) -> AuditHeadInvalid:
    return AuditHeadInvalid(f"the audit head {what}; nothing was kept")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _COUNT_MAX


def parse_head(data: Any) -> SignedHead:
    """A signed head from untrusted JSON, its shape checked (not yet its signature)."""
    if not isinstance(data, Mapping):
        raise _invalid("is not a JSON object")
    nation, key_id, at = data.get("nation"), data.get("key_id"), data.get("at")
    digest, root, signature = data.get("hash"), data.get("root"), data.get("signature")
    if not (isinstance(nation, str) and _NATION.fullmatch(nation)):
        raise _invalid("names no nation")
    if not (isinstance(key_id, str) and _KEY_ID.fullmatch(key_id)):
        raise _invalid("names no key id")
    if not _is_count(data.get("count")):
        raise _invalid("has no count")
    if not all(isinstance(v, str) and _HEX64.fullmatch(v) for v in (digest, root)):
        raise _invalid("has no hash or root of 64 hex digits")
    if not (isinstance(signature, str) and 0 < len(signature) <= 200):
        raise _invalid("has no signature")
    try:
        parse_timestamp(at)
    except SeawallError:
        raise _invalid("has no time") from None
    return SignedHead(
        nation, key_id, int(data["count"]), str(digest), str(root), str(at), signature
    )


def parse_published(data: Any) -> Published:
    """A published head from untrusted JSON, with its proof checked for shape."""
    head = parse_head(data)
    assert isinstance(data, Mapping)
    since, proof = data.get("since"), data.get("proof") or []
    if since is None:
        return Published(head, None, ())
    if not (_is_count(since) and since <= head.count):
        raise _invalid("links to a count above its own")
    if not isinstance(proof, list) or len(proof) != head.count - since:
        raise _invalid("does not carry one hash for each entry since the head it links to")
    if len(proof) > MAX_PROOF or not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in proof):
        raise _invalid("carries a proof that is not entry hashes")
    return Published(head, since, tuple(proof))


def verify_head(head: SignedHead, public_key: str) -> bool:
    """Whether the holder of ``public_key`` signed ``head`` as an audit head."""
    try:
        return verify_signature(public_key, head.signature, head_bytes(head.signed_fields()))
    except InvalidPublicKey:
        return False


def held_head(ctx: Ctx, partner_id: str, state: str = HELD) -> IntelAuditHead | None:
    """The newest row of ``state`` for a partner: by default the head witnessed for it."""
    stmt = (
        select(IntelAuditHead)
        .where(IntelAuditHead.partner_id == partner_id, IntelAuditHead.state == state)
        .order_by(IntelAuditHead.seq.desc())
        .limit(1)
    )
    return ctx.db.scalars(stmt).first()


def held_count(ctx: Ctx, partner: Partner) -> int | None:
    """The count of the head this node witnesses for ``partner`` (``since`` for its proof)."""
    row = held_head(ctx, partner.id)
    return row.count if row else None


def _as_head(row: IntelAuditHead) -> SignedHead:
    return SignedHead(
        row.nation,
        row.key_id,
        row.count,
        row.hash,
        row.root,
        format_timestamp(row.signed_at),
        row.signature,
    )


def _store(
    ctx: Ctx,
    partner: Partner,
    row: IntelAuditHead | None,
    state: str,
    head: SignedHead,
    via: str,
    reason: str = "",
) -> None:
    """Write ``head`` over ``row``, or into a new row of ``state`` when there is none."""
    if row is None:
        row = IntelAuditHead(partner_id=partner.id, state=state, reason=reason)
        ctx.db.add(row)
    row.nation, row.key_id, row.count = head.nation, head.key_id, head.count
    row.hash, row.root, row.signature = head.hash, head.root, head.signature
    row.signed_at = parse_timestamp(head.at)
    row.via, row.received_at = via, ctx.now()
    ctx.db.flush()


def keep_head(ctx: Ctx, partner: Partner, published: Any, via: str) -> Witnessed:
    """Check a partner's signed head and keep it when it extends the one held.

    Raises AuditHeadInvalid for a head the partner's registered key did not sign. A head
    that contradicts the held one is refused *without* raising (outcome ``refused``), so
    the evidence and its audit entry commit with the caller's unit.
    """
    offered = parse_published(published)
    head = offered.head
    if partner.disabled:
        raise PartnerDisabled(
            f"partner {partner.name!r} is disabled: nothing is exchanged with it",
            cli=f"enable it with `seawall partner enable {partner.name}`",
            web="enable it on the Partners page (/admin/partners)",
        )
    if head.nation != partner.nation:
        raise _invalid(
            f"names nation {head.nation}, but partner {partner.name} is {partner.nation}"
        )
    if not partner.public_key:
        raise _invalid(
            f"cannot be checked: no public key is registered for partner {partner.name}; "
            f"register it with `seawall intel partner link {partner.name} --public-key ...`"
        )
    try:
        registered = public_key_id(partner.public_key)
    except InvalidPublicKey:
        raise _invalid(
            f"cannot be checked: the key registered for {partner.name} is damaged"
        ) from None
    if head.key_id != registered or not verify_head(head, partner.public_key):
        raise _invalid(
            f"is not signed as an audit head by the key registered for partner {partner.name}"
        )
    held = held_head(ctx, partner.id)
    if held is None:
        return _hold(ctx, partner, None, head, via, NEW)
    if head.count == held.count:
        if (head.hash, head.root) == (held.hash, held.root):
            return Witnessed(UNCHANGED, held.count, held.hash)
        return _refuse(ctx, partner, held, head, via, "hash_differs")
    if head.count < held.count:
        if parse_timestamp(head.at) < held.signed_at:
            # An older statement arriving late (a bundle made before the last sync).
            return Witnessed(STALE, held.count, held.hash)
        return _refuse(ctx, partner, held, head, via, "count_went_down")
    if offered.since is None or offered.since > held.count:
        return Witnessed(
            UNLINKED,
            held.count,
            held.hash,
            f"the head is not linked to entry {held.count}, which this node holds; "
            "publish it again with the proof from there",
        )
    extension = offered.proof[held.count - offered.since :]
    if fold(held.root, extension) != head.root or extension[-1] != head.hash:
        return _refuse(ctx, partner, held, head, via, "not_an_extension")
    return _hold(ctx, partner, held, head, via, ADVANCED)


def _hold(
    ctx: Ctx,
    partner: Partner,
    held: IntelAuditHead | None,
    head: SignedHead,
    via: str,
    outcome: str,
) -> Witnessed:
    _store(ctx, partner, held, HELD, head, via)
    ctx.record(
        "intel.audit_head.witnessed",
        partner.id,
        name=partner.name,
        count=head.count,
        hash=head.hash,
        via=via,
        outcome=outcome,
    )
    return Witnessed(outcome, head.count, head.hash)


def _refuse(
    ctx: Ctx, partner: Partner, held: IntelAuditHead, head: SignedHead, via: str, reason: str
) -> Witnessed:
    # A refused head is kept beside the held one, as evidence: always a new row.
    _store(ctx, partner, None, REFUSED, head, via, reason)
    ctx.record(
        "intel.audit_head.refused",
        partner.id,
        name=partner.name,
        via=via,
        reason=reason,
        held_count=held.count,
        held_hash=held.hash,
        offered_count=head.count,
        offered_hash=head.hash,
        offered_at=head.at,
    )
    message = (
        f"partner {partner.name} published audit head {head.count}, which contradicts the "
        f"head {held.count} this node witnessed for it ({REASONS[reason]}): its audit log may "
        "have been truncated or rewritten; both heads are kept as evidence"
    )
    return Witnessed("refused", held.count, held.hash, message)


def keep_partner_head(node: Node, partner_id: str, published: Any, via: str) -> Witnessed:
    """Keep a partner's head in a unit of its own; raise AuditHeadConflict once a refusal
    (and its evidence) is committed."""
    with node.unit(node.operator()) as ctx:
        kept = keep_head(ctx, get_partner(ctx, partner_id), published, via)
    if kept.outcome == REFUSED:
        raise AuditHeadConflict(kept.message)
    return kept


# --- the witness endpoint's callers ---------------------------------------------------


def caller_partner(ctx: Ctx, nation: str, key_id: str) -> Partner:
    """The partner record a partner's sync account calls for, picked by its signing key."""
    stmt = select(Partner).where(Partner.owner_nation == nation, Partner.nation == ctx.who.nation)
    # A sync account bound to its partner record (Principal.partner_id) speaks for it alone.
    if ctx.who.partner_id:
        stmt = stmt.where(Partner.id == ctx.who.partner_id)
    for partner in ctx.db.scalars(stmt.order_by(Partner.name)):
        try:
            if partner.public_key and public_key_id(partner.public_key) == key_id:
                return partner
        except InvalidPublicKey:
            continue
    raise NotFound(
        f"no partner of {ctx.who.nation} with signing key {key_id} is registered on this node; "
        "ask its admin to register yours with `seawall intel partner link NAME --public-key`"
    )


def witness_for_caller(ctx: Ctx, settings: Settings, published: Any) -> Witnessed:
    """Keep the head a partner's sync account publishes to this node."""
    require(ctx.who, Perm.INTEL_WRITE)
    head = parse_head(published)
    return keep_head(ctx, caller_partner(ctx, settings.nation, head.key_id), published, "witness")


def held_for_caller(ctx: Ctx, settings: Settings, key_id: str) -> dict[str, Any] | None:
    """The head this node witnesses for the calling partner, so it can check itself."""
    require(ctx.who, Perm.INTEL_READ)
    row = held_head(ctx, caller_partner(ctx, settings.nation, key_id).id)
    return _as_head(row).as_dict() if row else None
