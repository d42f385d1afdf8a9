"""Following a growing log: batches, rotation (rename and truncate), resuming, pipes.

A writer thread grows a real Zeek dns.log while :func:`follow` reads it; the writer waits
for the reader where the test needs the reader part-way (events, never sleeps), so every
line must come out exactly once whatever the timing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from seawall.intel.errors import UnreadableLog
from seawall.intel.matching.following import (
    Batching,
    FileTail,
    PipeTail,
    Position,
    follow,
    load_position,
    save_position,
)

ZEEK = Path(__file__).parents[2] / "data" / "zeek"
LINES = (ZEEK / "dns.log").read_text().splitlines(keepends=True)
HEADER = [line for line in LINES if line.startswith("#") and not line.startswith("#close")]
RECORDS = [line for line in LINES if not line.startswith("#")]
FAST = Batching(records=5, seconds=0.0, poll=0.01)  # flushed as soon as read
DEADLINE = 20.0  # how long a test waits for the other thread before it fails


class Collected:
    """What follow flushed, batch by batch, and an event per flushed line count."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.positions: list[Position | None] = []
        self.lock = threading.Condition()

    def __call__(self, lines: list[str], position: Position | None) -> None:
        with self.lock:
            self.batches.append(list(lines))
            self.positions.append(position)
            self.lock.notify_all()

    @property
    def lines(self) -> list[str]:
        return [line for batch in self.batches for line in batch]

    def wait_for(self, count: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.lines) >= count, DEADLINE)


def _run(
    tail: FileTail | PipeTail, batching: Batching = FAST
) -> tuple[Collected, threading.Event, Callable[[], int]]:
    collected, stop, result = Collected(), threading.Event(), []
    thread = threading.Thread(
        target=lambda: result.append(follow(tail, collected, stop, batching)), daemon=True
    )
    thread.start()

    def finish() -> int:
        stop.set()
        thread.join(DEADLINE)
        assert not thread.is_alive()
        return result[0]

    return collected, stop, finish


def _append(path: Path, text: str) -> None:
    with path.open("a") as out:
        out.write(text)


