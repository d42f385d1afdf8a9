"""``seawall coop law`` and ``cirt``: the starter data, the matrix's exports, the boundaries."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from tests.cli import init_node, run_seawall


def _pdf_pages(data: bytes) -> list[tuple[float, float, str]]:
    pdf = pdfium.PdfDocument(data)
    out = []
    for page in pdf:
        width, height = page.get_size()
        image = page.render(scale=1).to_pil().convert("L")
        assert image.getextrema()[0] < 128  # something is drawn on every page
        out.append((width, height, page.get_textpage().get_text_range()))
    return out


def test_starter_matrix_exports_and_sample_watermark(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    loaded = run_seawall(home, "coop", "law", "import", "--starter", "--json")
    assert loaded.code == 0, loaded.err
    assert loaded.json()["added"] >= 20 and loaded.json()["skipped"] == []
    matrix = run_seawall(home, "coop", "law", "matrix", "--group", "OECS", "--json").json()
    gd = next(r for r in matrix["rows"] if r["nation"] == "GD")["cells"]
    assert gd["budapest_convention"]["status"] == "in_force"
    assert gd["budapest_convention"]["source"].startswith("https://")
    assert gd["critical_infrastructure"]["status"] == "unknown"
    assert not matrix["sample"]
    csv_out = tmp_path / "m.csv"
    assert (
        run_seawall(home, "coop", "law", "matrix", "--format", "csv", "-o", str(csv_out)).code == 0
    )
    assert csv_out.read_text().splitlines()[0].startswith("nation,name,data_protection,")
    pdf_out = tmp_path / "m.pdf"
    done = run_seawall(
        home, "coop", "law", "matrix", "--group", "CARICOM", "--format", "pdf", "-o", str(pdf_out)
    )
    assert done.code == 0, done.err
    pages = _pdf_pages(pdf_out.read_bytes())
    assert all(w > h for w, h, _ in pages)  # landscape A4
    assert "Status" in pages[-1][2] and "in force" in pages[-1][2]  # the legend
    assert not any("SAMPLE" in text for _, _, text in pages)

    run_seawall(
        home,
        "coop",
        "law",
        "add",
        "LC",
        "cybercrime",
        "Sample Act",
        "--status",
        "draft",
        "--source",
        "https://example.org/sample",
        "--sample",
    )
    sample_pdf = tmp_path / "s.pdf"
    run_seawall(
        home, "coop", "law", "matrix", "--group", "OECS", "--format", "pdf", "-o", str(sample_pdf)
    )
    assert all("SAMPLE" in text for _, _, text in _pdf_pages(sample_pdf.read_bytes()))
    html = run_seawall(home, "coop", "law", "matrix", "--group", "OECS", "--format", "html")
    assert 'href="https://example.org/sample"' in html.out
    text = run_seawall(home, "coop", "law", "matrix", "--group", "OECS").out
    # the title explains the mark, and the one sample cell carries it; the starter's do not
    assert "(* sample data)" in text and text.count("*") == 2


def test_a_viewer_is_refused_and_the_cirt_directory_counts_the_region(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    assert (
        run_seawall(
            home, "user", "add", "jm-viewer", "--role", "viewer", "--password", "a-long-password"
        ).code
        == 0
    )
    refused = run_seawall(
        home,
        "coop",
        "law",
        "--as",
        "jm-viewer",
        "add",
        "JM",
        "cybercrime",
        "X",
        "--status",
        "draft",
        "--source",
        "https://example.org/x",
    )
    assert refused.code == 77 and len(refused.err_lines) == 1
    assert run_seawall(home, "coop", "law", "list", "--json").json() == []
    assert run_seawall(home, "coop", "cirt", "import", "--starter").code == 0
    listed = run_seawall(home, "coop", "cirt", "list", "--group", "CARICOM", "--json").json()
    assert listed["figures"]["established_cirts"] == 3
    assert listed["figures"]["members"] == 15
    assert {c["nation"] for c in listed["cirts"]} == {"GY", "JM", "TT"}
    bad = tmp_path / "cirts.csv"
    bad.write_text("nation,name,status,source\nBB,BB CIRT,running,https://example.org\n")
    failed = run_seawall(home, "coop", "cirt", "import", str(bad))
    assert failed.code == 65
    assert len(failed.err_lines) == 1
    assert "cirts.csv: row 2, column status: 'running' is not one of" in failed.err
    shown = run_seawall(home, "coop", "cirt", "show", "Guyana", "--json").json()
    assert shown["name"].endswith("(CIRT.GY)")


def test_law_and_cirt_export_take_json_like_every_coop_command(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    assert run_seawall(home, "coop", "law", "import", "--starter").code == 0
    assert run_seawall(home, "coop", "cirt", "import", "--starter").code == 0
    laws_out = run_seawall(home, "coop", "law", "export", "--json")
    assert laws_out.code == 0, laws_out.err
    assert laws_out.json()["instruments"][0]["source"].startswith("https://")
    cirts_out = run_seawall(home, "coop", "cirt", "export", "--json")
    assert cirts_out.code == 0, cirts_out.err
    assert cirts_out.json()["cirts"][0]["source"].startswith("https://")


def test_an_import_takes_a_file_or_the_starter_not_both_nor_neither(tmp_path: Path) -> None:
    home = init_node(tmp_path / "jm")
    source = tmp_path / "laws.csv"
    source.write_text("nation,kind,title,status,source\n")
    for pillar in ("law", "cirt"):
        for args in ((), (str(source), "--starter")):
            refused = run_seawall(home, "coop", pillar, "import", *args)
            assert refused.code == 65, refused.err
            assert len(refused.err_lines) == 1
            assert "give a FILE to import, or --starter (not both)" in refused.err
