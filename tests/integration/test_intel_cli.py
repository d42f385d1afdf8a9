"""``seawall intel`` through the real CLI translator: import, export, search and bad input."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seawall.core import audit
from seawall.core.node import Node
from seawall.intel.tlp import Tlp, marking_id
from seawall.intel.validation import format_timestamp
from seawall.settings import load_settings
from tests.cli import run_seawall as sw

STAMP = "2026-11-20T10:00:00.000Z"


def indicator(n: int, value: str, tlp: Tlp | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"indicator {n}",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        **extra,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_id(tlp)]
    return obj


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def write(path: Path, document: Any) -> Path:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert sw(h, "init", "--nation", "JM").code == 0
    made = sw(
        h,
        "intel",
        "collection",
        "create",
        "phish",
        "--audience",
        "CARICOM",
        "--tlp",
        "green",
        "--json",
    )
    assert made.code == 0, made.err
    return h


def audited(home: Path) -> list[str]:
    """The actions in the node's audit log, newest first."""
    node = Node(load_settings(home=home))
    try:
        with node.unit(node.operator()) as ctx:
            return [e.action for e in audit.search(ctx.db, audit.AuditFilter(limit=50))]
    finally:
        node.close()


def count_objects(home: Path) -> int:
    out = sw(home, "intel", "export", "--format", "stix", "--include-inactive")
    return len([o for o in out.json()["objects"] if o["type"] != "marking-definition"])


def test_collection_create_and_list(home: Path) -> None:
    org = sw(home, "org", "add", "JPS", "--kind", "cirt", "--json")
    assert org.code == 0, org.err
    org_id = org.json()["id"]
    martians = sw(home, "intel", "collection", "create", "x-files", "--audience", "MARTIANS")
    assert martians.code == 65 and "'MARTIANS' is not a region group" in martians.err
    made = sw(
        home,
        "intel",
        "collection",
        "create",
        "jm-grid",
        "--audience",
        f"JM,org:{org_id}",
        "--tlp",
        "amber",
        "--title",
        "Grid",
        "--json",
    )
    assert made.code == 0, made.err
    assert made.json()["audience"]["nations"] == ["JM"]
    assert made.json()["audience"]["organisations"] == [org_id]
    listed = sw(home, "intel", "collection", "list", "--json").json()
    assert [(c["alias"], c["default_tlp"]) for c in listed] == [
        ("jm-grid", "amber"),
        ("phish", "green"),
    ]
    table = sw(home, "intel", "collection", "list")
    assert "jm-grid" in table.out and "CARICOM" in table.out
    again = sw(home, "intel", "collection", "create", "phish")
    assert again.code == 73 and len(again.err_lines) == 1 and "already exists" in again.err


def test_bad_audience_and_tlp_are_one_line_each(home: Path) -> None:
    bad = sw(home, "intel", "collection", "create", "x-y", "--audience", "planet:mars")
    assert bad.code == 65 and len(bad.err_lines) == 1 and "planet:mars" in bad.err
    worse = sw(home, "intel", "collection", "create", "x-y", "--tlp", "purple")
    assert worse.code == 65 and len(worse.err_lines) == 1 and "purple" in worse.err


def test_import_stix_then_search_and_export(home: Path, tmp_path: Path) -> None:
    # Exported by the real clock: valid from yesterday, so never decayed when the test runs.
    fresh = {"valid_from": format_timestamp(datetime.now(UTC) - timedelta(days=1))}
    path = write(
        tmp_path / "b.json",
        bundle(indicator(1, "c2.example", Tlp.AMBER, **fresh), indicator(2, "google.com", **fresh)),
    )
    done = sw(home, "intel", "import", str(path), "--collection", "phish", "--json")
    assert done.code == 0, done.err
    summary = done.json()
    assert (summary["format"], summary["added"], summary["total"]) == ("stix", 2, 2)
    assert [f["id"] for f in summary["flagged"]] == [indicator(2, "x")["id"]]
    found = sw(home, "intel", "search", "c2.example", "--json").json()["items"]
    assert [(f["id"], f["tlp"], f["status"]) for f in found] == [
        (indicator(1, "x")["id"], "TLP:AMBER", "active")
    ]
    assert "c2.example" in sw(home, "intel", "search", "c2.example").out
    stix = sw(home, "intel", "export", "--format", "stix", "--collection", "phish").json()
    assert stix["type"] == "bundle"
    assert {o["id"] for o in stix["objects"]} >= {indicator(1, "x")["id"], marking_id(Tlp.AMBER)}
    out = tmp_path / "misp.json"
    wrote = sw(home, "intel", "export", "--format", "misp", "-o", str(out))
    assert wrote.code == 0 and "1 events" in wrote.err
    (event,) = json.loads(out.read_text())["response"]
    values = {a["value"]: a for a in event["Event"]["Attribute"]}
    assert values["c2.example"]["Tag"][0] == {"name": "tlp:amber"}
    assert values["google.com"]["to_ids"] is False  # flagged by the warninglists
    # An export takes what the operator may read (AMBER here) off the node: both are audited.
    assert audited(home)[:2] == ["intel.exported", "intel.exported"]


