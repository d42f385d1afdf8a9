"""Importing intelligence files: STIX, MISP events, MISP feeds and MISP CSV into a collection.

A file is read whole first, so a file that cannot be read (broken JSON, the wrong
format) changes nothing. Then each object is screened against the MISP warninglists
(:mod:`seawall.intel.quality`) and handed to the store in batches, which validates
it and applies TLP. Every refusal is reported with its reason; the valid rest is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.errors import FileMissing
from seawall.intel import quality
from seawall.intel.errors import UnreadableIntel
from seawall.intel.misp.reading import Converted, load_json, read_csv, read_events, read_feed
from seawall.intel.store import writing
from seawall.intel.store.writing import ObjectRef

BATCH = 500
Progress = Callable[[int, int], None]


class Format(StrEnum):
    """The file formats ``seawall intel import`` reads."""

    STIX = "stix"
    MISP = "misp"
    MISP_FEED = "misp-feed"
    CSV = "csv"


@dataclass
class Parsed:
    """A file read into STIX objects, with the items that could not be converted."""

    format: Format
    objects: list[Any]
    problems: list[ObjectRef] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did with each object."""

    format: str
    collection: str
    added: list[ObjectRef] = field(default_factory=list)
    duplicates: list[ObjectRef] = field(default_factory=list)
    rejected: list[ObjectRef] = field(default_factory=list)
    suppressed: list[ObjectRef] = field(default_factory=list)
    flagged: list[ObjectRef] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many items the file held."""
        return len(self.added) + len(self.duplicates) + len(self.rejected) + len(self.suppressed)

    def as_json(self) -> dict[str, Any]:
        """The report for scripts."""

        def refs(items: list[ObjectRef]) -> list[dict[str, str]]:
            return [{"id": r.id, "version": r.version, "message": r.message} for r in items]

        return {
            "format": self.format,
            "collection": self.collection,
            "total": self.total,
            "added": len(self.added),
            "duplicates": len(self.duplicates),
            "rejected": refs(self.rejected),
            "suppressed": refs(self.suppressed),
            "flagged": refs(self.flagged),
        }


def detect_format(name: str, data: bytes) -> Format:
    """The format a file is in, from its name and its first bytes."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return Format.CSV
    if lower.endswith("manifest.json"):
        return Format.MISP_FEED
    head = data[:4096].decode("utf-8", "replace")
    if '"Event"' in head or '"response"' in head or '"Attribute"' in head:
        return Format.MISP
    return Format.STIX


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableIntel(f"{name} is not UTF-8 text; nothing was imported") from None


def stix_objects(text: str, name: str) -> list[Any]:
    """The objects of a STIX bundle, a TAXII envelope, a list, or a single object."""
    document = load_json(text, name)
    if isinstance(document, list):
        return document
    if not isinstance(document, Mapping):
        raise UnreadableIntel(f"{name} is not a STIX bundle or envelope; nothing was imported")
    if "Event" in document or "response" in document:
        raise UnreadableIntel(f"{name} is a MISP event, not STIX: import it with --format misp")
    objects = document.get("objects")
    if document.get("type") == "bundle" or (objects is not None and "type" not in document):
        if not isinstance(objects, list):
            raise UnreadableIntel(f"{name}: 'objects' must be a list of STIX objects")
        return objects
    if isinstance(document.get("type"), str) and "id" in document:
        return [document]
    raise UnreadableIntel(
        f'{name} is not a STIX bundle ({{"type": "bundle", "objects": [...]}}) '
        'or a TAXII envelope ({"objects": [...]}); nothing was imported'
    )


def _problems(converted: Converted) -> list[ObjectRef]:
    return [ObjectRef(p.ref, "", p.message) for p in converted.problems]


def parse_bytes(name: str, data: bytes, fmt: Format | None = None) -> Parsed:
    """A file's contents as STIX objects; a MISP feed needs :func:`parse_path`."""
    chosen = fmt or detect_format(name, data)
    if chosen is Format.MISP_FEED:
        raise UnreadableIntel(
            "a MISP feed is a folder: give its path (or its manifest.json) on the command line"
        )
    text = _decode(data, name)
    if chosen is Format.STIX:
        return Parsed(chosen, stix_objects(text, name))
    converted = read_csv(text, name) if chosen is Format.CSV else read_events(text, name)
    return Parsed(chosen, list(converted.objects), _problems(converted))


def parse_path(path: Path, fmt: Format | None = None) -> Parsed:
    """A file or MISP feed folder as STIX objects."""
    if not path.exists():
        raise FileMissing(f"{path} does not exist: check the path")
    if path.is_dir() or fmt is Format.MISP_FEED:
        converted = read_feed(path)
        return Parsed(Format.MISP_FEED, list(converted.objects), _problems(converted))
    return parse_bytes(path.name, path.read_bytes(), fmt)


def _label(obj: Any) -> tuple[str, str]:
    if isinstance(obj, Mapping):
        return str(obj.get("id", "")), str(obj.get("modified") or obj.get("created") or "")
    return "", ""


def import_objects(
    ctx: Ctx,
    collection: IntelCollection,
    parsed: Parsed,
    progress: Progress | None = None,
    keep_suppressed: bool = False,
) -> ImportReport:
    """Screen and store parsed objects in batches; the report says what became of each."""
    report = ImportReport(format=parsed.format.value, collection=collection.alias)
    report.rejected.extend(parsed.problems)
    kept: list[Any] = []
    for obj in parsed.objects:
        verdict = quality.assess(obj) if isinstance(obj, Mapping) else None
        if verdict is not None and verdict.hits:
            object_id, version = _label(obj)
            if verdict.suppressed and not keep_suppressed:
                report.suppressed.append(
                    ObjectRef(object_id, version, f"not imported: {verdict.reason}")
                )
                continue
            report.flagged.append(ObjectRef(object_id, version, verdict.reason))
        kept.append(obj)
    total = len(kept)
    done = 0
    if progress is not None:
        progress(0, total)
    for start in range(0, total, BATCH):
        chunk = kept[start : start + BATCH]
        result = writing.add_objects(ctx, collection, chunk, request_id=f"import:{parsed.format}")
        report.added.extend(result.added)
        report.duplicates.extend(result.duplicates)
        report.rejected.extend(result.rejected)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    rejected_ids = {r.id for r in report.rejected}
    report.flagged = [f for f in report.flagged if f.id not in rejected_ids]
    ctx.record(
        "intel.import.completed",
        collection.id,
        collection=collection.alias,
        format=parsed.format.value,
        added=len(report.added),
        duplicates=len(report.duplicates),
        rejected=len(report.rejected),
        suppressed=len(report.suppressed),
        flagged=len(report.flagged),
    )
    return report
