"""The two binary layers under a TensorBoard event file: CRC-32C and protobuf wire format.

Pure Python so reading a run needs neither tensorflow nor tensorboard nor protobuf.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_CASTAGNOLI = 0x82F63B78  # CRC-32C polynomial, bit-reversed
_MASK_DELTA = 0xA282EAD8  # TFRecord's CRC mask constant
_U32 = 0xFFFFFFFF

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CASTAGNOLI if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data: bytes | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data``, as TFRecord uses it."""
    crc = _U32
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes | memoryview) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & _U32


class DecodeError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("varint runs past the end of the message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield ``(field_number, wire_type, value)`` for each field of one message.

    Varint and fixed-width values come back as unsigned ints (see :func:`as_int64`,
    :func:`as_float`, :func:`as_double`); length-delimited ones as memoryviews.
    """
    view = memoryview(buf)
    pos = 0
    end = len(view)
    while pos < end:
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("field number 0")
        value: int | memoryview
        if wire == VARINT:
            value, pos = _varint(view, pos)
        elif wire == FIXED64:
            value, pos = int.from_bytes(view[pos : pos + 8], "little"), pos + 8
        elif wire == FIXED32:
            value, pos = int.from_bytes(view[pos : pos + 4], "little"), pos + 4
        elif wire == LENGTH:
            size, pos = _varint(view, pos)
            value, pos = view[pos : pos + size], pos + size
        else:
            raise DecodeError(f"unsupported wire type {wire} for field {number}")
        if pos > end:
            raise DecodeError(f"field {number} runs past the end of the message")
        yield number, wire, value


def as_int64(raw: int) -> int:
    """A varint read as a signed int64 (two's complement)."""
    return raw - (1 << 64) if raw >= 1 << 63 else raw


def as_float(raw: int) -> float:
    return float(struct.unpack("<f", raw.to_bytes(4, "little"))[0])


def as_double(raw: int) -> float:
    return float(struct.unpack("<d", raw.to_bytes(8, "little"))[0])


def packed_varints(data: memoryview) -> list[int]:
    out = []
    pos = 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(value)
    return out
