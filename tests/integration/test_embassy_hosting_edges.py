"""The host's edges: ``seawall embassy host`` makes, lists, shows and extends agreements, and
the hosting page shows each guest's usage and what was refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from seawall.core import partners, tokens, users
from seawall.core.clock import FrozenClock
from seawall.core.federation.identity import load_node_key
from seawall.embassy.hosting import agreements, objects
from seawall.embassy.hosting.store import HostedBlobs, hosted_root
from seawall.web.app import create_app
from tests.cli import init_node, run_seawall
from tests.conftest import EPOCH, make_node, serve_in_thread, sign_in_by_form


def test_the_host_admin_makes_and_extends_an_agreement_but_shortens_only_with_a_reason(
    tmp_path: Path,
) -> None:
    home = init_node(tmp_path / "tt", "TT")
    made = run_seawall(
        home, "partner", "add", "jm-node", "--nation", "JM", "--url", "https://jm.example"
    )
    assert made.code == 0, made.err
    added = run_seawall(
        home,
        "embassy", "host", "agreement", "add", "jm-records",
        "--guest", "jm-node", "--quota", "500GiB", "--retention-days", "90",
        "--expires", "2099-12-31", "--bandwidth", "50GiB", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    terms = added.json()
    assert (terms["name"], terms["guest"], terms["nation"]) == ("jm-records", "jm-node", "JM")
    assert (terms["quota_bytes"], terms["retention_days"]) == (500 << 30, 90)
    assert terms["bandwidth_bytes"] == 50 << 30 and terms["stored_bytes"] == 0

    shortened = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records", "--retention-days", "30"
    )
    assert shortened.code == 73 and "without a reason" in shortened.err
    longer = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records",
        "--retention-days", "120", "--quota", "1TiB", "--json",
    )  # fmt: skip
    assert longer.code == 0, longer.err
    assert (longer.json()["retention_days"], longer.json()["quota_bytes"]) == (120, 1 << 40)
    reasoned = run_seawall(
        home, "embassy", "host", "agreement", "extend", "jm-records",
        "--retention-days", "60", "--reason", "treaty amended 2026-12", "--json",
    )  # fmt: skip
    assert reasoned.code == 0 and reasoned.json()["retention_days"] == 60

    listed = run_seawall(home, "embassy", "host", "list", "--json").json()
    assert [a["name"] for a in listed["agreements"]] == ["jm-records"]
    assert listed["refused"] == []
    shown = run_seawall(home, "embassy", "host", "agreement", "show", "jm-records", "--json")
    assert shown.json()["refused"] == [] and shown.json()["last_write_at"] is None
    table = run_seawall(home, "embassy", "host", "agreement", "list")
    assert table.code == 0 and "Hosting agreements" in table.out
    bad = run_seawall(
        home, "embassy", "host", "agreement", "add", "x",
        "--guest", "jm-node", "--quota", "lots", "--retention-days", "9", "--expires", "2099-01-01",
    )  # fmt: skip
    assert bad.code == 65 and "500GiB" in bad.err
    for option, value, said in (
        ("--expires", "9999-12-31T23:59-01:00", "no UTC equivalent"),
        ("--quota", "99999999999999999999TiB", "at most"),
    ):
        terms_given = {"--quota": "1GiB", "--expires": "2099-01-01", option: value}
        beyond = run_seawall(
            home, "embassy", "host", "agreement", "add", "x", "--guest", "jm-node",
            "--retention-days", "9", *[part for pair in terms_given.items() for part in pair],
        )  # fmt: skip
        assert beyond.code == 65 and said in beyond.err, beyond.err
    assert run_seawall(home, "embassy", "host", "sweep", "--json").json() == {"jm-records": 0}


def test_the_hosting_page_shows_each_guest_its_usage_and_what_was_refused(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "tt", None, FrozenClock(EPOCH), "TT")
    try:
        with node.unit(node.operator()) as ctx:
            partners.add_partner(ctx, "jm-node", "JM", "https://jm.example")
            users.add_user(ctx, "embassy-jm", "viewer", partner="jm-node")
            users.add_user(ctx, "tt-admin", "admin", password="a-long-password")
            agreements.add_agreement(
                ctx,
                "jm-records",
                "jm-node",
                quota_bytes=100,
                retention_days=90,
                expires_at=ctx.now() + timedelta(days=365),
            )
            guest = users.act_as(ctx, "embassy-jm")
        blobs = HostedBlobs(hosted_root(node.settings))
        with node.unit(guest) as ctx:
            objects.put(ctx, blobs, "jm-records", "config", b"x" * 60)
            objects.put(ctx, blobs, "jm-records", "data/ab/ab12", b"y" * 60)
        live = serve_in_thread(create_app(node=node))
        try:
            with httpx.Client(base_url=live.url, timeout=30) as http:
                assert sign_in_by_form(http, "tt-admin", "a-long-password").status_code == 303
                page = http.get("/embassy/hosting?lang=fr")
                assert page.status_code == 200
                assert "Ambassades hébergées" in page.text
                assert "jm-records" in page.text and "jm-node (JM)" in page.text
                assert "site_full" in page.text and "data/ab/ab12" in page.text
                assert 'href="/embassy/hosting"' in http.get("/embassy").text
        finally:
            live.stop()
    finally:
        node.close()


def test_a_guest_backs_up_to_a_partner_host_from_the_cli_and_releases_what_it_pruned(
    tmp_path: Path,
) -> None:
    guest_home = init_node(tmp_path / "jm", "JM")
    host = make_node(tmp_path / "tt", None, FrozenClock(EPOCH), "TT")
    live = serve_in_thread(create_app(node=host))
    try:
        with host.unit(host.operator()) as ctx:
            partners.add_partner(ctx, "jm-node", "JM", "https://jm.example")
            users.add_user(ctx, "embassy-jm", "viewer", partner="jm-node")
            token = tokens.create_token(ctx, "embassy", [], username="embassy-jm").value
            agreements.add_agreement(
                ctx,
                "jm-records",
                "jm-node",
                quota_bytes=1 << 30,
                retention_days=90,
                expires_at=ctx.now() + timedelta(days=365),
            )
        host_key = load_node_key(host.settings).public_text
        for args in (
            ("partner", "add", "tt-host", "--nation", "TT", "--url", live.url),
            ("intel", "partner", "link", "tt-host", "--token", token, "--public-key", host_key),
        ):
            done = run_seawall(guest_home, *args)
            assert done.code == 0, done.err
        disk = tmp_path / "kingston"
        disk.mkdir()
        source = tmp_path / "records"
        source.mkdir()
        (source / "a.txt").write_text("land registry\n" * 1000)
        env = {"SEAWALL_EMBASSY_PASSPHRASE": "correct horse battery staple"}
        for args in (
            ("embassy", "init", "--name", "gov", "--shares", "1-of-2",
             "--site", f"file://{disk}", "--site", "seawall://tt-host/jm-records"),
            ("embassy", "backup", "--repo", "gov", str(source)),
        ):  # fmt: skip
            done = run_seawall(guest_home, *args, env=env)
            assert done.code == 0, done.err
        released = run_seawall(
            guest_home, "embassy", "host", "release", "--repo", "gov", "--json", env=env
        )
        assert released.code == 0, released.err
        [answer] = released.json()
        assert (answer["site"], answer["purged"]) == ("seawall://tt-host/jm-records", 0)
        with host.unit(host.operator()) as ctx:
            [hosted] = agreements.hosted(ctx)
        assert hosted.agreement.signing_key.startswith("ed25519:")
        assert hosted.usage.objects > 3 and hosted.agreement.last_write_at is not None
    finally:
        live.stop()
        host.close()
