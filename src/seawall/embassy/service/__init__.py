"""One function per embassy operation: authorise, open, run, summarise and record.

The CLI, the web and the sample loader call these, so a run is recorded the same way whichever
edge started it. :mod:`.base` holds access, opening and recording; :mod:`.runs` the runs; each
further operation (find, copy, rewrite, mount) has a module of its own here, imported by
whoever needs it: mount loads the FUSE binding, which no other command should pay for.
"""

from seawall.embassy.service.base import Access, Opened, Units, create, opened
from seawall.embassy.service.runs import (
    Forgotten,
    Restored,
    assess_exposure,
    backup,
    check,
    forget,
    prune,
    repair,
    replace_site,
    restore,
)

__all__ = [
    "Access",
    "Forgotten",
    "Opened",
    "Restored",
    "Units",
    "assess_exposure",
    "backup",
    "check",
    "create",
    "forget",
    "opened",
    "prune",
    "repair",
    "replace_site",
    "restore",
]
