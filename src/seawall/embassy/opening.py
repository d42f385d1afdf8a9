"""Opening an embassy repository: its new config, and the sites, key slots and config found.

A site's ``repository`` marker is plaintext and may be torn or overwritten; the config is
sealed under the data key and bound to the repository id, so an open trusts the id most
markers name and places a site where its marker, or its authenticated config, says so.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime

from seawall.embassy.chunking import ChunkerParams
from seawall.embassy.config import CONFIG, FORMAT, MARKER, RepoConfig, object_context, read_marker
from seawall.embassy.erasure import check_shape
from seawall.embassy.errors import (
    IO_ERRORS,
    SITE_ERRORS,
    BadRepositoryConfig,
    IntegrityError,
    ObjectMissing,
    RepositoryExists,
    RepositoryMissing,
    TooFewSites,
)
from seawall.embassy.keys import (
    KdfParams,
    KeySlot,
    MasterKey,
    check_passphrase_rule,
    make_passphrase_slot,
    new_master_key,
    read_slots,
    unlock,
)
from seawall.embassy.sealing import unseal
from seawall.embassy.sites.base import Site
from seawall.errors import SeawallError


@dataclass(frozen=True)
class Opened:
    """What an open found: each site in its place (None where not found), the keys, the config."""

    placed: list[Site | None]
    master: MasterKey
    config: RepoConfig
    slot: KeySlot


def plan_repository(
    sites: Sequence[Site],
    passphrase: str,
    *,
    name: str,
    k: int,
    kdf: KdfParams,
    now: datetime,
    pack_size: int,
    chunker: ChunkerParams | None,
) -> Opened:
    """A new repository's master key, config and first slot; refused unless every site is
    distinct and holds no repository. Nothing is written."""
    check_passphrase_rule(passphrase)
    n = len(sites)
    check_shape(k, n)
    if len({s.url for s in sites}) != n:
        raise BadRepositoryConfig("the same site is listed twice; each share needs its own site")
    for site in sites:
        if site.stat(MARKER) is not None:
            raise RepositoryExists(f"site {site.url} already holds a repository; pick another")
    master = new_master_key()
    params = chunker or ChunkerParams()
    params = replace(params, seed=master.chunker_seed)
    config = RepoConfig(
        id=os.urandom(16).hex(),
        name=name,
        k=k,
        n=n,
        sites=tuple(s.url for s in sites),
        chunker=params,
        pack_size=pack_size,
        generation=1,
        created=now.isoformat(),
    )
    slot = make_passphrase_slot(master, passphrase, created=now, label="initial", kdf=kdf)
    return Opened(list(sites), master, config, slot)


def locate_repository(
    sites: Sequence[Site], passphrase: str | None, recovery_key: bytes | None
) -> Opened:
    """Unlock the repository the given sites hold and place each of them."""
    markers: list[tuple[Site, dict[str, object]]] = []
    reachable = 0
    for site in sites:
        try:
            doc = json.loads(site.get(MARKER))
            reachable += 1
        except SITE_ERRORS:
            continue
        except (ObjectMissing, ValueError):
            reachable += 1
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT:
            markers.append((site, doc))
    if not markers:
        if not reachable:
            raise TooFewSites("none of the given sites is reachable; check the URLs and network")
        raise RepositoryMissing("no embassy repository on the given sites; check the URL")
    # The id most markers name: one torn or overwritten marker cannot mislead the open.
    ids = Counter(str(d.get("repository")) for _, d in markers)
    repo_id = ids.most_common(1)[0][0]
    holders = [s for s, d in markers if d.get("repository") == repo_id]
    slots = read_slots(holders)
    if not slots:
        raise BadRepositoryConfig("no readable key slot on the given sites; repair from another")
    master, slot = unlock(slots, passphrase=passphrase, recovery_key=recovery_key)
    config = read_config(holders, master, repo_id)
    placed: list[Site | None] = [None] * config.n
    for site, doc in markers:
        if doc.get("repository") != repo_id:
            continue
        index = doc.get("site")
        if isinstance(index, int) and 0 <= index < config.n and placed[index] is None:
            placed[index] = site
        elif site.url in config.sites:
            placed[config.sites.index(site.url)] = site
    # A site at a config URL whose marker is torn, emptied or names another repository is
    # still this one's when its config authenticates under this id (the marker is not
    # authenticated, the config is): check names the marker, and repair rewrites it.
    for site in sites:
        if site.url in config.sites and all(site is not s for s in placed):
            i = config.sites.index(site.url)
            if placed[i] is None and holds_config(site, master, repo_id):
                placed[i] = site
    return Opened(placed, master, config, slot)


def connect_missing(opened: Opened, connect: Callable[[str], Site]) -> None:
    """Reach the config's sites that were not given, in place; any failure leaves one unplaced.

    A reached site takes its place when it holds this repository or nothing at all.
    """
    repo_id = opened.config.id
    for i, url in enumerate(opened.config.sites):
        if opened.placed[i] is None:
            # Any failure to reach a site leaves it unreachable; check names it.
            with suppress(SeawallError, ValueError, AttributeError):
                site = connect(url)
                doc = read_marker(site.get(MARKER)) if site.stat(MARKER) else None
                if (
                    blank_site(site)
                    or (doc is not None and doc["repository"] == repo_id)
                    or holds_config(site, opened.master, repo_id)
                ):
                    opened.placed[i] = site


def blank_site(site: Site) -> bool:
    """A reachable site with nothing on it: a wiped disk or a rebuilt bucket at the old address.

    Such a site takes its old place so that ``repair`` refills it; a site holding anything else
    (another repository, stray files) is never adopted.
    """
    return site.stat(MARKER) is None and next(iter(site.list()), None) is None


def holds_config(site: Site, master: MasterKey, repo_id: str) -> bool:
    """True when ``site`` holds a config that authenticates as repository ``repo_id``'s."""
    with suppress(*IO_ERRORS, IntegrityError, BadRepositoryConfig):
        data = unseal(
            master.data_key, site.get(CONFIG), object_context(repo_id, CONFIG), what="config"
        )
        return RepoConfig.from_json(data).id == repo_id
    return False


def read_config(sites: Sequence[Site], master: MasterKey, repo_id: str) -> RepoConfig:
    """The newest config generation that authenticates on any of ``sites``."""
    best: RepoConfig | None = None
    for site in sites:
        with suppress(*IO_ERRORS, IntegrityError, BadRepositoryConfig):
            data = unseal(
                master.data_key,
                site.get(CONFIG),
                object_context(repo_id, CONFIG),
                what="config",
            )
            config = RepoConfig.from_json(data)
            if config.id == repo_id and (best is None or config.generation > best.generation):
                best = config
    if best is None:
        raise IntegrityError(
            "the repository config fails authentication on every given site; "
            "open from another site and run repair"
        )
    return best
