"""A custodian sees the embassy's sites and runs a restore drill from the browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from seawall.core.evidence import list_evidence
from seawall.core.node import Node
from seawall.db.models.core import AuditEntry, Evidence
from seawall.db.models.embassy import EmbassyRun
from seawall.embassy.backup import back_up
from seawall.embassy.repository import Repository
from seawall.embassy.samples import SAMPLE_PASSPHRASE, SITE_NAMES, load_sample_repository
from seawall.embassy.sites.local import LocalSite
from tests.e2e.conftest import shoot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def embassy_node(demo_node: Node) -> Node:
    # The demo loads the sample repository; loading again must change nothing.
    assert (
        load_sample_repository(
            lambda: demo_node.unit(demo_node.operator("demo")),
            demo_node.settings.home,
            demo_node.clock,
        )
        == []
    )
    return demo_node


def test_custodian_sees_health_and_restores_with_two_sites_lost(
    page: Page, embassy_node: Node, tmp_path: Path
) -> None:
    sign_in(page, "custodian")
    page.click("nav >> text=Data embassy")
    row = page.locator("#repos tr", has_text="gov-records")
    expect(row).to_contain_text("3-of-5")
    expect(row).to_contain_text("full redundancy")
    expect(row.locator(".exposure")).to_contain_text("folders on this machine")
    expect(row.locator(".exposure")).to_contain_text("one storm takes at most 2")
    expect(row.locator(".status").nth(1)).to_have_text("success")
    shoot(page, "embassy-01-list")

    sites_root = embassy_node.settings.home / "embassy-sites"
    shutil.rmtree(sites_root / "montego-bay-dc")
    shutil.rmtree(sites_root / "belmopan")
    row.locator("a").click()
    expect(page.locator("#sites .site-up")).to_have_count(3)
    expect(page.locator("#sites .site-down")).to_have_count(2)
    expect(page.locator("text=3 of 5 sites hold shares")).to_be_visible()
    expect(page.locator("#snapshots tbody tr")).to_have_count(1)
    # The site map: five located sites, the two lost ones drawn as down, and the worst
    # storm footprint over Kingston and Montego Bay, which 3-of-5 survives.
    expect(page.locator("#site-map .map-site")).to_have_count(5)
    expect(page.locator("#site-map .map-site-down")).to_have_count(2)
    expect(page.locator("#site-map .map-site-down", has_text="Belmopan")).to_have_count(1)
    expect(page.locator("#site-map .footprint")).to_have_count(1)
    expect(page.locator("#exposure")).to_contain_text("covers at most 2 sites")
    shoot(page, "embassy-02-repo-two-sites-lost")

    # The web restores only inside the node's restore directory, links out of it included.
    restores = embassy_node.settings.effective_restore_dir
    restores.mkdir(parents=True, exist_ok=True)
    (restores / "elsewhere").symlink_to(tmp_path)
    for outside in (str(tmp_path / "drill"), "../drill", "elsewhere/drill"):
        page.fill("input[name=target]", outside)
        page.fill("input[name=passphrase]", SAMPLE_PASSPHRASE)
        page.click("#restore-form button")
        expect(page.locator(".alert-error")).to_contain_text("restore into a directory inside")
    assert not (tmp_path / "drill").exists()

    target = restores / "drill"
    page.fill("input[name=target]", "drill")
    page.fill("input[name=passphrase]", "not the passphrase")
    page.click("#restore-form button")
    expect(page.locator(".alert-error")).to_contain_text("passphrase")
    assert not target.exists()

    page.fill("input[name=target]", "drill")
    page.fill("input[name=passphrase]", SAMPLE_PASSPHRASE)
    page.click("#restore-form button")
    expect(page.locator(".alert-ok")).to_contain_text("Restored")
    shoot(page, "embassy-03-restored")
    restored = list(target.rglob("kingston.csv"))
    original = embassy_node.settings.home / "sample-data/land-registry/parcels/kingston.csv"
    assert [p.read_bytes() for p in restored] == [original.read_bytes()]
    expect(page.locator("#runs tbody tr").first).to_contain_text("restore")

    with embassy_node.unit(embassy_node.operator()) as ctx:
        drills = [e for e in list_evidence(ctx, supports="cmm:D1.2") if e.kind == "embassy.restore"]
    assert [d.outcome for d in drills[:2]] == ["success", "failure"]


def test_viewer_sees_no_restore_form(page: Page, embassy_node: Node) -> None:
    sign_in(page, "viewer")
    page.goto("/embassy/gov-records")
    expect(page.locator("#sites .site")).to_have_count(5)
    expect(page.locator("#restore-form")).to_have_count(0)


def test_a_viewers_restore_post_is_refused_and_writes_nothing(
    page: Page, embassy_node: Node
) -> None:
    sign_in(page, "viewer")
    page.goto("/embassy/gov-records")
    csrf = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    before = written(embassy_node)
    posted = page.request.post(
        "/embassy/gov-records/restore",
        form={
            "snapshot": "latest",
            "target": "viewer-drill",
            "passphrase": SAMPLE_PASSPHRASE,
            "csrf_token": csrf,
        },
    )
    assert posted.status == 403
    assert written(embassy_node) == before
    assert not (embassy_node.settings.effective_restore_dir / "viewer-drill").exists()


def written(node: Node) -> tuple[int, int, int]:
    """How many embassy runs, audit entries and evidence records the node holds."""
    with node.unit(node.operator()) as ctx:
        runs, entries, records = (
            ctx.db.scalar(select(func.count()).select_from(table)) or 0
            for table in (EmbassyRun, AuditEntry, Evidence)
        )
    return runs, entries, records


def open_sample_repository(page: Page, role: str) -> None:
    """Sign in as ``role`` and open gov-records from the embassy list, as a person would."""
    sign_in(page, role)
    page.click("nav >> text=Data embassy")
    page.locator("#repos a", has_text="gov-records").click()


def test_custodian_locates_a_site_and_sees_the_repository_become_exposed(
    page: Page, embassy_node: Node
) -> None:
    open_sample_repository(page, "custodian")
    expect(page.locator("#exposure")).to_contain_text("Spread enough")
    # Belmopan's site (the fifth) moves to Ocho Rios: three Jamaican sites in one footprint.
    page.select_option("#locate-form select[name=site]", "4")
    page.fill("#locate-form input[name=place]", "Ocho Rios")
    page.fill("#locate-form input[name=lat]", "18.4074")
    page.fill("#locate-form input[name=lon]", "-77.1031")
    page.click("#locate-form button")
    expect(page.locator(".alert-ok")).to_contain_text("is at Ocho Rios")
    expect(page.locator("#exposure")).to_contain_text("At risk")
    expect(page.locator("#site-map .footprint-risk")).to_have_count(1)
    expect(page.locator("#site-map .map-site", has_text="Ocho Rios")).to_have_count(1)
    shoot(page, "embassy-04-site-map-at-risk")


def test_a_viewer_sees_the_map_but_cannot_move_sites(page: Page, embassy_node: Node) -> None:
    open_sample_repository(page, "viewer")
    expect(page.locator("#site-map .map-site")).to_have_count(5)
    expect(page.locator("#locate-form")).to_have_count(0)


def test_a_web_restore_never_writes_through_a_link_an_earlier_one_restored(
    page: Page, embassy_node: Node, tmp_path: Path
) -> None:
    # Snapshot 1 holds data/esc -> outside; snapshot 2 holds data/esc/pwned.txt. Both are
    # restored as "latest" into the same directory inside SEAWALL_RESTORE_DIR.
    outside = tmp_path / "outside"
    outside.mkdir()
    share = tmp_path / "share"
    (share / "data").mkdir(parents=True)
    (share / "data" / "esc").symlink_to(outside)
    roots = [embassy_node.settings.home / "embassy-sites" / name for name in SITE_NAMES]
    repo = Repository.open([LocalSite(root) for root in roots], SAMPLE_PASSPHRASE)
    open_sample_repository(page, "custodian")

    def restore_latest() -> None:
        page.fill("input[name=target]", "drill-links")
        page.fill("input[name=passphrase]", SAMPLE_PASSPHRASE)
        page.click("#restore-form button")

    try:
        back_up(repo, [share])
        restore_latest()
        expect(page.locator(".alert-ok")).to_contain_text("Restored")
        restored = embassy_node.settings.effective_restore_dir / "drill-links"
        assert (restored / str(share).lstrip("/") / "data" / "esc").is_symlink()
        (share / "data" / "esc").unlink()
        (share / "data" / "esc").mkdir()
        (share / "data" / "esc" / "pwned.txt").write_text("not here\n")
        back_up(repo, [share])
    finally:
        repo.close()
    restore_latest()
    expect(page.locator(".alert-error")).to_contain_text("symbolic link")
    expect(page.locator(".alert-error")).to_contain_text(f"{share}/data/esc")
    assert list(outside.iterdir()) == []
