"""The observable index: each normalised observable an object version holds, once.

Correlation reads it to find every other object holding the same value. One row per
(observable, object version), never one per pair of objects sharing a value: a value held
by n objects costs n rows, not n(n-1)/2 (MISP's pairwise correlation table, issue 8275).
Its migration is on the Alembic branch labelled 'intel'.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from seawall.db.models.base import Base, RowId


class IntelObservable(Base):
    """One observable (as a 64-bit key of its kind and normalised value) held by one row."""

    __tablename__ = "intel_observables"
    __table_args__ = (
        Index("ix_intel_observables_object_seq", "object_seq"),
        # Keyed by (value_key, object_seq) alone: no rowid b-tree beside the key's.
        {"sqlite_with_rowid": False},
    )

    # blake2b-64 of "kind\0value"; a read checks the values again, so a collision costs
    # a wasted row read, never a wrong correlation.
    value_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    object_seq: Mapped[int] = mapped_column(
        RowId,
        ForeignKey("intel_objects.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
