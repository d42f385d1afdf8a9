"""Following a growing log, as Zeek's intel framework does: match records as they are written.

:class:`FileTail` reads the complete lines of a file *by name*, so it survives rotation:

- **renamed and recreated** (Zeek, logrotate's default): when the name points to another
  file (its device and inode changed), the old file is read to its end first, then the
  new one from its first byte; the old one is still read until it has been quiet for
  :data:`LINGER` seconds, since a writer may go on in it until it reopens the name;
- **truncated in place** (logrotate's ``copytruncate``): when the file is shorter than
  what was read, or its first bytes changed, it is read again from its first byte.

A line counts once it ends in a newline, ``\\n`` only (a lone ``\\r`` is part of its line, as
in a log that is matched), so a record half-written when it is read waits for its end; the
last line of a rotated-away file counts without one once it is let go.

:func:`follow` hands the lines to a ``flush`` in batches, every ``records`` lines or
``seconds`` after the first unflushed line, whichever comes first, and once more when it
stops, with the :class:`Position` after the batch's last line. The caller
(:func:`seawall.intel.matching.live.follow_and_match`) records the batch, then saves the
position (:func:`save_position`), so a restart with the saved position
(:meth:`FileTail.resume`) goes on after the last recorded line: across a rotation while it
was stopped too, when the rotated file is still in the same folder under any name.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from seawall.intel.errors import UnreadableLog
from seawall.intel.matching.scan import MAX_LINE, over_long

HEAD = 4096  # bytes of a file's top that tell one file from the next under the same name
LINGER = 60.0  # seconds a rotated-away file is still read after it last grew
CHUNK = 2**16


@dataclass(frozen=True)
class Position:
    """Where a follow stands: in which file (device and inode), after which byte, and a digest
    of the file's first bytes up to there (an inode can be reused by the next file)."""

    path: str
    device: int
    inode: int
    offset: int
    head: str

    def as_json(self) -> dict[str, object]:
        """The position for a state file."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Position:
        """A position read back from a state file."""
        try:
            position = cls(
                path=_text(data, "path"),
                device=_number(data, "device"),
                inode=_number(data, "inode"),
                offset=_number(data, "offset"),
                head=_text(data, "head"),
            )
            if position.offset < 0:
                raise ValueError(f"offset {position.offset}")
        except (KeyError, ValueError) as exc:
            raise UnreadableLog(f"the follow state is not one this version wrote ({exc})") from None
        return position


def _text(data: dict[str, object], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} is no text")
    return value


def _number(data: dict[str, object], name: str) -> int:
    value = data[name]
    # Only a number or its digits; str() of a list or object nested deep would overflow the stack.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} is no number")
    return int(value)


def load_position(state: Path) -> Position | None:
    """The position saved in ``state``; None when there is no state file yet (a state that
    could not be saved, its folder missing, is refused now, not after the first batch)."""
    try:
        data = json.loads(state.read_text())
    except FileNotFoundError:
        if not state.parent.is_dir():
            raise UnreadableLog(f"cannot keep the follow state in {state}: no folder") from None
        return None
    except (OSError, ValueError) as exc:
        raise UnreadableLog(f"cannot read the follow state {state}: {exc}") from None
    except RecursionError:  # nested past Python's stack: no state this version wrote
        raise UnreadableLog(f"cannot read the follow state {state}: nested too deeply") from None
    if not isinstance(data, dict):
        raise UnreadableLog(f"{state} is not a follow state")
    return Position.from_json(data)


def save_position(state: Path, position: Position) -> None:
    """Save ``position`` in ``state`` in one step (a crash leaves the old or the new one)."""
    partial = state.with_name(f".{state.name}.partial")
    try:
        partial.write_text(json.dumps(position.as_json()))
        os.replace(partial, state)
    except OSError as exc:
        raise UnreadableLog(
            f"cannot save the follow state {state}: {exc.strerror or exc}"
        ) from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class _Open:
    """One file being read: its handle, identity, and what was read of it."""

    handle: BinaryIO
    device: int
    inode: int
    offset: int = 0  # after the last line handed out
    head: bytes = b""  # the file's first bytes (up to HEAD), as read
    buffer: bytes = b""  # read past the last complete line
    grew: float = 0.0  # when it last gave something (a rotated-away file is read a while)
    lines: deque[tuple[str, int]] = field(default_factory=deque)  # (line, offset after it)

    @property
    def read_to(self) -> int:
        """How far the handle has read."""
        return (self.lines[-1][1] if self.lines else self.offset) + len(self.buffer)


class FileTail:
    """The complete lines of a file followed by name, across rotation and truncation."""

    def __init__(self, path: Path, linger: float = LINGER) -> None:
        self.path = path
        self.linger = linger
        self.header: list[str] = []  # a resumed file's header lines (Zeek's #fields), unread
        self.notes: list[str] = []  # what the user should know (lines that could not be read)
        self.ended = False  # a file never ends; a pipe does
        self._file: _Open | None = None
        # Rotated-away files still read: a writer may go on in one until it reopens the name.
        self._previous: list[_Open] = []

    @classmethod
    def resume(cls, path: Path, position: Position | None) -> FileTail:
        """Follow ``path`` from ``position``: the file it names (under any name in the same
        folder), after its offset; from the top of ``path`` without one."""
        tail = cls(path)
        if position is None:
            return tail
        if Path(position.path).resolve() != path.resolve():
            raise UnreadableLog(f"the follow state is for {position.path}, not {path}")
        for candidate in [path, *_siblings(path)]:
            opened = tail._open_at(candidate, position)
            if opened:
                return tail
        tail.notes.append(
            f"{path} is no longer the file the follow state points to, and that file is not in "
            f"{path.parent}: lines written to it after byte {position.offset:,} were not matched"
        )
        return tail

    def _open_at(self, candidate: Path, position: Position) -> bool:
        try:
            found = candidate.stat()
        except OSError:
            return False
        if (found.st_dev, found.st_ino) != (position.device, position.inode):
            return False
        if found.st_size < position.offset or not stat.S_ISREG(found.st_mode):
            return False
        try:
            handle = candidate.open("rb")
        except OSError:
            return False  # unreadable: as if it were gone
        head = handle.read(HEAD)
        if _digest(head[: position.offset]) != position.head:
            handle.close()
            return False
        handle.seek(0)
        self.header = _header(handle, position.offset)
        handle.seek(position.offset)
        head = head[: min(position.offset, HEAD)]
        self._file = _Open(handle, found.st_dev, found.st_ino, position.offset, head)
        return True

    def position(self) -> Position | None:
        """Where the lines handed out so far end; None before a file was opened."""
        current = self._file
        if current is None:
            return None
        head = current.head[: current.offset]
        return Position(
            str(self.path), current.device, current.inode, current.offset, _digest(head)
        )

    def lines(self, limit: int) -> list[str]:
        """Up to ``limit`` complete lines written since the last call (none: nothing new)."""
        out = self._previous_lines(limit) if self._previous else []
        while len(out) < limit:
            current = self._file or self._open_new()
            if current is None:
                break
            if current.lines:
                line, current.offset = current.lines.popleft()
                out.append(line)
            elif not self._fill(current) and not self._rotated(current):
                break
        return out

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Wait for more to be written (or for ``stop``)."""
        stop.wait(seconds)

    def close(self) -> None:
        """Let the files go."""
        for old in self._previous:
            old.handle.close()
        self._previous = []
        if self._file is not None:
            self._file.handle.close()
            self._file = None

    def _previous_lines(self, limit: int) -> list[str]:
        """What rotated-away files gained; one quiet for ``linger`` seconds is let go, its
        unterminated last line counted (its writer is done with it)."""
        out: list[str] = []
        now = time.monotonic()
        for old in list(self._previous):
            while len(out) < limit:
                if old.lines:
                    out.append(old.lines.popleft()[0])
                elif self._fill(old):
                    old.grew = now
                else:
                    break
            if not old.lines and now - old.grew >= self.linger:
                if old.buffer:
                    out.append(old.buffer.decode("utf-8", "replace") + "\n")
                old.handle.close()
                self._previous.remove(old)
        return out

    def _open_new(self) -> _Open | None:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return None  # between a rotation's rename and the new file
        except OSError as exc:
            raise UnreadableLog(f"cannot read {self.path}: {exc.strerror or exc}") from None
        found = os.fstat(handle.fileno())
        self._file = _Open(handle, found.st_dev, found.st_ino)
        return self._file

    def _fill(self, current: _Open) -> bool:
        """Read more of the file; whether anything came."""
        data = current.handle.read(CHUNK)
        if not data:
            return False
        if current.head and not self._same_top(current):
            return self._restart(current)  # cut and written again since the last read
        start = current.read_to
        if start == 0 and (data.startswith(b"\x1f\x8b") or b"\x00" in data[:HEAD]):
            raise UnreadableLog(
                f"{self.path} is compressed or binary: a followed log is the plain text one "
                "being written (match rotated .gz logs without --follow)"
            )
        if start < HEAD:
            current.head += data[: HEAD - start]
        buffer = current.buffer + data
        end = buffer.rfind(b"\n") + 1
        if end == 0 and len(buffer) >= MAX_LINE:
            raise over_long(str(self.path), f"at byte {start - len(current.buffer):,}")
        at = start - len(current.buffer)
        for raw in _split(buffer[:end]):
            at += len(raw) + 1
            current.lines.append((raw.decode("utf-8", "replace") + "\n", at))
        current.buffer = buffer[end:]
        return True

    def _rotated(self, current: _Open) -> bool:
        """At the end of the file: whether the name now points to another file, or the file
        was cut short (and reading goes on there)."""
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return False
        if (found.st_dev, found.st_ino) != (current.device, current.inode):
            current.grew = time.monotonic()
            self._previous.append(current)
            self._file = None
            return self._open_new() is not None
        if found.st_size < current.read_to or not self._same_top(current):
            return self._restart(current)
        return False

    def _same_top(self, current: _Open) -> bool:
        return os.pread(current.handle.fileno(), len(current.head), 0) == current.head

    def _restart(self, current: _Open) -> bool:
        """The file was cut short (and maybe written again): read it from its top."""
        current.handle.seek(0)
        self._file = _Open(current.handle, current.device, current.inode)
        return True


