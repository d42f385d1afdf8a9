"""intel observables: names in punycode, and the addresses of domain|ip pairs

The index keys a domain by its normalised form, which is now its punycode (IDNA 2008 with
UTS #46 mapping), so ``bücher.example`` and ``xn--bcher-kva.example`` correlate; and a
pattern's ``domain-name:resolves_to_refs`` addresses are indexed beside the name. The
stored versions whose keys change (a body with a character outside ASCII, or naming
``resolves_to_refs``) are indexed again. Only index rows are rewritten, never the objects.
Downgrading keeps the rows as they are.

Revision ID: 0027
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def _stale(body: str) -> bool:
    return not body.isascii() or "\\u" in body or "resolves_to_refs" in body


def upgrade() -> None:
    # Imported here: the index's extraction is the application's own, as on every write.
    from sqlalchemy.orm import Session

    from seawall.intel.observable_index import reindex

    reindex(Session(bind=op.get_bind()), _stale)


def downgrade() -> None:
    pass
