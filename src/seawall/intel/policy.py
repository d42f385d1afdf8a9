"""The sharing policy: may an object with a given TLP marking go to a given recipient?

Every read path (TAXII, the API, the UI, exports, sync, offline bundles) asks
:func:`may_share`. The rules, for an object held by an organisation in a nation:

- RED goes only to named recipients; a partner node gets it only when named.
- AMBER+STRICT stays inside the holding organisation.
- AMBER stays inside the holding organisation and its nation.
- GREEN goes to the federation community.
- CLEAR is public.

A recipient allowed a stricter marking is allowed every looser one, so sharing can
never widen a marking: the recipients of a stricter marking are a subset of the
recipients of a looser one. :func:`reach` states this directly as the strictest
level a recipient may receive.
"""

from __future__ import annotations

from dataclasses import dataclass

from seawall.intel.tlp import Tlp


@dataclass(frozen=True)
class Holder:
    """Where an object sits: the nation and organisation it was shared with or made by."""

    nation: str
    organisation: str | None


@dataclass(frozen=True)
class Recipient:
    """Who would receive an object."""

    nation: str
    organisation: str | None
    is_partner_node: bool = False
    is_named: bool = False
    in_community: bool = False


def reach(holder: Holder, recipient: Recipient) -> Tlp | None:
    """The strictest marking ``recipient`` may receive from ``holder``; None for public only."""
    if recipient.is_named:
        return Tlp.RED
    same_org = recipient.organisation is not None and recipient.organisation == holder.organisation
    if same_org and not recipient.is_partner_node:
        return Tlp.AMBER_STRICT
    if recipient.nation == holder.nation:
        return Tlp.AMBER
    if recipient.in_community:
        return Tlp.GREEN
    return None


def may_share(marking: Tlp, holder: Holder, recipient: Recipient) -> bool:
    """Whether an object marked ``marking`` held by ``holder`` may go to ``recipient``."""
    if marking is Tlp.CLEAR:
        return True
    limit = reach(holder, recipient)
    return limit is not None and marking <= limit
