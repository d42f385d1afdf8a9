"""Alerts: what needs a person now, raised by any pillar, audited, shown and delivered.

A pillar raises an alert with :func:`raise_alert` (``embassy.schedule.failed`` for a
repository, say). While an alert of the same kind and subject is open (not acknowledged) it
is raised again on the same row (its ``count`` grows, its message is the latest), so a
schedule failing every hour is one alert, not twenty-four, and is delivered once. Someone who
may act on the pillar acknowledges it; the next failure after that is a new alert.

Delivery (:func:`deliver_alerts`) runs outside any transaction, after the work that raised
them (``seawall embassy run-due`` ends with it): each open alert goes to every configured
webhook (a JSON POST) and SMTP recipient list it has not reached yet. A channel that fails is
tried again at the next pass; a lease keeps two passes from sending one alert twice. Webhook
URLs often carry a token in their path, so only their scheme and host are ever logged,
audited or shown; the SMTP password never is.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select, update

from seawall.core.access import Perm, Principal, require
from seawall.core.context import Ctx
from seawall.core.refs import by_prefix
from seawall.db.models.alerts import Alert
from seawall.errors import Conflict, InvalidInput, NotFound
from seawall.settings import Settings

KIND = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$")
# Who may acknowledge an alert: whoever may act on the pillar that raised it.
ACKNOWLEDGE: dict[str, Perm] = {
    "core": Perm.USERS_MANAGE,
    "assess": Perm.ASSESS_PUBLISH,
    "intel": Perm.INTEL_WRITE,
    "embassy": Perm.EMBASSY_OPERATE,
}
LEASE = timedelta(minutes=5)
SHORT_ID = 8


def raise_alert(ctx: Ctx, kind: str, subject: str, message: str) -> Alert:
    """Raise an alert for the caller's nation, or raise the open one of the same kind and
    subject again; audited either way.

    ``kind`` is dotted and starts with the pillar (``embassy.rpo.exceeded``); ``subject``
    names what it is about (a repository, an agreement).
    """
    if not KIND.match(kind) or kind.split(".", 1)[0] not in ACKNOWLEDGE:
        pillars = ", ".join(ACKNOWLEDGE)
        raise InvalidInput(f"alert kind {kind!r} must be dotted and start with {pillars}")
    # One line: it heads a mail and a chat message (a line break there could add a header).
    subject = " ".join(subject.split())[:200]
    if not subject or not message.strip():
        raise InvalidInput("an alert needs a subject and a message")
    now = ctx.now()
    row = ctx.db.scalar(
        select(Alert).where(
            Alert.nation == ctx.who.nation,
            Alert.acknowledged_at.is_(None),
            Alert.kind == kind,
            Alert.subject == subject,
        )
    )
    if row is not None:
        row.count += 1
        row.message = message
        row.last_raised_at = now
        ctx.db.flush()
        ctx.record("alert.repeated", row.id, kind=kind, subject=subject, count=row.count)
        return row
    row = Alert(
        id=ctx.ids(),
        nation=ctx.who.nation,
        pillar=kind.split(".", 1)[0],
        kind=kind,
        subject=subject,
        message=message,
        raised_at=now,
        last_raised_at=now,
        count=1,
        delivered_to=[],
        delivery_error="",
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record("alert.raised", row.id, kind=kind, subject=subject, message=message)
    return row


def list_alerts(
    ctx: Ctx, *, everything: bool = False, acknowledged: bool = False, limit: int = 100
) -> list[Alert]:
    """The nation's open alerts, newest first (with ``acknowledged``, the acknowledged ones
    instead; with ``everything``, both)."""
    require(ctx.who, Perm.NODE_READ)
    stmt = select(Alert).where(Alert.nation == ctx.who.nation)
    if acknowledged:
        stmt = stmt.where(Alert.acknowledged_at.is_not(None))
    elif not everything:
        stmt = stmt.where(Alert.acknowledged_at.is_(None))
    return list(ctx.db.scalars(stmt.order_by(Alert.last_raised_at.desc()).limit(limit)))


def may_acknowledge(who: Principal, alert: Alert) -> bool:
    """Whether ``who`` may acknowledge ``alert``: those who act on its pillar."""
    return who.can(ACKNOWLEDGE.get(alert.pillar, Perm.USERS_MANAGE))


def get_alert(ctx: Ctx, ref: str) -> Alert:
    """An alert of the caller's nation by id or a unique prefix of it (``seawall.core.refs``)."""
    require(ctx.who, Perm.NODE_READ)
    stmt = select(Alert).where(Alert.nation == ctx.who.nation)
    row = by_prefix(ctx.db, stmt, Alert.id, ref, "alert")
    if row is None:
        raise NotFound(
            f"no alert {ref!r}",
            cli="`seawall alerts list --all` shows them",
            web="the Alerts page (/alerts) lists them",
        )
    return row


