"""``audit``: ask every partner host to prove it still holds a sample of its shares, and record
the answer as a check is recorded (run history, audit entry and evidence).

The challenges and their answers were computed when the shares were written
(:mod:`seawall.embassy.auditing`); each one is spent once, counted on this node. A share with
no answer left (written before audits were recorded, or audited :data:`CHALLENGES` times) is
listed as not auditable rather than read: reading it is what ``check --read-data`` does.
Other site kinds cannot answer a challenge and are listed as not audited.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from seawall.core.alerts import raise_alert
from seawall.db.models.embassy_hosting import AuditSpent
from seawall.embassy.auditing import (
    CHALLENGES,
    audit_key,
    base_url,
    expected,
    load_answers,
    nonce,
)
from seawall.embassy.errors import SITE_ERRORS
from seawall.embassy.packs import share_name
from seawall.embassy.repository import Repository
from seawall.embassy.service.base import Access, Units, authorise, run
from seawall.embassy.sites.partner import PartnerSite
from seawall.errors import InvalidInput


@dataclass
class SiteAudit:
    """What one site's audit found."""

    site: str
    auditable: bool
    challenged: int = 0
    failed: list[str] = field(default_factory=list)  # "<name>: wrong answer" or "...: missing"
    no_challenge_left: int = 0
    wire_bytes: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the run's detail."""
        return {
            "site": self.site,
            "auditable": self.auditable,
            "challenged": self.challenged,
            "failed": self.failed,
            "no_challenge_left": self.no_challenge_left,
            "wire_bytes": self.wire_bytes,
            "error": self.error,
        }


@dataclass
class AuditReport:
    """Every site's audit."""

    sites: list[SiteAudit]
    sample: float

    @property
    def problems(self) -> list[str]:
        """One line per failed answer and per partner host that could not be audited."""
        found = [f"{s.site}: {f}" for s in self.sites for f in s.failed]
        found += [f"{s.site}: {s.error}" for s in self.sites if s.error]
        return found


def parse_sample(text: str) -> float:
    """``5%`` or ``0.05`` as a fraction in (0, 1]."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InvalidInput(f"--sample {text!r} is not a share such as 5% or 0.05") from None
    if not 0 < value <= 1:
        raise InvalidInput("--sample must be more than 0% and at most 100%")
    return value


def _spend(units: Units, repo_id: str, site: str, names: list[str]) -> dict[str, int]:
    """The next unspent challenge index of each share, marked spent now (before it is sent)."""
    taken: dict[str, int] = {}
    with units() as ctx:
        for name in names:
            row = ctx.db.get(AuditSpent, (repo_id, site, name))
            if row is None:
                row = AuditSpent(repository_id=repo_id, site=site, name=name, used=0)
                ctx.db.add(row)
            if row.used < CHALLENGES:
                taken[name] = row.used
                row.used += 1
        ctx.db.flush()
    return taken


def audit_repository(
    units: Units, repo: Repository, sample: float, chooser: random.Random
) -> AuditReport:
    """Challenge a sample of each partner site's shares and compare the answers."""
    packs = sorted(repo.load_index(partial=True).packs)
    recorded = load_answers(repo)
    key = audit_key(repo.master)
    report = AuditReport([], sample)
    for i, url in enumerate(repo.config.sites):
        site = repo.sites[i]
        if not isinstance(site, PartnerSite):
            report.sites.append(SiteAudit(url, auditable=False))
            continue
        found = SiteAudit(url, auditable=True)
        report.sites.append(found)
        answers = recorded.get(base_url(url), {})
        names = [share_name(pid) for pid in packs]
        count = min(len(names), max(1, math.ceil(sample * len(names)))) if names else 0
        chosen = chooser.sample(names, count)
        with_answers = [n for n in chosen if n in answers]
        taken = _spend(units, repo.config.id, base_url(url), with_answers)
        found.no_challenge_left = len(chosen) - len(taken)
        if not taken:
            continue
        challenges = {n: nonce(key, base_url(url), n, j) for n, j in taken.items()}
        try:
            got, found.wire_bytes = site.audit([(n, c.hex()) for n, c in challenges.items()])
        except SITE_ERRORS as exc:
            found.error = f"not audited: {exc.message}"
            continue
        found.challenged = len(challenges)
        for name, j in sorted(taken.items()):
            reply = got.get(name)
            if reply is None:
                found.failed.append(f"{name}: missing")
            elif reply != expected(answers[name], j).hex():
                found.failed.append(f"{name}: wrong answer (altered or damaged)")
    return report


def audit(access: Access, sample: float = 0.05, *, seed: int | None = None) -> AuditReport:
    """Audit every partner site of the repository and record the run (partial when a share
    failed or a host could not be audited)."""
    row = authorise(access)
    # The host must not guess the sample: unseeded, it comes from the system RNG.
    chooser = random.SystemRandom() if seed is None else random.Random(seed)

    def summarise(r: AuditReport) -> tuple[str, dict[str, Any]]:
        partners = [s for s in r.sites if s.auditable]
        challenged = sum(s.challenged for s in partners)
        failed = sum(len(s.failed) for s in partners)
        wire = sum(s.wire_bytes for s in partners)
        return (
            f"{challenged} shares challenged on {len(partners)} partner sites, {failed} failed, "
            f"{wire} bytes on the wire",
            {
                "sample": r.sample,
                "sites": [s.as_dict() for s in r.sites],
                "problems": r.problems,
            },
        )

    report = run(
        access,
        row,
        "audit",
        lambda repo: audit_repository(access.units, repo, sample, chooser),
        summarise,
        asked={"sample": sample},
    )
    failing = [s for s in report.sites if s.failed or s.error]
    if failing:
        with access.units() as ctx:
            for site in failing:
                lines = site.failed or [site.error]
                raise_alert(
                    ctx,
                    "embassy.audit.failed",
                    f"{access.ref} {site.site}",
                    f"audit of {site.site}: {len(site.failed)} of {site.challenged} shares "
                    f"failed ({'; '.join(lines[:3])})",
                )
    return report
