"""Read scalars from TensorBoard event files without tensorflow or tensorboard.

An event file is a sequence of TFRecords: uint64 length, uint32 masked CRC-32C of the
length, the data, uint32 masked CRC-32C of the data. Each data block is an ``Event``
protobuf; scalars sit in ``Event.summary.value[]`` as ``simple_value`` (what torch's
SummaryWriter writes) or as a one-element ``tensor`` (what TF2 ``tf.summary.scalar`` writes).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sweeper.errors import InputError
from sweeper.logs._series import RunLog, Timeline, describe_non_finite, replaced_note
from sweeper.logs._wire import (
    FIXED32,
    LENGTH,
    VARINT,
    DecodeError,
    as_double,
    as_float,
    as_int64,
    fields,
    masked_crc32c,
    packed_varints,
)

_HEADER = 12  # uint64 length + uint32 length CRC
# TensorProto dtype -> (struct code of tensor_content, field holding repeated values)
_DTYPES = {1: ("f", 5), 2: ("d", 6), 3: ("i", 7), 9: ("q", 10), 19: ("e", 13), 14: ("bf16", 13)}


@dataclass(frozen=True)
class Scalar:
    tag: str
    step: int
    value: float


def is_tfevents_name(path: Path) -> bool:
    return "tfevents" in path.name


def looks_like_tfevents(path: Path) -> bool:
    """True when the file starts with a TFRecord header whose length CRC checks out."""
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER)
    except OSError:
        return False
    return len(header) == _HEADER and masked_crc32c(header[:8]) == int.from_bytes(
        header[8:], "little"
    )


def read_tfevents(path: str | Path) -> RunLog:
    """Read every scalar of one TensorBoard event file.

    A truncated or corrupt tail record is dropped with a note; NaN and inf are kept.

    Raises:
        InputError: the file is missing, empty, not an event file, or holds no scalar.
    """
    path = Path(path)
    run = runlog_from_events(path, [path])
    if not run.series:
        raise InputError(
            f"no scalar summaries found in {path}; expected a TensorBoard events file "
            "written by so-vits-svc (loss/g/mel, loss/g/total, ...)"
        )
    return run


def runlog_from_events(source: Path, files: Sequence[Path]) -> RunLog:
    """Merge the scalars of ``files`` (in the order given) into one RunLog; may be empty."""
    notes: list[str] = []
    timelines: dict[str, Timeline] = {}
    file_of: dict[str, Path] = {}  # the file each tag's last point came from
    restarts: dict[str, int] = {}
    duplicates: dict[str, int] = {}  # a step logged twice within one file: no restart
    negative = 0
    for file in files:
        for scalar in _scalars(file, notes):
            if scalar.step < 0:  # not a training step; a log-step trend cannot place it
                negative += 1
                continue
            timeline = timelines.get(scalar.tag)
            if timeline is None:
                timeline = timelines[scalar.tag] = Timeline()
            elif timeline.last_step == scalar.step and file_of.get(scalar.tag) == file:
                timeline.replace_last(scalar.value)
                duplicates[scalar.tag] = duplicates.get(scalar.tag, 0) + 1
                continue
            file_of[scalar.tag] = file
            if timeline.add(scalar.step, scalar.value):
                restarts[scalar.tag] = restarts.get(scalar.tag, 0) + 1
    series = {tag: t.series() for tag, t in sorted(timelines.items())}
    overwritten = max((t.overwritten for t in timelines.values()), default=0)
    n_restarts = max(restarts.values(), default=0)
    head = []
    if series:
        head.append(
            f"read {len(series)} scalar tag(s) from {len(files)} TensorBoard event file(s) "
            f"in {source}"
        )
    if negative > 0:
        head.append(f"{negative} scalar(s) logged at negative steps were left out")
    if duplicates:
        head.append(
            f"{max(duplicates.values())} duplicate step(s) within one event file (a tag logged "
            "twice at one step); the later value kept"
        )
    if n_restarts > 0:
        head.append(
            f"{n_restarts} restart(s) (steps went back); {replaced_note(timelines.values())}"
        )
    return RunLog(
        source=source,
        series=series,
        notes=head + notes + describe_non_finite(series),
        restarts=n_restarts,
        overwritten=overwritten,
    )


def _scalars(path: Path, notes: list[str]) -> Iterator[Scalar]:
    plugins: dict[str, str] = {}  # tag -> plugin; writers send metadata with a tag's first value
    for offset, data in _records(path, notes):
        try:
            found = list(_event_scalars(data, plugins))
        except DecodeError as err:
            if masked_crc32c(data[:-4]) != _u32(data[-4:]):
                notes.append(f"{path}: corrupt record at byte {offset} (checksum) dropped")
            else:
                notes.append(f"{path}: record at byte {offset} is not an Event ({err}); skipped")
            continue
        # Only records we use pay for the data checksum: image and audio records are large.
        if found and masked_crc32c(data[:-4]) != _u32(data[-4:]):
            notes.append(f"{path}: corrupt record at byte {offset} (checksum) dropped")
            continue
        yield from found


def _records(path: Path, notes: list[str]) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, data + data CRC) per record; stop at a truncated or corrupt header."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(
            f"no such file: {path}; pass an events.out.tfevents.* file, a train.log or a "
            "run folder such as logs/44k"
        ) from None
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}; check the path") from None
    with handle:
        offset = 0
        while True:
            header = handle.read(_HEADER)
            if not header:
                if offset == 0:
                    raise InputError(f"{path} is empty; expected a TensorBoard events file")
                return
            length = int.from_bytes(header[:8], "little")
            if len(header) < _HEADER or masked_crc32c(header[:8]) != _u32(header[8:]):
                if offset == 0:
                    raise InputError(
                        f"{path} is not a TensorBoard events file, or is cut short (bad record "
                        "header at byte 0); pass an events.out.tfevents.* file or a train.log"
                    )
                short = len(header) < _HEADER  # a cut-off tail; a bad checksum is damage
                why = "truncated record (file still being written?)" if short else (
                    "corrupt record header (a damaged file; TensorBoard stops there too)")
                notes.append(f"{path}: {why} at byte {offset}; it and all after it were dropped")
                return
            data = handle.read(length + 4)
            if len(data) < length + 4:
                notes.append(
                    f"{path}: truncated record at byte {offset} dropped (file still being "
                    "written?)"
                )
                return
            yield offset, data
            offset += _HEADER + length + 4


def _u32(raw: bytes) -> int:
    return int.from_bytes(raw, "little")


def _event_scalars(data: bytes, plugins: dict[str, str]) -> Iterator[Scalar]:
    simple = _one_simple_scalar(data)
    if simple is not None:
        yield simple
        return
    step = 0
    summaries = []
    for number, wire, value in fields(memoryview(data)[:-4]):
        if number == 2 and wire == VARINT:
            step = as_int64(int(value))
        elif number == 5 and wire == LENGTH:
            summaries.append(value)
    for summary in summaries:
        for number, wire, value in fields(summary):
            if number == 1 and wire == LENGTH:
                scalar = _value_scalar(value, step, plugins)
                if scalar is not None:
                    yield scalar


def _one_simple_scalar(data: bytes) -> Scalar | None:
    """The Event torch's ``add_scalar`` writes, read at fixed offsets; None for anything else.

    Layout: wall_time (0x09, 8 bytes), step (0x10, varint; absent when 0), summary (0x2a, len)
    holding one Value (0x0a, len) of a tag (0x0a, len) and a simple_value (0x15, 4 bytes), with
    one-byte lengths. Lightning runs log a scalar per step, 100 000s of these records; the
    general parser takes about twice as long over them.
    """
    end = len(data) - 4  # the data CRC follows the record
    if end < 17 or data[0] != 0x09:
        return None
    pos, step = 9, 0
    if data[pos] == 0x10:
        pos, shift = pos + 1, 0
        while pos < end and data[pos] & 0x80 and shift < 63:
            step |= (data[pos] & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
        step |= data[pos] << shift
        pos += 1
    # pos: the summary's key; then its length, the Value's key and length, the tag's.
    if pos + 11 > end or data[pos : pos + 5 : 2] != b"\x2a\x0a\x0a":
        return None
    summary, value, tag = data[pos + 1], data[pos + 3], data[pos + 5]
    if summary != value + 2 or value != tag + 7 or summary >= 0x80:
        return None
    if pos + 11 + tag != end or data[pos + 6 + tag] != 0x15:
        return None
    name = data[pos + 6 : pos + 6 + tag].decode("utf-8", errors="replace")
    return Scalar(name, as_int64(step), struct.unpack_from("<f", data, pos + 7 + tag)[0])


def _value_scalar(message: memoryview, step: int, plugins: dict[str, str]) -> Scalar | None:
    """Summary.Value -> Scalar, or None for images, audio, histograms, text, ..."""
    tag = ""
    simple: float | None = None
    tensor: memoryview | None = None
    plugin: str | None = None
    for number, wire, value in fields(message):
        if number == 1 and wire == LENGTH:
            tag = bytes(value).decode("utf-8", errors="replace")
        elif number == 2 and wire == FIXED32:
            simple = as_float(int(value))
        elif number == 8 and wire == LENGTH:
            tensor = value
        elif number == 9 and wire == LENGTH:
            plugin = _plugin_name(value)
    if plugin is not None:
        plugins[tag] = plugin
    if simple is not None:
        return Scalar(tag, step, simple)
    if tensor is None or plugins.get(tag, "") not in ("", "scalars"):
        return None
    number_value = _tensor_scalar(tensor)
    return None if number_value is None else Scalar(tag, step, number_value)


def _plugin_name(metadata: memoryview) -> str:
    for number, wire, value in fields(metadata):
        if number == 1 and wire == LENGTH:
            for inner, inner_wire, name in fields(value):
                if inner == 1 and inner_wire == LENGTH:
                    return bytes(name).decode("utf-8", errors="replace")
    return ""


def _tensor_scalar(message: memoryview) -> float | None:
    """The value of a one-element numeric TensorProto, else None."""
    dtype = 0
    numel = 1
    content: bytes = b""
    repeated: dict[int, list[tuple[int, int | memoryview]]] = {}
    for number, wire, value in fields(message):
        if number == 1 and wire == VARINT:
            dtype = int(value)
        elif number == 2 and wire == LENGTH:
            numel = _numel(value)
        elif number == 4 and wire == LENGTH:
            content = bytes(value)
        else:
            repeated.setdefault(number, []).append((wire, value))
    if dtype not in _DTYPES or numel != 1:
        return None
    code, field_number = _DTYPES[dtype]
    if content:
        return _from_content(code, content)
    values = list(_flatten(code, repeated.get(field_number, [])))
    return values[0] if values else None


def _numel(shape: memoryview) -> int:
    numel = 1
    for number, wire, dim in fields(shape):
        if number == 2 and wire == LENGTH:
            for inner, inner_wire, size in fields(dim):
                if inner == 1 and inner_wire == VARINT:
                    numel *= as_int64(int(size))
    return numel


def _from_content(code: str, content: bytes) -> float | None:
    if code == "bf16":
        if len(content) < 2:
            return None
        return _bf16(int.from_bytes(content[:2], "little"))
    size = struct.calcsize("<" + code)
    if len(content) < size:
        return None
    return float(struct.unpack("<" + code, content[:size])[0])


def _flatten(code: str, items: Iterable[tuple[int, int | memoryview]]) -> Iterator[float]:
    """Repeated numeric field, packed or not, in the dtype's representation."""
    for wire, value in items:
        if code in ("f", "d") and wire == LENGTH:
            raw = bytes(value)
            count = len(raw) // struct.calcsize("<" + code)
            yield from struct.unpack(f"<{count}{code}", raw[: count * struct.calcsize(code)])
        elif code == "f" and wire == FIXED32:
            yield as_float(int(value))
        elif code == "d" and wire != LENGTH:
            yield as_double(int(value))
        else:
            ints = packed_varints(value) if wire == LENGTH else [int(value)]
            for raw_int in ints:
                yield _int_value(code, raw_int)


def _int_value(code: str, raw: int) -> float:
    if code == "e":  # half_val holds the 16 bits of an IEEE half
        return float(struct.unpack("<e", (raw & 0xFFFF).to_bytes(2, "little"))[0])
    if code == "bf16":
        return _bf16(raw & 0xFFFF)
    signed = as_int64(raw)
    return float(signed if code == "q" else (signed + 2**31) % 2**32 - 2**31)


def _bf16(bits: int) -> float:
    return float(struct.unpack("<f", (bits << 16).to_bytes(4, "little"))[0])
