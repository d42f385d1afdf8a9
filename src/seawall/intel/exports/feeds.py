"""Sensor exports read from the store: what may leave to a sensor, in force now, audited.

What a sensor gets is what its caller may read (the store's TLP and audiences decide, as
for every read), narrowed twice more:

- **Validity.** Only indicators in force now (:func:`seawall.intel.decay.is_live`): not
  revoked, inside ``valid_from`` to ``valid_until``, and not decayed (a sighting held in the
  same collection resets the age).
- **A TLP ceiling.** A sensor's alerts and logs are read by whoever runs the sensor, so a
  sensor export holds nothing above ``max_tlp``, by default ``TLP:AMBER+STRICT`` (the
  recipient's own organisation). ``TLP:RED`` is for named people only: it goes into a
  sensor file only when the caller asks for it by name (``max_tlp=red``).

A sensor may fetch a feed by URL with an API token holding the ``intel.feed`` scope: the
token reads the feeds, through this module, of what its user may read, and nothing else
of the store. Every export and every feed fetch is recorded in the audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput, NotFound
from seawall.intel.exports.entries import Entry, entries_of
from seawall.intel.exports.rpz import DEFAULT_ORIGIN, holds, rpz_zone
from seawall.intel.exports.selection import select_live
from seawall.intel.exports.suricata import HASH_LISTS, RULES_FILE, suricata_files
from seawall.intel.exports.zeek import zeek_intel
from seawall.intel.search import readable_collections
from seawall.intel.tlp import Tlp, parse_tlp

SENSOR_FORMATS = ("zeek-intel", "suricata", "rpz")
DEFAULT_MAX_TLP = Tlp.AMBER_STRICT
ZEEK_FILE = "seawall.intel"
RPZ_FILE = "seawall.rpz"
# Feed name -> (export format, the file of that export it serves, media type).
FEEDS: dict[str, tuple[str, str, str]] = {
    "zeek-intel": ("zeek-intel", ZEEK_FILE, "text/plain; charset=utf-8"),
    "suricata-rules": ("suricata", RULES_FILE, "text/plain; charset=utf-8"),
    **{
        f"suricata-{keyword[4:]}": ("suricata", name, "text/plain; charset=utf-8")
        for keyword, name in HASH_LISTS.values()
    },
    "rpz": ("rpz", RPZ_FILE, "text/dns; charset=utf-8"),
}


@dataclass(frozen=True)
class SensorExport:
    """An export's files by name, and how many indicators it holds and leaves out."""

    files: dict[str, str]
    indicators: int
    left_out: int
    max_tlp: Tlp


def parse_max_tlp(value: str | None) -> Tlp:
    """The TLP ceiling a caller asked for, or the sensor default."""
    return parse_tlp(value) if value else DEFAULT_MAX_TLP


@contextmanager
def reading_feed(ctx: Ctx) -> Iterator[None]:
    """Let a caller holding ``intel.feed`` (and not ``intel.read``) read the store for a feed:
    its own role and visibility still decide what it sees."""
    who = ctx.who
    if who.can(Perm.INTEL_READ):
        yield
        return
    require(who, Perm.INTEL_FEED)
    ctx.who = replace(who, scopes=who.scopes | {Perm.INTEL_READ})
    try:
        yield
    finally:
        ctx.who = who


def sensor_entries(
    ctx: Ctx, collections: list[IntelCollection], max_tlp: Tlp
) -> tuple[list[Entry], int, int]:
    """The entries of every live indicator at or under ``max_tlp``, how many indicators
    they come from, and how many live ones were left out (above the ceiling, or not fit
    for a sensor: see :func:`~seawall.intel.exports.entries.skip_reason`)."""
    entries: list[Entry] = []
    used: set[str] = set()
    left_out: set[str] = set()
    for collection in collections:
        for stored, body in select_live(ctx, collection, ("indicator",)):
            found = entries_of(body, collection.alias, stored.tlp) if stored.tlp <= max_tlp else []
            (used if found else left_out).add(stored.id)
            entries += found
    return entries, len(used), len(left_out - used)


