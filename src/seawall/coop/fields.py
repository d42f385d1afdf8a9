"""The fields of programmes and partner organisations: their drafts, checks and documents.

A draft is what a person, a file or a package says about a record; :func:`check_programme`
and :func:`check_organisation` turn it into the values stored, or raise an error naming the
field. Framework items are strings ``<framework>:<item>`` (``cmm-2021:D1.2``, ``sim3-v2:O-1``,
``gci-2024:legal``); a :class:`Catalogue` the edge builds from the maturity pillar's packs
checks them, and turns a short name (``cmm``, ``sim3``, ``gci``) into the framework's id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

import pycountry

from seawall.coop.errors import OrganisationInvalid, ProgrammeInvalid
from seawall.core.nations import normalise_nation
from seawall.db.models.coop import CoopOrganisation, Programme
from seawall.errors import InvalidInput, UnknownNation, parse_choice

SAMPLE_NOTE = "SAMPLE DATA: fictional, for demonstration only"
MAX_TEXT = 4000
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_ITEM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}:[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ProgrammeStatus(StrEnum):
    """Where a programme stands. Planned and ongoing programmes cover a gap."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({ProgrammeStatus.PLANNED.value, ProgrammeStatus.ONGOING.value})


class OrgKind(StrEnum):
    """What a partner organisation is to the nation."""

    DEVELOPMENT_PARTNER = "development_partner"
    REGIONAL_BODY = "regional_body"
    TRAINING_PROVIDER = "training_provider"
    CIRT = "cirt"
    GOVERNMENT = "government"
    PRIVATE_SECTOR = "private_sector"
    ACADEMIA = "academia"
    CIVIL_SOCIETY = "civil_society"


@dataclass(frozen=True)
class Catalogue:
    """The framework items a programme may address, by framework id, and short names."""

    items: Mapping[str, frozenset[str]]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def canonical(self, ref: str) -> str:
        """``ref`` with its framework's id, or ProgrammeInvalid naming the choices."""
        prefix, _, item = ref.partition(":")
        framework = self.aliases.get(prefix.lower(), prefix)
        known = self.items.get(framework)
        if known is None:
            names = ", ".join(sorted({*self.items, *self.aliases}))
            raise ProgrammeInvalid(
                f"addresses: unknown framework {prefix!r} in {ref!r}: use {names}"
            )
        if item not in known:
            raise ProgrammeInvalid(
                f"addresses: {framework} has no item {item!r} (e.g. {', '.join(sorted(known)[:4])})"
            )
        return f"{framework}:{item}"


@dataclass(frozen=True)
class ProgrammeDraft:
    """A programme as given, before its checks."""

    ref: str
    name: str
    description: str = ""
    funders: tuple[str, ...] = ()
    implementers: tuple[str, ...] = ()
    beneficiaries: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    budget: Decimal | None = None
    currency: str = ""
    status: str = ProgrammeStatus.PLANNED.value
    outputs: str = ""
    sources: tuple[str, ...] = ()
    note: str = ""
    shareable: bool = False


@dataclass(frozen=True)
class OrganisationDraft:
    """A partner organisation as given, before its checks."""

    name: str
    kind: str
    acronym: str = ""
    country: str = ""
    website: str = ""
    contact: str = ""
    note: str = ""
    shareable: bool = False


def _text(error: type[InvalidInput], name: str, value: str, limit: int, required: bool) -> str:
    text = " ".join(value.split()) if limit <= 300 else value.strip()
    if required and not text:
        raise error(f"{name}: required")
    if len(text) > limit:
        raise error(f"{name}: at most {limit} characters, not {len(text)}")
    return text


def _names(values: Iterable[str], what: str) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        name = _text(ProgrammeInvalid, what, value, 200, False)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())


def _nation(value: str, error: type[InvalidInput], what: str) -> str:
    try:
        return normalise_nation(value)
    except UnknownNation as exc:
        raise error(f"{what}: {exc.message}") from None


def parse_status(value: str) -> str:
    """A programme status by name, case-insensitive."""
    try:
        return parse_choice(ProgrammeStatus, "status", value).value
    except InvalidInput as exc:
        raise ProgrammeInvalid(f"status: {exc.message}") from None


def parse_kind(value: str) -> str:
    """An organisation kind by name; spaces and hyphens read as underscores."""
    try:
        return parse_choice(OrgKind, "kind", value).value
    except InvalidInput as exc:
        raise OrganisationInvalid(f"kind: {exc.message}") from None


