"""Framework packs: the YAML format, its validation, the shipped packs and imported ones.

A pack describes a yardstick as data: its dimensions and factors, its scale (named stages for
maturity models, a numeric range for indices), tier thresholds for indices, and where it comes
from. The format is documented in ``docs/assess.md``. Validation is strict: unknown keys, wrong
types and inconsistent references are refused with one line naming the file and the field path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.assess.errors import PackInvalid, UnknownFramework
from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.assess import FrameworkPack
from seawall.errors import Conflict

FORMAT = "seawall.framework/1"
ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]{0,63}$"
PART_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,31}$"
MAX_STAGES = 5
DEFAULT_FRAMEWORK = "cmm-2021"
"""The framework a round, a panel or a report uses when none is named: CMM 2021."""


class StrictModel(BaseModel):
    """Base of pack models: strict types, no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Stage(StrictModel):
    """One named stage of a maturity scale (numbered from 0 or from 1)."""

    number: int = Field(ge=0, le=MAX_STAGES)
    name: str = Field(min_length=1)
    description: str = ""


class StageScale(StrictModel):
    """A scale of named stages numbered without gaps from 1 (CMM: 1..5) or from 0 (SIM3: 0..4)."""

    type: Literal["stages"]
    stages: list[Stage] = Field(min_length=2)

    @model_validator(mode="after")
    def _consecutive(self) -> StageScale:
        numbers = [s.number for s in self.stages]
        if numbers not in (list(range(len(numbers))), list(range(1, len(numbers) + 1))):
            raise ValueError(
                f"stages: numbered {numbers}, must be 0..{len(numbers) - 1} or "
                f"1..{len(numbers)} in order"
            )
        if len(numbers) > MAX_STAGES:
            raise ValueError(f"stages: {len(numbers)} stages, at most {MAX_STAGES}")
        return self

    @property
    def lowest(self) -> int:
        """The floor stage (0 or 1)."""
        return self.stages[0].number

    @property
    def highest(self) -> int:
        """The top stage."""
        return self.stages[-1].number

    def name_of(self, number: int) -> str:
        """The name of stage ``number``."""
        return self.stages[number - self.lowest].name


class RangeScale(StrictModel):
    """A numeric range, e.g. 0-20 for a GCI pillar."""

    type: Literal["range"]
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> RangeScale:
        if self.min >= self.max:
            raise ValueError(f"range min {self.min} must be below max {self.max}")
        return self


Scale = Annotated[StageScale | RangeScale, Field(discriminator="type")]


class Indicator(StrictModel):
    """Something observable that, when met, counts towards a stage of a factor."""

    id: str = Field(pattern=PART_ID_PATTERN)
    stage: int = Field(ge=0, le=MAX_STAGES)
    text: str = Field(min_length=1)