def test_match_logs_lists_the_hits_and_records_sightings(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "c2.example", Tlp.AMBER)))
    assert sw(home, "intel", "import", str(path), "--collection", "phish").code == 0
    assert sw(home, "intel", "collection", "create", "seen", "--tlp", "green").code == 0
    log = tmp_path / "squid.log"
    log.write_text(
        "1796302933.120    134 10.0.0.7 TCP_MISS/200 1520 GET http://c2.example/beacon "
        "- HIER_DIRECT/198.51.100.7 text/html\n"
        "1796302934.120     12 10.0.0.8 TCP_MISS/200 99 GET http://quiet.example/ "
        "- HIER_DIRECT/192.0.2.10 text/html\n"
    )
    table = sw(home, "intel", "match", str(log))
    assert table.code == 0, table.err
    assert "Read 2 lines (squid) against 1 indicator: 1 matched" in table.err
    assert "c2.example" in table.out and "10.0.0.7" in table.out and "TLP:AMBER" in table.out
    done = sw(home, "intel", "match", str(log), "--collection", "seen", "--json")
    assert done.code == 0, done.err
    (hit,) = done.json()["matched"]
    assert (hit["count"], hit["sources"], hit["formats"]) == (1, {"10.0.0.7": 1}, ["squid"])
    assert hit["first_seen"] == "2026-12-03T13:02:13.120000Z"
    (sighting_id,) = done.json()["recorded"]
    found = sw(home, "intel", "search", sighting_id, "--json").json()["items"]
    assert [(f["type"], f["tlp"]) for f in found] == [("sighting", "TLP:AMBER")]
    again = sw(home, "intel", "match", str(log), "--collection", "seen", "--json").json()
    assert again["recorded"] == [] and again["already_recorded"] == [sighting_id]
    case = sw(home, "intel", "case", "open", "Beacon", "--collection", "seen", "--json").json()
    for _ in range(2):  # linking again adds nothing
        linked = sw(
            home,
            "intel",
            "match",
            str(log),
            "--collection",
            "seen",
            "--case",
            case["id"],
            "--json",
        )
        assert linked.code == 0 and linked.json()["case"] == case["id"]
    shown = sw(home, "intel", "case", "show", case["id"], "--json").json()
    assert [(e["target"], e["text"]) for e in shown["timeline"]] == [
        (sighting_id, "matched in squid logs")
    ]
    alone = sw(home, "intel", "match", str(log), "--case", case["id"])
    assert alone.code == 65 and "--collection" in alone.err
    # A pipe works too, compressed or not: `zcat squid.log.gz | seawall intel match -`.
    for data in (log.read_bytes(), gzip.compress(log.read_bytes())):
        piped = sw(home, "intel", "match", "-", "--json", stdin=data)
        assert piped.code == 0, piped.err
        assert piped.json()["files"] == {"stdin": "squid"} and piped.json()["lines"] == 2
        assert piped.json()["bytes"] == len(data)
        assert [h["count"] for h in piped.json()["matched"]] == [1]
    rows = sw(home, "intel", "sightings", "--json").json()["items"]
    assert [(r["name"], r["nations"], r["sightings"]) for r in rows] == [
        ("indicator 1", {"JM": 1}, 1)
    ]
    assert sw(home, "intel", "sightings", "--min-nations", "2", "--json").json()["items"] == []
    assert "JM (1)" in sw(home, "intel", "sightings").out
    actions = audited(home)
    assert actions.count("intel.logs.matched") == 7


