"""Indicator decay: a score that falls with age and is restored by sightings.

After MISP's decaying models (the polynomial model). An indicator's score is

    score(t) = base * (1 - (t / tau) ** (1 / delta))    for 0 <= t < tau, and 0 from tau on

where ``t`` is the indicator's age: the time since the newer of its ``valid_from`` and
its last sighting (a sighting resets the clock, as in MISP), ``tau`` the lifetime of
its kind of observable and ``delta`` the decay speed (above 1 the score falls fast at
first, below 1 it holds and then falls near the end of the lifetime). ``base`` is the
indicator's STIX ``confidence`` (0 to 100), or 100 when it has none: MISP's base score.

An indicator is **live** (in force: matched and exported) when it is not revoked, now
is inside ``valid_from``..``valid_until``, and, unless it carries its own
``valid_until``, its score is at least :data:`THRESHOLD`. An explicit ``valid_until``
is the source's or an analyst's word on when it ends, and it wins over the model.
MISP's ``osint:lifetime="perpetual"`` label turns decay off: the score stays at its base.

The per-kind models (:data:`MODELS`) and the formula are in docs/intel.md ("Decay").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from seawall.intel.errors import InvalidStixObject
from seawall.intel.quality import Status, status_of
from seawall.intel.validation import parse_timestamp

BASE = 100.0
THRESHOLD = 30.0
PERPETUAL = 'osint:lifetime="perpetual"'


@dataclass(frozen=True)
class Model:
    """A polynomial decay model: ``lifetime`` (tau) and ``speed`` (delta)."""

    kind: str
    lifetime: timedelta
    speed: float

    def score(self, age: timedelta, base: float = BASE) -> float:
        """The score after ``age`` without a sighting: ``base`` at 0, falling to 0 at tau."""
        if age <= timedelta(0):
            return base
        if age >= self.lifetime:
            return 0.0
        fraction = age / self.lifetime
        return max(0.0, min(base, base * (1.0 - math.pow(fraction, 1.0 / self.speed))))

    def live_for(self, threshold: float = THRESHOLD, base: float = BASE) -> timedelta:
        """How long after its last evidence an indicator stays at or above ``threshold``."""
        if threshold <= 0:
            return self.lifetime
        if threshold > base:
            return timedelta(0)
        return self.lifetime * math.pow(1.0 - threshold / base, self.speed)


_DAY = timedelta(days=1)
# Addresses are re-assigned and fall fast; a file's hash names that file for ever.
ADDRESS = Model("address", 60 * _DAY, 2.0)
URL = Model("url", 90 * _DAY, 1.0)
NAME = Model("name", 180 * _DAY, 1.0)
ARTEFACT = Model("artefact", 1825 * _DAY, 0.5)
OTHER = Model("other", 365 * _DAY, 1.0)
MODELS: dict[str, Model] = {
    "ipv4-addr": ADDRESS,
    "ipv6-addr": ADDRESS,
    "network-traffic": ADDRESS,
    "mac-addr": ADDRESS,
    "url": URL,
    "domain-name": NAME,
    "email-addr": NAME,
    "email-message": NAME,
    "user-account": NAME,
    "autonomous-system": NAME,
    "file": ARTEFACT,
    "artifact": ARTEFACT,
    "mutex": ARTEFACT,
    "windows-registry-key": ARTEFACT,
    "x509-certificate": ARTEFACT,
    "process": ARTEFACT,
    "software": ARTEFACT,
    "directory": ARTEFACT,
}
"""The decay model of each STIX observable type; any other pattern decays as :data:`OTHER`."""

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_OBJECT_TYPE = re.compile(r"([a-z][a-z0-9-]*):[A-Za-z_]")


def model_for(obj: Mapping[str, Any]) -> Model:
    """The model of an indicator: its observable type's, the shortest-lived when it has several."""
    pattern = obj.get("pattern")
    if obj.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str):
        return OTHER
    return _model_of(pattern)


@lru_cache(maxsize=1024)  # is_live and changes_at ask for one indicator's model in turn
def _model_of(pattern: str) -> Model:
    found = {MODELS.get(t, OTHER) for t in _OBJECT_TYPE.findall(_QUOTED.sub("''", pattern))}
    return min(found, key=lambda m: m.live_for(), default=OTHER)


def _time(obj: Mapping[str, Any], prop: str) -> datetime | None:
    value = obj.get(prop)
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value, str(obj.get("id", "")), prop)
    except InvalidStixObject:
        return None


def base_of(obj: Mapping[str, Any]) -> float:
    """An indicator's base score: its STIX ``confidence`` (an integer from 0 to 100), else
    :data:`BASE`. An indicator trusted less starts lower and leaves force sooner."""
    confidence = obj.get("confidence")
    if isinstance(confidence, int) and not isinstance(confidence, bool) and 0 <= confidence <= 100:
        return float(confidence)
    return BASE


# How far ahead of this node's clock a sighting may be dated and still count (as now): a
# partner's clock may run a little fast, but a sighting dated next year is no evidence.
SKEW = timedelta(hours=1)


