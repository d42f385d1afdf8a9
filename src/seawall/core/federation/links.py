"""A partner's link state, shared by every pillar: the token it issued us, and its backoff.

``seawall intel partner link`` (and the API behind it) stores the API token a partner issued
this node, sealed under the node secret (:mod:`~seawall.core.federation.tokens`), and the
partner's public signing key on its partner record. Each exchange with the partner, whichever
pillar runs it (intel's TAXII sync, witnessing, a package delivery), opens its
:class:`~seawall.core.federation.link.PartnerLink` with that token, and records how it ended
here: a failure sets the last error and pushes the next attempt back
(:func:`~seawall.core.federation.retries.backoff`); a success clears the failures and keeps
the key id the partner proved. A partner that keeps failing is therefore left alone by every
pillar until its next attempt, not hammered by each in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.core.federation.errors import PartnerNotLinked
from seawall.core.federation.identity import parse_public_key
from seawall.core.federation.retries import backoff
from seawall.core.federation.tokens import open_token, seal_token
from seawall.core.partners import get_partner
from seawall.db.models import Partner, PartnerLinkState
from seawall.errors import SeawallError
from seawall.settings import Settings


@dataclass
class Exchange:
    """How one pass with a partner (named) ended, whichever pillar ran it: skipped (and why),
    or failed with a typed error; all empty when it ran through. A pillar's report adds what
    the pass did."""

    partner: str
    skipped: str = field(default="", kw_only=True)
    error: str = field(default="", kw_only=True)
    error_code: str = field(default="", kw_only=True)

    def failed(self, exc: SeawallError) -> None:
        """Keep the error the pass failed with."""
        self.error, self.error_code = exc.message, exc.code

    def ending(self) -> dict[str, str]:
        """How the pass ended, for the end of a report's ``--json``."""
        return {"skipped": self.skipped, "error": self.error, "error_code": self.error_code}


def link_state(ctx: Ctx, partner_id: str) -> PartnerLinkState:
    """A partner's link state row, made on first use."""
    state = ctx.db.get(PartnerLinkState, partner_id)
    if state is None:
        state = PartnerLinkState(
            partner_id=partner_id,
            token_sealed="",
            last_error="",
            last_error_code="",
            failures=0,
            seen_key_id="",
        )
        ctx.db.add(state)
        ctx.db.flush()
    return state


def link_partner(
    ctx: Ctx,
    settings: Settings,
    ref: str,
    token: str | None = None,
    public_key: str | None = None,
) -> Partner:
    """Store the API token a partner issued us and/or register its public signing key."""
    require(ctx.who, Perm.PARTNERS_MANAGE)
    partner = get_partner(ctx, ref)
    changed: dict[str, Any] = {}
    if public_key is not None:
        if public_key.strip():
            parse_public_key(public_key)
        partner.public_key = public_key.strip()
        changed["public_key"] = "set" if public_key.strip() else "cleared"
    if token is not None:
        state = link_state(ctx, partner.id)
        state.token_sealed = seal_token(settings, partner.id, token.strip()) if token else ""
        changed["token"] = "set" if token.strip() else "cleared"
    if changed:
        # New credentials deserve a try at once, not after the backoff of the old ones.
        state = link_state(ctx, partner.id)
        state.failures = 0
        state.next_attempt_at = None
        ctx.record("partner.linked", partner.id, name=partner.name, **changed)
    return partner


def is_linked(ctx: Ctx, partner_id: str) -> bool:
    """Whether a token is stored for the partner."""
    state = ctx.db.get(PartnerLinkState, partner_id)
    return bool(state and state.token_sealed)


def partner_token(ctx: Ctx, settings: Settings, partner: Partner) -> str:
    """The token the partner issued us; PartnerNotLinked when none is stored or readable."""
    state = ctx.db.get(PartnerLinkState, partner.id)
    if state is None or not state.token_sealed:
        raise PartnerNotLinked(
            f"partner {partner.name} has no API token stored; ask them for one and run "
            f"`seawall intel partner link {partner.name} --token ...`"
        )
    return open_token(settings, partner.id, state.token_sealed)


def waiting_until(ctx: Ctx, partner_id: str) -> tuple[datetime, str] | None:
    """When the partner is next due and the error that deferred it, while it is not due."""
    state = ctx.db.get(PartnerLinkState, partner_id)
    due = state.next_attempt_at if state else None
    if state is None or due is None or due <= ctx.now():
        return None
    return due, state.last_error


def skip_reason(ctx: Ctx, partner: Partner, *, force: bool = False) -> str:
    """Why an exchange with the partner does not run now: it is disabled, or (unless
    ``force``) backing off after an error; empty when it is due."""
    if partner.disabled:
        return "disabled"
    waiting = None if force else waiting_until(ctx, partner.id)
    if waiting is None:
        return ""
    due, last_error = waiting
    return f"waiting until {due:%Y-%m-%d %H:%M:%S} UTC after: {last_error}"


def record_failure(ctx: Ctx, partner: Partner, exc: SeawallError) -> None:
    """An exchange failed: keep the error and back off by the failures in a row."""
    state = link_state(ctx, partner.id)
    state.failures += 1
    state.last_error = exc.message
    state.last_error_code = exc.code
    state.last_error_at = ctx.now()
    state.next_attempt_at = ctx.now() + backoff(state.failures)


def record_success(ctx: Ctx, partner: Partner, key_id: str) -> None:
    """An exchange ended well: no backoff. The last error stays on record with its time;
    ``failures == 0`` says it is over."""
    state = link_state(ctx, partner.id)
    state.failures = 0
    state.next_attempt_at = None
    state.seen_key_id = key_id
