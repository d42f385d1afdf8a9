"""The token bucket behind --limit-upload and --limit-download."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.embassy.sites import open_site
from seawall.embassy.sites.throttle import Limits, TokenBucket, limit_site
from seawall.errors import InvalidInput

requests = st.lists(
    st.tuples(st.floats(0, 5, allow_nan=False), st.integers(1, 50_000)), min_size=1, max_size=40
)


@given(
    rate=st.integers(1_000, 100_000),
    burst=st.integers(1_000, 100_000),
    asks=requests,
)
def test_no_window_sees_more_than_rate_times_its_length_plus_the_burst(
    rate: int, burst: int, asks: list[tuple[float, int]]
) -> None:
    bucket = TokenBucket(rate, burst)
    now = 0.0
    grants: list[tuple[float, float]] = []
    for gap, size in asks:
        now += gap
        left = float(size)
        while left > 0:
            piece = min(left, bucket.burst)
            grants.append((now + bucket.plan(piece, now), piece))
            left -= piece
    grants.sort()
    for i, (start, _) in enumerate(grants):
        total = 0.0
        for end, piece in grants[i:]:
            total += piece
            assert total <= rate * (end - start) + burst + 1e-6 * total


def test_take_sleeps_for_what_the_bucket_lacks() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    bucket = TokenBucket(1000, 1000, monotonic=lambda: clock[0], sleep=sleep)
    bucket.take(1000)  # the saved-up burst
    bucket.take(2500)  # 2.5 s more, in slices of at most the burst
    assert slept == [1.0, 1.0, 0.5]


def test_a_limited_local_site_writes_no_faster_than_its_limit(tmp_path: Path) -> None:
    site = limit_site(open_site(f"file://{tmp_path}"), Limits(upload_kib=64))
    start = time.monotonic()
    for i in range(3):
        site.put(f"data/{i}", bytes(64 * 1024))  # the first second's worth is saved up
    assert time.monotonic() - start >= 1.9
    assert sorted(site.list("data/")) == ["data/0", "data/1", "data/2"]


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        Limits(upload_kib=0)
