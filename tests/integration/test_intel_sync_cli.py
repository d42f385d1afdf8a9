"""``seawall intel partner`` and ``bundle`` through Click's runner, and the /intel/sync page."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result

from seawall.cli.main import cli
from seawall.core import partners, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.errors import InvalidPublicKey, PartnerDisabled
from seawall.core.federation.identity import load_node_key
from seawall.core.websessions import open_session
from seawall.intel.collections import Audience, create_collection
from seawall.intel.errors import BundleSignatureInvalid, BundleUnreadable
from seawall.intel.store import writing
from seawall.intel.tlp import Tlp, marking_id
from seawall.web.app import create_app
from tests.conftest import EPOCH, make_node, serve_in_thread

STAMP = "2026-11-01T10:00:00.000Z"


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], env={"SEAWALL_HOME": ""})


def indicator(n: int, tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'cli/{n}')}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[url:value = 'http://bad{n}.example/']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [marking_id(tlp)],
    }


def test_key_link_bundle_export_import_and_status_from_the_command_line(tmp_path: Path) -> None:
    jm = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    tt = make_node(tmp_path / "tt", None, FrozenClock(EPOCH), "TT")
    jm_home, tt_home = jm.settings.home, tt.settings.home
    with jm.unit(jm.operator()) as ctx:
        shared = Audience.of(partners=["tt-node"])
        row = create_collection(ctx, "shared", audience=shared, default_tlp="green")
        writing.add_objects(ctx, row, [indicator(1, Tlp.GREEN), indicator(2, Tlp.RED)])
        partners.add_partner(ctx, "tt-node", "TT", "http://127.0.0.1:9", max_tlp="amber")
    with tt.unit(tt.operator()) as ctx:
        partners.add_partner(ctx, "jm-node", "JM", "http://127.0.0.1:9")
    jm.close()
    tt.close()

    shown = run(jm_home, "intel", "partner", "key", "--json")
    assert shown.exit_code == 0, shown.output
    key = json.loads(shown.stdout)
    assert key["public_key"] == load_node_key(jm.settings).public_text
    assert run(jm_home, "intel", "partner", "key").stdout.strip() == key["public_key"]

    linked = run(tt_home, "intel", "partner", "link", "jm-node", "--public-key", key["public_key"])
    assert linked.exit_code == 0, linked.output
    bad = run(tt_home, "intel", "partner", "link", "jm-node", "--public-key", "ed25519:AAAA")
    # The runner bypasses main()'s translator, so the typed error itself comes back.
    assert isinstance(bad.exception, InvalidPublicKey) and bad.exception.exit_code == 65

    out = tmp_path / "to-tt.swb"
    made = run(jm_home, "intel", "bundle", "export", "--to", "tt-node", "--out", str(out), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["objects"] == 1  # the GREEN indicator
    assert json.loads(made.stdout)["withheld"] == 1  # RED stays home
    got = run(tt_home, "intel", "bundle", "import", str(out), "--json")
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["added"] == 2  # with JM's identity

    tampered = tmp_path / "tampered.swb"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    refused = run(tt_home, "intel", "bundle", "import", str(tampered))
    assert isinstance(refused.exception, (BundleUnreadable, BundleSignatureInvalid))

    # A disabled partner exchanges nothing, bundles included, until it is enabled again.
    assert run(tt_home, "partner", "disable", "jm-node").exit_code == 0
    again = run(tt_home, "intel", "bundle", "import", str(out))
    assert isinstance(again.exception, PartnerDisabled)
    assert "enable it with `seawall partner enable jm-node`" in str(again.exception)
    assert run(jm_home, "partner", "disable", "tt-node").exit_code == 0
    unsent = run(jm_home, "intel", "bundle", "export", "--to", "tt-node", "--out", str(out))
    assert isinstance(unsent.exception, PartnerDisabled)
    skipped = json.loads(run(jm_home, "intel", "partner", "sync", "tt-node", "--json").stdout)
    assert skipped[0]["skipped"] == "disabled"
    assert run(jm_home, "partner", "enable", "tt-node").exit_code == 0
    assert run(tt_home, "partner", "enable", "jm-node").exit_code == 0
    assert run(tt_home, "intel", "bundle", "import", str(out), "--json").exit_code == 0

    # A partner with no token: the pass fails clearly, and status shows why.
    synced = run(jm_home, "intel", "partner", "sync", "--json")
    assert synced.exit_code == 69
    [report] = json.loads(synced.stdout)
    assert report["error_code"] == "partner_not_linked"
    status = run(jm_home, "intel", "partner", "status", "--json")
    [row] = json.loads(status.stdout)
    assert (row["name"], row["linked"], row["last_error_code"]) == (
        "tt-node",
        False,
        "partner_not_linked",
    )
    assert run(jm_home, "intel", "partner", "status").exit_code == 0


def test_the_sync_page_lists_partners_with_queue_and_last_error(tmp_path: Path) -> None:
    node = make_node(tmp_path / "jm", None, FrozenClock(EPOCH), "JM")
    with node.unit(node.operator()) as ctx:
        partners.add_partner(ctx, "tt-node", "TT", "http://127.0.0.1:9")
        user = users.add_user(ctx, "viewer-jm", "viewer", password="a-long-password-1")
        session = open_session(ctx, user, timedelta(hours=1))
    run(node.settings.home, "intel", "partner", "sync")  # fails: no token stored
    live = serve_in_thread(create_app(node=node))
    try:
        page = httpx.get(f"{live.url}/intel/sync", cookies={"seawall_session": session.cookie})
        assert page.status_code == 200
        assert 'data-partner="tt-node"' in page.text
        assert "has no API token stored" in page.text
        assert "0 waiting" in page.text
        assert load_node_key(node.settings).public_text in page.text
        proof = httpx.get(
            f"{live.url}/api/v1/intel/sync/identity", params={"challenge": "c" * 20}
        ).json()
        assert proof["nation"] == "JM" and proof["public_key"].startswith("ed25519:")
    finally:
        live.stop()
        node.close()
