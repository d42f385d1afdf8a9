"""What every embassy operation shares: who reaches which repository, opening it from its
registry row, and the one place a run is recorded (history row, audit entry and evidence).

Repository work can take hours, so it never runs inside a unit of work: each caller hands over a
factory of units (:data:`Units`) and every record is written in a unit of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from seawall.core.access import Perm, require
from seawall.core.clock import Clock
from seawall.core.context import Ctx
from seawall.db.models.embassy import EmbassyRepo
from seawall.embassy import registry
from seawall.embassy.auditing import Recorder, audit_key
from seawall.embassy.keys import KeyChange, change_keys
from seawall.embassy.repository import Repository
from seawall.embassy.sites import open_site
from seawall.embassy.sites.base import Site
from seawall.errors import NotFound, SeawallError

Units = Callable[[], AbstractContextManager[Ctx]]
"""Opens a unit of work as the caller (the CLI's operator, a web page's user, the demo)."""

T = TypeVar("T")


def _no_warning(_warning: str) -> None:
    """Drop a warning (callers with nobody to tell)."""


@dataclass(frozen=True)
class Access:
    """Who reaches which repository, and with what key.

    ``passphrase`` is asked for only once the repository is found, and not at all when a
    ``recovery_key`` opens it. With ``adopt``, a site URL that no registered repository holds is
    opened and registered (the CLI's way to take over a repository made elsewhere); without it,
    only registered repositories are opened.
    """

    units: Units
    ref: str
    clock: Clock
    passphrase: Callable[[], str]
    recovery_key: bytes | None = None
    adopt: bool = False
    # What did not stop the operation but needs someone (an index file damaged everywhere).
    warn: Callable[[str], None] = _no_warning


@dataclass
class Opened:
    """An open repository, its registry row, and the units its records are written in."""

    units: Units
    repo: Repository
    row: EmbassyRepo

    def event(self, action: str, **detail: Any) -> None:
        """Audit a change that is not a run (key slots, forget, prune, unlock)."""
        with self.units() as ctx:
            registry.record_event(ctx, ctx.db.merge(self.row), action, **detail)

    def change_keys(
        self,
        action: str,
        change: KeyChange,
        deliver: Callable[[KeyChange], None] = lambda _c: None,
        **detail: Any,
    ) -> None:
        """Carry out a key change in the order of :func:`change_keys`: audited (and its
        shares handed out) in one transaction before any site holds the new slot; a
        failure to publish is audited with its error."""

        @contextmanager
        def record() -> Iterator[None]:
            with self.units() as ctx:
                registry.record_event(ctx, ctx.db.merge(self.row), action, **detail)
                yield

        def failed(exc: SeawallError) -> None:
            self.event(action, outcome="failure", error=exc.code, **detail)

        change_keys(self.repo, change, record=record, deliver=deliver, failed=failed)

    @contextmanager
    def changing(self, action: str, **detail: Any) -> Iterator[None]:
        """A change that can fail half done (snapshots deleted, then the prune fails): a
        failure is audited as ``action`` with its error before it is raised; a success
        audits its own details."""
        try:
            yield
        except SeawallError as exc:
            self.event(action, outcome="failure", error=exc.code, **detail)
            raise


def create(
    units: Units,
    name: str,
    sites: Sequence[Site],
    passphrase: Callable[[], str],
    *,
    k: int,
    clock: Clock,
) -> str:
    """Create a repository across ``sites`` and register it as ``name``; its id.

    The name is checked before anything is written to the sites: a repository made there
    under a name that is then refused would be left on them with no registry row.
    """
    with units() as ctx:
        registry.check_new_name(ctx, name)
    repo = Repository.init(sites, passphrase(), name=name, k=k, clock=clock)
    try:
        config = repo.config
        with units() as ctx:
            registry.register_repo(ctx, name, config.id, list(config.sites), k, config.n)
    finally:
        repo.close()
    return config.id


def authorise(access: Access) -> EmbassyRepo | None:
    """Check the caller may operate the repository; its row, or None for a URL to adopt."""
    with access.units() as ctx:
        # Opening a repository with its key reads every snapshot: an operator's act.
        require(ctx.who, Perm.EMBASSY_OPERATE)
        row = registry.find_repo(ctx, access.ref)
    if row is None and not (access.adopt and "://" in access.ref):
        hint = "its name or any one site URL" if access.adopt else "the name it is registered under"
        raise NotFound(f"no repository {access.ref!r} on this node; give {hint}")
    return row


def as_of_of(urls: Sequence[str]) -> str | None:
    """The ``as-of`` option of the first ``seawall://`` URL among ``urls`` that has one."""
    for url in urls:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() == "seawall":
            for pair in parts.query.split("&"):
                if pair.startswith("as-of="):
                    return pair.removeprefix("as-of=")  # as written: the site parses it
    return None


def with_as_of(url: str, as_of: str | None) -> str:
    """``url`` opened as of ``as_of`` when it is a ``seawall://`` site without a view of its
    own: one partner site opened as of a time opens the config's other partners as of it too,
    since the config names them as they are now (embassy-hosting.md, recovering)."""
    parts = urlsplit(url.strip())
    if as_of is None or parts.scheme.lower() != "seawall" or as_of_of([url]) is not None:
        return url
    query = f"as-of={as_of}"
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


@contextmanager
def open_repository(access: Access, row: EmbassyRepo | None) -> Iterator[Opened]:
    """Open the repository from its registry row (or adopt the site URL ``access.ref``)."""
    urls = row.sites if row else [access.ref]
    key = access.recovery_key
    as_of = as_of_of(urls)
    repo = Repository.open(
        [open_site(url) for url in urls],
        None if key else access.passphrase(),
        recovery_key=key,
        connect=lambda url: open_site(with_as_of(url, as_of)),
        clock=access.clock,
    )
    recorder: Recorder | None = None
    try:
        if row is None:
            config = repo.config
            # Adopted through a past view: registered as that view, so every later open of
            # this name reads the partners as of the same time (never the attacked present).
            sites = [with_as_of(url, as_of) for url in config.sites]
            with access.units() as ctx:
                row = registry.find_repo(ctx, config.id) or registry.register_repo(
                    ctx, config.name, config.id, sites, config.k, config.n
                )
        recorder = _partners_opened(access.units, repo)
        yield Opened(access.units, repo, row)
    finally:
        _partners_closing(access.units, repo, recorder)
        for warning in repo.warnings:
            access.warn(warning)
        repo.close()


def _partners_opened(units: Units, repo: Repository) -> Recorder | None:
    """Keep the terms each partner host showed (a change is audited, and alerted on), and
    record audit answers for the shares written to them (embassy-format §13)."""
    from seawall.embassy.sites.partner import PartnerSite

    hosts = [s for s in repo.sites if isinstance(s, PartnerSite)]
    if not hosts:
        return None
    from seawall.embassy.hosting import guest

    with units() as ctx:
        for site in hosts:
            guest.note_terms(ctx, site)
    recorder = Recorder(audit_key(repo.master))
    for site in hosts:
        if site.as_of is None:
            site.tap = recorder.tap_for(site.url)
    return recorder


def _partners_closing(units: Units, repo: Repository, recorder: Recorder | None) -> None:
    """Keep the audit answers recorded and send partner hosts the releases they are owed;
    never hides the operation's own error."""
    if recorder is None:
        return
    from seawall.embassy.hosting import guest

    with suppress(SeawallError):
        recorder.save(repo)
    with suppress(SeawallError):
        guest.settle(units, repo.sites, repo.master, repo.clock.now())


@contextmanager
def opened(access: Access) -> Iterator[Opened]:
    """The repository opened for an operation that is not a run (keys, unlock, listings)."""
    with open_repository(access, authorise(access)) as found:
        yield found


def record_run(
    units: Units,
    row: EmbassyRepo,
    kind: str,
    outcome: str,
    summary: str,
    started: datetime,
    detail: dict[str, Any],
    degraded: bool | None = None,
) -> None:
    """The one place a run is recorded: history row, audit entry and evidence."""
    with units() as ctx:
        registry.record_run(
            ctx, ctx.db.merge(row), kind, outcome, summary, started, detail, degraded
        )


def run(
    access: Access,
    row: EmbassyRepo | None,
    kind: str,
    work: Callable[[Repository], T],
    summarise: Callable[[T], tuple[str, dict[str, Any]]],
    *,
    asked: dict[str, Any],
    degraded: Callable[[T], bool | None] = lambda _r: None,
    refusals: tuple[type[SeawallError], ...] = (),
) -> T:
    """Open, do the work and record the run (success, partial or failure).

    A failure to open is a failed run too: a drill that cannot open the repository failed.
    ``refusals`` refuse the request as typed (a snapshot id that matches none, a target that
    holds the files already): no run happened, so none is recorded, and a typo is not a failed
    restore drill in the maturity evidence. ``asked`` is what the run was asked to do; a
    failure records it with the error's code.
    """
    started = access.clock.now()
    try:
        with open_repository(access, row) as found:
            row = found.row
            result = work(found.repo)
    except refusals:
        raise
    except SeawallError as exc:
        if row is not None:  # a URL that never opened has no row to record against
            failed = {**asked, "error": exc.code}
            record_run(access.units, row, kind, "failure", exc.message, started, failed)
        raise
    summary, detail = summarise(result)
    outcome = "partial" if detail.get("problems") else "success"
    record_run(access.units, row, kind, outcome, summary, started, detail, degraded(result))
    return result
