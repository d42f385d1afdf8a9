"""ATT&CK import benchmark: ``seawall intel attack import`` beside stix2's MemoryStore.

Given a full ATT&CK bundle (``enterprise-attack.json`` from mitre-attack/attack-stix-data,
about 25,000 objects; it is not in the repository), it runs, each in its own process and
in the same run:

- **seawall, first import**: ``seawall intel attack import FILE`` on a fresh node (SQLite):
  read, validate, admit and store every object with its observable index;
- **seawall, re-import**: the same file again (every version held: nothing written);
- **stix2 MemoryStore**: ``stix2.MemoryStore(stix_data=objects, allow_custom=True)``, the
  in-memory reader mitreattack-python and most ATT&CK scripts load the bundle into.

It prints wall time and peak RSS of each, and the ratio to the MemoryStore. Run
``uv run --frozen python bench/attack_import.py [PATH/enterprise-attack.json]``; without a
path it reads ``bench/.work/attack/enterprise-attack.json``, and says it skipped when that
file is absent (the bundle is 45 MB and not in the repository).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / ".work" / "attack" / "enterprise-attack.json"
# The peer gets the objects as Seawall reads them (a STIX 2.0 bundle from mitre/cti read as 2.1).
PEER = """
import sys, stix2
from pathlib import Path
from seawall.intel.attack import read_bundle
objects = read_bundle(Path(sys.argv[1]).read_bytes())
store = stix2.MemoryStore(stix_data=objects, allow_custom=True)
print(len(store.source._data))
"""


def _run(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout+stderr of one command."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    lines = done.stderr.strip().splitlines()
    return wall, int(lines[-1]) / 1024, done.stdout + "\n".join(lines[:-1])


def main() -> None:
    """Run the three measures and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?", default=DEFAULT)
    options = parser.parse_args()
    if not options.bundle.is_file():
        print(
            f"skipped: no ATT&CK bundle at {options.bundle}; put enterprise-attack.json from "
            "https://github.com/mitre-attack/attack-stix-data there, or give its path"
        )
        return
    with options.bundle.open("rb") as f:
        count = len(json.load(f)["objects"])
    size = options.bundle.stat().st_size / 1e6
    home = Path(tempfile.mkdtemp(prefix="seawall-attack-bench-"))
    try:
        seawall = [sys.executable, "-m", "seawall", "--home", str(home)]
        _run([*seawall, "init", "--nation", "JM"])
        first = _run([*seawall, "intel", "attack", "import", str(options.bundle)])
        again = _run([*seawall, "intel", "attack", "import", str(options.bundle)])
        peer = _run([sys.executable, "-c", PEER, str(options.bundle)])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"{options.bundle.name}: {count:,} objects, {size:.1f} MB")
    print(first[2].strip().splitlines()[-1])
    print(again[2].strip().splitlines()[-1])
    print("| Measure | Wall time | Peak RSS | Time / MemoryStore's |")
    print("|---|---|---|---|")
    for name, (wall, rss, _) in (
        ("seawall intel attack import (first)", first),
        ("seawall intel attack import (again)", again),
        ("stix2 MemoryStore (peer, memory only)", peer),
    ):
        print(f"| {name} | {wall:.2f} s | {rss:.0f} MiB | {wall / peer[0]:.2f}x |")


if __name__ == "__main__":
    main()
