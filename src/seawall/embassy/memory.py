"""Process memory policy for the embassy's threaded pipelines (glibc malloc arenas).

glibc gives each thread that allocates its own malloc arena, and an arena keeps the
buffers it freed (up to twice the mmap threshold, which grows to 32 MiB after a large
free) instead of returning them to the system. A backup moves multi-MiB buffers through
a dozen threads, so the retained free memory alone can exceed the RSS budget. Capping
the number of arenas shares those free buffers between threads, and a fixed mmap
threshold returns every multi-MiB buffer (a pack's shares) to the system as soon as it is
freed: about 15 MiB less peak memory for a little more page-fault time. Neither changes
any result.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameter numbers in glibc's malloc.h.
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
ARENAS = 2
# Buffers this large (pack shares, parity blocks) get their own mapping, returned to the
# system when freed, instead of lingering in an arena's free lists.
MMAP_THRESHOLD = 4 * 1024 * 1024

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
        libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return  # not glibc (musl, ...): nothing to tune
