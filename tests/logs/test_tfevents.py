"""Event files written by TensorBoard's own writer read back exactly; damage is survived."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from sweeper.errors import InputError
from sweeper.logs import read_run, read_tfevents
from sweeper.logs._wire import crc32c, fields, masked_crc32c

CURVE = [(step, {"loss/g/mel": 30.0 / (1 + step / 1000) + 0.1, "loss/d/total": 2.5 + step * 1e-5})
         for step in range(0, 4000, 200)]  # fmt: skip


def test_crc32c_matches_the_published_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_masked_crc_matches_what_tensorboard_writes():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as theirs

    for data in (b"", b"a", bytes(range(256)) * 3):
        assert masked_crc32c(data) == theirs(data)


def test_wire_decoder_reads_negative_varints_and_rejects_overruns():
    # field 2 varint -1 (ten bytes), then field 1 length 5 with only 2 bytes present
    data = bytes([0x10]) + b"\xff" * 9 + b"\x01"
    (number, wire, value), = list(fields(data))  # fmt: skip
    assert (number, wire, value) == (2, 0, 2**64 - 1)
    with pytest.raises(ValueError, match="past the end"):
        list(fields(bytes([0x0A, 5, 1, 2])))


@pytest.mark.parametrize("kind", ["simple", "image"])
def test_simple_values_read_back_exactly(tmp_path, events, kind):
    path = events(tmp_path, CURVE, kind=kind)
    run = read_tfevents(path)
    assert set(run.series) == {"loss/g/mel", "loss/d/total"}
    mel = run.series["loss/g/mel"]
    np.testing.assert_array_equal(mel.steps, [s for s, _ in CURVE])
    expected = np.array([m["loss/g/mel"] for _, m in CURVE], dtype=np.float32)
    np.testing.assert_array_equal(mel.values, expected.astype(np.float64))


@pytest.mark.parametrize(("kind", "dtype"), [("float", np.float32), ("double", np.float64)])
def test_tf2_scalar_tensors_read_back_exactly(tmp_path, events, kind, dtype):
    run = read_tfevents(events(tmp_path, CURVE, kind=kind))
    expected = np.array([m["loss/d/total"] for _, m in CURVE], dtype=dtype)
    np.testing.assert_array_equal(run.series["loss/d/total"].values, expected.astype(np.float64))


def test_torch_summary_writer_file_reads_back(tmp_path):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in range(0, 1000, 100):
        writer.add_scalar("loss/g/total", 50.0 - step / 50, step)
        writer.add_scalar("grad_norm_g", math.nan if step == 300 else 1.0, step)
    writer.add_scalar("loss/g/lf0", 0.25, 5, new_style=True)
    writer.add_histogram("hist", np.arange(10), 0)
    writer.add_text("note", "hello", 0)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    run = read_tfevents(path)
    assert set(run.series) == {"loss/g/total", "grad_norm_g", "loss/g/lf0"}
    assert run.series["loss/g/total"].values.tolist() == [
        50.0 - s / 50 for s in range(0, 1000, 100)
    ]
    assert math.isnan(run.series["grad_norm_g"].values[3])
    assert run.series["loss/g/lf0"].values.tolist() == [0.25]


def test_the_add_scalar_fast_path_reads_what_the_general_parser_reads(tmp_path, monkeypatch):
    # torch's add_scalar record is read at fixed offsets; every other layout falls through.
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    from sweeper.logs import _tfevents

    tags = ["m", "loss/g/mel", "x" * 118, "y" * 119, "é/ü"]  # 119 bytes: lengths need 2 bytes
    steps = [0, 1, 127, 128, 16_383, 16_384, 2**40, -5]
    writer = SummaryWriter(str(tmp_path))
    for k, step in enumerate(steps):
        for tag in tags:
            writer.add_scalar(tag, [1.5, math.nan, -math.inf, 3e38][k % 4], step)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    fast = read_tfevents(path)
    taken = [_tfevents._one_simple_scalar(data) for _, data in _tfevents._records(path, [])]
    assert sum(scalar is not None for scalar in taken) == (len(tags) - 1) * len(steps)
    monkeypatch.setattr(_tfevents, "_one_simple_scalar", lambda data: None)
    general = read_tfevents(path)
    assert set(fast.series) == set(general.series) == set(tags)
    for tag in tags:
        np.testing.assert_array_equal(fast.series[tag].steps, general.series[tag].steps)
        np.testing.assert_array_equal(fast.series[tag].values, general.series[tag].values)


def test_nan_and_inf_survive(tmp_path, events):
    run = read_tfevents(
        events(tmp_path, [(0, {"a": math.nan}), (1, {"a": math.inf}), (2, {"a": 1.0})])
    )
    values = run.series["a"].values
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == 1.0
    assert any("a: 2 non-finite" in note for note in run.notes)


@pytest.mark.parametrize("cut", [1, 5, 13, 30])
def test_truncated_tail_record_is_dropped_with_a_note(tmp_path, events, cut):
    path = events(tmp_path, CURVE)
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    run = read_tfevents(path)
    assert len(run.series["loss/g/mel"]) == len(CURVE) - 1
    assert any("truncated" in note for note in run.notes)


def test_corrupt_record_in_the_middle_is_dropped_and_reading_goes_on(tmp_path, events):
    path = events(tmp_path, CURVE)
    data = bytearray(path.read_bytes())
    index = data.find(struct.pack("<f", np.float32(CURVE[5][1]["loss/g/mel"])))
    data[index] ^= 0xFF  # flip bits inside the 6th scalar's value
    path.write_bytes(bytes(data))
    run = read_tfevents(path)
    assert len(run.series["loss/g/mel"]) == len(CURVE) - 1
    assert CURVE[5][0] not in run.series["loss/g/mel"].steps
    assert any("corrupt record" in note for note in run.notes)


def test_steps_going_back_keep_the_latest_values(tmp_path, events):
    points = [
        (0, {"m": 3.0}),
        (100, {"m": 2.0}),
        (200, {"m": 1.0}),
        (300, {"m": 0.5}),
        (200, {"m": 5.0}),  # past the second step: resumed (at or before it: started over)
        (400, {"m": 4.0}),
    ]
    run = read_tfevents(events(tmp_path, points))
    assert run.series["m"].steps.tolist() == [0, 100, 200, 400]
    assert run.series["m"].values.tolist() == [3.0, 2.0, 5.0, 4.0]
    assert (run.restarts, run.overwritten) == (1, 2)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"2023-02-18 17:28:03,219\t44k\tINFO\thello\n", "is not a TensorBoard events file"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path, content, expected):
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as info:
        read_tfevents(path)
    assert "\n" not in str(info.value)


def test_file_without_scalars_says_so(tmp_path, events):
    path = events(tmp_path, [])
    with pytest.raises(InputError, match="no scalar summaries found in"):
        read_tfevents(path)


def test_a_step_logged_twice_in_one_file_is_a_duplicate_not_a_restart(tmp_path, events):
    # One writer logs a step value and an epoch-end value at the same step.
    points = [(s, {"loss/g/mel": v}) for s in (0, 1000, 2000) for v in (30.0 - s / 100, 1.0)]
    run = read_run(events(tmp_path, points))
    assert run.series["loss/g/mel"].values.tolist() == [1.0, 1.0, 1.0]  # the later value
    assert run.restarts == 0
    assert not any("restart" in note for note in run.notes)
    assert any(note.startswith("3 duplicate step(s)") for note in run.notes)


def test_a_step_logged_again_in_a_newer_file_is_still_a_restart(tmp_path, events):
    first = [(0, {"m": 3.0}), (100, {"m": 2.0}), (200, {"m": 2.5})]
    events(tmp_path, first, name="events.out.tfevents.1.h.1.0")
    events(tmp_path, [(200, {"m": 1.0})], name="events.out.tfevents.2.h.2.0")
    run = read_run(tmp_path)
    assert run.series["m"].values.tolist() == [3.0, 2.0, 1.0]
    assert run.restarts == 1


def test_a_corrupt_header_mid_file_is_called_damage_not_a_file_being_written(tmp_path, events):
    path = events(tmp_path, CURVE)
    data = bytearray(path.read_bytes())
    offset = 0
    for _ in range(4):  # skip to the 5th record's header
        offset += 12 + struct.unpack("<Q", data[offset : offset + 8])[0] + 4
    data[offset + 9] ^= 0xFF  # its length's checksum no longer matches
    path.write_bytes(bytes(data))
    run = read_tfevents(path)
    assert len(run.series["loss/g/mel"]) == 3  # the file-version record, then 3 scalars
    note = next(n for n in run.notes if f"byte {offset}" in n)
    assert "corrupt record header" in note and "still being written" not in note
