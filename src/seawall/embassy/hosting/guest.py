"""The guest's side of hosting: signing, with the repository's embassy key, what its partner
hosts may purge once retention allows.

Prune and forget delete objects on every site; on a partner's node a delete only hides the
object (a delete marker), and its versions stay under retention. :func:`release` tells each
partner host that the versions superseded until now may go once their retention has passed,
and registers the repository's embassy key on the agreement the first time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from seawall.embassy.hosting.signing import embassy_key, release_statement
from seawall.embassy.keys import MasterKey
from seawall.embassy.sites.base import Site
from seawall.embassy.sites.partner import PartnerSite


@dataclass(frozen=True)
class Released:
    """What one partner host answered a release: the watermark it keeps, and what it purged."""

    site: str
    release_before: str
    purged: int


def release(sites: Sequence[Site | None], master: MasterKey, now: datetime) -> list[Released]:
    """Sign a release up to ``now`` to every partner host among ``sites``."""
    key = embassy_key(master)
    answers = []
    for site in sites:
        if not isinstance(site, PartnerSite) or site.as_of is not None:
            continue
        statement = release_statement(site.agreement, now)
        answer = site.signed(
            "release",
            {
                "before": now.isoformat(),
                "public_key": key.public_text,
                "signature": key.sign(statement),
            },
        )
        answers.append(
            Released(site.url, str(answer.get("release_before")), int(answer.get("purged", 0)))
        )
    return answers