def test_a_growing_log_renamed_and_recreated_gives_every_record_once(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    first, second = RECORDS[:30], RECORDS[30:]
    log.write_text("".join(HEADER + first[:10]))
    collected, _, finish = _run(FileTail(log))
    collected.wait_for(len(HEADER) + 10)
    # A record written in two halves waits for its newline.
    _append(log, "".join(first[10:20]) + first[20][:15])
    collected.wait_for(len(HEADER) + 20)
    _append(log, first[20][15:] + "".join(first[21:]))
    collected.wait_for(len(HEADER) + 30)
    # Zeek's rotation: the log is renamed away and a new one started; the last lines of
    # the old file are written just before.
    log.rename(tmp_path / "dns.2013-09-15-23-00-00.log")
    (tmp_path / "dns.log").write_text("".join(HEADER + second))
    read = finish()
    assert collected.lines == HEADER + first + HEADER + second
    assert read == 2 * len(HEADER) + len(RECORDS)
    assert all(len(batch) <= FAST.records for batch in collected.batches)


def test_a_log_truncated_in_place_is_read_again_from_its_top(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text("".join(HEADER + RECORDS[:20]))
    collected, _, finish = _run(FileTail(log))
    collected.wait_for(len(HEADER) + 20)
    # logrotate's copytruncate: the file is copied away, cut to nothing and written again.
    with log.open("r+") as out:
        out.truncate(0)
    _append(log, "".join(HEADER + RECORDS[20:25]))
    collected.wait_for(2 * len(HEADER) + 25)
    # Cut again and regrown past where the reader was before it looked: the changed top
    # of the file tells.
    with log.open("r+") as out:
        out.truncate(0)
    _append(log, "".join(HEADER + RECORDS[25:]))
    finish()
    assert (
        collected.lines == HEADER + RECORDS[:20] + HEADER + RECORDS[20:25] + HEADER + RECORDS[25:]
    )


def test_a_follow_resumes_after_its_last_flushed_line_even_across_a_rotation(
    tmp_path: Path,
) -> None:
    log, state = tmp_path / "dns.log", tmp_path / "follow.state"
    log.write_text("".join(HEADER + RECORDS[:12]))

    def saving(collected: Collected) -> Callable[[list[str], Position | None], None]:
        def flush(lines: list[str], position: Position | None) -> None:
            collected(lines, position)
            assert position is not None
            save_position(state, position)

        return flush

    first = Collected()
    stop = threading.Event()
    stop.set()  # read what is there, then stop
    follow(FileTail.resume(log, load_position(state)), saving(first), stop, FAST)
    assert first.lines == HEADER + RECORDS[:12]
    # While no follow runs, the log grows, is rotated, and a new one is started.
    _append(log, "".join(RECORDS[12:20]))
    log.rename(tmp_path / "dns.log.1")
    log.write_text("".join(HEADER + RECORDS[20:]))
    second = Collected()
    tail = FileTail.resume(log, load_position(state))
    assert tail.header == HEADER  # the old file's columns, for a reader that starts part-way
    follow(tail, saving(second), stop, FAST)
    assert second.lines == RECORDS[12:20] + HEADER + RECORDS[20:]
    assert not tail.notes
    # Once more, nothing new: nothing read twice.
    third = Collected()
    follow(FileTail.resume(log, load_position(state)), saving(third), stop, FAST)
    assert third.lines == []


def test_a_follow_whose_old_file_is_gone_says_so_and_reads_the_new_one(tmp_path: Path) -> None:
    log, state = tmp_path / "dns.log", tmp_path / "follow.state"
    log.write_text("".join(HEADER + RECORDS[:5]))
    stop = threading.Event()
    stop.set()
    tail = FileTail(log)
    follow(tail, lambda lines, at: save_position(state, at) if at else None, stop, FAST)
    tail.close()
    log.unlink()
    log.write_text("".join(HEADER + RECORDS[5:10]) + "x" * 5000 + "\n")
    collected = Collected()
    resumed = FileTail.resume(log, load_position(state))
    follow(resumed, collected, stop, FAST)
    assert collected.lines[: len(HEADER) + 5] == HEADER + RECORDS[5:10]
    assert len(resumed.notes) == 1


def test_a_state_for_another_log_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "follow.state"
    save_position(state, Position(str(tmp_path / "other.log"), 1, 2, 3, "00"))
    with pytest.raises(UnreadableLog, match=r"other\.log"):
        FileTail.resume(tmp_path / "dns.log", load_position(state))
    state.write_text("[]")
    with pytest.raises(UnreadableLog):
        load_position(state)


def test_a_state_with_a_negative_offset_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text("".join(HEADER + RECORDS[:5]))
    found = log.stat()
    state = tmp_path / "follow.state"
    save_position(state, Position(str(log), found.st_dev, found.st_ino, -3, "00"))
    with pytest.raises(UnreadableLog, match="follow state"):
        load_position(state)


def test_a_state_that_cannot_be_written_is_refused_before_following(tmp_path: Path) -> None:
    state = tmp_path / "missing" / "follow.state"
    with pytest.raises(UnreadableLog, match="missing"):
        load_position(state)
    with pytest.raises(UnreadableLog, match="missing"):
        save_position(state, Position(str(tmp_path / "dns.log"), 1, 2, 3, "00"))


def test_a_pipe_is_read_to_its_end_in_batches_with_its_unterminated_last_line() -> None:
    read_end, write_end = os.pipe()
    pipe = os.fdopen(read_end, "rb", buffering=0)
    collected, _, finish = _run(PipeTail(pipe), Batching(records=7, seconds=60, poll=0.01))
    with os.fdopen(write_end, "w") as out:
        out.write("".join(RECORDS[:20]))
        out.flush()
        collected.wait_for(14)
        out.write("".join(RECORDS[20:29]) + RECORDS[29].rstrip("\n"))
    assert finish() == 30
    pipe.close()
    assert collected.lines == RECORDS[:30]
    assert [len(b) for b in collected.batches] == [7, 7, 7, 7, 2]


def test_a_batch_is_flushed_when_its_time_is_up_before_it_is_full() -> None:
    read_end, write_end = os.pipe()
    ticks = iter(range(0, 10_000, 10))  # each look at the clock is 10 s later
    collected, stop = Collected(), threading.Event()

    def flush(lines: list[str], position: Position | None) -> None:
        collected(lines, position)
        assert not stop.is_set()  # flushed by time, not by the stop
        stop.set()

    os.write(write_end, "".join(RECORDS[:3]).encode())
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        follow(PipeTail(pipe), flush, stop, Batching(1000, 5.0, 0.01), lambda: next(ticks))
    os.close(write_end)
    assert collected.batches == [RECORDS[:3]]


def test_an_in_memory_stream_is_read_to_its_end() -> None:
    collected = Collected()
    data = io.BytesIO("".join(RECORDS[:12]).encode())
    assert follow(PipeTail(data), collected, threading.Event(), FAST) == 12
    assert collected.lines == RECORDS[:12]


def test_a_compressed_or_binary_file_is_refused_not_followed(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_bytes(gzip.compress("".join(LINES).encode()))
    stop = threading.Event()
    stop.set()
    with pytest.raises(UnreadableLog, match="compressed or binary"):
        follow(FileTail(log), Collected(), stop, FAST)
    log.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 64)  # a pcap
    with pytest.raises(UnreadableLog, match="compressed or binary"):
        follow(FileTail(log), Collected(), stop, FAST)


def test_a_writer_that_goes_on_in_the_renamed_file_until_it_reopens_loses_nothing(
    tmp_path: Path,
) -> None:
    # logrotate's `create` with a postrotate HUP: the log is renamed and an empty one made,
    # but the writer goes on in the renamed file until it is told to reopen the name.
    log = tmp_path / "dns.log"
    writer = log.open("w")
    writer.write("".join(HEADER + RECORDS[:10]))
    writer.flush()
    collected, _, finish = _run(FileTail(log))
    collected.wait_for(len(HEADER) + 10)
    log.rename(tmp_path / "dns.log.1")
    log.write_text("".join(HEADER))
    collected.wait_for(2 * len(HEADER) + 10)  # the reader is on the new file now
    writer.write("".join(RECORDS[10:20]))  # still into the renamed file
    writer.close()
    collected.wait_for(2 * len(HEADER) + 20)
    _append(log, "".join(RECORDS[20:]))  # reopened
    finish()
    assert collected.lines == HEADER + RECORDS[:10] + HEADER + RECORDS[10:20] + RECORDS[20:]


def test_a_rotated_file_let_go_counts_its_unterminated_last_line(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text("".join(RECORDS[:3]) + RECORDS[3].rstrip("\n"))
    collected, stop = Collected(), threading.Event()
    tail = FileTail(log, linger=0.0)
    assert tail.lines(10) == RECORDS[:3]
    log.rename(tmp_path / "dns.log.1")
    log.write_text(RECORDS[4])
    stop.set()
    follow(tail, collected, stop, FAST)
    assert sorted(collected.lines) == sorted([RECORDS[3], RECORDS[4]])  # each once


def test_a_state_naming_a_file_that_cannot_be_opened_reads_the_log_from_its_top(
    tmp_path: Path,
) -> None:
    log = tmp_path / "dns.log"
    log.write_text("".join(HEADER + RECORDS[:5]))
    folder = tmp_path / "old"  # what the state names is not a file any more
    folder.mkdir()
    found = folder.stat()
    position = Position(str(log), found.st_dev, found.st_ino, 0, hashlib.sha256().hexdigest())
    tail = FileTail.resume(log, position)
    assert tail.lines(100) == HEADER + RECORDS[:5]
    assert len(tail.notes) == 1
    tail.close()
