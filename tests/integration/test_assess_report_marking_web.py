"""The report download forms of the maturity pages (the assess home, a round, the region): a TLP
select beside the buttons, set to the report's own default, whose choice marks the PDF and the
HTML downloaded, over a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pypdfium2 as pdfium
import pytest

from seawall.assess.report.marking import NATION_DEFAULT, REGION_DEFAULT
from seawall.assess.rounds import list_rounds
from seawall.assess.samples import load_sample_assessments
from seawall.core import users
from seawall.core.node import Node
from seawall.core.tlp import TLP_KEYS
from tests.conftest import LiveServer, sign_in_by_form

PASSWORD = "a-long-password"


@dataclass
class Form:
    """A GET form as a browser reads it: its fields, its TLP select and its submit buttons."""

    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    tlp_options: list[str] = field(default_factory=list)
    tlp_selected: str = ""
    tlp_label: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)

    def submit(self, button: dict[str, str], tlp: str) -> str:
        """The address the browser goes to when ``button`` is pressed with ``tlp`` chosen."""
        query = {**self.hidden, "tlp": tlp}
        if "name" in button:
            query[button["name"]] = button["value"]
        return f"{button.get('formaction', self.action)}?{urlencode(query)}"


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.form: Form | None = None
        self.inside = self.in_select = self.in_label = False
        self.label = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            assert a.get("method") == "get", a
            self.form, self.inside = Form(a["action"]), True
        if not self.inside or self.form is None:
            return
        if tag == "label":
            self.in_label, self.label = True, ""
        elif tag == "input" and a.get("type") == "hidden":
            self.form.hidden[a["name"]] = a["value"]
        elif tag == "select" and a.get("name") == "tlp":
            self.in_select = True
            self.form.tlp_label = self.label.strip()
        elif tag == "option" and self.in_select:
            self.form.tlp_options.append(a["value"])
            if "selected" in a:
                self.form.tlp_selected = a["value"]
        elif tag == "button":
            self.form.buttons.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.in_select = False
        elif tag == "label":
            self.in_label = False

    def handle_data(self, data: str) -> None:
        if self.in_label and not self.in_select:
            self.label += data


def read_form(html: str, form_id: str) -> Form:
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.form is not None, f"no form #{form_id}"
    return reader.form


def pdf_text(body: bytes) -> str:
    pdf = pdfium.PdfDocument(body)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


@pytest.fixture
def http(node: Node, live_server: LiveServer) -> Iterator[httpx.Client]:
    with node.unit(node.operator()) as ctx:
        load_sample_assessments(ctx)
        users.add_user(ctx, "jm-assessor", "assessor", password=PASSWORD)
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        assert sign_in_by_form(client, "jm-assessor", PASSWORD).status_code == 303
        yield client


def _round_id(node: Node) -> str:
    with node.unit(node.operator()) as ctx:
        return next(r.id for r in list_rounds(ctx) if (r.nation, r.year) == ("JM", 2026))


def test_each_report_form_marks_its_download_as_chosen_by_default_as_the_report_says(
    node: Node, http: httpx.Client
) -> None:
    pages = {
        "/assess": ("report-form", NATION_DEFAULT.key),
        f"/assess/rounds/{_round_id(node)}": ("report-form", NATION_DEFAULT.key),
        "/assess/region?group=CARICOM&baseline=2021": ("region-report-form", REGION_DEFAULT.key),
    }
    for address, (form_id, default) in pages.items():
        form = read_form(http.get(address).text, form_id)
        assert form.tlp_label == "Marking"
        assert (form.tlp_options, form.tlp_selected) == (list(TLP_KEYS), default), address
        assert len(form.buttons) == 2, form.buttons
        for button in form.buttons:
            answer = http.get(form.submit(button, "red"))
            assert answer.status_code == 200, (address, answer.text[:300])
            if answer.headers["content-type"] == "application/pdf":
                text = pdf_text(answer.content)
            else:
                assert answer.headers["content-type"].startswith("text/html")
                text = answer.text
            assert "TLP:RED" in text, (address, button)
            assert "TLP:AMBER" not in text and "TLP:CLEAR" not in text, (address, button)
    region = read_form(
        http.get("/assess/region?group=CARICOM&baseline=2021").text, "region-report-form"
    )
    assert region.hidden == {"group": "CARICOM", "framework": "cmm-2021", "baseline": "2021"}


def test_the_marking_select_speaks_the_pages_language(node: Node, http: httpx.Client) -> None:
    for language, label, hint in (
        ("fr", "Marquage", "Le marquage TLP imprimé sur la couverture"),
        ("es", "Marcado", "El marcado TLP impreso en la portada"),
        ("nl", "Markering", "De TLP-markering op de omslag"),
    ):
        page = http.get(f"/assess/rounds/{_round_id(node)}?lang={language}").text
        form = read_form(page, "report-form")
        assert form.tlp_label == label
        assert hint in page
