"""Sample intelligence for the demo: collections with audiences and clearly labelled objects.

Every object is fictional, carries the label ``sample-data`` and says SAMPLE in its
name. Domains use the reserved ``.example`` top-level domain.

The samples are dated from a day (:func:`sample_day`), so that their indicators are in
force (:func:`seawall.intel.decay.is_live`) whenever they are loaded: an address decays
within a month. That day is the one the stored samples are dated from while they are still
in force, so loading again adds nothing (ids are derived from names, and the same versions
are found as duplicates); once they have decayed, it is today, and loading adds fresh
versions of them. Every version keeps the samples' first ``created``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.db.models import Organisation, Partner
from seawall.db.models.intel import IntelCollection
from seawall.intel import decay
from seawall.intel.audiences import Audience
from seawall.intel.cases import INCIDENT_CORE
from seawall.intel.collections import create_collection, get_collection
from seawall.intel.errors import CollectionNotFound, ObjectNotFound
from seawall.intel.identity import identity_id, nation_of_identity
from seawall.intel.provenance import receive
from seawall.intel.store.reading import Filters, get_object
from seawall.intel.store.writing import add_objects
from seawall.intel.tlp import Tlp, marking_id
from seawall.intel.validation import parse_timestamp

# The day the first samples were dated from: every later version keeps their ``created``.
FIRST_DAY = datetime(2026, 11, 18, tzinfo=UTC)
IDENTITY_DATE = "2026-09-14T08:00:00.000Z"  # the JaCIRT identity never changes
JACIRT = "Jamaica Cyber Incident Response Team (JaCIRT)"
_NS = uuid.UUID("0b6f4c0e-2f57-4d44-9a55-6a8f3f1d7c21")
LABEL = "sample-data"

COLLECTIONS: tuple[tuple[str, str, str, Audience, str], ...] = (
    (
        "caribbean-phishing",
        "Caribbean phishing campaigns",
        "Phishing infrastructure seen across the region, for every CARICOM CIRT.",
        Audience.of(groups=["CARICOM"]),
        "green",
    ),
    (
        "jm-critical-infrastructure",
        "Jamaica critical infrastructure",
        "Threats to Jamaican utilities and government networks; stays in Jamaica.",
        Audience.of(nations=["JM"]),
        "amber",
    ),
    (
        "public-advisories",
        "Public advisories",
        "Advisories any citizen or company may read.",
        Audience(),
        "clear",
    ),
)


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, name)}"


def _at(day: datetime, days: int, hours: int = 0, minutes: int = 0) -> str:
    """A STIX timestamp ``days`` (negative: before) and a time of day from ``day``."""
    return (day + timedelta(days=days, hours=hours, minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def _dated(day: datetime, days: int, hours: int = 0, minutes: int = 0) -> dict[str, str]:
    """``created`` (as first made) and ``modified`` (as of ``day``) of a sample object."""
    first = min(day, FIRST_DAY)
    return {
        "created": _at(first, days, hours, minutes),
        "modified": _at(day, days, hours, minutes),
    }


# The indicator that decays first (an address): the samples are in force while it is.
PROBE = ("jm-critical-infrastructure", "SCADA scanning source")


def sample_day(ctx: Ctx) -> datetime:
    """The day (midnight UTC) the samples are dated from: the stored samples' day while
    their shortest-lived indicator is in force, else today."""
    now = ctx.now()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    try:
        page = get_object(ctx, get_collection(ctx, PROBE[0]), _id("indicator", PROBE[1]), Filters())
    except (CollectionNotFound, ObjectNotFound):
        return today
    bodies = [stored.as_dict() for stored in page.objects]
    if not bodies or not decay.is_live(bodies[-1], now):
        return today
    start = parse_timestamp(str(bodies[-1]["valid_from"]), PROBE[1], "valid_from")
    return datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=2)


def _objects(day: datetime = FIRST_DAY) -> dict[str, list[dict[str, Any]]]:
    stamp, earlier, expired = _at(day, -2, 14, 30), _at(day, -65, 8), _at(day, -18)
    jacirt = _id("identity", "jacirt")
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": jacirt,
        "created": IDENTITY_DATE,
        "modified": IDENTITY_DATE,
        "name": "JaCIRT (SAMPLE)",
        "identity_class": "organization",
        "sectors": ["government"],
        "labels": [LABEL],
        "object_marking_refs": [marking_id(Tlp.CLEAR)],
    }

    def indicator(
        name: str, pattern: str, tlp: Tlp, description: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": _id("indicator", name),
            **_dated(day, -2, 14, 30),
            "created_by_ref": jacirt,
            "name": f"SAMPLE: {name}",
            "description": description,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": extra.pop("valid_from", stamp),
            "labels": [LABEL],
            "object_marking_refs": [marking_id(tlp)],
            **extra,
        }

    phishing = [
        indicator(
            "tax refund phishing domain",
            "[domain-name:value = 'taxrefund-gov-jm.example']",
            Tlp.GREEN,
            "Fictional look-alike of a tax portal used in a refund lure.",
        ),
        indicator(
            "credential harvesting URL",
            "[url:value = 'https://secure-login.ncb-verify.example/session']",
            Tlp.GREEN,
            "Fictional bank credential-harvesting page.",
        ),
        indicator(
            "phishing kit archive",
            "[file:hashes.'SHA-256' = "
            "'5f2b7c9e1d3a4b6c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d']",
            Tlp.AMBER,
            "Fictional hash of a phishing kit shared with Jamaican CIRT partners only.",
        ),
        indicator(
            "resolver abused by the kit",
            "[ipv4-addr:value = '8.8.8.8']",
            Tlp.GREEN,
            "A public resolver: MISP warninglists flag it as a likely false positive.",
        ),
        indicator(
            "retired mail relay",
            "[domain-name:value = 'relay-old.caribmail.example']",
            Tlp.GREEN,
            "Fictional relay, taken down; the indicator has expired.",
            valid_from=earlier,
            valid_until=expired,
        ),
        indicator(
            "mistaken sender domain",
            "[domain-name:value = 'notices-caribbean.example']",
            Tlp.GREEN,
            "Fictional domain reported in error and revoked by its sender.",
            revoked=True,
        ),
    ]
    report_phishing = {
        "type": "report",
        "spec_version": "2.1",
        "id": _id("report", "refund-lure"),
        **_dated(day, -2, 14, 30),
        "created_by_ref": jacirt,
        "name": "SAMPLE: Tax-refund phishing wave against Caribbean taxpayers",
        "description": "Fictional report for the demo.",
        "published": stamp,
        "report_types": ["threat-report"],
        "object_refs": [o["id"] for o in phishing],
        "labels": [LABEL],
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }
    grid = [
        indicator(
            "SCADA scanning source",
            "[ipv4-addr:value = '91.240.118.77']",
            Tlp.AMBER,
            "Fictional source of Modbus scans against a utility.",
        ),
        indicator(
            "ransomware loader",
            "[file:name = 'jps-invoice.pdf.exe' AND file:hashes.MD5 = "
            "'9e107d9d372bb6826bd81d3542a419d6']",
            Tlp.AMBER_STRICT,
            "Fictional loader seen at one organisation; stays inside it.",
        ),
        indicator(
            "ongoing incident C2",
            "[domain-name:value = 'upd-telemetry-grid.example']",
            Tlp.RED,
            "Fictional command-and-control domain in an open incident; named recipients only.",
        ),
    ]
    advisory = {
        "type": "report",
        "spec_version": "2.1",
        "id": _id("report", "patch-advisory"),
        **_dated(day, -2, 14, 30),
        "created_by_ref": jacirt,
        "name": "SAMPLE: Patch your VPN gateways now",
        "description": "Fictional public advisory for the demo.",
        "published": stamp,
        "report_types": ["threat-report"],
        "object_refs": [jacirt],
        "labels": [LABEL],
        "object_marking_refs": [marking_id(Tlp.CLEAR)],
    }
    return {
        "caribbean-phishing": [
            identity,
            *phishing,
            report_phishing,
            *_case(phishing[0]["id"], day),
        ],
        "jm-critical-infrastructure": [identity, *grid],
        "public-advisories": [identity, advisory],
    }


def load_sample_intel(ctx: Ctx, named_org: str | None = JACIRT) -> dict[str, int]:
    """Create the sample collections and objects; returns how many objects each gained.

    When the caller's nation has an organisation called ``named_org``, it is added to
    the audience of the Jamaican collection, which makes it a named recipient of the
    collection's TLP:RED sample.
    """
    added: dict[str, int] = {}
    objects = _objects(sample_day(ctx))
    org_id = None
    if named_org:
        org_id = ctx.db.scalar(
            select(Organisation.id).where(
                Organisation.nation == ctx.who.nation, Organisation.name == named_org
            )
        )
    for alias, title, description, audience, tlp in COLLECTIONS:
        collection: IntelCollection
        if org_id is not None and audience.nations == (ctx.who.nation,):
            audience = Audience.of(audience.nations, [org_id])
        try:
            collection = get_collection(ctx, alias)
        except CollectionNotFound:
            collection = create_collection(ctx, alias, title, audience, tlp, description)
        ours, theirs = _split_by_creator(objects[alias], ctx.who.nation)
        result = add_objects(ctx, collection, ours, request_id="samples")
        added[alias] = len(result.added)
        for nation, batch in theirs.items():
            # Another nation's objects arrive only from its node: stored as received from
            # a registered partner of that nation, or not at all.
            partner = ctx.db.scalar(
                select(Partner).where(Partner.nation == nation).order_by(Partner.name)
            )
            if partner is not None and not partner.disabled:
                got = receive(ctx, partner, collection, batch, request_id="samples")
                added[alias] += got.added
    return added


def _split_by_creator(
    objects: list[dict[str, Any]], nation: str
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """This nation's objects, and the other nations' by nation."""
    ours: list[dict[str, Any]] = []
    theirs: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        creator = nation_of_identity(obj.get("created_by_ref"))
        if creator is None or creator == nation:
            ours.append(obj)
        else:
            theirs.setdefault(creator, []).append(obj)
    return ours, theirs


def _case(lure: str, day: datetime) -> list[dict[str, Any]]:
    """A sample cross-border case: opened by Jamaica, with a note from Trinidad and Tobago."""
    incident = _id("incident", "refund-lure-case")
    green = [marking_id(Tlp.GREEN)]

    def note(name: str, nation: str, author: str, text: str, at: dict[str, str]) -> dict[str, Any]:
        return {
            "type": "note",
            "spec_version": "2.1",
            "id": _id("note", name),
            **at,
            "created_by_ref": identity_id(nation),
            "authors": [author],
            "content": text,
            "object_refs": [incident],
            "labels": [LABEL],
            "object_marking_refs": green,
        }

    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": _id("sighting", "refund-lure-case/proxy"),
        **_dated(day, -2, 14, 30),
        "created_by_ref": identity_id("JM"),
        "sighting_of_ref": lure,
        "first_seen": _at(day, -2, 9, 12),
        "last_seen": _at(day, -2, 14, 5),
        "count": 14,
        "where_sighted_refs": [identity_id("JM")],
        "description": "14 log records (squid) on JM networks matched the lure's domain",
        "labels": [LABEL],
        "object_marking_refs": green,
    }
    theirs = {
        **sighting,
        "id": _id("sighting", "refund-lure-case/tt-dns"),
        "created_by_ref": identity_id("TT"),
        "first_seen": _at(day, -2, 11, 40),
        "last_seen": _at(day, -1, 8, 55),
        "count": 5,
        "where_sighted_refs": [identity_id("TT")],
        "description": "5 log records (zeek) on TT networks matched the lure's domain",
    }
    return [
        sighting,
        theirs,
        {
            # A link to a sighting is a note naming both: STIX relationships may not name an SRO.
            "type": "note",
            "spec_version": "2.1",
            "id": _id("note", "refund-lure-case/proxy"),
            **_dated(day, -2, 14, 30),
            "created_by_ref": identity_id("JM"),
            "authors": ["JaCIRT analyst (SAMPLE)"],
            "content": "what the ministries' proxy saw",
            "object_refs": [incident, sighting["id"]],
            "labels": [LABEL],
            "object_marking_refs": green,
        },
        {
            "type": "incident",
            "spec_version": "2.1",
            "id": incident,
            **_dated(day, -2, 14, 30),
            "created_by_ref": identity_id("JM"),
            "name": "SAMPLE: tax-refund lure reported by two nations",
            "description": "Fictional case for the demo: ministries received the refund lure.",
            "labels": [LABEL],
            "object_marking_refs": green,
            "extensions": {
                INCIDENT_CORE: {
                    "extension_type": "property-extension",
                    "investigation_status": "open",
                    "determination": "confirmed",
                    "incident_types": ["phishing"],
                }
            },
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": _id("relationship", "refund-lure-case/lure"),
            **_dated(day, -2, 14, 30),
            "created_by_ref": identity_id("JM"),
            "relationship_type": "related-to",
            "source_ref": incident,
            "target_ref": lure,
            "description": "the lure's domain",
            "labels": [LABEL],
            "object_marking_refs": green,
        },
        note(
            "refund-lure-case/jm",
            "JM",
            "JaCIRT analyst (SAMPLE)",
            "Blocked at the national resolver; 14 ministry staff clicked.",
            _dated(day, -2, 15),
        ),
        note(
            "refund-lure-case/tt",
            "TT",
            "TT-CSIRT analyst (SAMPLE)",
            "Same lure in Port of Spain since Monday; two agencies hit.",
            _dated(day, -1, 9, 30),
        ),
    ]