def test_match_refuses_a_missing_log_and_an_unknown_format_in_one_line(
    home: Path, tmp_path: Path
) -> None:
    missing = sw(home, "intel", "match", str(tmp_path / "nope.log"))
    assert missing.code == 65 and len(missing.err_lines) == 1 and "nope.log" in missing.err
    folder = sw(home, "intel", "match", str(tmp_path))
    assert folder.code == 65 and "is not a file" in folder.err and len(folder.err_lines) == 1
    bad = sw(home, "intel", "match", str(tmp_path), "--format", "syslog-ng")
    assert bad.code == 2 and "syslog-ng" in bad.err
    capture = tmp_path / "capture.pcap"
    capture.write_bytes(bytes(range(256)) * 64)
    binary = sw(home, "intel", "match", str(capture))
    assert binary.code == 65 and len(binary.err_lines) == 1 and "binary data" in binary.err


def test_a_case_is_opened_linked_noted_and_closed_from_the_command_line(
    home: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "c2.example", Tlp.AMBER)))
    assert sw(home, "intel", "import", str(path), "--collection", "phish").code == 0
    opened = sw(
        home,
        "intel",
        "case",
        "open",
        "Refund lure",
        "--collection",
        "phish",
        "--type",
        "phishing",
        "--json",
    )
    assert opened.code == 0, opened.err
    case_id = opened.json()["id"]
    short = case_id.removeprefix("incident--")[:8]
    assert (opened.json()["status"], opened.json()["tlp"]) == ("new", "TLP:GREEN")
    linked = sw(home, "intel", "case", "link", short, indicator(1, "x")["id"], "--json")
    assert linked.code == 0, linked.err
    (link,) = linked.json()["timeline"]
    assert (link["kind"], link["tlp"]) == ("link", "TLP:AMBER")  # no looser than its target
    assert sw(home, "intel", "case", "note", short, "Blocked at the resolver").code == 0
    closed = sw(
        home,
        "intel",
        "case",
        "status",
        short,
        "--status",
        "closed",
        "--determination",
        "confirmed",
        "--json",
    )
    assert closed.code == 0 and closed.json()["status"] == "closed"
    shown = sw(home, "intel", "case", "show", short)
    assert "Blocked at the resolver" in shown.out and "closed, confirmed" in shown.out
    listed = sw(home, "intel", "case", "list", "--json").json()
    assert [(c["id"], len(c["timeline"])) for c in listed] == [(case_id, 2)]
    assert "Refund lure" in sw(home, "intel", "case", "list").out
    short_ref = sw(home, "intel", "case", "show", "abc")
    assert short_ref.code == 65 and len(short_ref.err_lines) == 1 and "too short" in short_ref.err
    missing = sw(home, "intel", "case", "link", short, "indicator--nope")
    assert missing.code == 66 and "indicator--nope" in missing.err
    nothing = sw(home, "intel", "case", "status", short)
    assert nothing.code == 65 and "--status" in nothing.err


