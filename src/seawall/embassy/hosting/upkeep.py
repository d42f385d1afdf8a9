"""The host's periodic duties, run by ``seawall embassy run-due`` (and so by ``seawall serve``):
purge what guests released once retention allows, and raise the alert of an agreement that
ended (its guest can no longer write, so its copies stop following its data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from seawall.core.alerts import raise_alert
from seawall.core.context import Ctx
from seawall.db.models.embassy_hosting import HostingAgreement
from seawall.embassy.hosting.objects import sweep
from seawall.embassy.hosting.store import HostedBlobs


@dataclass
class Upkeep:
    """What one pass of the host's duties did."""

    purged: dict[str, int] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


def upkeep(ctx: Ctx, blobs: Callable[[], HostedBlobs]) -> Upkeep:
    """Sweep every agreement and alert on the ones that ended (as this node's operator);
    ``blobs`` is called only on a node that hosts anything."""
    done = Upkeep()
    rows = ctx.db.scalars(select(HostingAgreement).order_by(HostingAgreement.name)).all()
    if not rows:
        return done
    done.purged = {name: n for name, n in sweep(ctx, blobs()).items() if n}
    now = ctx.now()
    for row in rows:
        if row.expires_at <= now:
            raise_alert(
                ctx,
                "embassy.agreement.expired",
                row.name,
                f"hosting agreement {row.name} ended on {row.expires_at:%Y-%m-%d}: its guest's "
                "writes are refused and what it holds stays readable; extend it "
                "(seawall embassy host agreement extend) or tell the guest to move",
            )
            done.alerts.append(f"embassy.agreement.expired {row.name}")
    return done
