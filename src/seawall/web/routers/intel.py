"""Collective-defence pages: collections, search, object detail, import."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from seawall.web.deps import read_form_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_form_csrf)])
