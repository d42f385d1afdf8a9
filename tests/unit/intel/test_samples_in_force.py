"""The demo's sample intelligence is in force whenever it is loaded: exported and matched.

A guard against dates that age: the samples are loaded with the clock a year ahead of
the day they were first dated from, and again after their addresses have decayed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from seawall.core.clock import FrozenClock
from seawall.core.node import Node
from seawall.intel import search
from seawall.intel.matching.sightings import match_logs
from seawall.intel.samples import FIRST_DAY, load_sample_intel, sample_day

# Sample indicators that are meant to be out of force: revoked, and past their valid_until.
OUT_OF_FORCE = {"SAMPLE: mistaken sender domain", "SAMPLE: retired mail relay"}


def in_force(node: Node) -> tuple[set[str], set[str]]:
    """The names of the sample indicators, and of those the exports hand on."""
    with node.unit(node.operator()) as ctx:
        chosen = search.readable_collections(ctx)
        every = search.stix_bundle(ctx, chosen, include_inactive=True)["objects"]
        exported = search.stix_bundle(ctx, chosen)["objects"]
    names = {o["name"] for o in every if o["type"] == "indicator"}
    return names, {o["name"] for o in exported if o["type"] == "indicator"}


def squid_log(path: Path, clock: FrozenClock) -> Path:
    """A proxy log from a minute ago: the sample lure's domain and the SCADA scanner."""
    at = clock.now().timestamp() - 60
    path.write_text(
        f"{at:.3f}    134 10.20.0.7 TCP_MISS/200 1520 GET "
        "http://www.taxrefund-gov-jm.example/claim?id=7 - HIER_DIRECT/203.0.113.40 text/html\n"
        f"{at + 1:.3f}     12 10.20.0.9 TCP_MISS/200 99 GET http://91.240.118.77/modbus "
        "- HIER_DIRECT/91.240.118.77 text/html\n"
    )
    return path


def test_the_samples_are_in_force_a_year_on_and_after_they_decayed(
    node: Node, clock: FrozenClock, tmp_path: Path
) -> None:
    clock.at = FIRST_DAY + timedelta(days=365, hours=9)
    with node.unit(node.operator()) as ctx:
        assert sum(load_sample_intel(ctx).values()) > 0
        assert sample_day(ctx) == FIRST_DAY + timedelta(days=365)
    names, exported = in_force(node)
    assert len(names) == 9 and exported == names - OUT_OF_FORCE
    with node.unit(node.operator()) as ctx:
        report = match_logs(ctx, [squid_log(tmp_path / "access.log", clock)])
    matched = {hit.indicator.name for hit in report.hits.values()}
    assert matched == {"SAMPLE: tax refund phishing domain", "SAMPLE: SCADA scanning source"}

    # Loading again while they are in force adds nothing; once the addresses have
    # decayed, loading dates them anew.
    clock.advance(days=20)
    with node.unit(node.operator()) as ctx:
        assert sum(load_sample_intel(ctx).values()) == 0
    clock.advance(days=20)
    assert in_force(node)[1] < names - OUT_OF_FORCE  # the addresses decayed
    with node.unit(node.operator()) as ctx:
        assert sum(load_sample_intel(ctx).values()) > 0
        assert sample_day(ctx) == FIRST_DAY + timedelta(days=405)
        assert sum(load_sample_intel(ctx).values()) == 0
    assert in_force(node)[1] == names - OUT_OF_FORCE
    with node.unit(node.operator()) as ctx:
        report = match_logs(ctx, [squid_log(tmp_path / "later.log", clock)])
    assert len(report.hits) == 2