def acknowledge(ctx: Ctx, ref: str, note: str = "") -> Alert:
    """Acknowledge an alert: someone has it in hand. Needs the right to act on its pillar."""
    row = get_alert(ctx, ref)
    # The rule may_acknowledge answers, refused with why not.
    require(ctx.who, ACKNOWLEDGE.get(row.pillar, Perm.USERS_MANAGE))
    if row.acknowledged_at is not None:
        raise Conflict(
            f"alert {row.id[:SHORT_ID]} was acknowledged by {row.acknowledged_by} already"
        )
    row.acknowledged_at = ctx.now()
    row.acknowledged_by = ctx.who.username
    ctx.db.flush()
    ctx.record("alert.acknowledged", row.id, kind=row.kind, subject=row.subject, note=note)
    return row


# --- delivery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One place alerts go: a webhook or an SMTP recipient list."""

    key: str  # stable and secret-free: "webhook:<hash>", "smtp:<hash>"
    label: str  # what logs, audits and pages show: "https://chat.example", "smtp mail.gov.jm"
    send: Callable[[dict[str, Any]], None]


class DeliveryFailed(Exception):
    """A channel did not take an alert; the message is safe to record."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def webhook_label(url: str) -> str:
    """A webhook URL as it may be shown: scheme and host only (the path may hold a token)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bracket or port that does not parse: still never show the rest
        return "webhook (malformed URL)"
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _webhook(url: str, timeout: float, http: httpx.Client | None) -> Channel:
    label = webhook_label(url)

    def send(payload: dict[str, Any]) -> None:
        try:
            if http is not None:
                answer = http.post(url, json=payload, timeout=timeout)
            else:
                answer = httpx.post(url, json=payload, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # The exception's text may quote the URL: name its type only.
            raise DeliveryFailed(f"{label}: {type(exc).__name__}") from None
        if not answer.is_success:
            raise DeliveryFailed(f"{label}: HTTP {answer.status_code}")

    return Channel(f"webhook:{_digest(url)}", label, send)


def _smtp(settings: Settings) -> Channel:
    host, port = settings.alert_smtp_host, settings.alert_smtp_port
    label = f"smtp {host}:{port}"
    recipients = list(settings.alert_smtp_to)

    def send(payload: dict[str, Any]) -> None:
        mail = EmailMessage()
        mail["Subject"] = f"[Seawall {payload['nation']}] {payload['kind']}: {payload['subject']}"
        mail["From"] = settings.alert_smtp_from or f"seawall@{host}"
        mail["To"] = ", ".join(recipients)
        mail.set_content(
            f"{payload['message']}\n\n"
            f"Kind: {payload['kind']}\nSubject: {payload['subject']}\n"
            f"Raised: {payload['raised_at']} (raised {payload['count']} times)\n"
            f"Node: {payload['node']}\nAcknowledge: {payload['url']}\n"
        )
        timeout = settings.alert_webhook_timeout_seconds
        try:
            if port == 465:  # implicit TLS (SMTPS)
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
            with client:
                if port != 465 and settings.alert_smtp_starttls:
                    client.starttls(context=ssl.create_default_context())
                if settings.alert_smtp_username:
                    client.login(settings.alert_smtp_username, settings.alert_smtp_password)
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"{label}: {type(exc).__name__}") from None

    return Channel(f"smtp:{_digest(f'{host}:{port}:' + ','.join(recipients))}", label, send)


