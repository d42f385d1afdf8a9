"""The harmonisation matrix exported: CSV for spreadsheets, HTML and PDF (WeasyPrint) to table.

The HTML is one self-contained document; the PDF is the same document on landscape A4, its
header row repeated on every page, no nation's row split across pages, every cell linked to
its source, the status legend under the table, and a SAMPLE watermark on every page when any
cell rests on sample data. Words are the node's catalogs' (any of its languages); law titles
keep the words they are published under.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from jinja2 import Environment

from seawall.catalogs import translations
from seawall.coop.matrix import KIND_NAMES, STATUS_MEANINGS, STATUS_NAMES, STATUSES, UNKNOWN, Matrix
from seawall.coop.records import SAMPLE_NOTE
from seawall.core.documents import document_environment, render_pdf
from seawall.core.nations import nation_name

FORMATS = ("csv", "html", "pdf")


def matrix_csv(matrix: Matrix) -> bytes:
    """One row per nation: its name, then each kind's status, date, source and whether the cell
    is sample data; last, whether any cell of the row is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["nation", "name"]
    for kind in matrix.kinds:
        header += [kind, f"{kind}_date", f"{kind}_source", f"{kind}_sample"]
    writer.writerow([*header, "sample"])
    for nation in matrix.nations:
        row = [nation, nation_name(nation)]
        sample = False
        for cell in matrix.row(nation):
            best = cell.best
            cell_sample = bool(best and best.sample)
            row += [
                cell.status,
                best.date if best else "",
                best.source if best else "",
                "true" if cell_sample else "false",
            ]
            sample = sample or cell_sample
        writer.writerow([*row, "true" if sample else "false"])
    return out.getvalue().encode()


def _environment(language: str) -> Environment:
    return document_environment("seawall.coop", "data/templates", language)


def matrix_html(
    matrix: Matrix, generated_at: datetime, group: str | None = None, language: str = "en"
) -> str:
    """The matrix as one self-contained HTML document, written in ``language``."""
    gettext = translations(language).gettext
    title = gettext("Harmonisation matrix of cyber legislation")
    return (
        _environment(language)
        .get_template("matrix.html")
        .render(
            m=matrix,
            lang=language,
            title=title,
            group=group,
            generated=f"{generated_at:%Y-%m-%d %H:%M} UTC",
            nation_name=nation_name,
            kind_names={k: gettext(v) for k, v in KIND_NAMES.items()},
            status_names={k: gettext(v) for k, v in STATUS_NAMES.items()},
            legend=[(s, gettext(STATUS_MEANINGS[s])) for s in (*STATUSES, UNKNOWN)],
            sample_note=SAMPLE_NOTE,
        )
    )


def matrix_pdf(html: str) -> bytes:
    """The HTML matrix rendered to PDF with WeasyPrint."""
    return render_pdf(html)
