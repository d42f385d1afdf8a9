"""A sample data embassy for demo nodes: five local sites, one snapshot, a check and a drill,
and the schedules a custodian would give it (a daily backup, a weekly check and a monthly
restore drill, with RPO and RTO targets) with one timed drill recorded.

The data is invented (a land registry extract) and says so. The passphrase is printed by the
demo on purpose, and written where scheduled runs read it: demo nodes only.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path

from seawall.core.clock import Clock
from seawall.core.context import Ctx
from seawall.embassy import registry, schedules, service
from seawall.embassy.exposure import Place
from seawall.embassy.scheduling import scratch_dir
from seawall.embassy.service.drills import drill
from seawall.embassy.sites.local import LocalSite
from seawall.settings import Settings

SAMPLE_NAME = "gov-records"
SAMPLE_PASSPHRASE = "seawall-demo-embassy"  # noqa: S105 - printed on purpose; demo nodes only
SITE_NAMES = ("kingston-dc", "montego-bay-dc", "port-of-spain", "bridgetown", "belmopan")
# The sample's schedules: 02:00, Sunday 03:00 and the 1st of the month 04:00 in Kingston.
SAMPLE_ZONE = "America/Jamaica"
SAMPLE_RPO = timedelta(days=1)
SAMPLE_RTO = timedelta(hours=1)
# Where the sample's five "sites" would be: two in Jamaica, three in partner states.
SITE_PLACES = (
    Place("Kingston", 17.9714, -76.7931),
    Place("Montego Bay", 18.4762, -77.8939),
    Place("Port of Spain", 10.6549, -61.5019),
    Place("Bridgetown", 13.0975, -59.6167),
    Place("Belmopan", 17.2510, -88.7590),
)


def write_sample_records(root: Path, seed: int = 2026) -> Path:
    """Write an invented land-registry extract: CSV, JSON and a scanned-deed stand-in."""
    rng = random.Random(seed)
    parishes = ("Kingston", "St Andrew", "St Catherine", "Clarendon", "St James", "Portland")
    (root / "parcels").mkdir(parents=True, exist_ok=True)
    (root / "titles").mkdir(exist_ok=True)
    (root / "scans").mkdir(exist_ok=True)
    (root / "README.txt").write_text("SAMPLE DATA: invented for a Seawall demo node.\n")
    for parish in parishes:
        with (root / "parcels" / f"{parish.lower().replace(' ', '-')}.csv").open("w") as handle:
            out = csv.writer(handle)
            out.writerow(["parcel_id", "parish", "area_m2", "registered", "owner_ref"])
            for i in range(4000):
                when = date(1990, 1, 1) + timedelta(days=rng.randrange(12000))
                out.writerow(
                    [
                        f"{parish[:3].upper()}-{i:06d}",
                        parish,
                        rng.randrange(80, 40000),
                        when.isoformat(),
                        f"OWN-{rng.randrange(10**7):07d}",
                    ]
                )
    titles = [
        {
            "title": f"VOL-{1000 + i}/FOL-{i % 500}",
            "parcel": f"KIN-{i:06d}",
            "encumbrances": rng.randrange(3),
        }
        for i in range(3000)
    ]
    (root / "titles" / "titles.json").write_text(json.dumps(titles, indent=1))
    for i in range(3):
        (root / "scans" / f"deed-{i:03d}.tif").write_bytes(rng.randbytes(400_000))
    return root


def load_sample_repository(
    unit: Callable[[], AbstractContextManager[Ctx]], home: Path, clock: Clock
) -> list[str]:
    """Create the sample repository if absent, back up, check and drill a restore."""
    with unit() as ctx:
        if registry.find_repo(ctx, SAMPLE_NAME) is not None:
            return []
    roots = [home / "embassy-sites" / name for name in SITE_NAMES]
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
    source = write_sample_records(home / "sample-data" / "land-registry")
    sites = [LocalSite(root) for root in roots]
    service.create(unit, SAMPLE_NAME, sites, lambda: SAMPLE_PASSPHRASE, k=3, clock=clock)
    with unit() as ctx:
        row = registry.get_repo(ctx, SAMPLE_NAME)
        for url, place in zip(row.sites, SITE_PLACES, strict=True):
            registry.locate_site(ctx, row, url, place)
    access = service.Access(unit, SAMPLE_NAME, clock, passphrase=lambda: SAMPLE_PASSPHRASE)
    snap = service.backup(access, [source], tags=["sample", "daily"]).snapshot
    service.check(access, read_data=True)
    service.restore(access, snap.id, home / "restore-drill", overwrite=True, drill=True)
    return [SAMPLE_NAME]


def load_sample_schedules(
    unit: Callable[[], AbstractContextManager[Ctx]], settings: Settings, clock: Clock
) -> list[str]:
    """Give the sample repository its schedules and one timed restore drill, if it has none;
    the kinds of the schedules added."""
    with unit() as ctx:
        if registry.find_repo(ctx, SAMPLE_NAME) is None or schedules.list_schedules(
            ctx, SAMPLE_NAME
        ):
            return []
        source = settings.home / "sample-data" / "land-registry"
        wanted = [
            schedules.Request(
                "backup", cron="0 2 * * *", timezone=SAMPLE_ZONE, paths=[str(source)],
                rpo=SAMPLE_RPO,
            ),
            schedules.Request("check", cron="0 3 * * 0", timezone=SAMPLE_ZONE, read_data=0.1),
            schedules.Request("drill", cron="0 4 1 * *", timezone=SAMPLE_ZONE, rto=SAMPLE_RTO),
        ]  # fmt: skip
        added = [schedules.add_schedule(ctx, SAMPLE_NAME, r).kind for r in wanted]
    # A scheduled run has nobody to ask: the sample's (printed) passphrase is where it looks.
    secrets = settings.effective_passphrase_dir
    secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept = secrets / SAMPLE_NAME
    if not kept.exists():
        kept.write_text(SAMPLE_PASSPHRASE + "\n")
        kept.chmod(0o600)
    access = service.Access(unit, SAMPLE_NAME, clock, passphrase=lambda: SAMPLE_PASSPHRASE)
    drill(access, scratch_dir(settings), rto_seconds=SAMPLE_RTO.total_seconds())
    return added
