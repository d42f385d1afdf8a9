"""A data embassy run's summary said again from its figures, in the page's language."""

from __future__ import annotations

from seawall.web.said import run_line

DRILL = {
    "snapshot": "1a2b3c4d" * 8,
    "files": 11,
    "bytes": 2_669_119,
    "rto_measured_seconds": 4.93,
    "rto_target_seconds": 3600,
    "passed": True,
    "problems": [],
}


def test_a_drill_says_the_rto_it_was_held_to() -> None:
    assert run_line("en", "drill", DRILL, "stored") == (
        "restore drill of 1a2b3c4d: 11 files, 2.7 MB in 4.9 s against an RTO of 1 hour"
    )
    assert run_line("es", "embassy.drill", DRILL, "stored") == (
        "simulacro de restauración de 1a2b3c4d: 11 archivos, 2,7 MB en 4,9 s"
        " frente a un RTO de 1 hora"
    )
    untimed = {**DRILL, "rto_target_seconds": None, "problems": ["a.txt differs"]}
    assert run_line("en", "drill", untimed, "stored") == (
        "restore drill of 1a2b3c4d: 11 files, 2.7 MB in 4.9 s; 1 problem"
    )


def test_a_record_whose_figures_cannot_be_read_keeps_its_stored_line() -> None:
    assert run_line("fr", "drill", {"files": "many"}, "stored line") == "stored line"
    assert run_line("fr", "repair", DRILL, "stored line") == "stored line"


def test_a_restore_says_its_snapshot_files_and_size() -> None:
    restored = {"snapshot": "ae0a4b62" * 8, "target": "/tmp/x", "files": 1, "bytes": 2_669_119}
    assert run_line("en", "restore", restored, "stored") == "ae0a4b62 restored: 1 file, 2.7 MB"
    assert run_line("es", "restore", restored, "stored") == (
        "instantánea ae0a4b62 restaurada: 1 archivo, 2,7 MB"
    )