class Factor(StrictModel):
    """One rated factor (CMM factor, CSF category)."""

    id: str = Field(pattern=PART_ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    indicators: list[Indicator] = []


class Dimension(StrictModel):
    """A group of factors (CMM dimension, GCI pillar, CSF function)."""

    id: str = Field(pattern=PART_ID_PATTERN)
    name: str = Field(min_length=1)
    factors: list[Factor] = []


class Tier(StrictModel):
    """An index tier: a score at or above ``min`` (and below the next tier up) falls in it."""

    id: str = Field(pattern=PART_ID_PATTERN)
    name: str = Field(min_length=1)
    min: float


class Comparability(StrictModel):
    """A note that this framework's scores are not strictly comparable with another edition."""

    edition: str = Field(pattern=ID_PATTERN)
    note: str = Field(min_length=1)


class ContentPolicy(StrictModel):
    """How indicator texts that cannot be shipped are imported."""

    holder: str = Field(min_length=1)
    accepted_sha256: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = []
    note: str = ""


class Framework(StrictModel):
    """A validated framework pack."""

    format: Literal["seawall.framework/1"]
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    kind: Literal["cmm", "index", "custom"]
    source: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    verification: str = ""
    scale: Scale
    total: RangeScale | None = None
    tiers: list[Tier] = []
    not_strictly_comparable_with: list[Comparability] = []
    content: ContentPolicy | None = None
    dimensions: list[Dimension] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        _check_kind(self)
        _check_ids(self)
        return self

    @property
    def rateable(self) -> bool:
        """Whether factors are rated on stages (cmm, custom) rather than scored (index)."""
        return self.kind != "index"

    @property
    def stages(self) -> StageScale:
        """The stage scale of a rateable framework."""
        if not isinstance(self.scale, StageScale):
            raise PackInvalid(f"framework {self.id} is an index and has no stages")
        return self.scale

    def factors(self) -> dict[str, Factor]:
        """Every factor by id, in pack order."""
        return {f.id: f for d in self.dimensions for f in d.factors}

    def dimension_of(self) -> dict[str, str]:
        """Factor id to dimension id."""
        return {f.id: d.id for d in self.dimensions for f in d.factors}

    def indicators_by_stage(self, factor_id: str) -> dict[int, list[str]]:
        """A factor's indicator ids grouped by stage."""
        grouped: dict[int, list[str]] = {}
        for indicator in self.factors()[factor_id].indicators:
            grouped.setdefault(indicator.stage, []).append(indicator.id)
        return grouped

    def tier_for(self, score: float) -> Tier:
        """The tier a total score falls in (thresholds are inclusive lower bounds)."""
        for tier in self.tiers:
            if score >= tier.min:
                return tier
        raise PackInvalid(f"framework {self.id} has no tier for score {score}")


def _check_kind(pack: Framework) -> None:
    if pack.kind == "index":
        if not isinstance(pack.scale, RangeScale):
            raise ValueError("scale: an index pack needs a range scale for its pillars")
        if pack.total is None:
            raise ValueError("total: an index pack needs a total range")
        if not pack.tiers:
            raise ValueError("tiers: an index pack needs tier thresholds")
        mins = [t.min for t in pack.tiers]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError(f"tiers: thresholds must strictly descend, got {mins}")
        if mins[-1] > pack.total.min:
            raise ValueError(
                f"tiers[{len(mins) - 1}].min: the lowest tier must start at the total "
                f"minimum {pack.total.min}"
            )
        return
    if not isinstance(pack.scale, StageScale):
        raise ValueError(f"scale: a {pack.kind} pack needs a stages scale")
    if pack.tiers or pack.total is not None:
        raise ValueError(f"tiers: only index packs have tiers and a total, not {pack.kind}")
    for i, dimension in enumerate(pack.dimensions):
        if not dimension.factors:
            raise ValueError(f"dimensions[{i}].factors: a {pack.kind} dimension needs factors")


def _check_ids(pack: Framework) -> None:
    seen: set[str] = set()
    top = pack.scale.highest if isinstance(pack.scale, StageScale) else 0
    floor = pack.scale.lowest if isinstance(pack.scale, StageScale) else 0
    for i, dimension in enumerate(pack.dimensions):
        if dimension.id in seen:
            raise ValueError(f"dimensions[{i}].id: duplicate id {dimension.id!r}")
        seen.add(dimension.id)
        for j, factor in enumerate(dimension.factors):
            where = f"dimensions[{i}].factors[{j}]"
            if factor.id in seen:
                raise ValueError(f"{where}.id: duplicate id {factor.id!r}")
            seen.add(factor.id)
            for k, indicator in enumerate(factor.indicators):
                if indicator.id in seen:
                    raise ValueError(f"{where}.indicators[{k}].id: duplicate {indicator.id!r}")
                seen.add(indicator.id)
                if indicator.stage > top:
                    raise ValueError(
                        f"{where}.indicators[{k}].stage: {indicator.stage} is above the top "
                        f"stage {top}"
                    )
                if indicator.stage < floor:
                    raise ValueError(
                        f"{where}.indicators[{k}].stage: {indicator.stage} is below the lowest "
                        f"stage {floor}"
                    )


def describe_error(origin: str, exc: ValidationError) -> str:
    """One line naming the file, the path of the first bad field and what is wrong."""
    first = exc.errors()[0]
    path = _path(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if path:
        return f"pack {origin}: {path}: {message}"
    return f"pack {origin}: {message}"


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    previous: int | str = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif previous in {"scale", "total"} and part in {"stages", "range"}:
            pass  # the union tag pydantic adds to the path is not a key in the file
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out


def load_yaml(text: str, origin: str) -> Any:
    """Parse YAML safely; a syntax error becomes one line with its position."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise PackInvalid(f"pack {origin}: {problem}{where}; fix the YAML") from None


def parse_framework(text: str, origin: str) -> Framework:
    """Validate a framework pack's YAML text; ``origin`` names it in errors."""
    raw = load_yaml(text, origin)
    if not isinstance(raw, dict):
        raise PackInvalid(f"pack {origin}: the top level must be a mapping of fields")
    try:
        return Framework.model_validate(raw)
    except ValidationError as exc:
        raise PackInvalid(describe_error(origin, exc)) from None


@cache
def shipped_frameworks() -> Mapping[str, Framework]:
    """The packs shipped in ``seawall/assess/packs``, by id."""
    packs: dict[str, Framework] = {}
    folder = resources.files("seawall.assess").joinpath("packs")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            pack = parse_framework(entry.read_text(encoding="utf-8"), entry.name)
            packs[pack.id] = pack
    return packs


def available_frameworks(db: Session) -> dict[str, Framework]:
    """Shipped packs plus the ones imported into this node."""
    found = dict(shipped_frameworks())
    for row in db.scalars(select(FrameworkPack).order_by(FrameworkPack.framework_id)):
        found[row.framework_id] = parse_framework(row.body, f"{row.framework_id} (imported)")
    return found


def get_framework(db: Session, framework_id: str) -> Framework:
    """One framework by id, or a clear error listing the known ones."""
    shipped = shipped_frameworks()
    if framework_id in shipped:
        return shipped[framework_id]
    row = db.get(FrameworkPack, framework_id)
    if row is not None:
        return parse_framework(row.body, f"{framework_id} (imported)")
    known = ", ".join(sorted(available_frameworks(db)))
    raise UnknownFramework(f"unknown framework {framework_id!r}: choose one of {known}")


def import_framework(ctx: Ctx, text: str, origin: str) -> Framework:
    """Validate and store a custom framework pack; shipped ids cannot be replaced."""
    require(ctx.who, Perm.ASSESS_PUBLISH)
    pack = parse_framework(text, origin)
    if pack.id in shipped_frameworks():
        raise Conflict(f"framework {pack.id} is shipped with Seawall; give your pack another id")
    if ctx.db.get(FrameworkPack, pack.id) is not None:
        raise Conflict(f"framework {pack.id} is already imported; give the new version an id")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    ctx.db.add(
        FrameworkPack(
            framework_id=pack.id,
            version=pack.version,
            kind=pack.kind,
            sha256=digest,
            body=text,
            imported_at=ctx.now(),
            imported_by=ctx.who.username,
        )
    )
    ctx.db.flush()
    ctx.record("assess.framework.imported", pack.id, version=pack.version, sha256=digest)
    return pack
