"""Sync between nations: pull partners' collections over TAXII 2.1, push ours through the queue.

One pass (``seawall intel partner sync``, run from cron or a systemd timer) does, for each
partner that is due:

1. **Prove the partner.** Its identity endpoint must answer as the registered nation and,
   when a public key is registered, sign a fresh challenge with that key.
2. **Pull.** For each collection the partner lets us read, fetch pages with
   ``added_after`` and ``next``, and store each page through
   :func:`seawall.intel.provenance.receive` (validation, TLP, versions) in the same
   transaction that moves the cursor. A crash or an outage loses at most the page in
   flight, which is fetched again; duplicates are recognised by (id, version).
3. **Push.** Queue the new versions the partner may receive, then post due rows to the
   partner's collection of the same alias, marking rows sent only when the partner's
   TAXII status lists them as successes.

A failure is a typed :class:`~seawall.core.federation.errors.PartnerError`, recorded as the
partner's last error; the partner is then skipped until its next attempt time, which backs
off from one minute to an hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.core.federation import links
from seawall.core.federation.errors import PartnerAnsweredGarbage, PartnerNotLinked, PartnerRefused
from seawall.core.node import Node
from seawall.core.partners import get_partner, list_partners
from seawall.db.models import Partner, PartnerLinkState
from seawall.db.models.intel import IntelCollection
from seawall.db.models.intel_sync import IntelOutbox, IntelSyncCursor, IntelSyncPartner
from seawall.errors import SeawallError
from seawall.intel import outbox, witness
from seawall.intel.identity import nation_identity
from seawall.intel.link import DEFAULT_TIMEOUT, RemoteCollection, TaxiiLink
from seawall.intel.provenance import Received, local_collection, receive, stamp_creator
from seawall.intel.validation import parse_timestamp

DEFAULT_PAGE_SIZE = 1000
PUSH_BATCH = 500
PUSH_MAX_BYTES = 2_000_000

Progress = Callable[[str, str, int], None]
"""Called with (partner name, stage, count) as a pass goes: stages pull, push, done."""


def _quiet(partner: str, stage: str, count: int) -> None:
    return None


@dataclass
class SyncReport(links.Exchange):
    """What one pass did with one partner."""

    nation: str
    pulled: Received = field(default_factory=Received)
    collections: int = 0
    queued: int = 0
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    pending: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report for ``--json``."""
        return {
            "partner": self.partner,
            "nation": self.nation,
            "collections": self.collections,
            "pulled": {
                "added": self.pulled.added,
                "duplicates": self.pulled.duplicates,
                "rejected": self.pulled.rejected,
                "withheld": self.pulled.withheld,
            },
            "pushed": {
                "queued": self.queued,
                "sent": self.sent,
                "refused": self.refused,
                "pending": self.pending,
            },
            **self.ending(),
        }


def sync_state(ctx: Ctx, partner_id: str) -> IntelSyncPartner:
    """When intel last pulled from and pushed to a partner, made on first use."""
    state = ctx.db.get(IntelSyncPartner, partner_id)
    if state is None:
        state = IntelSyncPartner(partner_id=partner_id)
        ctx.db.add(state)
        ctx.db.flush()
    return state


# --- one pass -------------------------------------------------------------------------


def sync(
    node: Node,
    name: str | None = None,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    timeout: float = DEFAULT_TIMEOUT,
    force: bool = False,
    progress: Progress = _quiet,
) -> list[SyncReport]:
    """One sync pass with every due partner, or with the one named (which is always due)."""
    with node.unit(node.operator()) as ctx:
        if name is not None:
            ids = [get_partner(ctx, name).id]
        else:
            ids = [p.id for p in list_partners(ctx) if not p.disabled and (p.pull or p.push)]
    return [
        sync_partner(
            node,
            partner_id,
            page_size=page_size,
            timeout=timeout,
            force=force or name is not None,
            progress=progress,
        )
        for partner_id in ids
    ]