def written(
    fmt: str, found: tuple[list[Entry], int, int], origin: str = DEFAULT_ORIGIN
) -> tuple[list[Entry], int, int]:
    """:func:`sensor_entries` narrowed to what the format's file holds, counted again: an
    RPZ lists only the names and addresses its zone can hold, so an indicator with none of
    them counts as left out, not as exported."""
    entries, used, left_out = found
    if fmt != "rpz":
        return found
    kept = [e for e in entries if holds(e, origin)]
    listed = len({e.indicator for e in kept})
    return kept, listed, left_out + used - listed


# Bump when a format's text changes for the same entries, so sensors fetch it again.
RENDERING = "1"


def fingerprint(feed: str, entries: list[Entry], origin: str = DEFAULT_ORIGIN) -> str:
    """A feed's ETag: a digest of what its file is made from, so an unchanged feed is known
    without rendering it (and an RPZ's serial alone never changes it)."""
    digest = hashlib.sha256(f"{RENDERING}\0{feed}\0{origin}".encode())
    for entry in sorted(entries):
        digest.update(
            "\0".join(
                (
                    entry.kind.value,
                    entry.value,
                    entry.indicator,
                    entry.name,
                    entry.collection,
                    entry.tlp.key,
                    entry.modified.isoformat(),
                    "c" if entry.certificate else "",
                    "\n",
                )
            ).encode()
        )
    return digest.hexdigest()[:32]


def render(
    fmt: str, entries: list[Entry], now: datetime, origin: str = DEFAULT_ORIGIN
) -> dict[str, str]:
    """The files of one sensor format, by name."""
    if fmt == "zeek-intel":
        return {ZEEK_FILE: zeek_intel(entries)}
    if fmt == "suricata":
        return suricata_files(entries)
    if fmt == "rpz":
        return {RPZ_FILE: rpz_zone(entries, serial=int(now.timestamp()), origin=origin).text}
    raise InvalidInput(f"unknown sensor format {fmt!r}: use {', '.join(SENSOR_FORMATS)}")


def export_sensor(
    ctx: Ctx,
    fmt: str,
    collections: list[IntelCollection],
    destination: str,
    max_tlp: Tlp = DEFAULT_MAX_TLP,
    origin: str = DEFAULT_ORIGIN,
) -> SensorExport:
    """A sensor format's files for the collections, audited (``intel.exported``)."""
    with reading_feed(ctx):
        found = sensor_entries(ctx, collections, max_tlp)
    entries, used, left_out = written(fmt, found, origin)
    files = render(fmt, entries, ctx.now(), origin)
    ctx.record(
        "intel.exported",
        fmt,
        collections=[c.alias for c in collections],
        count=used,
        left_out=left_out,
        max_tlp=max_tlp.label,
        destination=destination,
    )
    return SensorExport(files, used, left_out, max_tlp)


@dataclass(frozen=True)
class FeedFile:
    """One feed file as a sensor fetches it; ``text`` is empty when it had not changed."""

    name: str
    media_type: str
    etag: str
    changed: bool
    text: str


def feed_file(
    ctx: Ctx,
    feed: str,
    collection_ref: str | None = None,
    max_tlp: Tlp = DEFAULT_MAX_TLP,
    known: Collection[str] = (),
) -> FeedFile:
    """One feed (``zeek-intel``, ``suricata-rules``, ``suricata-md5``, ``-sha1``,
    ``-sha256`` or ``rpz``) for a sensor; unchanged when its fingerprint is ``known`` (or
    ``known`` holds ``*``).
    Each fetch is audited (``intel.feed.fetched``)."""
    require(ctx.who, Perm.INTEL_FEED)  # a feed is fetched with the feed scope, never without
    if feed not in FEEDS:
        raise NotFound(f"no feed {feed!r}: the feeds are {', '.join(FEEDS)}")
    with reading_feed(ctx):
        collections = readable_collections(ctx, collection_ref)
        found = sensor_entries(ctx, collections, max_tlp)
    fmt, name, media_type = FEEDS[feed]
    entries, used, left_out = written(fmt, found)
    etag = fingerprint(feed, entries)
    changed = etag not in known and "*" not in known
    text = render(fmt, entries, ctx.now()).get(name, "") if changed else ""
    ctx.record(
        "intel.feed.fetched",
        feed,
        collections=[c.alias for c in collections],
        count=used,
        left_out=left_out,
        max_tlp=max_tlp.label,
        changed=changed,
    )
    return FeedFile(name, media_type, etag, changed, text)
