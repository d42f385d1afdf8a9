"""``audit verify --witnesses``: check the local audit chain against the heads partners hold.

Each linked, enabled partner is asked (``GET /api/v1/intel/sync/witness``) for the newest
head of this node's log it witnessed (:mod:`seawall.intel.witness`). The head must be signed
by this node's key, and the local chain must have that entry with that hash and root: a head
beyond the chain means entries were removed from its end, another hash or root means the
log up to that entry was rewritten. A partner that cannot be reached, or holds no head yet,
is said but is no failure of the chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.federation import links
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.link import DEFAULT_TIMEOUT, PartnerLink
from seawall.core.partners import list_partners
from seawall.db.models.intel_sync import IntelAuditHead
from seawall.errors import SeawallError
from seawall.intel.errors import AuditHeadInvalid
from seawall.intel.witness import (
    REFUSED,
    ChainPoint,
    SignedHead,
    acknowledged_count,
    chain_points,
    held_head,
    parse_head,
    verify_head,
)
from seawall.settings import Settings

AGREES, TRUNCATED, REWRITTEN, OTHER_KEY = "agrees", "truncated", "rewritten", "other_key"
NONE, UNVERIFIABLE, UNREACHABLE = "none", "unverifiable", "unreachable"
CONTRADICTIONS = frozenset({TRUNCATED, REWRITTEN, OTHER_KEY})


@dataclass(frozen=True)
class WitnessCheck:
    """What one partner's witnessed head says about the local chain."""

    partner: str
    verdict: str
    count: int | None
    message: str

    @property
    def contradicts(self) -> bool:
        """True when the partner's head shows the local chain was truncated or rewritten."""
        return self.verdict in CONTRADICTIONS

    def as_dict(self) -> dict[str, Any]:
        """The check for ``--json`` and the API."""
        return asdict(self)


def check_witnesses(
    ctx: Ctx, settings: Settings, timeout: float = DEFAULT_TIMEOUT
) -> list[WitnessCheck]:
    """Ask every linked, enabled partner for the head it holds of ours; judge the chain by it."""
    require(ctx.who, Perm.AUDIT_READ)
    key = load_node_key(settings)
    answers: list[tuple[str, SignedHead | WitnessCheck]] = []
    for partner in list_partners(ctx):
        if partner.disabled or not links.is_linked(ctx, partner.id):
            continue
        try:
            token = links.partner_token(ctx, settings, partner)
            with PartnerLink(partner.name, partner.url, token, timeout) as link:
                got = link.witnessed_head(key.key_id)
        except SeawallError as exc:
            answers.append(
                (partner.name, WitnessCheck(partner.name, UNREACHABLE, None, exc.message))
            )
            continue
        answers.append((partner.name, _first_look(partner.name, got, key.key_id, key.public_text)))
    heads = [answer.count for _, answer in answers if isinstance(answer, SignedHead)]
    points, newest = chain_points(ctx.db, heads)
    return [
        answer if isinstance(answer, WitnessCheck) else _judge(name, answer, points, newest)
        for name, answer in answers
    ]


def _first_look(
    name: str, got: dict[str, Any] | None, key_id: str, public_key: str
) -> SignedHead | WitnessCheck:
    if got is None:
        return WitnessCheck(
            name,
            NONE,
            None,
            f"{name} holds no audit head of this node yet; it gets one at the next sync",
        )
    try:
        head = parse_head(got)
    except AuditHeadInvalid as exc:
        return WitnessCheck(
            name, UNVERIFIABLE, None, f"{name} answered with no head: {exc.message}"
        )
    if head.key_id != key_id:
        return WitnessCheck(
            name,
            OTHER_KEY,
            head.count,
            f"{name} holds a head of entry {head.count} signed with key {head.key_id}, not this "
            f"node's key {key_id}: if the key was replaced on purpose, sync with {name} once; "
            "otherwise the log and the key were replaced",
        )
    if not verify_head(head, public_key):
        return WitnessCheck(
            name,
            UNVERIFIABLE,
            head.count,
            f"{name} holds a head of entry {head.count} that this node's key did not sign; "
            f"ask {name}'s operator to check their copy",
        )
    return head


def _judge(
    name: str, head: SignedHead, points: dict[int, ChainPoint], newest: ChainPoint
) -> WitnessCheck:
    if head.count > newest.count:
        gone = (
            f"entry {head.count} was"
            if head.count == newest.count + 1
            else f"entries {newest.count + 1}-{head.count} were"
        )
        return WitnessCheck(
            name,
            TRUNCATED,
            head.count,
            f"{name} witnessed entry {head.count}, but the local chain ends at entry "
            f"{newest.count}: {gone} removed (truncated)",
        )
    point = points.get(head.count)
    if point is None or (point.hash, point.root) != (head.hash, head.root):
        local = f"has {point.hash[:16]}" if point else "has no such entry"
        return WitnessCheck(
            name,
            REWRITTEN,
            head.count,
            f"{name} witnessed entry {head.count} with hash {head.hash[:16]}, the local chain "
            f"{local}: the log up to entry {head.count} was rewritten",
        )
    return WitnessCheck(
        name, AGREES, head.count, f"{name} witnessed entry {head.count}; the local chain agrees"
    )


@dataclass(frozen=True)
class Witnessing:
    """What this node and one partner hold of each other's audit logs."""

    partner: str
    nation: str
    theirs: int | None  # the count of the partner's head this node witnesses
    theirs_hash: str
    theirs_signed_at: datetime | None
    theirs_via: str
    refused: int  # heads of the partner's that contradicted the one held (kept as evidence)
    ours: int | None  # the count of this node's head the partner last said it holds

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return asdict(self)


def witnessing(ctx: Ctx) -> list[Witnessing]:
    """Per partner: the head of its log this node holds, and what it holds of ours.

    An auditor who does not trust a node asks its partners' operators for this list: the
    counts and hashes here are what the node itself must still show.
    """
    require(ctx.who, Perm.AUDIT_READ)
    out: list[Witnessing] = []
    for partner in list_partners(ctx):
        held = held_head(ctx, partner.id)
        refused = ctx.db.scalar(
            select(func.count())
            .select_from(IntelAuditHead)
            .where(IntelAuditHead.partner_id == partner.id, IntelAuditHead.state == REFUSED)
        )
        out.append(
            Witnessing(
                partner=partner.name,
                nation=partner.nation,
                theirs=held.count if held else None,
                theirs_hash=held.hash if held else "",
                theirs_signed_at=held.signed_at if held else None,
                theirs_via=held.via if held else "",
                refused=int(refused or 0),
                ours=acknowledged_count(ctx, partner),
            )
        )
    return out