def sync_partner(
    node: Node,
    partner_id: str,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    timeout: float = DEFAULT_TIMEOUT,
    force: bool = False,
    progress: Progress = _quiet,
) -> SyncReport:
    """Pull from and push to one partner; a failure is recorded, not raised."""
    with node.unit(node.operator()) as ctx:
        partner = get_partner(ctx, partner_id)
        report = SyncReport(partner.name, partner.nation)
        report.skipped = links.skip_reason(ctx, partner, force=force)
        if report.skipped:
            return report
        try:
            token = links.partner_token(ctx, node.settings, partner)
        except PartnerNotLinked as exc:
            _record_failure(ctx, partner, exc, report)
            return report
        url, nation, key = partner.url, partner.nation, partner.public_key
        pull, push = partner.pull, partner.push
        since = witness.held_count(ctx, partner)
    try:
        with TaxiiLink(report.partner, url, token, timeout) as link:
            proof = link.prove_identity(nation, key, since)
            if proof is not None and proof.audit_head is not None and key:
                # Witness the partner's audit log; a contradicting head fails the pass.
                witness.keep_partner_head(node, partner_id, proof.audit_head, "sync")
            remote = link.collections()
            if pull:
                _pull(node, partner_id, link, remote, page_size, report, progress)
            if push:
                _push(node, partner_id, link, remote, report, progress)
            if proof is not None:
                # Have the partner witness ours (a node without the endpoint: unwitnessed).
                witness.publish_head(node, partner_id, link)
    except SeawallError as exc:
        with node.unit(node.operator()) as ctx:
            _record_failure(ctx, get_partner(ctx, partner_id), exc, report)
        progress(report.partner, "done", 0)
        return report
    with node.unit(node.operator()) as ctx:
        partner = get_partner(ctx, partner_id)
        links.record_success(ctx, partner, proof.key_id if proof else "")
        state = sync_state(ctx, partner.id)
        if pull:
            state.last_pull_at = ctx.now()
        if push:
            state.last_push_at = ctx.now()
            outbox.prune_sent(ctx, partner)
        report.pending = outbox.depth(ctx, partner.id)
        ctx.record(
            "intel.partner.synced",
            partner.id,
            name=partner.name,
            **_done(report),
        )
    progress(report.partner, "done", 0)
    return report


def _done(report: SyncReport) -> dict[str, int]:
    """What a pass stored and sent: audited whether it ended well or not, since objects that
    left the nation before a failure have left all the same."""
    return {
        "pulled": report.pulled.added,
        "withheld": len(report.pulled.withheld),
        "sent": report.sent,
        "refused": len(report.refused),
    }


def _record_failure(ctx: Ctx, partner: Partner, exc: SeawallError, report: SyncReport) -> None:
    links.record_failure(ctx, partner, exc)
    report.failed(exc)
    report.pending = outbox.depth(ctx, partner.id)
    ctx.record(
        "intel.partner.sync_failed", partner.id, name=partner.name, error=exc.code, **_done(report)
    )


# --- pull -----------------------------------------------------------------------------


