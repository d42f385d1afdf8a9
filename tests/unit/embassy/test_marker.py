"""A damaged ``repository`` marker on one site: named as such by check, rewritten by repair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.embassy.backup import back_up
from seawall.embassy.checking import check_repository
from seawall.embassy.health import SiteState, probe_site
from seawall.embassy.repairing import repair_repository
from seawall.embassy.repository import Repository
from seawall.embassy.restore import restore_snapshot
from seawall.embassy.sites.local import LocalSite

from .conftest import FAST_KDF, PASSPHRASE, tree_state


@pytest.mark.parametrize(
    "damage",
    [
        b'{"format": "seawall-emb',  # torn
        b"",  # emptied
        b'{"format": "seawall-embassy", "version": 1, "repository": "00", "site": 2}',  # wrong id
        None,  # deleted
    ],
)
def test_a_damaged_marker_is_named_by_check_and_rewritten_by_repair(
    repo: Repository, source: Path, sites: list[LocalSite], tmp_path: Path, damage: bytes | None
) -> None:
    back_up(repo, [source])
    marker = repo.marker_for(2)
    repo.close()
    path = sites[2].root / "repository"
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage)
    if damage in (b"", b'{"format": "seawall-emb'):
        # Without the key a probe tells only a marker that is no marker at all.
        assert probe_site(sites[2].url).detail == "repository marker is damaged; run repair"
    with Repository.open(sites, PASSPHRASE) as again:
        assert again.sites[2] is not None
        report = check_repository(again)
        assert [(p.kind, p.site) for p in report.errors] == [("marker-damaged", 2)]
        [problem] = report.errors
        assert "unreachable" not in problem.message and "repair" in problem.message
        (source / "after.txt").write_bytes(b"a backup with the marker still damaged\n")
        back_up(again, [source])  # no longer refused as a site down
        repair_repository(again)
        assert check_repository(again).ok
    assert path.read_bytes() == marker
    assert json.loads(marker)["site"] == 2
    with Repository.open([sites[2]], PASSPHRASE) as alone:
        assert alone.sites[2] is sites[2]
    assert probe_site(sites[2].url) == SiteState(sites[2].url, "up")
    with Repository.open(sites, PASSPHRASE) as final:
        restore_snapshot(final, "latest", tmp_path / "out")
    assert tree_state(tmp_path / "out" / source.as_posix().lstrip("/")) == tree_state(source)


def test_a_site_holding_another_repository_is_not_adopted_for_its_url(
    repo: Repository, source: Path, sites: list[LocalSite], tmp_path: Path
) -> None:
    back_up(repo, [source])
    repo.close()
    # Site 1's place now holds someone else's repository: its config cannot authenticate.
    for path in sorted(sites[1].root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    other = [LocalSite(tmp_path / f"other{i}") for i in range(2)]
    for site in other:
        site.root.mkdir()
    Repository.init([sites[1], *other], PASSPHRASE, name="other", k=2, kdf=FAST_KDF).close()
    with Repository.open(sites, PASSPHRASE) as again:
        assert again.sites[1] is None
        assert [(p.kind, p.site) for p in check_repository(again).errors] == [("site-down", 1)]
