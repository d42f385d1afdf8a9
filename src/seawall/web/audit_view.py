"""The audit log as people read it: each target by its name, linked to its page where it has
one, and the whole id where no record of this node names it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.db.models import Organisation, Partner, User
from seawall.db.models.coop import Programme
from seawall.db.models.embassy import EmbassyRepo
from seawall.db.models.intel import IntelCollection


@dataclass(frozen=True)
class Target:
    """How an audit entry's target is shown: a name, and its page (``""`` for none)."""

    label: str
    href: str = ""


# The records an audit entry names by id: (id column, name column, its page with {} the name).
_NAMED: tuple[tuple[Any, Any, str], ...] = (
    (User.id, User.username, "/admin/users"),
    (Partner.id, Partner.name, "/admin/partners"),
    (Organisation.id, Organisation.name, ""),
    (EmbassyRepo.id, EmbassyRepo.name, "/embassy/{}"),
    (IntelCollection.id, IntelCollection.alias, "/intel/collections/{}"),
    (Programme.id, Programme.ref, "/coop/programmes/{}"),
)


def targets(db: Session, ids: Iterable[str]) -> dict[str, Target]:
    """The targets among ``ids`` that a record of this node names, by id."""
    wanted = {i for i in ids if i}
    found: dict[str, Target] = {}
    for id_column, name_column, page in _NAMED:
        missing = wanted - found.keys()
        if not missing:
            break
        for row_id, name in db.execute(
            select(id_column, name_column).where(id_column.in_(missing))
        ):
            found[row_id] = Target(str(name), page.format(name) if page else "")
    return found
