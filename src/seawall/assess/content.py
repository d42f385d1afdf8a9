"""Content packs: licensed indicator texts a user imports for a framework, checked by sha256.

Seawall never ships the CMM indicator texts (they are Oxford's copyright). A nation that holds a
licensed copy writes them as a content pack and imports it. The import is accepted only when the
file's sha256 equals an expected digest: either one the framework pack lists under
``content.accepted_sha256`` or one the user supplies (the digest published with the licensed
copy). The digest is recorded, and the stored text is checked against it again on every use.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess.errors import ContentHashMismatch, PackInvalid
from seawall.assess.frameworks import (
    MAX_STAGES,
    PART_ID_PATTERN,
    Framework,
    StrictModel,
    describe_error,
    get_framework,
    load_yaml,
)
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.assess import ContentPack
from seawall.errors import Conflict

FORMAT = "seawall.content/1"


class ContentIndicator(StrictModel):
    """One indicator text for a factor at a stage."""

    factor: str = Field(pattern=PART_ID_PATTERN)
    id: str = Field(pattern=PART_ID_PATTERN)
    stage: int = Field(ge=1, le=MAX_STAGES)
    text: str = Field(min_length=1)


class Content(StrictModel):
    """A validated content pack."""

    format: Literal["seawall.content/1"]
    framework: str = Field(min_length=1)
    name: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    indicators: list[ContentIndicator] = Field(min_length=1)


def sha256_of(data: bytes) -> str:
    """The hex sha256 of a content pack file's bytes."""
    return hashlib.sha256(data).hexdigest()


def parse_content(data: bytes, origin: str, framework: Framework) -> Content:
    """Validate a content pack against the format and against its framework's structure."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PackInvalid(f"pack {origin}: not UTF-8 text; save it as UTF-8") from None
    raw = load_yaml(text, origin)
    if not isinstance(raw, dict):
        raise PackInvalid(f"pack {origin}: the top level must be a mapping of fields")
    try:
        content = Content.model_validate(raw)
    except ValidationError as exc:
        raise PackInvalid(describe_error(origin, exc)) from None
    if content.framework != framework.id:
        raise PackInvalid(
            f"pack {origin}: framework: is {content.framework!r}, expected {framework.id!r}"
        )
    factors = framework.factors()
    top = framework.stages.highest
    seen: set[str] = set(factors)
    for i, item in enumerate(content.indicators):
        where = f"pack {origin}: indicators[{i}]"
        if item.factor not in factors:
            raise PackInvalid(f"{where}.factor: {item.factor!r} is not a factor of {framework.id}")
        if item.stage > top:
            raise PackInvalid(f"{where}.stage: {item.stage} is above the top stage {top}")
        if item.id in seen:
            raise PackInvalid(f"{where}.id: duplicate id {item.id!r}")
        seen.add(item.id)
    return content


def check_digest(data: bytes, framework: Framework, expected: str | None) -> str:
    """The file's sha256 when it matches the expected digest; otherwise a clear refusal."""
    digest = sha256_of(data)
    accepted = set(framework.content.accepted_sha256 if framework.content else [])
    if expected:
        accepted = {expected.strip().lower()}
    if not accepted:
        raise ContentHashMismatch(
            f"no expected sha256 for {framework.id} content: pass the sha256 published with "
            "your licensed copy"
        )
    if digest not in accepted:
        raise ContentHashMismatch(
            f"content pack sha256 is {digest}, expected {' or '.join(sorted(accepted))}: "
            "check you have the right file, unmodified"
        )
    return digest


def import_content(
    ctx: Ctx, data: bytes, origin: str, framework_id: str, expected_sha256: str | None = None
) -> ContentPack:
    """Check a content pack's digest and structure, then store it for its framework."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    framework = get_framework(ctx.db, framework_id)
    if not framework.rateable:
        raise PackInvalid(f"pack {origin}: framework {framework.id} is an index; it has no stages")
    digest = check_digest(data, framework, expected_sha256)
    content = parse_content(data, origin, framework)
    clash = ctx.db.scalars(
        select(ContentPack).where(
            ContentPack.framework_id == framework.id, ContentPack.sha256 == digest
        )
    ).first()
    if clash is not None:
        raise Conflict(f"content pack {digest[:12]} is already imported for {framework.id}")
    row = ContentPack(
        id=ctx.ids(),
        framework_id=framework.id,
        name=content.name,
        sha256=digest,
        body=data.decode("utf-8"),
        imported_at=ctx.now(),
        imported_by=ctx.who.username,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "assess.content.imported",
        row.id,
        framework=framework.id,
        sha256=digest,
        indicators=len(content.indicators),
    )
    return row


def framework_with_content(db: Session, framework_id: str) -> Framework:
    """The framework with the indicators of its latest imported content pack merged in."""
    framework = get_framework(db, framework_id)
    row = db.scalars(
        select(ContentPack)
        .where(ContentPack.framework_id == framework.id)
        .order_by(ContentPack.imported_at.desc(), ContentPack.id.desc())
    ).first()
    if row is None:
        return framework
    data = row.body.encode("utf-8")
    if sha256_of(data) != row.sha256:
        raise ContentHashMismatch(
            f"stored content pack {row.id} no longer matches the sha256 recorded at import; "
            "import the licensed file again"
        )
    content = parse_content(data, f"{row.name} (imported)", framework)
    merged = framework.model_dump()
    by_factor: dict[str, list[dict[str, object]]] = {}
    for item in content.indicators:
        by_factor.setdefault(item.factor, []).append(
            {"id": item.id, "stage": item.stage, "text": item.text}
        )
    for dimension in merged["dimensions"]:
        for factor in dimension["factors"]:
            factor["indicators"] = by_factor.get(factor["id"], [])
    return Framework.model_validate(merged)
