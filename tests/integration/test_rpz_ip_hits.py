"""An rpz-ip hit in a real Unbound's log is the name asked for and an address it resolved to:
it proves a ``domain|ip`` pair, and still matches the plain address exactly once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seawall.intel.tlp import Tlp
from seawall.intel.validation import format_timestamp
from tests.cli import init_node, run_seawall
from tests.stix import indicator, sid
from tests.unbound import ask, running_unbound

# Matched by the real clock (Unbound stamps its log with it): valid from yesterday.
STAMP = format_timestamp(datetime.now(UTC) - timedelta(days=1))
PAIR = "[domain-name:value = '{}' AND domain-name:resolves_to_refs[*].value = '{}']"
INDICATORS = [
    indicator(1, "[ipv4-addr:value = '45.77.1.9']", Tlp.GREEN, stamp=STAMP),
    indicator(2, PAIR.format("ipbad-site.net", "45.77.1.9"), Tlp.GREEN, stamp=STAMP),
    indicator(3, PAIR.format("other-site.net", "45.77.1.9"), Tlp.GREEN, stamp=STAMP),
    indicator(4, "[ipv6-addr:value = '2a0b:4d07:33::5']", Tlp.GREEN, stamp=STAMP),
    indicator(5, PAIR.format("v6bad.net", "2a0b:4d07:33::5"), Tlp.GREEN, stamp=STAMP),
]
UPSTREAM = """$ORIGIN net.
$TTL 300
@ SOA localhost. hostmaster.localhost. 1 3600 600 86400 300
@ NS localhost.
ipbad-site A 45.77.1.9
v6bad AAAA 2a0b:4d07:33::5
fine-site A 192.0.2.12
"""


def test_an_unbound_rpz_ip_hit_proves_the_pair_and_matches_the_address_once(
    tmp_path: Path,
) -> None:
    home = init_node(tmp_path / "node")
    assert run_seawall(home, "intel", "collection", "create", "phish").code == 0
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": INDICATORS})
    )
    assert run_seawall(home, "intel", "import", str(bundle), "--collection", "phish").code == 0
    zone = tmp_path / "seawall.rpz"
    exported = run_seawall(home, "intel", "export", "--format", "rpz", "-o", str(zone))
    assert exported.code == 0, exported.output
    triggers = sorted(line for line in zone.read_text().splitlines() if line.endswith("CNAME ."))
    assert triggers == ["128.5.zz.33.4d07.2a0b.rpz-ip CNAME .", "32.9.1.77.45.rpz-ip CNAME ."]
    with running_unbound(tmp_path, UPSTREAM) as port:
        assert ask(port, "fine-site.net", "A")[0] == "NOERROR"
        assert ask(port, "ipbad-site.net", "A")[0] == "NXDOMAIN"
        assert ask(port, "v6bad.net", "AAAA")[0] == "NXDOMAIN"
    log = tmp_path / "unbound.log"
    hits = [line for line in log.read_text().splitlines() if "rpz: applied" in line]
    assert [line.split("rpz: applied ")[1].split(" rpz-nxdomain ")[0] for line in hits] == [
        "[seawall] 45.77.1.9/32",
        "[seawall] 2a0b:4d07:33::5/128",
    ]
    matched = run_seawall(home, "intel", "match", str(log), "--format", "rpz", "--json")
    assert matched.code == 0, matched.output
    report = matched.json()
    assert report["files"] == {str(log): "rpz"}
    assert {(m["indicator"], m["count"]) for m in report["matched"]} == {
        (sid("indicator", 1), 1),  # the address, once for its one record
        (sid("indicator", 2), 1),  # the name asked for and the address it resolved to
        (sid("indicator", 4), 1),
        (sid("indicator", 5), 1),
    }
