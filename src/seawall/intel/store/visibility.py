"""Who may see a stored row: the sharing policy as SQL, and its verdict on one row.

TLP is enforced here, for every reader. The SQL filter is compiled from
:func:`seawall.intel.policy.reach` by evaluating it on each case the policy can
tell apart (named or not, same organisation or not, same nation or not), and
every row is checked again with :func:`allows` (the reader's own
:meth:`~seawall.intel.collections.Reader.may_read`) before it leaves the store.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, true

from seawall.db.models.intel import IntelObject
from seawall.intel.collections import Reader
from seawall.intel.policy import Holder, Recipient, reach
from seawall.intel.sharing import PARTNER_PREFIX
from seawall.intel.tlp import Tlp

_OTHER = "\x00other"


def visible(reader: Reader, row: type[IntelObject] | Any = IntelObject) -> ColumnElement[bool]:
    """SQL for "the reader may see this row", compiled from the sharing policy."""
    return _visible(reader, row)


# Building the expression costs about a millisecond per request; it depends only on the
# (frozen, hashable) reader and the table alias, so it is built once per reader.
@lru_cache(maxsize=512)
def _visible(reader: Reader, row: type[IntelObject] | Any) -> ColumnElement[bool]:
    me = reader.recipient
    named_expr: ColumnElement[bool] = (
        true() if reader.named_by_collection else row.submitted_by == reader.username
    )
    org_expr: ColumnElement[bool] = (
        func.coalesce(row.owner_org, "") == me.organisation
        if me.organisation is not None
        else false()
    )
    nation_expr: ColumnElement[bool] = row.owner_nation == me.nation
    terms: list[ColumnElement[bool]] = []
    for named, same_org, same_nation in itertools.product((False, True), repeat=3):
        if same_org and me.organisation is None:
            continue
        holder = Holder(
            nation=me.nation if same_nation else _OTHER,
            organisation=(me.organisation if same_org else _OTHER),
        )
        recipient = Recipient(
            nation=me.nation,
            organisation=me.organisation,
            is_partner_node=me.is_partner_node,
            is_named=named or reader.named_by_collection,
            in_community=me.in_community,
        )
        limit = reach(holder, recipient)
        allowed = Tlp.CLEAR if limit is None else limit
        terms.append(
            and_(
                named_expr if named else not_(named_expr),
                org_expr if same_org else not_(org_expr),
                nation_expr if same_nation else not_(nation_expr),
                row.tlp <= int(allowed),
            )
        )
    if reader.origin is None:
        return or_(*terms)
    # A partner node: this nation's own rows only (no relays), and nothing above its cap.
    limits = [row.owner_nation == reader.origin, not_(row.submitted_by.startswith(PARTNER_PREFIX))]
    if reader.cap is not None:
        limits.append(row.tlp <= int(reader.cap))
    return and_(or_(*terms), *limits)


def allows(reader: Reader, row: IntelObject) -> bool:
    """The policy's verdict on one row for a reader."""
    return reader.may_read(row.tlp, row.owner_nation, row.owner_org, row.submitted_by)


__all__ = ["allows", "visible"]
