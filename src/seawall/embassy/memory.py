"""Process memory policy for the embassy's threaded pipelines (glibc malloc arenas).

glibc gives each thread that allocates its own malloc arena, and an arena keeps the
buffers it freed (up to twice the mmap threshold, which grows to 32 MiB after a large
free) instead of returning them to the system. A backup moves multi-MiB buffers through
a dozen threads, so the retained free memory alone can exceed the RSS budget. Capping
the number of arenas shares those free buffers between threads; it changes no result.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameter number of M_ARENA_MAX in glibc's malloc.h.
M_ARENA_MAX = -8
ARENAS = 2

_done = False


def limit_arenas() -> None:
    """Cap glibc's malloc arenas (once per process; a no-op elsewhere or when it fails)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(ctypes.c_int(M_ARENA_MAX), ctypes.c_int(ARENAS))
    except (OSError, AttributeError):
        return  # not glibc (musl, ...): nothing to tune