def test_misp_event_feed_and_csv_import(home: Path, tmp_path: Path) -> None:
    event_uuid = "5f0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a"
    event = {
        "Event": {
            "uuid": event_uuid,
            "info": "Refund lure",
            "date": "2026-11-20",
            "timestamp": "1763640000",
            "distribution": "1",
            "Tag": [{"name": "tlp:green"}],
            "Orgc": {"name": "JaCIRT", "uuid": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
            "Attribute": [
                {
                    "uuid": "1c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c",
                    "type": "ip-dst",
                    "value": "45.77.12.9",
                    "to_ids": True,
                    "timestamp": "1763640000",
                }
            ],
        }
    }
    single = write(tmp_path / "event.json", event)
    done = sw(home, "intel", "import", str(single), "--collection", "phish", "--json")
    assert done.code == 0, done.err
    assert (done.json()["format"], done.json()["added"]) == ("misp", 3)  # identity, ip, report
    feed = tmp_path / "feed"
    feed.mkdir()
    other = "6a0c8a2e-8f4b-4c5a-9a63-0c1f2d3e4b5a"
    event["Event"]["uuid"] = other
    event["Event"]["Attribute"][0]["uuid"] = "2c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c"
    write(feed / f"{other}.json", event)
    write(feed / "manifest.json", {other: {"info": "Refund lure"}})
    fed = sw(home, "intel", "import", str(feed), "--collection", "phish", "--json")
    assert fed.code == 0, fed.err
    assert (fed.json()["format"], fed.json()["added"], fed.json()["duplicates"]) == (
        "misp-feed",
        2,
        1,
    )  # the identity is the same one
    csv = write(
        tmp_path / "attrs.csv",
        "uuid,event_id,category,type,value,comment,to_ids,date,"
        "object_relation,attribute_tag,object_uuid,object_name,object_meta_category\n"
        "3c4e7a52-6d3b-4f0a-b1c2-3d4e5f6a7b8c,7,Network activity,domain,lure.example,,1,"
        "1763640000,,tlp:amber,,,\n",
    )
    done = sw(home, "intel", "import", str(csv), "--collection", "phish", "--json")
    assert (done.code, done.json()["format"], done.json()["added"]) == (0, "csv", 1)
    (hit,) = sw(home, "intel", "search", "lure.example", "--json").json()["items"]
    assert hit["tlp"] == "TLP:AMBER"
    # The event's address is a year old: decayed, so only --include-inactive hands it on.
    exported = sw(home, "intel", "export", "--format", "misp", "--include-inactive").json()
    exported = exported["response"]
    first = next(e["Event"] for e in exported if e["Event"]["uuid"] == event_uuid)
    assert first["info"] == "Refund lure" and first["Orgc"]["name"] == "JaCIRT"
    (attr,) = first["Attribute"]
    assert (attr["type"], attr["value"], attr["Tag"][0]["name"]) == (
        "ip-dst",
        "45.77.12.9",
        "tlp:green",
    )


def test_malformed_json_is_one_line_and_stores_nothing(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "broken.json", '{"type": "bundle", "objects": [')
    result = sw(home, "intel", "import", str(path), "--collection", "phish")
    assert result.code == 65
    assert result.err_lines == [result.err_lines[0]] and "not valid JSON" in result.err
    assert "nothing was imported" in result.err
    assert count_objects(home) == 0


def test_a_bundle_given_as_misp_is_one_line_and_stores_nothing(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "c2.example")))
    result = sw(home, "intel", "import", str(path), "--format", "misp", "--collection", "phish")
    assert result.code == 65 and len(result.err_lines) == 1
    assert "STIX bundle, not a MISP event" in result.err and "--format stix" in result.err
    assert count_objects(home) == 0
    envelope = write(tmp_path / "e.json", {"objects": [indicator(1, "c2.example")]})
    taken = sw(home, "intel", "import", str(envelope), "--collection", "phish", "--json")
    assert taken.code == 0 and taken.json()["added"] == 1  # STIX import reads envelopes too


def test_unknown_marking_and_bad_pattern_are_refused_and_the_rest_kept(
    home: Path, tmp_path: Path
) -> None:
    unknown = indicator(1, "a.example")
    unknown["object_marking_refs"] = ["marking-definition--11111111-2222-4333-8444-555555555555"]
    broken = indicator(2, "b.example")
    broken["pattern"] = "[domain-name:value = 'b.example' AND ]"
    good = indicator(3, "c.example")
    path = write(tmp_path / "b.json", bundle(unknown, broken, good))
    result = sw(home, "intel", "import", str(path), "--collection", "phish")
    assert result.code == 65
    rejected = [line for line in result.err_lines if line.startswith("rejected")]
    assert len(rejected) == 2
    (marking,) = [line for line in rejected if unknown["id"] in line]
    assert "unknown marking" in marking
    (pattern,) = [line for line in rejected if broken["id"] in line]
    assert "'pattern' does not parse" in pattern
    assert "1 added" in result.err_lines[0]
    assert count_objects(home) == 1


def test_a_duplicate_is_reported_and_not_added_again(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "a.example"), indicator(1, "a.example")))
    first = sw(home, "intel", "import", str(path), "--collection", "phish", "--json")
    assert first.code == 0 and (first.json()["added"], first.json()["duplicates"]) == (1, 1)
    second = sw(home, "intel", "import", str(path), "--collection", "phish")
    assert second.code == 0 and "0 added, 2 already there" in second.err
    assert count_objects(home) == 1


def test_unknown_collection_and_missing_file(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "a.example")))
    missing = sw(home, "intel", "import", str(path), "--collection", "nope")
    assert missing.code == 66 and len(missing.err_lines) == 1
    absent = sw(home, "intel", "import", str(tmp_path / "none.json"), "--collection", "phish")
    assert absent.code == 66 and "does not exist" in absent.err


def test_import_is_audited(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(indicator(1, "a.example")))
    assert sw(home, "intel", "import", str(path), "--collection", "phish").code == 0
    actions = audited(home)
    assert "intel.import.completed" in actions and "intel.objects.added" in actions
