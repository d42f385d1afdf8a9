"""Process memory policy for the embassy's threaded pipelines (glibc malloc arenas).

glibc gives each thread that allocates its own malloc arena, and an arena keeps the
buffers it freed (up to twice the mmap threshold, which grows to 32 MiB after a large
free) instead of returning them to the system. A backup moves multi-MiB buffers through
a dozen threads, so the retained free memory alone can exceed the RSS budget. Capping
the number of arenas shares those free buffers between threads, and a fixed mmap
threshold of 8 MiB returns only the largest buffers (read blocks, parity of big packs)
to the system when freed. A pack's shares (about 5.6 MiB at 3-of-5) stay below it, so
their memory is reused from the heap instead of being mapped and zero-filled afresh for
every pack: on the 1 GiB benchmark that halves the kernel time of a backup or a check
(a fifth off `check --read-data`'s wall time) for about 10 MiB more peak memory than a
4 MiB threshold. Neither changes any result.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameter numbers in glibc's malloc.h.
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
ARENAS = 2
# Buffers this large get their own mapping, returned to the system when freed, instead
# of lingering in an arena's free lists; shares of 16 MiB packs stay below it.
MMAP_THRESHOLD = 8 * 1024 * 1024

_done = False


def tune_malloc() -> None:
    """Cap glibc's arenas and fix its mmap threshold (once; a no-op off glibc)."""
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
