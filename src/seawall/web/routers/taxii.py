"""TAXII 2.1 at ``/taxii2/`` (filled in by the intel pillar)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/taxii2", tags=["taxii"])
