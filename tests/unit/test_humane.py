"""The home page's filters say times, durations, scores and sizes in the page's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jinja2 import Environment

from seawall.web import humane


def _env() -> Environment:
    env = Environment(autoescape=True)
    env.filters.update(
        ago=humane.ago, span=humane.span, readable=humane.readable, decimal=humane.decimal
    )
    return env


def test_moments_and_durations_read_as_people_say_them() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    page = _env().from_string("{{ at | ago(now) }} · {{ rpo | span }} · {{ none | ago }}")
    values = {"at": now - timedelta(hours=3), "now": now, "rpo": timedelta(days=1), "none": None}
    assert page.render(**values) == "3 hours ago · 1 day · —"
    assert page.render(**values, lang="es") == "hace 3 horas · 1 día · —"
    assert page.render(**values, lang="nl") == "3 uur geleden · 1 dag · —"


def test_scores_and_stored_byte_counts_read_in_the_pages_language() -> None:
    page = _env().from_string("{{ score | decimal }} · {{ text | readable }}")
    text = "11 files, 2669119 bytes in 4.9 s (55 s) against an RTO of 3600 s; 1573412 new bytes"
    assert page.render(score=3.25, text=text) == (
        "3.2 · 11 files, 2.7 MB in 4.9 s (55 s) against an RTO of 1 hour; 1.6 MB of new data"
    )
    assert page.render(score=3.5, text="2669119 bytes", lang="fr") == "3,5 · 2,7 MB"
