"""Follow a running so-vits-svc: ``train.log`` and TensorBoard event files, incrementally.

Each ``poll()`` returns only what was completed since the last one. A line without its
newline and a TFRecord cut short stay unread until the writer finishes them. A file that
shrinks (truncated) is read again from its start; a file replaced under the same name
(rotated) has its old handle drained before the new file is read. A restart of train.py
logs its hparams again and repeats steps: the points come through as they are, with
:class:`Restart` marking the restart, and the consumer keeps the latest value per step.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sweeper.logs._textlog import LOSS_TAGS, _LineError, _message, _parse_loss
from sweeper.logs._tfevents import _HEADER, Scalar, _event_scalars, _u32
from sweeper.logs._wire import DecodeError, masked_crc32c

_SAVED = re.compile(r"Saving model and optimizer state at iteration \d+ to (?P<path>.+)$")


@dataclass(frozen=True)
class LossPoint:
    """One ``Losses:`` (4.1) or list (4.0) line: the five losses and the learning rate."""

    step: int
    values: dict[str, float]  # loss/d/total, loss/g/gen, fm, mel, kl, learning_rate


@dataclass(frozen=True)
class Restart:
    """train.py logged its hparams again: it (re)started."""

    line: int  # 1-based line in the file being read


@dataclass(frozen=True)
class Saved:
    """train.py announced a checkpoint (the file may still be being written)."""

    path: str


@dataclass
class _Handle:
    file: BinaryIO
    inode: int
    offset: int = 0


@dataclass
class _Tail:
    """Bytes of one file that appeared since the last read, as whole units only."""

    path: Path
    handle: _Handle | None = None
    start_at_end: bool = False  # skip what exists at construction (a resumed trial's past)
    truncations: int = 0
    rotations: int = 0

    def __post_init__(self) -> None:
        # Only what exists now is skipped: a file created later is read from its start.
        if self.start_at_end:
            try:
                self.handle = _Handle(self.path.open("rb"), 0)
            except FileNotFoundError:
                return
            stat = os.fstat(self.handle.file.fileno())
            self.handle.inode, self.handle.offset = stat.st_ino, stat.st_size

    def read(self) -> list[tuple[bytes, bool]]:
        """The new bytes as segments ``(data, fresh)``; fresh = the start of a new file.

        A rotation gives the old file's last bytes, then the new file from its start; a
        truncation gives the file again from its start.
        """
        segments: list[tuple[bytes, bool]] = []
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            stat = None
        fresh = False
        if self.handle is not None and (stat is None or stat.st_ino != self.handle.inode):
            segments.append((self._drain(), False))  # rotated: finish the old file first
            self.handle.file.close()
            self.handle = None
            self.rotations += stat is not None
            fresh = True
        if stat is None:
            return segments
        if self.handle is None:
            self.handle = _Handle(self.path.open("rb"), stat.st_ino)
        elif stat.st_size < self.handle.offset:
            self.handle.offset = 0  # truncated in place: read it again from the start
            self.truncations += 1
            fresh = True
        segments.append((self._drain(), fresh))
        return segments

    def _drain(self) -> bytes:
        if self.handle is None:
            return b""
        self.handle.file.seek(self.handle.offset)
        data = self.handle.file.read()
        self.handle.offset += len(data)
        return data

    def close(self) -> None:
        if self.handle is not None:
            self.handle.file.close()
            self.handle = None


@dataclass
class TextFollower:
    """Follow one ``train.log``: loss points, restarts and announced checkpoints."""

    path: Path
    start_at_end: bool = False  # ignore what the file holds already
    _tail: _Tail = field(init=False)
    _partial: bytes = field(default=b"", init=False)
    _line: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._tail = _Tail(Path(self.path), start_at_end=self.start_at_end)

    def poll(self) -> list[LossPoint | Restart | Saved]:
        events: list[LossPoint | Restart | Saved] = []
        for data, fresh in self._tail.read():
            if fresh:
                # An unfinished line of the old file will never be finished: drop it.
                self._partial, self._line = b"", 0
            *complete, self._partial = (self._partial + data).split(b"\n")
            for raw in complete:
                self._line += 1
                line = raw.decode("utf-8", errors="replace").rstrip("\r")
                event = _event(line, self._line)
                if event is not None:
                    events.append(event)
        return events

    def close(self) -> None:
        self._tail.close()


def _event(line: str, number: int) -> LossPoint | Restart | Saved | None:
    message = _message(line)
    if message is None:
        return None
    if message.startswith("{") and "'train'" in message:
        return Restart(number)
    saved = _SAVED.match(message)
    if saved is not None:
        return Saved(saved.group("path").strip())
    try:
        point = _parse_loss(message, partial=False)
    except _LineError:
        return None  # a broken loss line: train.log is a record, not a contract
    if point is None:
        return None
    values = dict(zip(LOSS_TAGS, point.losses, strict=True))
    values["learning_rate"] = point.lr
    return LossPoint(point.step, values)


@dataclass
class EventsFollower:
    """Follow every ``events.out.tfevents.*`` file directly in ``folder`` (one per start)."""

    folder: Path
    start_at_end: bool = False  # ignore the files and records that exist already
    _files: dict[str, _Tail] = field(default_factory=dict, init=False)
    _buffers: dict[str, bytes] = field(default_factory=dict, init=False)
    _plugins: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.start_at_end:
            for path in self._event_files():
                self._files[path.name] = _Tail(path, start_at_end=True)

    def _event_files(self) -> list[Path]:
        try:
            return sorted(p for p in Path(self.folder).iterdir() if "tfevents" in p.name)
        except FileNotFoundError:
            return []

    def poll(self) -> list[Scalar]:
        out: list[Scalar] = []
        for path in self._event_files():
            tail = self._files.setdefault(path.name, _Tail(path))
            for data, fresh in tail.read():
                buffer = data if fresh else self._buffers.get(path.name, b"") + data
                scalars, used = _complete_records(buffer, self._plugins)
                self._buffers[path.name] = buffer[used:]
                out.extend(scalars)
        return out

    def close(self) -> None:
        for tail in self._files.values():
            tail.close()


def _complete_records(buffer: bytes, plugins: dict[str, str]) -> tuple[list[Scalar], int]:
    """The scalars of the whole records at the start of ``buffer``, and the bytes used."""
    out: list[Scalar] = []
    pos = 0
    while len(buffer) - pos >= _HEADER:
        header = buffer[pos : pos + _HEADER]
        if masked_crc32c(header[:8]) != _u32(header[8:]):
            return out, len(buffer)  # not a record boundary: drop the rest, wait for new data
        length = int.from_bytes(header[:8], "little")
        end = pos + _HEADER + length + 4
        if end > len(buffer):
            break  # the writer has not finished this record
        data = buffer[pos + _HEADER : end]
        try:
            found = list(_event_scalars(data, plugins))
        except DecodeError:
            found = []
        if found and masked_crc32c(data[:-4]) == _u32(data[-4:]):
            out.extend(found)
        pos = end
    return out, pos
