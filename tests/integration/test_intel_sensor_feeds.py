"""Sensor exports end to end: the CLI writes them, real consumers accept them (named-checkzone,
Unbound, suricataparser), a sensor fetches them by URL with a token, and the engines' logs
come back as sightings."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import suricataparser

from seawall.core import audit
from seawall.intel.tlp import Tlp
from seawall.intel.validation import format_timestamp
from tests.cli import run_seawall as sw
from tests.nations import NationNode, serve_nation
from tests.stix import indicator, sid
from tests.unbound import ask, running_unbound

# Exported, fed and matched by the real clock: dated from yesterday, so that none has
# decayed whenever the tests run (an address is in force about 29 days).
NOW = datetime.now(UTC)
STAMP = format_timestamp(NOW - timedelta(days=1))
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
PASSWORD = {"SEAWALL_USER_PASSWORD": "a-long-password"}


def ind(n: int, pattern: str, tlp: Tlp, **extra: Any) -> dict[str, Any]:
    return indicator(n, pattern, tlp, stamp=STAMP, **extra)


INDICATORS = [
    ind(1, "[domain-name:value = 'phish-kit.net']", Tlp.AMBER),
    ind(2, "[ipv4-addr:value = '45.77.1.9']", Tlp.GREEN),
    ind(3, f"[file:hashes.MD5 = '{MD5}']", Tlp.GREEN),
    ind(4, "[domain-name:value = 'eyes-only.net']", Tlp.RED),
    ind(
        5,
        "[domain-name:value = 'old-gate.net']",
        Tlp.GREEN,
        valid_until=format_timestamp(NOW - timedelta(hours=1)),
    ),
    ind(6, "[domain-name:value = 'gone-gate.net']", Tlp.GREEN, revoked=True),
    ind(7, "[domain-name:value = 'google.com']", Tlp.GREEN),
    ind(8, f"[file:name = 'kit.exe' AND file:hashes.MD5 = '{MD5}']", Tlp.GREEN),
    ind(9, "[url:value = 'http://phish-kit.net/login.php']", Tlp.GREEN),
]
TT_ONLY = ind(10, "[domain-name:value = 'tt-gate.net']", Tlp.GREEN)
ID = {n: sid("indicator", n) for n in range(1, 11)}
JM_ROWS = {
    ("phish-kit.net", "Intel::DOMAIN"),
    ("45.77.1.9", "Intel::ADDR"),
    (MD5, "Intel::FILE_HASH"),
    ("phish-kit.net/login.php", "Intel::URL"),
}


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NationNode]:
    home = tmp_path_factory.mktemp("sensors") / "node"
    served = serve_nation(home, "JM", "Jamaica")
    try:
        served.cli("intel", "collection", "create", "phish", "--audience", "CARICOM")
        bundle = home.parent / "bundle.json"
        bundle.write_text(
            json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": INDICATORS})
        )
        served.cli("intel", "import", str(bundle), "--collection", "phish")
        # A collection for Trinidad and Tobago only: the node operator holds it, JM's users
        # (and so their sensors' tokens) do not.
        served.cli("intel", "collection", "create", "tt-only", "--audience", "TT")
        other = home.parent / "tt.json"
        other.write_text(
            json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [TT_ONLY]})
        )
        served.cli("intel", "import", str(other), "--collection", "tt-only")
        yield served
    finally:
        served.stop()


def zeek_rows(text: str) -> set[tuple[str, str]]:
    lines = text.splitlines()
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    return {tuple(line.split("\t")[:2]) for line in lines[1:]}  # type: ignore[misc]


def test_zeek_intel_holds_the_live_indicators_under_the_sensor_ceiling(nation: NationNode) -> None:
    done = nation.cli("intel", "export", "--format", "zeek-intel", "--collection", "phish")
    assert zeek_rows(done.out) == JM_ROWS
    # Left out: RED (over the ceiling), google.com (warninglisted), the AND pattern.
    assert "4 indicators in force at or under TLP:AMBER+STRICT; 3 left out" in done.err
    everything = nation.cli("intel", "export", "--format", "zeek-intel")
    assert zeek_rows(everything.out) == JM_ROWS | {("tt-gate.net", "Intel::DOMAIN")}
    red = nation.cli(
        "intel", "export", "--format", "zeek-intel", "--collection", "phish", "--max-tlp", "red"
    )
    assert zeek_rows(red.out) - zeek_rows(done.out) == {("eyes-only.net", "Intel::DOMAIN")}


def test_suricata_export_writes_rules_and_the_lists_they_read(
    nation: NationNode, tmp_path: Path
) -> None:
    out = tmp_path / "suricata"
    nation.cli("intel", "export", "--format", "suricata", "--collection", "phish", "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["seawall-md5.list", "seawall.rules"]
    assert (out / "seawall-md5.list").read_text() == f"{MD5}\n"
    rules = suricataparser.parse_file(str(out / "seawall.rules"))
    ids = {
        dict(item.split(" ", 1) for item in o.value.data).get("seawall_id")
        for r in rules
        for o in r.options
        if o.name == "metadata"
    }
    assert ids == {ID[1], ID[2], ID[9], None}  # None: the hash-list rules
    assert len(rules) == 3 + 2 + 2 + 5
    refused = sw(nation.home, "intel", "export", "--format", "suricata")
    assert refused.code == 65 and "give -o DIRECTORY" in refused.err


def test_a_suricata_directory_that_cannot_take_every_file_gets_none(
    nation: NationNode, tmp_path: Path
) -> None:
    out = tmp_path / "suricata"
    (out / "seawall-md5.list").mkdir(parents=True)  # the rules would read a list never written
    args = ("intel", "export", "--format", "suricata", "--collection", "phish", "-o")
    refused = sw(nation.home, *args, str(out))
    assert refused.code == 65 and len(refused.err_lines) == 1, refused.err
    assert "seawall-md5.list" in refused.err
    assert [p.name for p in out.iterdir()] == ["seawall-md5.list"]  # no rules, no .partial
    nowhere = sw(nation.home, *args, "/proc/seawall-rules")  # a directory that cannot be made
    assert nowhere.code == 65 and len(nowhere.err_lines) == 1, nowhere.err
    assert "cannot write /proc/seawall-rules" in nowhere.err


# tools/ensure-services installs bind9-utils (CI too): a missing tool fails the test rather
# than skipping it.
CHECKZONE = shutil.which("named-checkzone") or "/usr/bin/named-checkzone"
UPSTREAM = """$ORIGIN net.
$TTL 300
@ SOA localhost. hostmaster.localhost. 1 3600 600 86400 300
@ NS localhost.
phish-kit A 192.0.2.10
*.phish-kit A 192.0.2.10
notphish-kit A 192.0.2.11
fine-site A 192.0.2.12
ipbad-site A 45.77.1.9
"""


def test_unbound_refuses_what_the_rpz_lists_and_its_log_comes_back_as_sightings(
    nation: NationNode, tmp_path: Path
) -> None:
    zone = tmp_path / "seawall.rpz"
    nation.cli("intel", "export", "--format", "rpz", "--collection", "phish", "-o", str(zone))
    checked = subprocess.run(
        [CHECKZONE, "rpz.seawall", str(zone)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout
    triggers = [line for line in zone.read_text().splitlines() if line.endswith("CNAME .")]
    assert triggers == [
        "*.phish-kit.net CNAME .",
        "32.9.1.77.45.rpz-ip CNAME .",
        "phish-kit.net CNAME .",
    ]
    with running_unbound(tmp_path, UPSTREAM) as port:
        assert ask(port, "fine-site.net") == ("NOERROR", ["fine-site.net. 300 IN A 192.0.2.12"])
        assert ask(port, "notphish-kit.net")[0] == "NOERROR"
        assert ask(port, "phish-kit.net") == ("NXDOMAIN", [])
        assert ask(port, "a.b.phish-kit.net") == ("NXDOMAIN", [])
        assert ask(port, "ipbad-site.net") == ("NXDOMAIN", [])
    log = tmp_path / "unbound.log"
    assert sum("rpz: applied" in line for line in log.read_text().splitlines()) == 3
    matched = json.loads(
        nation.cli("intel", "match", str(log), "--collection", "phish", "--json").out
    )
    assert matched["files"] == {str(log): "rpz"}
    assert {(m["indicator"], m["count"]) for m in matched["matched"]} == {(ID[1], 2), (ID[2], 1)}
    assert {m["sources"]["127.0.0.1"] for m in matched["matched"]} == {2, 1}
    bundle = json.loads(
        nation.cli("intel", "export", "--format", "stix", "--collection", "phish").out
    )
    sightings = {
        (o["sighting_of_ref"], o["count"]) for o in bundle["objects"] if o["type"] == "sighting"
    }
    assert sightings == {(ID[1], 2), (ID[2], 1)}


def test_a_sensor_polls_a_feed_with_a_token_and_an_etag(nation: NationNode) -> None:
    nation.cli("user", "add", "sensor-1", "--role", "viewer", env=PASSWORD)

    def token(*scopes: str) -> str:
        args = [a for s in scopes for a in ("--scope", s)]
        made = nation.cli(
            "token", "create", "--user", "sensor-1", "--name", "zeek", *args, "--json"
        )
        return str(json.loads(made.out)["token"])

    feed, reader = token("intel.feed"), token("intel.read")
    url = f"{nation.url}/api/v1/intel/feeds"
    with httpx.Client(headers={"Authorization": f"Bearer {feed}"}, timeout=30) as client:
        got = client.get(f"{url}/zeek-intel")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
        # What the token's user may read: not the collection for TT only.
        assert zeek_rows(got.text) == JM_ROWS
        etag = got.headers["etag"]
        again = client.get(f"{url}/zeek-intel", headers={"If-None-Match": etag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
        rpz = client.get(f"{url}/rpz")
        assert rpz.status_code == 200 and rpz.headers["content-type"].startswith("text/dns")
        assert "phish-kit.net CNAME ." in rpz.text.splitlines()
        assert (
            client.get(f"{url}/rpz", headers={"If-None-Match": rpz.headers["etag"]}).status_code
            == 304
        )
        assert client.get(f"{url}/suricata-md5").text == f"{MD5}\n"
        assert client.get(f"{url}/nonsense").status_code == 404
        # The token reads feeds only: TAXII and the rest of the store stay closed to it.
        assert client.get(f"{nation.url}/taxii2/api/collections/").status_code == 403
    assert httpx.get(f"{url}/zeek-intel", timeout=30).status_code == 401
    denied = httpx.get(
        f"{url}/zeek-intel", headers={"Authorization": f"Bearer {reader}"}, timeout=30
    )
    assert denied.status_code == 403
    with nation.node.unit(nation.node.operator()) as ctx:
        fetched = audit.search(ctx.db, audit.AuditFilter(action="intel.feed.fetched", limit=20))
    assert [(e.target, e.detail["changed"]) for e in reversed(fetched)] == [
        ("zeek-intel", True),
        ("zeek-intel", False),
        ("rpz", True),
        ("rpz", False),
        ("suricata-md5", True),
    ]
