"""Who may do what in a round: its lead, its invited raters (each bound to one stakeholder
group) and its facilitators.

A round with no invited group is open, as rounds always were: every assessor of its nation
rates for any group, sees every stage and records agreement. Once its lead invites a group,
the round is bound to its participants:

- a rater rates only for their own group;
- a rater sees another group's stage (and rationale and evidence) on a factor only once their
  own group has rated that factor, or once the lead reveals the round; someone who rates for
  no group sees none until then; the lead and the facilitators see every stage;
- only the lead or a facilitator records the agreed stage.

The node's operator keeps the powers the command line always gave it. The services that
change the roster are in :mod:`seawall.assess.participants`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from seawall.assess.errors import NotFacilitator, NotYourGroup
from seawall.core.access import Perm, Principal, require
from seawall.core.context import Ctx
from seawall.db.models.assess import Participant, Rating, Round

RATER = "rater"
FACILITATOR = "facilitator"
PUBLISHED = "published"

# (stakeholder group, factor id) -> whether the caller may see that group's stage there.
Sight = Callable[[str, str], bool]


def lead_of(row: Round) -> str:
    """The username leading the round (its creator until the lead is handed over)."""
    return row.lead or row.created_by


def invited(db: Session, round_id: str) -> bool:
    """Whether the round's lead has invited any group (and the round is bound to them)."""
    return bool(db.scalar(select(exists().where(Participant.round_id == round_id))))


def participants_of(db: Session, round_id: str) -> list[Participant]:
    """The round's participants by group, then role (raters first), then username."""
    stmt = (
        select(Participant)
        .where(Participant.round_id == round_id)
        .order_by(Participant.stakeholder_group, Participant.role.desc(), Participant.username)
    )
    return list(db.scalars(stmt))


def rater_group(db: Session, round_id: str, username: str) -> str | None:
    """The stakeholder group ``username`` rates for in the round, if any."""
    stmt = select(Participant.stakeholder_group).where(
        Participant.round_id == round_id,
        Participant.username == username,
        Participant.role == RATER,
    )
    return db.scalar(stmt)


def _facilitates(db: Session, row: Round, who: Principal) -> bool:
    stmt = select(Participant.username).where(
        Participant.round_id == row.id,
        Participant.username == who.username,
        Participant.role == FACILITATOR,
    )
    return who.username == lead_of(row) or db.scalar(stmt) is not None


def may_lead(who: Principal, row: Round, *, admin: bool = True) -> bool:
    """Whether ``who`` may act as the round's lead: the lead, the node's operator, and (with
    ``admin``) an admin of the round's nation."""
    if who.node_operator or who.username == lead_of(row):
        return True
    return admin and who.nation == row.nation and who.can(Perm.USERS_MANAGE)


def may_rate(ctx: Ctx, row: Round, group: str) -> bool:
    """Whether the caller may rate for ``group`` in the round."""
    if not ctx.who.can(Perm.ASSESS_RATE):
        return False
    if ctx.who.node_operator or not invited(ctx.db, row.id):
        return True
    return rater_group(ctx.db, row.id, ctx.who.username) == group


def check_may_rate(ctx: Ctx, row: Round, group: str) -> None:
    """Raise unless the caller may rate for ``group`` in the round."""
    require(ctx.who, Perm.ASSESS_RATE)
    if may_rate(ctx, row, group):
        return
    own = rater_group(ctx.db, row.id, ctx.who.username)
    if own is None:
        raise NotYourGroup(
            f"{ctx.who.username} is not a rater of round {row.id}: ask its lead "
            f"({lead_of(row)}) to invite you"
        )
    raise NotYourGroup(f"{ctx.who.username} rates for {own} in round {row.id}, not for {group}")


def may_agree(ctx: Ctx, row: Round) -> bool:
    """Whether the caller may record the round's agreed stages."""
    if not ctx.who.can(Perm.ASSESS_RATE):
        return False
    if ctx.who.node_operator or not invited(ctx.db, row.id):
        return True
    return _facilitates(ctx.db, row, ctx.who)


def check_may_agree(ctx: Ctx, row: Round) -> None:
    """Raise unless the caller may record the round's agreed stages."""
    require(ctx.who, Perm.ASSESS_RATE)
    if not may_agree(ctx, row):
        raise NotFacilitator(
            f"only the lead ({lead_of(row)}) or a facilitator of round {row.id} records its "
            f"agreed stages, not {ctx.who.username}"
        )


def sees_every_stage(ctx: Ctx, row: Round) -> bool:
    """Whether the caller sees every group's stages in the round now."""
    if row.status == PUBLISHED or row.revealed_at is not None or ctx.who.node_operator:
        return True
    return not invited(ctx.db, row.id) or _facilitates(ctx.db, row, ctx.who)


def stage_sight(ctx: Ctx, row: Round) -> Sight:
    """Which groups' stages the caller may see in the round, factor by factor."""
    if sees_every_stage(ctx, row):
        return lambda _group, _factor: True
    own = rater_group(ctx.db, row.id, ctx.who.username)
    if own is None:
        return lambda _group, _factor: False
    rated = set(
        ctx.db.scalars(
            select(Rating.factor_id).where(
                Rating.round_id == row.id, Rating.stakeholder_group == own
            )
        )
    )
    return lambda group, factor: group == own or factor in rated
