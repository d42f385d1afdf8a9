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


def test_a_log_match_is_said_with_its_figures_and_plural_forms() -> None:
    from seawall.web.said import evidence_line

    one = {"lines": 1, "formats": ["zeek-dns"], "indicators": 1, "matched": 1}
    many = {"lines": 1200, "formats": ["suricata", "zeek-dns"], "indicators": 40, "matched": 3}
    assert evidence_line("en", "intel.logs.matched", one, "stored") == (
        "Matched 1 log line (zeek-dns) against 1 shared indicator: 1 matched"
    )
    assert evidence_line("es", "intel.logs.matched", one, "stored") == (
        "Se cotejó 1 línea de registro (zeek-dns) contra 1 indicador compartido: 1 coincidente"
    )
    assert evidence_line("es", "intel.logs.matched", many, "stored") == (
        "Se cotejaron 1.200 líneas de registro (suricata, zeek-dns) contra 40 indicadores"
        " compartidos: 3 coincidentes"
    )
    assert evidence_line("nl", "intel.logs.matched", many, "stored") == (
        "1.200 logregels vergeleken (suricata, zeek-dns) tegen 40 gedeelde indicatoren:"
        " 3 overeenkomsten"
    )
    # A record made before the formats were kept says its stored line.
    older = {"lines": 1200, "indicators": 40, "matched": 3}
    assert evidence_line("es", "intel.logs.matched", older, "stored") == "stored"


def test_a_followed_log_a_closed_case_and_the_demo_sharing_are_said() -> None:
    from seawall.web.said import evidence_line

    followed = {"lines": 2, "log": "dns.log", "format": None, "indicators": 5, "matched": 0}
    assert evidence_line("es", "intel.logs.followed", followed, "stored") == (
        "Se siguió dns.log (vacío): se cotejaron 2 líneas de registro a medida que se escribían"
        " contra 5 indicadores compartidos: 0 coincidentes"
    )
    case = {"title": "Phishing wave", "determination": "false-positive", "nations": ["JM"]}
    assert evidence_line("es", "intel.case.closed", case, "stored") == (
        "Caso «Phishing wave» cerrado (falso positivo); nación implicada: JM"
    )
    assert evidence_line("en", "intel.case.closed", {**case, "nations": ["JM", "TT"]}, "") == (
        "Case 'Phishing wave' closed (false-positive); nations on it: JM, TT"
    )
    shared = {"indicators": 42, "partners": ["TT", "BB"]}
    assert evidence_line("fr", "intel.sharing", shared, "stored") == (
        "Exemple : 42 indicateurs partagés avec TT et BB via TAXII ce mois-ci"
    )


def test_a_completed_programme_and_a_changed_law_are_said() -> None:
    from seawall.web.said import evidence_line

    programme = {"ref": "JM-CIRT-2026", "name": "A national CIRT", "funders": []}
    assert evidence_line("es", "coop.programme.completed", programme, "stored") == (
        "Programa JM-CIRT-2026 completado: A national CIRT (financiadores sin nombre)"
    )
    law = {"nation": "JM", "kind": "data_protection", "before": "draft", "after": "in_force",
           "title": "Data Protection Act", "date": ""}  # fmt: skip
    assert evidence_line("es", "coop.law.cell_changed", law, "stored") == (
        "JM Protección de datos: proyecto -> en vigor (Data Protection Act, sin fecha)"
    )
    assert evidence_line("es", "coop.law.cell_changed", {**law, "kind": "x"}, "kept") == "kept"
