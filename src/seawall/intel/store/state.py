"""A digest of what a reader may read of some collections, cheap to take (no body is read).

It moves with every write to those collections that could change what the reader reads
(an object added, a version superseding another, a marking), and with the reader
(another organisation, another partner), so a result computed from the bodies can be
kept under it: the matcher's compiled indicators, a sensor feed's ETag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlalchemy import case, func, select

from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection, IntelObject
from seawall.intel.collections import reader_of


def state_key(ctx: Ctx, collections: Sequence[IntelCollection], types: tuple[str, ...]) -> str:
    """The digest of the rows of ``types`` in ``collections`` as ``ctx``'s principal reads them."""
    digest = hashlib.sha256()
    rows = IntelObject
    for collection in collections:
        state = ctx.db.execute(
            select(
                rows.type,
                func.count(),
                func.max(rows.seq),
                func.sum(rows.tlp),
                func.sum(case((rows.superseded, 1), else_=0)),
                func.max(rows.date_added),
            )
            .where(rows.collection_id == collection.id, rows.type.in_(types))
            .group_by(rows.type)
            .order_by(rows.type)
        ).all()
        reader = reader_of(ctx, collection)
        digest.update(
            json.dumps(
                [
                    collection.id,
                    collection.alias,
                    repr(reader),
                    [[str(v) for v in r] for r in state],
                ]
            ).encode()
        )
    return digest.hexdigest()