def channels(settings: Settings, http: httpx.Client | None = None) -> list[Channel]:
    """The channels the settings configure, webhooks first."""
    timeout = settings.alert_webhook_timeout_seconds
    found = [_webhook(url, timeout, http) for url in settings.alert_webhook_urls]
    if settings.alert_smtp_host and settings.alert_smtp_to:
        found.append(_smtp(settings))
    return found


def payload_of(row: Alert, settings: Settings) -> dict[str, Any]:
    """What a channel is sent for one alert (the webhook's JSON body)."""
    return {
        "id": row.id,
        "nation": row.nation,
        "node": settings.node_name,
        "pillar": row.pillar,
        "kind": row.kind,
        "subject": row.subject,
        "message": row.message,
        "raised_at": row.raised_at.isoformat(),
        "count": row.count,
        "url": settings.public_url.rstrip("/") + "/alerts",
    }


@dataclass
class Delivery:
    """What one delivery pass sent and what failed (labels, never URLs)."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (alert id, channel label)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (alert id, error)


def _claim(ctx: Ctx, keys: set[str], limit: int) -> list[tuple[Alert, set[str]]]:
    """Lease the open alerts some channel in ``keys`` has not reached, with those channels."""
    now = ctx.now()
    rows = ctx.db.scalars(
        select(Alert)
        .where(
            Alert.nation == ctx.who.nation,
            Alert.acknowledged_at.is_(None),
            or_(Alert.delivery_lease_until.is_(None), Alert.delivery_lease_until <= now),
        )
        .order_by(Alert.raised_at)
        .limit(limit)
    ).all()
    claimed = []
    for row in rows:
        pending = keys - set(row.delivered_to or [])
        if not pending:
            continue
        taken = ctx.db.execute(
            update(Alert)
            .where(
                Alert.id == row.id,
                or_(Alert.delivery_lease_until.is_(None), Alert.delivery_lease_until <= now),
            )
            .values(delivery_lease_until=now + LEASE)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append((row, pending))
    return claimed


def deliver_alerts(
    units: Callable[[], AbstractContextManager[Ctx]],
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    limit: int = 200,
) -> Delivery:
    """Send every open alert to each configured channel it has not reached yet.

    Each alert is leased while it is sent, and what reached where is recorded (and audited)
    in a unit of its own, so a pass that dies half way sends again only what it had not
    recorded.
    """
    found = {c.key: c for c in channels(settings, http)}
    done = Delivery()
    if not found:
        return done
    with units() as ctx:
        work = [
            (row.id, payload_of(row, settings), pending)
            for row, pending in _claim(ctx, set(found), limit)
        ]
    for alert_id, payload, pending in work:
        reached: list[str] = []
        errors: list[str] = []
        for key in sorted(pending):
            try:
                found[key].send(payload)
            except DeliveryFailed as exc:
                errors.append(str(exc))
            else:
                reached.append(key)
        _record_delivery(units, alert_id, reached, errors, [found[k].label for k in reached])
        done.sent.extend((alert_id, found[k].label) for k in reached)
        done.failed.extend((alert_id, error) for error in errors)
    return done


def _record_delivery(
    units: Callable[[], AbstractContextManager[Ctx]],
    alert_id: str,
    reached: Sequence[str],
    errors: Sequence[str],
    labels: Sequence[str],
) -> None:
    with units() as ctx:
        row = ctx.db.get(Alert, alert_id)
        if row is None:  # deleted meanwhile (its nation's data removed)
            return
        row.delivered_to = sorted({*(row.delivered_to or []), *reached})
        row.delivery_error = "; ".join(errors)
        row.delivery_lease_until = None
        ctx.db.flush()
        if reached:
            ctx.record("alert.delivered", row.id, kind=row.kind, channels=list(labels))
        if errors:
            ctx.record("alert.delivery_failed", row.id, kind=row.kind, errors=list(errors))