def _later(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return a if parse_timestamp(a) >= parse_timestamp(b) else b


def _pull_cursor(ctx: Ctx, partner_id: str, remote: RemoteCollection) -> IntelSyncCursor:
    cursor = ctx.db.get(IntelSyncCursor, (partner_id, "pull", remote.id))
    if cursor is None:
        partner = get_partner(ctx, partner_id)
        local = local_collection(ctx, remote.alias, remote.title, partner)
        cursor = outbox.new_cursor(ctx, partner_id, "pull", remote.id, local.id)
    return cursor


def _pull(
    node: Node,
    partner_id: str,
    link: TaxiiLink,
    remotes: list[RemoteCollection],
    page_size: int,
    report: SyncReport,
    progress: Progress,
) -> None:
    for remote in remotes:
        if not remote.can_read:
            continue
        if not remote.alias:
            raise PartnerAnsweredGarbage(
                f"partner {link.name} lists collection {remote.id} without an alias; "
                "Seawall matches collections by alias"
            )
        report.collections += 1
        with node.unit(node.operator()) as ctx:
            cursor = _pull_cursor(ctx, partner_id, remote)
            added_after, next_page = cursor.added_after, cursor.next_page
        retried = False
        while True:
            try:
                page = link.get_objects(remote.id, added_after, next_page, page_size)
            except PartnerRefused as exc:
                # A server whose cursors expire (medallion's last 30 s) refuses an old next:
                # start this run again from added_after; what comes twice is a duplicate.
                if exc.status == 400 and next_page and not retried:
                    retried, next_page = True, ""
                    continue
                raise
            with node.unit(node.operator()) as ctx:
                partner = get_partner(ctx, partner_id)
                cursor = _pull_cursor(ctx, partner_id, remote)
                collection = ctx.db.get(IntelCollection, cursor.local_collection_id)
                if collection is None:
                    raise PartnerAnsweredGarbage(
                        f"the local collection for {remote.alias!r} was deleted; sync again"
                    )
                got = receive(
                    ctx,
                    partner,
                    collection,
                    page.objects,
                    request_id=f"sync:{partner.name}",
                )
                report.pulled.merge(got)
                cursor.count += got.added
                if page.date_added_last:
                    try:
                        cursor.run_last = _later(cursor.run_last, page.date_added_last)
                    except SeawallError:
                        raise PartnerAnsweredGarbage(
                            f"partner {link.name} sent an unreadable X-TAXII-Date-Added-Last"
                        ) from None
                if page.more and page.next:
                    cursor.next_page = page.next
                else:
                    cursor.added_after = cursor.run_last or cursor.added_after
                    cursor.next_page = ""
                cursor.updated_at = ctx.now()
                added_after, next_page = cursor.added_after, cursor.next_page
            progress(report.partner, "pull", len(page.objects))
            if not (page.more and page.next):
                break


# --- push -----------------------------------------------------------------------------


def _push(
    node: Node,
    partner_id: str,
    link: TaxiiLink,
    remotes: list[RemoteCollection],
    report: SyncReport,
    progress: Progress,
) -> None:
    writable = {r.alias: r.id for r in remotes if r.can_write and r.alias}
    with node.unit(node.operator()) as ctx:
        report.queued = outbox.enqueue(ctx, get_partner(ctx, partner_id), node.nation)
        awaiting = outbox.awaiting_status(ctx, get_partner(ctx, partner_id))
    for status_id, seqs in awaiting.items():
        try:
            status = link.status(status_id)
        except PartnerRefused as exc:
            if exc.status != 404:
                raise
            with node.unit(node.operator()) as ctx:
                outbox.mark_awaiting(ctx, seqs, "")  # the partner forgot it: post again
            continue
        with node.unit(node.operator()) as ctx:
            _apply_status(ctx, seqs, status, report)
    missing: set[str] = set()
    while True:
        with node.unit(node.operator()) as ctx:
            items = outbox.claim_due(ctx, get_partner(ctx, partner_id), PUSH_BATCH)
        if not items:
            break
        for batch in _batches(items):
            alias = batch[0].collection_alias
            seqs = [item.seq for item in batch]
            if alias not in writable:
                missing.add(alias)
                with node.unit(node.operator()) as ctx:
                    outbox.defer(
                        ctx,
                        seqs,
                        f"partner {link.name} has no collection {alias!r} this node may write",
                    )
                continue
            objects = [stamp_creator(json.loads(item.body), node.nation) for item in batch]
            objects.append(nation_identity(node.nation))
            try:
                status = link.add_objects(writable[alias], objects)
            except SeawallError as exc:
                unsent = [i.seq for i in items if i.seq >= batch[0].seq]
                with node.unit(node.operator()) as ctx:
                    outbox.defer(ctx, unsent, exc.message)
                raise
            with node.unit(node.operator()) as ctx:
                _apply_status(ctx, seqs, status, report, batch)
            progress(report.partner, "push", len(batch))
    if missing:
        raise PartnerRefused(
            f"partner {link.name} has no collection this node may write for "
            f"{', '.join(sorted(missing))}; ask them to create it with that alias, with an "
            "audience that names this node's partner record there",
            404,
        )


def _batches(items: list[outbox.QueuedObject]) -> list[list[outbox.QueuedObject]]:
    batches: list[list[outbox.QueuedObject]] = []
    size = 0
    for item in items:
        fits = batches and batches[-1][0].collection_alias == item.collection_alias
        if fits and size + len(item.body) <= PUSH_MAX_BYTES:
            batches[-1].append(item)
            size += len(item.body)
        else:
            batches.append([item])
            size = len(item.body)
    return batches


def _key(stix_id: Any, version: Any) -> tuple[str, datetime] | None:
    try:
        return str(stix_id), parse_timestamp(version)
    except SeawallError:
        return None


def _apply_status(
    ctx: Ctx,
    seqs: list[int],
    status: dict[str, Any],
    report: SyncReport,
    batch: list[outbox.QueuedObject] | None = None,
) -> None:
    status_id = str(status["id"])
    if batch is None:
        rows = ctx.db.execute(
            select(IntelOutbox.seq, IntelOutbox.stix_id, IntelOutbox.version).where(
                IntelOutbox.seq.in_(seqs)
            )
        ).all()
        wanted = {(stix_id, version): seq for seq, stix_id, version in rows}
    else:
        wanted = {(item.stix_id, item.version): item.seq for item in batch}
    sent: list[int] = []
    waiting: list[int] = []
    for detail in status.get("successes", []):
        key = _key(detail.get("id"), detail.get("version"))
        if key in wanted:
            sent.append(wanted.pop(key))
    for detail in status.get("failures", []):
        key = _key(detail.get("id"), detail.get("version"))
        if key in wanted:
            message = str(detail.get("message", "refused"))
            outbox.mark_refused(ctx, wanted.pop(key), message, status_id)
            report.refused.append(f"{detail.get('id')}: {message}")
    for detail in status.get("pendings", []):
        key = _key(detail.get("id"), detail.get("version"))
        if key in wanted:
            waiting.append(wanted.pop(key))
    outbox.mark_sent(ctx, sent, status_id)
    outbox.mark_awaiting(ctx, waiting, status_id)
    report.sent += len(sent)
    if wanted:
        leftover = list(wanted.values())
        if status.get("status") == "pending":
            outbox.mark_awaiting(ctx, leftover, status_id)
        else:
            outbox.defer(ctx, leftover, "the partner's status did not mention it; will post again")


# --- status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerStatus:
    """A partner as the status page shows it."""

    partner: Partner
    linked: bool
    last_pull_at: datetime | None
    last_push_at: datetime | None
    last_error: str
    last_error_code: str
    last_error_at: datetime | None
    next_attempt_at: datetime | None
    failures: int
    queue: dict[str, int]

    @property
    def queue_depth(self) -> int:
        """Rows waiting for delivery."""
        return self.queue.get(outbox.PENDING, 0)

    def as_dict(self) -> dict[str, Any]:
        """The status for ``--json``."""
        p = self.partner
        return {
            "name": p.name,
            "nation": p.nation,
            "url": p.url,
            "max_tlp": p.max_tlp,
            "pull": p.pull,
            "push": p.push,
            "disabled": p.disabled,
            "linked": self.linked,
            "key_registered": bool(p.public_key),
            "last_pull_at": self.last_pull_at,
            "last_push_at": self.last_push_at,
            "queue_depth": self.queue_depth,
            "queue": self.queue,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_error_code": self.last_error_code,
            "last_error_at": self.last_error_at,
            "next_attempt_at": self.next_attempt_at,
        }


def partner_statuses(ctx: Ctx) -> list[PartnerStatus]:
    """Every partner of the caller's nation with its sync state and queue."""
    out: list[PartnerStatus] = []
    for partner in list_partners(ctx):
        state = ctx.db.get(IntelSyncPartner, partner.id)
        link = ctx.db.get(PartnerLinkState, partner.id)
        out.append(
            PartnerStatus(
                partner=partner,
                linked=bool(link and link.token_sealed),
                last_pull_at=state.last_pull_at if state else None,
                last_push_at=state.last_push_at if state else None,
                last_error=link.last_error if link else "",
                last_error_code=link.last_error_code if link else "",
                last_error_at=link.last_error_at if link else None,
                next_attempt_at=link.next_attempt_at if link else None,
                failures=link.failures if link else 0,
                queue=outbox.counts(ctx, partner.id),
            )
        )
    return out
