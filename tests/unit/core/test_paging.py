"""Keyset paging: every row once, in order, forwards and back, for any page size; bad cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from seawall.core.paging import (
    Page,
    PageRequest,
    Sort,
    decode_cursor,
    encode_cursor,
    page_of,
    parse_day,
    parse_limit,
    sql_page,
)
from seawall.errors import BadPageCursor, InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEWEST = Sort("newest", (datetime, int), descending=True)
OLDEST = Sort("oldest", (datetime, int))

Row = tuple[datetime, int]
rows_strategy = st.lists(st.integers(0, 5), max_size=40).map(
    lambda hours: [(T0 + timedelta(hours=h), seq) for seq, h in enumerate(hours)]
)


def _in_order(rows: list[Row], sort: Sort) -> list[Row]:
    return sorted(rows, reverse=sort.descending)


def _key(row: Row) -> tuple[datetime, int]:
    return row


def _walk(rows: list[Row], sort: Sort, limit: int) -> tuple[list[Row], list[Page[Row]]]:
    seen: list[Row] = []
    pages: list[Page[Row]] = []
    cursor = None
    while True:
        page = page_of(rows, _key, sort, PageRequest(limit, cursor))
        pages.append(page)
        seen += page.items
        if page.next is None:
            return seen, pages
        cursor = page.next


@given(rows=rows_strategy, limit=st.integers(1, 12), sort=st.sampled_from([NEWEST, OLDEST]))
def test_paging_forward_yields_every_row_once_in_order(
    rows: list[Row], limit: int, sort: Sort
) -> None:
    ordered = _in_order(rows, sort)
    seen, pages = _walk(ordered, sort, limit)
    assert seen == ordered
    assert all(p.total == len(rows) for p in pages)
    assert all(len(p.items) <= limit for p in pages)
    assert pages[0].prev is None


@given(rows=rows_strategy, limit=st.integers(1, 12), sort=st.sampled_from([NEWEST, OLDEST]))
def test_paging_back_from_the_last_page_retraces_the_same_pages(
    rows: list[Row], limit: int, sort: Sort
) -> None:
    ordered = _in_order(rows, sort)
    _, pages = _walk(ordered, sort, limit)
    back: list[list[Row]] = [pages[-1].items]
    cursor = pages[-1].prev
    while cursor is not None:
        page = page_of(ordered, _key, sort, PageRequest(limit, cursor))
        back.append(page.items)
        cursor = page.prev
    assert back[::-1] == [p.items for p in pages if p.items] or not ordered


def _table(rows: list[Row]) -> tuple[Session, Table]:
    engine = create_engine("sqlite://")
    meta = MetaData()
    table = Table("t", meta, Column("at", String(40)), Column("seq", Integer, primary_key=True))
    meta.create_all(engine)
    session = Session(engine)
    if rows:
        session.execute(insert(table), [{"at": at.isoformat(), "seq": seq} for at, seq in rows])
    return session, table


@settings(deadline=None)  # a database per example: time depends on the machine's load
@given(rows=rows_strategy, limit=st.integers(1, 12))
def test_sql_pages_match_the_in_memory_pages(rows: list[Row], limit: int) -> None:
    sort = Sort("newest", (str, int), descending=True)
    session, table = _table(rows)
    keyed = sorted(((at.isoformat(), seq) for at, seq in rows), reverse=True)
    with session:
        cursor = None
        seen: list[tuple[str, int]] = []
        while True:
            page = sql_page(
                session,
                select(table.c.at, table.c.seq),
                sort,
                [table.c.at, table.c.seq],
                PageRequest(limit, cursor),
            )
            assert page.total == len(rows)
            seen += [tuple(r) for r in page.items]
            if page.next is None:
                break
            cursor = page.next
    assert seen == keyed


def test_a_cursor_round_trips_and_names_its_order() -> None:
    key = (T0, 12)
    cursor = decode_cursor(encode_cursor(NEWEST, key), NEWEST)
    assert cursor.key == key and cursor.forward
    with pytest.raises(BadPageCursor, match="start again from the first page"):
        decode_cursor(encode_cursor(NEWEST, key), OLDEST)


@pytest.mark.parametrize(
    "raw",
    [
        "not base64 !",
        base64.urlsafe_b64encode(b'[1,"newest","n"]').decode(),
        base64.urlsafe_b64encode(
            json.dumps([2, "newest", "n", [{"t": T0.isoformat()}, 1]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "x", [{"t": T0.isoformat()}, 1]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": "2026-01-01T00:00:00"}, 1]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": T0.isoformat()}, 2**64]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": T0.isoformat()}, "1"]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": T0.isoformat()}, True]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": "0001-01-01T00:00:00+01:00"}, 1]]).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps([1, "newest", "n", [{"t": "9999-12-31T23:59:59-01:00"}, 1]]).encode()
        ).decode(),
        "A" * 5000,
        "é",
    ],
)
def test_a_tampered_cursor_is_one_typed_error(raw: str) -> None:
    with pytest.raises(BadPageCursor) as caught:
        decode_cursor(raw, NEWEST)
    assert "\n" not in str(caught.value) and caught.value.http_status == 400


def test_limits_are_positive_whole_numbers_capped() -> None:
    assert parse_limit(None) == 50 and parse_limit("") == 50
    assert parse_limit("7") == 7 and parse_limit("9" * 40) == 500
    for bad in ("0", "-1", "²", "1.5", "ten"):
        with pytest.raises(InvalidInput):
            parse_limit(bad)


@pytest.mark.parametrize(
    ("value", "day_end"),
    [("0001-01-01T00:00:00+01:00", False), ("9999-12-31T23:59:59-01:00", False),
     ("9999-12-31", True)],
)  # fmt: skip
def test_a_filter_day_past_the_calendar_is_invalid_input(value: str, day_end: bool) -> None:
    with pytest.raises(InvalidInput, match="is not a date"):
        parse_day(value, "since", day_end=day_end)
