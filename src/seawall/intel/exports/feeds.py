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
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from seawall.core.access import Perm, require
from seawall.core.context import Ctx
from seawall.db.models.intel import IntelCollection
from seawall.errors import InvalidInput, NotFound
from seawall.intel import decay
from seawall.intel.exports.entries import Entry, entries_of
from seawall.intel.exports.rpz import DEFAULT_ORIGIN, rpz_zone
from seawall.intel.exports.rpz import holds as rpz_holds
from seawall.intel.exports.selection import select_live
from seawall.intel.exports.suricata import HASH_LISTS, RULES_FILE, suricata_files
from seawall.intel.exports.suricata import holds as suricata_holds
from seawall.intel.exports.zeek import holds as zeek_holds
from seawall.intel.exports.zeek import zeek_intel
from seawall.intel.search import readable_collections
from seawall.intel.store.state import state_key
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


@dataclass(frozen=True)
class Chosen:
    """What a sensor file is made of: the entries, how many indicators they come from, how
    many live ones were left out, and the first moment after now at which the choice may
    differ though nothing is written (None: never)."""

    entries: list[Entry]
    indicators: int
    left_out: int
    changes: datetime | None


def sensor_entries(ctx: Ctx, collections: list[IntelCollection], max_tlp: Tlp) -> Chosen:
    """The entries of every live indicator at or under ``max_tlp``, and the indicators left
    out (above the ceiling, or not fit for a sensor: see
    :func:`~seawall.intel.exports.entries.skip_reason`)."""
    entries: list[Entry] = []
    used: set[str] = set()
    left_out: set[str] = set()
    moments: list[datetime] = []
    for collection in collections:
        selection = select_live(ctx, collection, ("indicator",))
        moments += [selection.changes] if selection.changes is not None else []
        for stored, body in selection.live:
            found = entries_of(body, collection.alias, stored.tlp) if stored.tlp <= max_tlp else []
            (used if found else left_out).add(stored.id)
            entries += found
    return Chosen(entries, len(used), len(left_out - used), min(moments, default=None))


def _holder(fmt: str, origin: str) -> Callable[[Entry], bool] | None:
    """Whether a format's files hold an entry; None for a format that is none of these."""
    if fmt == "rpz":
        return lambda entry: rpz_holds(entry, origin)
    return {"zeek-intel": zeek_holds, "suricata": suricata_holds}.get(fmt)


def written(fmt: str, chosen: Chosen, origin: str = DEFAULT_ORIGIN) -> Chosen:
    """:func:`sensor_entries` narrowed to what the format's files hold, counted again: an
    indicator none of whose values the format can hold counts as left out, not as
    exported (an RPZ holds names and addresses only, Zeek no endpoint, Suricata no e-mail
    address, and no format a name that is no DNS name)."""
    holds = _holder(fmt, origin)
    if holds is None:
        return chosen
    kept = [e for e in chosen.entries if holds(e)]
    listed = len({e.indicator for e in kept})
    return replace(
        chosen,
        entries=kept,
        indicators=listed,
        left_out=chosen.left_out + chosen.indicators - listed,
    )


# Bump when a format's text changes for the same entries, so sensors fetch it again.
RENDERING = "2"


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
        chosen = written(fmt, sensor_entries(ctx, collections, max_tlp), origin)
    files = render(fmt, chosen.entries, ctx.now(), origin)
    ctx.record(
        "intel.exported",
        fmt,
        collections=[c.alias for c in collections],
        count=chosen.indicators,
        left_out=chosen.left_out,
        max_tlp=max_tlp.label,
        destination=destination,
    )
    return SensorExport(files, chosen.indicators, chosen.left_out, max_tlp)


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

    An unchanged feed is known without reading the indicators while the store's state for
    the caller (:func:`~seawall.intel.store.state.state_key`) is the one its fingerprint
    was taken under and no indicator has come into or gone out of force since.
    Each fetch is audited (``intel.feed.fetched``)."""
    require(ctx.who, Perm.INTEL_FEED)  # a feed is fetched with the feed scope, never without
    if feed not in FEEDS:
        raise NotFound(f"no feed {feed!r}: the feeds are {', '.join(FEEDS)}")
    fmt, name, media_type = FEEDS[feed]
    now = ctx.now()
    with reading_feed(ctx):
        collections = readable_collections(ctx, collection_ref)
        key = _fed_key(ctx, feed, collections, max_tlp)
        fed = _recall(key, now)
        chosen = None
        if fed is None or (fed.etag not in known and "*" not in known):
            chosen = written(fmt, sensor_entries(ctx, collections, max_tlp))
            etag = fingerprint(feed, chosen.entries)
            fed = _remember(key, Fed(etag, chosen.indicators, chosen.left_out, chosen.changes))
    changed = fed.etag not in known and "*" not in known
    text = render(fmt, chosen.entries, now).get(name, "") if changed and chosen else ""
    ctx.record(
        "intel.feed.fetched",
        feed,
        collections=[c.alias for c in collections],
        count=fed.indicators,
        left_out=fed.left_out,
        max_tlp=max_tlp.label,
        changed=changed,
    )
    return FeedFile(name, media_type, fed.etag, changed, text)


@dataclass(frozen=True)
class Fed:
    """A feed's fingerprint, its counts, and when it may change though nothing is written."""

    etag: str
    indicators: int
    left_out: int
    changes: datetime | None


# The feeds last fingerprinted, by what they were taken under: a sensor polling a feed
# that has not changed costs a few aggregate queries, not a read of every indicator.
_FED: OrderedDict[str, Fed] = OrderedDict()
_FED_LOCK = threading.Lock()
FED_KEPT = 256


def _fed_key(ctx: Ctx, feed: str, collections: list[IntelCollection], max_tlp: Tlp) -> str:
    state = state_key(ctx, collections, ("indicator", "sighting"))
    where = ctx.db.get_bind().engine.url.render_as_string(hide_password=True)
    made = f"{RENDERING}\0{feed}\0{max_tlp.key}\0{decay.THRESHOLD}\0{where}\0{state}"
    return hashlib.sha256(made.encode()).hexdigest()


def _recall(key: str, now: datetime) -> Fed | None:
    with _FED_LOCK:
        fed = _FED.get(key)
        if fed is None or (fed.changes is not None and now >= fed.changes):
            return None
        _FED.move_to_end(key)
        return fed


def _remember(key: str, fed: Fed) -> Fed:
    with _FED_LOCK:
        _FED[key] = fed
        _FED.move_to_end(key)
        while len(_FED) > FED_KEPT:
            _FED.popitem(last=False)
    return fed