def _split(data: bytes) -> list[bytes]:
    """The lines of ``data`` (which ends in a newline), each without its newline.

    A line ends at ``\\n`` only, as in a log that is matched (a lone ``\\r`` is part of its
    line), so a followed log gives the same lines, and a position is always after a newline.
    """
    lines = data.split(b"\n")
    lines.pop()  # what follows the last newline: nothing
    return lines


def _header(handle: BinaryIO, offset: int) -> list[str]:
    """A file's header lines (``#`` at the top, as Zeek writes) within its first ``offset``
    bytes: a reader resumed part-way needs them to know the columns."""
    found: list[str] = []
    while handle.tell() < offset:
        raw = handle.readline(MAX_LINE)
        if not raw.startswith(b"#"):
            break
        found.append(raw.decode("utf-8", "replace"))
    return found


def _siblings(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.parent.iterdir() if p != path)
    except OSError:
        return []


class PipeTail:
    """The lines of a pipe (standard input): no rotation, no position; it ends."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (OSError, ValueError, AttributeError):
            self.fd = None  # an in-memory stream: every read answers at once
        self.header: list[str] = []
        self.notes: list[str] = []
        self.ended = False
        self._buffer = b""
        self._lines: deque[str] = deque()

    def position(self) -> Position | None:
        """A pipe has no position to resume from."""
        return None

    def lines(self, limit: int) -> list[str]:
        """Up to ``limit`` complete lines that arrived (the last one once the pipe ends)."""
        while not self._lines and not self.ended and (self.fd is None or _ready(self.fd, 0)):
            data = os.read(self.fd, CHUNK) if self.fd is not None else self.stream.read(CHUNK)
            if not data:
                self.ended = True
                data = b"\n" if self._buffer else b""
            buffer = self._buffer + data
            end = buffer.rfind(b"\n") + 1
            if end == 0 and len(buffer) >= MAX_LINE:
                raise over_long("standard input", "a line")
            self._lines.extend(r.decode("utf-8", "replace") + "\n" for r in _split(buffer[:end]))
            self._buffer = buffer[end:]
        out: list[str] = []
        while self._lines and len(out) < limit:
            out.append(self._lines.popleft())
        return out

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Wait for input (or ``seconds``)."""
        if self.fd is not None and not stop.is_set():
            _ready(self.fd, seconds)

    def close(self) -> None:
        """Nothing to let go: the pipe belongs to the caller."""


