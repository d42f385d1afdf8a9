"""Rounds that travel: a nation's published round, signed by its node, held at a regional hub.

A **round package** is core's signed package (:mod:`seawall.core.federation.packages`) of
its own kind: the magic line ``SEAWALL-ASSESS-ROUND/1`` and the signing prefix
``seawall-assess-round/1``, so it never passes for an intel bundle or any other statement.
Its payload is JSON::

    {"action": "publish" | "withdraw",
     "round": {"id", "nation", "framework_id", "year", "published_at", "published_by",
               "partial"},                                 (partial: not every factor agreed)
     "groups": {"CARICOM": "<who consented>", ...},       (publish)
     "withdraw": {"group", "by", "reason", "at"},          (withdraw)
     "stages": {"D1.1": 3, ...}, "dissent": {"D1.1": "..."},
     "ratings": [...]}                                     (only when the nation chose to)

The nation's node writes it (:func:`export_round`, :func:`withdraw_round`): only a published
round, only by someone of the round's nation allowed to publish, only to groups the round is
published to (:mod:`seawall.assess.consents`: each names the user of the nation who
published the round there). The hub opens it
(:func:`import_round`) only when the signature verifies with the key registered for a
partner of the round's own nation: a node speaks for its own nation's rounds and no other.
The hub keeps the round as the package said, read-only; a newer package of the same round
replaces it, an older one changes nothing, and it replaces a round entered at the hub for the
same nation, year and framework (:mod:`seawall.assess.entry`). A withdrawal drops the round
from that group's views and says when, by whom and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from seawall.assess.consents import published_groups, withdraw_publication
from seawall.assess.errors import ConsentMissing, ForeignRound, NoSharedGroup, RoundNotPublished
from seawall.assess.rounds import PUBLISHED, agreed_stages, find_round, publish
from seawall.assess.rounds import revoke_consent as rounds_revoke
from seawall.core.access import Perm, require, require_nation
from seawall.core.context import Ctx
from seawall.core.federation import queue
from seawall.core.federation.identity import load_node_key
from seawall.core.federation.inbox import Receiver, delivering_partner
from seawall.core.federation.packages import PackageKind, open_package, seal_package, sender_of
from seawall.core.nations import region_members
from seawall.core.partners import list_partners
from seawall.db.models import Partner
from seawall.db.models.assess import Consensus, Rating, ReceivedRound, Round
from seawall.errors import InvalidInput
from seawall.settings import Settings

ROUND_PACKAGE = PackageKind(
    magic=b"SEAWALL-ASSESS-ROUND/1\n",
    signing_prefix=b"seawall-assess-round/1\n",
    name="Seawall round package",
    noun="round package",
)
PUBLISH = "publish"
# The kind of a round package in the federation queue, keyed by round id.
QUEUE_KIND = "assess.round"
WITHDRAW = "withdraw"


class RoundMetadata(BaseModel):
    """A round's metadata as its package and ``round export``'s JSON carry it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    nation: str
    framework_id: str
    year: int
    published_at: str
    published_by: str
    # Published without every factor agreed; packages that do not say are complete.
    partial: bool = False


class _Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    group: str
    by: str
    reason: str
    at: str


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: str
    round: RoundMetadata
    groups: dict[str, str] = {}
    withdraw: _Withdrawal | None = None
    stages: dict[str, int] = {}
    dissent: dict[str, str] = {}
    ratings: list[dict[str, Any]] = []


@dataclass(frozen=True)
class RoundPackage:
    """A package written for a hub, and what it carries."""

    data: bytes
    round_id: str
    action: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Imported:
    """What importing a round package did at the hub."""

    round_id: str
    nation: str
    action: str
    outcome: str  # stored, replaced, unchanged (same or older package), withdrawn, not_held
    groups: tuple[str, ...]
    # Rounds entered at the hub for the same nation, year and framework, which the nation's
    # own signed round replaced (:mod:`seawall.assess.entry`).
    replaced_entered: tuple[str, ...] = ()


def _published_round(ctx: Ctx, ref: str) -> Round:
    require(ctx.who, Perm.ASSESS_PUBLISH)
    row = find_round(ctx, ref)
    require_nation(ctx.who, row.nation, f"round {row.id} of {row.nation}")
    if row.status != PUBLISHED or row.published_at is None:
        raise RoundNotPublished(
            f"round {row.id} is not published: publish it before sending it to a hub"
        )
    return row


def _round_doc(row: Round) -> dict[str, Any]:
    assert row.published_at is not None
    return {
        "id": row.id,
        "nation": row.nation,
        "framework_id": row.framework_id,
        "year": row.year,
        "published_at": row.published_at.isoformat(),
        "published_by": row.published_by or "",
        "partial": row.partial,
    }


