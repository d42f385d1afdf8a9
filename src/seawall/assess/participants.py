"""Who takes part in a round: its lead invites stakeholder groups and names their raters and
facilitators, removes them, reveals every group's stages, and hands the lead over.

The rules these participants then follow (rate for one's own group, see other groups'
stages only once one has rated, agree only as lead or facilitator) are in
:mod:`seawall.assess.roster`. Every change here is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from seawall.assess.errors import (
    NotRoundLead,
    ParticipantInvalid,
    ParticipantNotFound,
    RoundPublished,
)
from seawall.assess.roster import (
    FACILITATOR,
    RATER,
    invited,
    lead_of,
    may_lead,
    participants_of,
    rater_group,
)
from seawall.assess.rounds import OPEN, get_round, parse_group
from seawall.core.access import ROLE_PERMS, Perm, parse_role, require
from seawall.core.context import Ctx
from seawall.db.models import User
from seawall.db.models.assess import Participant, Round
from seawall.errors import InvalidInput

__all__ = [
    "FACILITATOR",
    "RATER",
    "invite",
    "invited",
    "lead_of",
    "list_participants",
    "remove_participant",
    "reveal",
    "set_lead",
]


def _led_round(ctx: Ctx, round_id: str, what: str, *, admin: bool = True) -> Round:
    """An open round the caller leads (or, with ``admin``, administers)."""
    require(ctx.who, Perm.ASSESS_READ)
    row = get_round(ctx, round_id)
    if not may_lead(ctx.who, row, admin=admin):
        raise NotRoundLead(
            f"only the lead of round {row.id} ({lead_of(row)}) {what}, not {ctx.who.username}"
        )
    if row.status != OPEN:
        raise RoundPublished(f"round {row.id} is published; its participants are final")
    return row


def _assessor(ctx: Ctx, row: Round, username: str) -> str:
    """``username`` if it names an enabled user of the round's nation whose role may rate."""
    name = username.strip().lower()
    user = ctx.db.scalar(select(User).where(User.username == name, User.nation == row.nation))
    if user is None or user.partner_id is not None:
        raise ParticipantInvalid(
            f"no user {name!r} of {row.nation}: invite users of the round's nation "
            "(`seawall user list`)"
        )
    if user.disabled:
        raise ParticipantInvalid(f"user {name} is disabled; enable them or name another")
    if Perm.ASSESS_RATE not in ROLE_PERMS[parse_role(user.role)]:
        raise ParticipantInvalid(
            f"user {name} ({user.role}) may not rate: give them the assessor role first"
        )
    return name


def invite(
    ctx: Ctx,
    round_id: str,
    group: str,
    raters: Sequence[str],
    facilitators: Sequence[str] = (),
) -> list[Participant]:
    """Invite a stakeholder group to the round with its named raters (and any facilitators).
    Inviting a group again adds the names given. Returns the group's participants."""
    row = _led_round(ctx, round_id, "invites its groups")
    who_for = parse_group(group).value
    named = [(RATER, _assessor(ctx, row, u)) for u in raters]
    named += [(FACILITATOR, _assessor(ctx, row, u)) for u in facilitators]
    held = {(p.stakeholder_group, p.username): p for p in participants_of(ctx.db, row.id)}
    has_rater = any(g == who_for and p.role == RATER for (g, _), p in held.items())
    if not has_rater and not any(role == RATER for role, _ in named):
        raise InvalidInput(f"name at least one rater for {who_for} (--rater USER)")
    added: list[tuple[str, str]] = []
    for role, name in named:
        own = rater_group(ctx.db, row.id, name)
        if role == RATER and own not in (None, who_for):
            raise ParticipantInvalid(
                f"{name} rates for {own} in round {row.id}: a rater rates for one group; "
                "remove them there first"
            )
        existing = held.get((who_for, name))
        if existing is not None:
            if existing.role != role:
                raise ParticipantInvalid(
                    f"{name} is already a {existing.role} of {who_for} in round {row.id}"
                )
            continue
        entry = Participant(
            round_id=row.id,
            stakeholder_group=who_for,
            username=name,
            role=role,
            invited_at=ctx.now(),
            invited_by=ctx.who.username,
        )
        ctx.db.add(entry)
        ctx.db.flush()
        held[(who_for, name)] = entry
        added.append((role, name))
    ctx.record(
        "assess.participant.invited",
        row.id,
        group=who_for,
        raters=[n for r, n in added if r == RATER],
        facilitators=[n for r, n in added if r == FACILITATOR],
    )
    return [p for p in participants_of(ctx.db, row.id) if p.stakeholder_group == who_for]


def remove_participant(ctx: Ctx, round_id: str, group: str, username: str) -> None:
    """Remove someone from a group of the round; ratings they gave stay, under their name."""
    row = _led_round(ctx, round_id, "removes its participants")
    who_for = parse_group(group).value
    name = username.strip().lower()
    entry = ctx.db.get(Participant, (row.id, who_for, name))
    if entry is None:
        raise ParticipantNotFound(f"{name} is not invited for {who_for} in round {row.id}")
    ctx.db.delete(entry)
    ctx.db.flush()
    ctx.record("assess.participant.removed", row.id, group=who_for, username=name)


def list_participants(ctx: Ctx, round_id: str) -> list[Participant]:
    """The round's participants by group (raters first); none for a round open to every
    assessor of its nation."""
    row = get_round(ctx, round_id)
    return participants_of(ctx.db, row.id)


def reveal(ctx: Ctx, round_id: str) -> Round:
    """Open every group's stages to everyone who may see the round (the lead only)."""
    row = _led_round(ctx, round_id, "reveals its stages", admin=False)
    if row.revealed_at is None:
        row.revealed_at = ctx.now()
        row.revealed_by = ctx.who.username
        ctx.db.flush()
        ctx.record("assess.round.revealed", row.id, invited=invited(ctx.db, row.id))
    return row


def set_lead(ctx: Ctx, round_id: str, username: str) -> Round:
    """Hand the round's lead to another assessor of its nation (the lead, or a nation
    admin)."""
    row = _led_round(ctx, round_id, "hands over its lead")
    name = _assessor(ctx, row, username)
    previous = lead_of(row)
    row.lead = name
    ctx.db.flush()
    ctx.record("assess.round.lead_changed", row.id, lead=name, previous=previous)
    return row
