"""When to try a partner again after failures: exponential backoff, capped.

A partner that failed a pass, and a queued delivery to it that failed, wait 1, 2, 4 ...
minutes after each further failure, at most an hour, so a partner that is down for days
is asked about once an hour and one that comes back is reached within the hour.
"""

from __future__ import annotations

from datetime import timedelta

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts: 1, 2, 4 ... minutes, at most 1 h."""
    if attempts <= 0:
        return timedelta(0)
    # The exponent is capped so that a long outage never builds a huge intermediate value.
    wait: timedelta = BACKOFF_FIRST * (2 ** min(attempts - 1, 16))
    return min(wait, BACKOFF_MAX)