def _seal(ctx: Ctx, settings: Settings, payload: dict[str, Any]) -> bytes:
    key = load_node_key(settings)
    header = {
        "sender": sender_of(settings, key),
        "round": payload["round"]["id"],
        "action": payload["action"],
        "signed_at": ctx.now().isoformat(),
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return seal_package(ROUND_PACKAGE, key, header, body)


def round_document(
    ctx: Ctx, ref: str, *, groups: tuple[str, ...] = (), ratings: bool = False
) -> dict[str, Any]:
    """What a round package carries, as JSON: a published round for the hubs of ``groups``
    (default: every group the round is published to), its agreed stages and dissent, and with
    ``ratings`` each stakeholder group's ratings and rationales."""
    row = _published_round(ctx, ref)
    consents = published_groups(ctx.db, row.id)
    wanted = sorted({g.strip().upper() for g in groups}) or sorted(consents)
    missing = [g for g in wanted if g not in consents]
    if missing or not wanted:
        raise ConsentMissing(
            f"round {row.id} is not published to {', '.join(missing) or 'any group'}: "
            f"publish it there with `seawall assess round publish {row.id} --group GROUP` first"
        )
    consensus = list(ctx.db.scalars(select(Consensus).where(Consensus.round_id == row.id)))
    return {
        "action": PUBLISH,
        "round": _round_doc(row),
        "groups": {g: consents[g] for g in wanted},
        "stages": agreed_stages(ctx.db, row.id),
        "dissent": {c.factor_id: c.dissent for c in consensus if c.dissent},
        "ratings": _ratings(ctx, row) if ratings else [],
    }


def export_round(
    ctx: Ctx,
    settings: Settings,
    ref: str,
    *,
    groups: tuple[str, ...] = (),
    ratings: bool = False,
) -> RoundPackage:
    """:func:`round_document` as a package signed by this node, for a hub to import."""
    payload = round_document(ctx, ref, groups=groups, ratings=ratings)
    data = _seal(ctx, settings, payload)
    wanted = tuple(payload["groups"])
    ctx.record(
        "assess.round.exported",
        payload["round"]["id"],
        groups=list(wanted),
        ratings=ratings,
        bytes=len(data),
    )
    return RoundPackage(data, payload["round"]["id"], PUBLISH, wanted)


def _ratings(ctx: Ctx, row: Round) -> list[dict[str, Any]]:
    stmt = select(Rating).where(Rating.round_id == row.id).order_by(Rating.factor_id)
    return [
        {
            "stakeholder_group": r.stakeholder_group,
            "factor": r.factor_id,
            "stage": r.stage,
            "rationale": r.rationale,
        }
        for r in ctx.db.scalars(stmt)
    ]


def withdraw_round(ctx: Ctx, settings: Settings, ref: str, group: str, reason: str) -> RoundPackage:
    """A signed withdrawal of a published round from ``group``: the hub drops it from that
    group's views and keeps when, by whom and why."""
    row = _published_round(ctx, ref)
    code = group.strip().upper()
    why = " ".join(reason.split())
    if not why:
        raise InvalidInput("say why the round is withdrawn (--reason): the hub shows it")
    withdraw_publication(ctx, row, code, why)
    payload = {
        "action": WITHDRAW,
        "round": _round_doc(row),
        "withdraw": {
            "group": code,
            "by": ctx.who.username,
            "reason": why,
            "at": ctx.now().isoformat(),
        },
    }
    data = _seal(ctx, settings, payload)
    ctx.record("assess.round.withdrawn", row.id, group=code, reason=why)
    return RoundPackage(data, row.id, WITHDRAW, (code,))


def _senders(ctx: Ctx) -> list[Partner]:
    """Whose round packages the caller may import: over the partner link, only the
    delivering partner's own; by hand, any partner of this node (needs assess.publish)."""
    if ctx.who.partner_id is not None:
        return [delivering_partner(ctx)]
    require(ctx.who, Perm.ASSESS_PUBLISH)
    return list_partners(ctx)


def _read(data: bytes, ctx: Ctx) -> tuple[_Payload, str, datetime, str]:
    opened = open_package(ROUND_PACKAGE, data, _senders(ctx))
    try:
        payload = _Payload.model_validate_json(opened.payload)
        signed_at = datetime.fromisoformat(str(opened.header["signed_at"]))
        datetime.fromisoformat(payload.round.published_at)
    except (ValidationError, KeyError, ValueError, TypeError):
        raise ROUND_PACKAGE.refuse("its contents are not a round") from None
    if payload.action not in (PUBLISH, WITHDRAW) or (
        (payload.action == WITHDRAW) != (payload.withdraw is not None)
    ):
        raise ROUND_PACKAGE.refuse("its action is neither a publication nor a withdrawal")
    if payload.round.nation.upper() != opened.sender_nation:
        raise ForeignRound(
            f"the package is signed by {opened.sender_nation}'s node but holds a round of "
            f"{payload.round.nation}: a node publishes only its own nation's rounds"
        )
    key_id = str(opened.header["sender"].get("key_id", ""))
    return payload, key_id, signed_at, hashlib.sha256(data).hexdigest()


def import_round(ctx: Ctx, data: bytes) -> Imported:
    """Store a round package from a partner's node (or drop what it withdraws): imported by
    hand, or delivered by that node over the partner link."""
    payload, key_id, signed_at, digest = _read(data, ctx)
    doc = payload.round
    nation = doc.nation.upper()
    held = ctx.db.get(ReceivedRound, doc.id)
    if held is not None and (held.nation != nation):
        raise ForeignRound(f"round {doc.id} is held here as {held.nation}'s, not {nation}'s")
    # The same package again, or one signed before the one held: nothing changes, so a
    # replayed file cannot bring back a withdrawn round.
    if held is not None and (held.package_sha256 == digest or held.signed_at > signed_at):
        return Imported(doc.id, nation, payload.action, "unchanged", tuple(sorted(held.groups)))
    if payload.action == WITHDRAW:
        return _withdraw(ctx, held, payload, nation, signed_at, digest)
    groups = {g.upper(): who for g, who in payload.groups.items()}
    shared = {g: who for g, who in groups.items() if nation in region_members(ctx.db, g)}
    if not shared:
        raise NoSharedGroup(
            f"the round names {', '.join(sorted(groups)) or 'no group'}; none is a group this "
            f"hub holds with {nation} as a member"
        )
    row = held or ReceivedRound(round_id=doc.id, nation=nation, withdrawn={})
    if held is None:
        ctx.db.add(row)
    row.framework_id = doc.framework_id
    row.year = doc.year
    row.published_at = datetime.fromisoformat(doc.published_at)
    row.published_by = doc.published_by
    row.partial = doc.partial
    row.groups = shared
    row.withdrawn = {g: w for g, w in (row.withdrawn or {}).items() if g not in shared}
    row.stages = dict(payload.stages)
    row.dissent = dict(payload.dissent)
    row.ratings = list(payload.ratings)
    row.sender_key_id = key_id
    row.package_sha256 = digest
    row.signed_at = signed_at
    row.received_at = ctx.now()
    dropped = _drop_entered(ctx, row)
    ctx.db.flush()
    outcome = "replaced" if held is not None else "stored"
    ctx.record(
        "assess.round.received",
        doc.id,
        nation=nation,
        groups=sorted(shared),
        outcome=outcome,
        replaced_entered=list(dropped),
    )
    return Imported(doc.id, nation, PUBLISH, outcome, tuple(sorted(shared)), dropped)


def _drop_entered(ctx: Ctx, signed: ReceivedRound) -> tuple[str, ...]:
    """Drop rounds entered at the hub for the signed round's nation, year and framework: the
    nation's own word replaces them."""
    stmt = select(ReceivedRound).where(
        ReceivedRound.nation == signed.nation,
        ReceivedRound.year == signed.year,
        ReceivedRound.framework_id == signed.framework_id,
        ReceivedRound.entered_by != "",
        ReceivedRound.round_id != signed.round_id,
    )
    dropped = list(ctx.db.scalars(stmt))
    for row in dropped:
        ctx.db.delete(row)
    return tuple(r.round_id for r in dropped)


def _withdraw(
    ctx: Ctx,
    held: ReceivedRound | None,
    payload: _Payload,
    nation: str,
    signed_at: datetime,
    digest: str,
) -> Imported:
    assert payload.withdraw is not None
    group = payload.withdraw.group.upper()
    if held is None or group not in held.groups:
        return Imported(payload.round.id, nation, WITHDRAW, "not_held", (group,))
    held.groups = {g: who for g, who in held.groups.items() if g != group}
    held.withdrawn = {
        **held.withdrawn,
        group: {
            "at": payload.withdraw.at,
            "by": payload.withdraw.by,
            "reason": payload.withdraw.reason,
            "received_at": ctx.now().isoformat(),
        },
    }
    held.signed_at = signed_at
    held.package_sha256 = digest
    ctx.db.flush()
    ctx.record(
        "assess.round.withdrawal_received",
        held.round_id,
        nation=nation,
        group=group,
        reason=payload.withdraw.reason,
    )
    return Imported(held.round_id, nation, WITHDRAW, "withdrawn", (group,))


def received_for(ctx: Ctx, group: str, framework_id: str) -> list[ReceivedRound]:
    """Rounds held for ``group`` in ``framework_id`` that their nation has not withdrawn."""
    code = group.strip().upper()
    stmt = (
        select(ReceivedRound)
        .where(ReceivedRound.framework_id == framework_id)
        .order_by(ReceivedRound.nation, ReceivedRound.year)
    )
    members = set(region_members(ctx.db, code))
    return [r for r in ctx.db.scalars(stmt) if code in r.groups and r.nation in members]


def withdrawals_for(ctx: Ctx, group: str) -> list[tuple[ReceivedRound, dict[str, str]]]:
    """Rounds withdrawn from ``group``, with when, by whom and why."""
    code = group.strip().upper()
    stmt = select(ReceivedRound).order_by(ReceivedRound.nation, ReceivedRound.year)
    return [(r, r.withdrawn[code]) for r in ctx.db.scalars(stmt) if code in r.withdrawn]


def _receive_delivered(ctx: Ctx, data: bytes) -> str:
    return import_round(ctx, data).outcome


ROUND_RECEIVER = Receiver(QUEUE_KIND, ROUND_PACKAGE, _receive_delivered)
"""How a hub's inbox takes the round packages nations' nodes deliver."""


def hubs_for(ctx: Ctx, groups: Sequence[str]) -> dict[str, tuple[Partner, tuple[str, ...]]]:
    """This nation's enabled partners that serve as hub for any of ``groups``, by name, each
    with the groups it is hub for among them."""
    wanted = {g.upper() for g in groups}
    found: dict[str, tuple[Partner, tuple[str, ...]]] = {}
    for partner in list_partners(ctx):
        served = sorted(wanted & {g.upper() for g in (partner.hub_for or [])})
        if served and not partner.disabled:
            found[partner.name] = (partner, tuple(served))
    return found


@dataclass(frozen=True)
class Sent:
    """The hubs a round's packages are queued for, with the groups each one carries."""

    round_id: str
    hubs: dict[str, tuple[str, ...]]


def send_round(ctx: Ctx, settings: Settings, ref: str, groups: tuple[str, ...] = ()) -> Sent:
    """Queue a published round's package for the hub of each group (default: every group
    the round is published to): one package per hub, naming only the groups that hub
    serves."""
    row = _published_round(ctx, ref)
    wanted = {g.strip().upper() for g in groups} or set(published_groups(ctx.db, row.id))
    hubs: dict[str, tuple[str, ...]] = {}
    for name, (hub, served) in hubs_for(ctx, sorted(wanted)).items():
        package = export_round(ctx, settings, row.id, groups=served)
        queue.enqueue(ctx, hub, QUEUE_KIND, row.id, package.data)
        hubs[name] = served
    return Sent(row.id, hubs)


def publish_round(
    ctx: Ctx,
    settings: Settings,
    ref: str,
    partial: bool = False,
    groups: Sequence[str] = (),
) -> tuple[Round, Sent]:
    """Publish a round (:func:`seawall.assess.rounds.publish`: to ``groups``, by default the
    groups its nation consents to; ``partial`` when not every factor is agreed) and queue its
    package for the hub of every group it was not published to before."""
    row = find_round(ctx, ref)
    before = set(published_groups(ctx.db, row.id))
    row = publish(ctx, row.id, partial, groups)
    added = tuple(sorted(set(published_groups(ctx.db, row.id)) - before))
    if not added:
        return row, Sent(row.id, {})
    return row, send_round(ctx, settings, row.id, added)


def withdraw(ctx: Ctx, settings: Settings, ref: str, group: str, reason: str) -> RoundPackage:
    """Withdraw a published round from ``group``: a signed withdrawal, queued for the group's
    hub, and returned to carry by hand where there is no link."""
    package = withdraw_round(ctx, settings, ref, group, reason)
    for hub, _served in hubs_for(ctx, package.groups).values():
        queue.enqueue(ctx, hub, QUEUE_KIND, package.round_id, package.data)
    return package


def revoke_consent(ctx: Ctx, settings: Settings, nation: str, group: str) -> list[RoundPackage]:
    """Withdraw the nation's consent for ``group`` (:func:`seawall.assess.rounds.revoke_consent`)
    and every round of it published to that group from the group's hub."""
    withdrawn = rounds_revoke(ctx, nation, group)
    return [withdraw(ctx, settings, r, group, "consent revoked") for r in withdrawn]
