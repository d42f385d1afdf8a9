"""Delivering queued packages to partner nodes: one pass, run by ``seawall partner deliver``.

For each partner with packages due (or the one named), a pass proves the partner's identity
over its link (:mod:`~seawall.core.federation.link`, with the token it issued us), then posts
each claimed package to the partner's inbox (:mod:`~seawall.core.federation.inbox`) and marks
it by the answer: delivered (stored, replaced, unchanged, ...) or refused for good. A failure
of the link leaves the rest queued, records the partner's last error and backs off
(:mod:`~seawall.core.federation.links`), as intel's sync does over the same link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seawall.core.context import Ctx
from seawall.core.federation import links, queue
from seawall.core.federation.errors import PartnerNotLinked
from seawall.core.federation.link import DEFAULT_TIMEOUT, PartnerLink
from seawall.core.node import Node
from seawall.core.partners import get_partner
from seawall.errors import SeawallError

PACKAGES_PATH = "/api/v1/federation/packages"
PACKAGE_MEDIA_TYPE = "application/vnd.seawall.package"


@dataclass
class DeliveryReport(links.Exchange):
    """What one pass did with one partner."""

    delivered: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    pending: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report for ``--json``."""
        return {
            "partner": self.partner,
            "delivered": self.delivered,
            "refused": self.refused,
            "pending": self.pending,
            **self.ending(),
        }


def deliver(
    node: Node, name: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, force: bool = False
) -> list[DeliveryReport]:
    """One pass over every partner with packages due, or over the one named (always due)."""
    with node.unit(node.operator()) as ctx:
        ids = [get_partner(ctx, name).id] if name is not None else queue.due_partners(ctx)
    return [
        deliver_partner(node, pid, timeout=timeout, force=force or name is not None) for pid in ids
    ]


def deliver_partner(
    node: Node, partner_id: str, *, timeout: float = DEFAULT_TIMEOUT, force: bool = False
) -> DeliveryReport:
    """Post the partner's due packages; a failure is recorded, not raised."""
    with node.unit(node.operator()) as ctx:
        partner = get_partner(ctx, partner_id)
        report = DeliveryReport(partner.name)
        report.skipped = links.skip_reason(ctx, partner, force=force)
        if report.skipped:
            return report
        try:
            token = links.partner_token(ctx, node.settings, partner)
        except PartnerNotLinked as exc:
            _failed(ctx, partner_id, exc, report)
            return report
        claimed = queue.claim_due(ctx, partner.id)
        url, nation, key = partner.url, partner.nation, partner.public_key
    left = [item.seq for item in claimed]
    try:
        with PartnerLink(report.partner, url, token, timeout) as link:
            proof = link.prove_identity(nation, key) if claimed else None
            for item in claimed:
                response = link.request(
                    "POST",
                    link.url + PACKAGES_PATH,
                    body=item.payload,
                    content_type=PACKAGE_MEDIA_TYPE,
                )
                answer = link.read_json(response, "a package delivery")
                _settle(node, item, answer, report)
                left.remove(item.seq)
    except SeawallError as exc:
        with node.unit(node.operator()) as ctx:
            queue.defer(ctx, left, exc.message)
            _failed(ctx, partner_id, exc, report)
        return report
    with node.unit(node.operator()) as ctx:
        partner = get_partner(ctx, partner_id)
        if claimed:
            links.record_success(ctx, partner, proof.key_id if proof else "")
        report.pending = queue.counts(ctx, partner.id)[queue.PENDING]
        if claimed:
            ctx.record(
                "federation.delivered",
                partner.id,
                partner=partner.name,
                delivered=len(report.delivered),
                refused=len(report.refused),
            )
    return report


def _settle(
    node: Node, item: queue.Claimed, answer: dict[str, Any], report: DeliveryReport
) -> None:
    """Mark one posted package by the partner's answer."""
    outcome = str(answer.get("outcome", ""))
    entry = {"kind": item.kind, "key": item.key, "outcome": outcome}
    with node.unit(node.operator()) as ctx:
        if outcome == "refused":
            message = str(answer.get("message", ""))
            queue.mark_refused(ctx, item.seq, str(answer.get("error", "")), message)
            report.refused.append(
                {**entry, "error": str(answer.get("error", "")), "message": message}
            )
        else:
            queue.mark_delivered(ctx, item.seq, outcome)
            report.delivered.append(entry)


def _failed(ctx: Ctx, partner_id: str, exc: SeawallError, report: DeliveryReport) -> None:
    partner = get_partner(ctx, partner_id)
    links.record_failure(ctx, partner, exc)
    report.failed(exc)
    report.pending = queue.counts(ctx, partner.id)[queue.PENDING]
    ctx.record("federation.delivery_failed", partner.id, partner=partner.name, error=exc.code)
