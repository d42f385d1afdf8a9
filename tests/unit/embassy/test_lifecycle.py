"""Keys, custodians, forget and prune, and replacing a site."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.core.clock import FrozenClock
from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.custody import CustodianShare, combine_shares
from seawall.embassy.errors import (
    BadRepositoryConfig,
    KeySlotMissing,
    LastKeySlot,
    RepositoryExists,
    WrongPassphrase,
)
from seawall.embassy.health import gather_stats
from seawall.embassy.keys import (
    add_passphrase,
    add_recovery_key,
    change_passphrase,
    list_key_slots,
    remove_key_slot,
)
from seawall.embassy.pruning import forget_snapshots, plan_prune, prune_packs
from seawall.embassy.repairing import replace_site
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.snapshots import KeepPolicy, Snapshot, select_kept
from seawall.errors import InvalidInput

from .conftest import FAST_KDF, PASSPHRASE, SMALL_CHUNKS, SMALL_PACK, make_sites, tree_state


def test_changing_the_passphrase_rewraps_without_touching_data(
    repo: Repository, source: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    data_before = {n: sites[0].get(n) for n in sites[0].list("data/")}
    change_passphrase(repo, "a brand new passphrase", kdf=FAST_KDF)
    with pytest.raises(WrongPassphrase):
        Repository.open(sites, PASSPHRASE)
    with Repository.open(sites, "a brand new passphrase") as again:
        assert len(again.snapshots()) == 1
    assert {n: sites[0].get(n) for n in sites[0].list("data/")} == data_before


def test_a_short_passphrase_guards_nothing_and_is_refused(repo: Repository, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="passphrase is too short"):
        Repository.init(make_sites(tmp_path / "short", 3), "short", name="x", k=2, kdf=FAST_KDF)
    with pytest.raises(InvalidInput, match="passphrase is too short"):
        add_passphrase(repo, "   eleven-chr   ", kdf=FAST_KDF)  # spaces do not count
    assert {s.label for s in list_key_slots(repo)} == {"initial"}


def test_key_slots_can_be_added_listed_and_removed(
    repo: Repository, sites: list[LocalSite]
) -> None:
    extra = add_passphrase(repo, "second officer", label="deputy", kdf=FAST_KDF)
    assert {s.label for s in list_key_slots(repo)} == {"initial", "deputy"}
    Repository.open(sites, "second officer").close()
    remove_key_slot(repo, extra.id)
    with pytest.raises(WrongPassphrase):
        Repository.open(sites, "second officer")
    with pytest.raises(LastKeySlot):
        remove_key_slot(repo, repo.opened_with.id)
    with pytest.raises(KeySlotMissing):
        remove_key_slot(repo, "0000000000000000")


def test_three_of_five_custodians_restore_access(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    texts = [s.to_text() for s in add_recovery_key(repo, custodians=5, threshold=3)]
    key = combine_shares([CustodianShare.from_text(t) for t in (texts[4], texts[0], texts[2])])
    with Repository.open(sites, recovery_key=key) as recovered:
        restore_snapshot(recovered, "latest", tmp_path / "out")
        with pytest.raises(WrongPassphrase):
            change_passphrase(recovered, "x", kdf=FAST_KDF)
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_forget_keeps_policy_and_prune_frees_unused_packs(
    sites: list[LocalSite], source: Path, tmp_path: Path
) -> None:
    clock = FrozenClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    repo = Repository.init(
        sites,
        PASSPHRASE,
        name="r",
        kdf=FAST_KDF,
        clock=clock,
        pack_size=SMALL_PACK,
        chunker=SMALL_CHUNKS,
    )
    ids = []
    for day in range(5):
        (source / "daily.bin").write_bytes(bytes([day]) * 50_000 + day.to_bytes(4, "big") * 9000)
        ids.append(back_up(repo, [source]).snapshot.id)
        clock.advance(days=1)
    before = gather_stats(repo)
    report = forget_snapshots(repo, KeepPolicy(daily=2), prune=True)
    assert set(report.kept) == set(ids[-2:]) and set(report.removed) == set(ids[:3])
    assert report.pruned is not None and report.pruned.packs_deleted >= 1
    after = gather_stats(repo)
    assert after.snapshots == 2 and after.stored_bytes < before.stored_bytes
    assert check_repository(repo, read_data=True).problems == []
    restore_snapshot(repo, ids[-1], tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)
    with pytest.raises(BadRepositoryConfig, match="keep policy is required"):
        forget_snapshots(repo, KeepPolicy())
    repo.close()


def mixed_packs(repo: Repository, tmp_path: Path) -> Path:
    """Two snapshots, the first forgotten: its packs mix chunks still used with chunks not."""
    rng = random.Random(5)
    src = tmp_path / "ledgers"
    src.mkdir()
    for i in range(24):
        (src / f"ledger-{i:02d}.bin").write_bytes(rng.randbytes(20_000))
    back_up(repo, [src])
    for i in range(0, 24, 2):
        (src / f"ledger-{i:02d}.bin").write_bytes(rng.randbytes(20_000))
    back_up(repo, [src])
    # One group: whatever else was backed up.
    forget_snapshots(repo, KeepPolicy(last=1), group_by=())
    return src


def test_prune_repacks_partly_used_packs_until_nothing_unused_is_left(
    repo: Repository, tmp_path: Path, sites: list[LocalSite]
) -> None:
    src = mixed_packs(repo, tmp_path)
    # What the sites hold: a share of every pack on each of the five.
    stored_before = gather_stats(repo).bytes_per_site * 5
    old_shares = set(sites[0].list("data/"))
    report = prune_packs(repo, max_unused=0.0)
    # Half of every first-backup pack is unused: all of them are rewritten, none kept whole.
    assert report.packs_repacked > 0 and report.packs_written > 0
    assert report.unused_bytes_kept == 0
    assert report.bytes_freed > 0
    assert gather_stats(repo).bytes_per_site * 5 == stored_before - report.bytes_freed
    assert len(old_shares - set(sites[0].list("data/"))) >= report.packs_repacked
    # Every chunk the index lists is used by the snapshot left, and listed once.
    listed = [e.id.hex() for p in repo.load_index().packs.values() for e in p.entries]
    used = {c for n in repo.tree(repo.snapshots()[0]) for c in n.chunks}
    assert sorted(listed) == sorted(used)
    assert check_repository(repo, read_data=True).problems == []
    restore_snapshot(repo, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / src.as_posix().lstrip("/")) == tree_state(src)
    assert prune_packs(repo, max_unused=0.0).packs_repacked == 0  # nothing left to gain


def test_prune_leaves_partly_used_packs_within_the_unused_allowance(
    repo: Repository, tmp_path: Path
) -> None:
    mixed_packs(repo, tmp_path)
    report = prune_packs(repo, max_unused=1.0)
    assert report.packs_repacked == 0
    assert report.unused_bytes_kept > 0
    halfway = prune_packs(repo, max_unused=0.25)
    index = repo.load_index()
    used_bytes = sum(e.length for p in index.packs.values() for e in p.entries) - (
        halfway.unused_bytes_kept
    )
    assert halfway.packs_repacked > 0
    assert halfway.unused_bytes_kept <= 0.25 * used_bytes
    assert check_repository(repo, read_data=True).problems == []


def test_a_dry_run_says_what_prune_and_forget_would_do_and_changes_nothing(
    repo: Repository, tmp_path: Path, sites: list[LocalSite], source: Path
) -> None:
    first = back_up(repo, [source]).snapshot
    back_up(repo, [source])
    would = forget_snapshots(repo, KeepPolicy(last=1), prune=True, dry_run=True)
    assert would.dry_run and would.removed == (first.id,) and would.pruned is None
    assert len(repo.snapshots()) == 2  # nothing removed
    mixed_packs(repo, tmp_path)  # two more backups, then all but the last forgotten
    before = {name: sites[0].get(name) for name in sites[0].list()}
    plan = plan_prune(repo, max_unused=0.0)
    assert plan.dry_run and plan.packs_repacked > 0 and plan.packs_deleted > 0
    assert {name: sites[0].get(name) for name in sites[0].list()} == before
    done = prune_packs(repo, max_unused=0.0)
    assert (done.packs_deleted, done.packs_repacked) == (plan.packs_deleted, plan.packs_repacked)
    assert done.bytes_repacked == plan.bytes_repacked
    assert done.packs_written == plan.packs_written
    assert done.bytes_freed == plan.bytes_freed


def test_prune_refuses_an_allowance_outside_zero_to_one(repo: Repository) -> None:
    with pytest.raises(BadRepositoryConfig, match="not a fraction from 0 to 1"):
        prune_packs(repo, max_unused=1.5)


def test_site_replace_rebuilds_the_lost_site(
    repo: Repository, source: Path, tmp_path: Path, sites: list[LocalSite]
) -> None:
    back_up(repo, [source])
    shutil.rmtree(sites[2].root)
    fresh = make_sites(tmp_path / "fresh", 1)[0]
    with pytest.raises(RepositoryExists):
        replace_site(repo, 2, sites[0])
    replace_site(repo, sites[2].url, fresh)
    assert repo.config.sites[2] == fresh.url
    assert check_repository(repo, read_data=True).ok
    repo.close()
    # The lost site is gone for good: sites 0, 1 and the new one suffice.
    shutil.rmtree(sites[3].root)
    shutil.rmtree(sites[4].root)
    survivors = [sites[0], sites[1], fresh]
    with Repository.open(survivors, PASSPHRASE) as reopened:
        assert reopened.config.generation == 2
        restore_snapshot(reopened, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def snap(at: datetime) -> Snapshot:
    return Snapshot(id=at.isoformat(), time=at, hostname="h", paths=("/",))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 24 * 400), min_size=1, max_size=40, unique=True),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_keep_policy_keeps_newest_and_at_most_the_budget(
    hours: list[int], daily: int, weekly: int, monthly: int
) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    snaps = [snap(base + timedelta(hours=h)) for h in hours]
    policy = KeepPolicy(last=1, daily=daily, weekly=weekly, monthly=monthly)
    kept = select_kept(snaps, policy)
    newest = max(snaps, key=lambda s: s.time)
    assert newest.id in kept
    assert len(kept) <= 1 + daily + weekly + monthly
    days = {s.time.date() for s in snaps}
    assert len({s.time.date() for s in snaps if s.id in kept}) >= min(daily, len(days))
