"""Documents the pillars render: HTML from a package's Jinja templates, in any of the node's
languages, and that HTML rendered to PDF with WeasyPrint.

A nation's report (``assess``) and the harmonisation matrix (``coop``) are each one
self-contained HTML document, and WeasyPrint renders the same document to PDF.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from seawall.catalogs import template_gettext


@cache
def document_environment(package: str, folder: str, language: str) -> Environment:
    """The templates of ``package`` under ``folder``, whose words are ``language``'s."""
    env = Environment(
        loader=PackageLoader(package, folder),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # As on the web pages: `_` and `{% trans %}` (newstyle) from the node's catalogs.
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(template_gettext(language))
    return env


def render_pdf(html: str) -> bytes:
    """An HTML document rendered to PDF with WeasyPrint."""
    # imported late: it is slow to load and only PDFs need it; it ships no type hints
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