def _ready(fd: int, seconds: float) -> bool:
    return bool(select.select([fd], [], [], seconds)[0])


Tail = FileTail | PipeTail
Flush = Callable[[list[str], Position | None], None]


@dataclass(frozen=True)
class Batching:
    """When a batch of lines is flushed: at this many lines, or this long after its first."""

    records: int = 1000
    seconds: float = 5.0
    poll: float = 0.2  # the longest wait for the file to grow


def follow(
    tail: Tail,
    flush: Flush,
    stop: threading.Event,
    batching: Batching = Batching(),
    clock: Callable[[], float] | None = None,
) -> int:
    """Hand ``tail``'s lines to ``flush`` in batches until ``stop`` is set (then everything
    written by then is read and flushed) or a pipe ends; returns the lines read. The tail
    is closed at the end."""
    now = clock or time.monotonic
    try:
        return _batches(tail, flush, stop, batching, now)
    finally:
        tail.close()


def _batches(
    tail: Tail, flush: Flush, stop: threading.Event, batching: Batching, now: Callable[[], float]
) -> int:
    pending: list[str] = []
    started = 0.0
    total = 0
    stopping = False
    while True:
        got = tail.lines(batching.records - len(pending))
        if got:
            if not pending:
                started = now()
            pending += got
            total += len(got)
        if pending and (len(pending) >= batching.records or now() - started >= batching.seconds):
            flush(pending, tail.position())
            pending = []
            continue
        if got:
            continue
        if tail.ended or stopping:
            break
        if stop.is_set():
            stopping = True  # one more pass: what was written before the stop is read
            continue
        left = batching.seconds - (now() - started) if pending else batching.poll
        tail.wait(max(0.0, min(batching.poll, left)), stop)
    if pending:
        flush(pending, tail.position())
    return total