def parse_budget(value: str) -> Decimal | None:
    """A budget amount (``250000``, ``1,500,000.50``), or None for an empty one."""
    text = value.replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ProgrammeInvalid(f"budget: {value!r} is not an amount") from None
    return amount


def parse_date(value: str, what: str) -> date | None:
    """A date as YYYY-MM-DD, YYYY-MM or YYYY, or None when empty. A month or a year alone is
    its first day for a start and its last day for an ``end``."""
    text = value.strip()
    if not text:
        return None
    last = what == "end"
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 12, 31) if last else date(int(text), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            first = date.fromisoformat(f"{text}-01")
            if not last:
                return first
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return following - timedelta(days=1)
        return date.fromisoformat(text)
    except ValueError:
        raise ProgrammeInvalid(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def check_programme(
    draft: ProgrammeDraft, nation: str, catalogue: Catalogue | None = None
) -> ProgrammeDraft:
    """The draft as it is stored: trimmed, nations as alpha-2, items by framework id.

    Without a catalogue (a package from another node, which checked them) framework items
    are checked for their shape only.
    """
    ref = draft.ref.strip()
    if not _REF.match(ref):
        raise ProgrammeInvalid(
            f"ref: {draft.ref!r} is not a reference: 1-64 letters, digits, '.', '_', '-', '/'"
        )
    addresses: list[str] = []
    for raw in draft.addresses:
        item = raw.strip()
        if not item:
            continue
        prefix, _, rest = item.partition(":")
        item = f"{prefix.lower()}:{rest}"
        if not _ITEM.match(item):
            raise ProgrammeInvalid(
                f"addresses: {raw!r} is not a framework item: write it as cmm-2021:D1.2"
            )
        item = catalogue.canonical(item) if catalogue else item
        if item not in addresses:
            addresses.append(item)
    named = [
        _nation(n, ProgrammeInvalid, "beneficiaries") for n in draft.beneficiaries if n.strip()
    ]
    beneficiaries = tuple(dict.fromkeys(named)) or (nation,)
    currency = draft.currency.strip().upper()
    if currency and (
        not _CURRENCY.match(currency) or pycountry.currencies.get(alpha_3=currency) is None
    ):
        raise ProgrammeInvalid(f"currency: {draft.currency!r} is not an ISO 4217 code such as USD")
    if draft.budget is not None:
        if not draft.budget.is_finite() or draft.budget < 0 or draft.budget >= Decimal(10) ** 16:
            raise ProgrammeInvalid(f"budget: {draft.budget} is not an amount from 0")
        if not currency:
            raise ProgrammeInvalid("currency: a budget needs its currency (e.g. USD, XCD, EUR)")
    if draft.start and draft.end and draft.end < draft.start:
        raise ProgrammeInvalid(
            f"end: {draft.end.isoformat()} is before the start {draft.start.isoformat()}"
        )
    sources = []
    for raw in draft.sources:
        source = _text(ProgrammeInvalid, "sources", raw, 500, False)
        if source.lower().startswith(("http:", "https:")) and not urlparse(source).netloc:
            raise ProgrammeInvalid(f"sources: {raw!r} is not a URL")
        if source and source not in sources:
            sources.append(source)
    return replace(
        draft,
        ref=ref,
        name=_text(ProgrammeInvalid, "name", draft.name, 300, True),
        description=_text(ProgrammeInvalid, "description", draft.description, MAX_TEXT, False),
        funders=_names(draft.funders, "funders"),
        implementers=_names(draft.implementers, "implementers"),
        beneficiaries=beneficiaries,
        addresses=tuple(addresses),
        budget=None if draft.budget is None else draft.budget.quantize(Decimal("0.01")),
        currency=currency,
        status=parse_status(draft.status),
        outputs=_text(ProgrammeInvalid, "outputs", draft.outputs, MAX_TEXT, False),
        sources=tuple(sources),
        note=_text(ProgrammeInvalid, "note", draft.note, MAX_TEXT, False),
    )


def check_organisation(draft: OrganisationDraft) -> OrganisationDraft:
    """The draft as it is stored: trimmed, its kind checked, its country as alpha-2."""
    website = _text(OrganisationInvalid, "website", draft.website, 500, False)
    if website:
        parsed = urlparse(website)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise OrganisationInvalid(f"website: {draft.website!r} is not an http(s) URL")
    country = draft.country.strip()
    return replace(
        draft,
        name=_text(OrganisationInvalid, "name", draft.name, 200, True),
        kind=parse_kind(draft.kind),
        acronym=_text(OrganisationInvalid, "acronym", draft.acronym, 32, False),
        country=_nation(country, OrganisationInvalid, "country") if country else "",
        website=website,
        contact=_text(OrganisationInvalid, "contact", draft.contact, 200, False),
        note=_text(OrganisationInvalid, "note", draft.note, MAX_TEXT, False),
    )


def programme_doc(row: Programme) -> dict[str, Any]:
    """A programme as JSON: what ``--json``, the export and the hub's package carry."""
    return {
        "id": row.id,
        "nation": row.nation,
        "ref": row.ref,
        "name": row.name,
        "description": row.description,
        "funders": list(row.funders),
        "implementers": list(row.implementers),
        "beneficiaries": list(row.beneficiaries),
        "addresses": list(row.addresses),
        "start": row.start.isoformat() if row.start else None,
        "end": row.end.isoformat() if row.end else None,
        "budget": None if row.budget is None else f"{row.budget:.2f}",
        "currency": row.currency,
        "status": row.status,
        "outputs": row.outputs,
        "sources": list(row.sources),
        "note": row.note,
        "shareable": row.shareable,
        "received": row.received_at is not None,
    }


def organisation_doc(row: CoopOrganisation) -> dict[str, Any]:
    """An organisation as JSON."""
    return {
        "id": row.id,
        "nation": row.nation,
        "name": row.name,
        "acronym": row.acronym,
        "kind": row.kind,
        "country": row.country,
        "website": row.website,
        "contact": row.contact,
        "note": row.note,
        "shareable": row.shareable,
        "received": row.received_at is not None,
    }


def apply_programme(row: Programme, draft: ProgrammeDraft) -> None:
    """Copy a checked draft onto a row."""
    row.ref, row.name, row.description = draft.ref, draft.name, draft.description
    row.funders, row.implementers = list(draft.funders), list(draft.implementers)
    row.beneficiaries, row.addresses = list(draft.beneficiaries), list(draft.addresses)
    row.start, row.end, row.budget, row.currency = (
        draft.start,
        draft.end,
        draft.budget,
        draft.currency,
    )
    row.status, row.outputs, row.sources = draft.status, draft.outputs, list(draft.sources)
    row.note, row.shareable = draft.note, draft.shareable


def apply_organisation(row: CoopOrganisation, draft: OrganisationDraft) -> None:
    """Copy a checked draft onto a row."""
    row.name, row.kind, row.acronym, row.country = (
        draft.name,
        draft.kind,
        draft.acronym,
        draft.country,
    )
    row.website, row.contact, row.note, row.shareable = (
        draft.website,
        draft.contact,
        draft.note,
        draft.shareable,
    )


def programme_from_doc(
    doc: Mapping[str, Any], on_error: Callable[[str], Exception]
) -> ProgrammeDraft:
    """A draft from a JSON document (an export, a package); ``on_error`` makes the error."""
    try:
        budget = doc.get("budget")
        return ProgrammeDraft(
            ref=str(doc["ref"]),
            name=str(doc["name"]),
            description=str(doc.get("description") or ""),
            funders=tuple(str(v) for v in doc.get("funders") or ()),
            implementers=tuple(str(v) for v in doc.get("implementers") or ()),
            beneficiaries=tuple(str(v) for v in doc.get("beneficiaries") or ()),
            addresses=tuple(str(v) for v in doc.get("addresses") or ()),
            start=parse_date(str(doc.get("start") or ""), "start"),
            end=parse_date(str(doc.get("end") or ""), "end"),
            budget=parse_budget(str(budget)) if budget not in (None, "") else None,
            currency=str(doc.get("currency") or ""),
            status=str(doc.get("status") or ProgrammeStatus.PLANNED.value),
            outputs=str(doc.get("outputs") or ""),
            sources=tuple(str(v) for v in doc.get("sources") or ()),
            note=str(doc.get("note") or ""),
            shareable=bool(doc.get("shareable", False)),
        )
    except KeyError as exc:
        raise on_error(f"{exc.args[0]}: required") from None
    except (TypeError, AttributeError):
        raise on_error("not a programme object") from None