def last_evidence(obj: Mapping[str, Any], now: datetime, last_sighted: datetime | None) -> datetime:
    """When the indicator's age starts: the newer of ``valid_from`` and its last sighting
    (a sighting up to :data:`SKEW` after ``now`` counts as ``now``; a later one not at all)."""
    start = _time(obj, "valid_from") or _time(obj, "created") or now
    if last_sighted is not None and last_sighted <= now + SKEW:
        start = max(start, min(last_sighted, now))
    return start


def score(obj: Mapping[str, Any], now: datetime, last_sighted: datetime | None = None) -> float:
    """The indicator's decay score at ``now``, from 0 to its base (:func:`base_of`).

    A revoked object scores 0; an object that is not an indicator scores :data:`BASE`,
    and an indicator labelled perpetual its base.
    """
    if obj.get("revoked") is True:
        return 0.0
    if obj.get("type") != "indicator":
        return BASE
    if PERPETUAL in (obj.get("labels") or ()):
        return base_of(obj)
    return model_for(obj).score(now - last_evidence(obj, now, last_sighted), base_of(obj))


def is_live(
    obj: Mapping[str, Any],
    now: datetime,
    last_sighted: datetime | None = None,
    threshold: float = THRESHOLD,
) -> bool:
    """Whether an object is in force at ``now``: matched, and handed on by the exports.

    Not revoked, inside its validity window, and (for an indicator without its own
    ``valid_until``) scoring at least ``threshold``.
    """
    if status_of(obj, now) is not Status.ACTIVE:
        return False
    if obj.get("type") != "indicator" or isinstance(obj.get("valid_until"), str):
        return True
    return score(obj, now, last_sighted) >= threshold


def live_until(
    obj: Mapping[str, Any], last_sighted: datetime | None = None, threshold: float = THRESHOLD
) -> datetime | None:
    """When an indicator stops being in force: its own ``valid_until``, else the moment its
    score falls below ``threshold`` (its last evidence plus :meth:`Model.live_for` from its
    base); None when it never does (not an indicator, labelled perpetual with a base at
    or over the threshold, or no time to start from).

    A matcher that checks each log record's time against ``valid_from``..``live_until``
    leaves decayed indicators out of today's logs and still finds them in older ones.
    """
    until = _time(obj, "valid_until")
    if until is not None or obj.get("type") != "indicator":
        return until
    base = base_of(obj)
    start = _time(obj, "valid_from") or _time(obj, "created")
    if PERPETUAL in (obj.get("labels") or ()):
        return None if base >= threshold else start
    if start is None:
        return None
    if last_sighted is not None:
        start = max(start, last_sighted)
    return start + model_for(obj).live_for(threshold, base)


# live_until and is_live round the decay boundary apart by well under this.
ROUNDING = timedelta(seconds=1)


def changes_at(
    obj: Mapping[str, Any], now: datetime, last_sighted: datetime | None = None
) -> datetime | None:
    """The first moment after ``now`` at which :func:`is_live` may answer otherwise while
    nothing is written (its window opens or closes, its score falls below the threshold),
    a little early for the rounded boundary; None when it never does."""
    if obj.get("revoked") is True:
        return None
    moments = (_time(obj, "valid_from"), _time(obj, "valid_until"), live_until(obj, last_sighted))
    return min((t - ROUNDING for t in moments if t is not None and t > now), default=None)


def counts_from(obj: Mapping[str, Any]) -> datetime | None:
    """When a sighting starts to count as evidence (:func:`last_sightings`): :data:`SKEW`
    before it is dated; None for a sighting that never does."""
    when = _sighted_at(obj)
    return when - SKEW if when is not None and is_evidence(obj) else None


def _sighted_at(obj: Mapping[str, Any]) -> datetime | None:
    return _time(obj, "last_seen") or _time(obj, "first_seen") or _time(obj, "created")


def is_evidence(obj: Mapping[str, Any]) -> bool:
    """Whether an object is a sighting that says its indicator was seen in use.

    MISP false-positive and expiration sightings (``x_misp_sighting_type`` 1 and 2) are
    not: they say the indicator was wrong, or is over.
    """
    return obj.get("type") == "sighting" and str(obj.get("x_misp_sighting_type", "0")) == "0"


def last_sightings(
    objects: Iterable[Mapping[str, Any]], now: datetime | None = None
) -> dict[str, datetime]:
    """The newest sighting time of each indicator among STIX ``sighting`` objects (with
    ``now``, leaving out those dated more than :data:`SKEW` after it).

    Only sightings that are evidence of use count (:func:`is_evidence`).
    """
    newest: dict[str, datetime] = {}
    for obj in objects:
        if not is_evidence(obj):
            continue
        target = obj.get("sighting_of_ref")
        when = _sighted_at(obj)
        if now is not None and when is not None and when > now + SKEW:
            continue  # dated in the future: no evidence (see last_evidence)
        if isinstance(target, str) and when is not None:
            newest[target] = max(when, newest.get(target, when))
    return newest


def live_for_days(threshold: float = THRESHOLD) -> dict[str, float]:
    """How many days each model keeps an unsighted indicator live (docs/intel.md's table)."""
    models = dict.fromkeys([*MODELS.values(), OTHER])
    return {m.kind: round(m.live_for(threshold) / _DAY, 1) for m in models}
