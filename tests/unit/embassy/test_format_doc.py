"""docs/embassy-format.md states the constants the code uses, so a reader can rely on it."""

from __future__ import annotations

from pathlib import Path

from seawall.embassy import erasure, keys, packs, sealing
from seawall.embassy.config import CONFIG, FORMAT, MARKER
from seawall.embassy.custody import PREFIX

DOC = (Path(__file__).parents[3] / "docs" / "embassy-format.md").read_text()


def test_format_doc_names_every_magic_and_context_string() -> None:
    strings = [
        erasure.MAGIC.decode(),
        packs.MAGIC[:4].decode(),
        PREFIX,
        FORMAT,
        sealing.BLOB_INFO.decode(),
        keys.RECOVERY_INFO.decode(),
        keys.SLOT_AAD.decode().strip(),
        packs.TRAILER_CONTEXT.decode(),
        f"`{MARKER}`",
        f"`{CONFIG}`",
    ]
    missing = [s for s in strings if s not in DOC]
    assert missing == []


def test_format_doc_matches_sizes_and_kdf_defaults() -> None:
    assert erasure.HEADER.size == 48 and "| 48 | S | block `i` |" in DOC
    assert sealing.HEADER_SIZE == 30 and "| 30 | len - 46 |" in DOC
    assert packs.ENTRY.size == 44 and "44 bytes" in DOC
    kdf = keys.DEFAULT_KDF
    assert f"t = {kdf.time_cost}, m = {kdf.memory_cost} KiB" in DOC
    assert f"p = {kdf.parallelism}" in DOC
    for purpose in ("data", "chunk-id", "share-mac", "chunker-seed"):
        assert f"seawall-embassy/v1 {purpose}" in DOC
