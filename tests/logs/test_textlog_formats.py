"""train.log lines behind other prefixes, colours and progress bars; archives; CR endings."""

from __future__ import annotations

import pytest

from sweeper.errors import InputError
from sweeper.logs import read_train_log

PREFIX = "2023-02-18 17:28:03,219\t44k\tINFO\t"
TEXT = (
    PREFIX + "{'train': {'log_interval': 200, 'c_mel': 45}}\n"
    + PREFIX + "[2.5, 2.2, 9.0, 21.0, 1.5, 200, 0.0001]\n"
    + PREFIX + "[2.5, 2.2, 9.0, 20.0, 1.5, 400, 0.0001]\n"
)


def line40(step: int) -> str:
    return PREFIX + f"[2.5, 2.2, 9.0, 20.0, 1.5, {step}, 0.0001]"


def write(tmp_path, lines):
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def encoded(tmp_path, data: bytes):
    path = tmp_path / "train.log"
    path.write_bytes(data)
    return path


MSG40 = "[2.5, 2.2, 9.0, 20.0, 1.5, {step}, 0.0001]"
MSG41 = "Losses: [2.5, 2.2, 9.0, 20.0, 1.5], step: {step}, lr: 0.0001, reference_loss: 35.2"
BAR = "\r 56%|#####5    | 20/36 [00:05<00:04,  3.9it/s]"


@pytest.mark.parametrize(
    "prefix",
    [
        "2023-02-18 17:28:03,219 - 44k - INFO - ",  # '%(asctime)s - %(name)s - %(levelname)s -'
        "2023-02-18 17:28:03,219 - INFO - ",
        "[2023-02-18 17:28:03,219] INFO 44k: ",
        "[2023-02-18 17:28:03,219] INFO ",
        "2023-02-18 17:28:03,219\tINFO\t",  # no logger name
        "2023-02-18 17:28:03,219\t44k\tinfo\t",  # a lower-case level
        "2023-02-18 17:28:03,219    44k    INFO    ",  # spaces for tabs
        "\x1b[0;37m2023-02-18 17:28:03,219\t44k\t\x1b[32mINFO\x1b[0m\t",  # colorlog / rich
        "\x1b[32mINFO:44k:",  # the stdout mirror, coloured
        BAR + "INFO:44k:",  # a tqdm bar glued before the stdout record, no \r between
        BAR + "\r2023-02-18 17:28:03,219\t44k\tINFO\t",
    ],
)
@pytest.mark.parametrize("message", [MSG40, MSG41], ids=["4.0", "4.1"])
def test_loss_lines_behind_common_prefixes_colours_and_bars_are_read(tmp_path, prefix, message):
    lines = [prefix + message.format(step=s) + ("\x1b[0m" if "\x1b" in prefix else "")
             for s in (0, 200, 400)]  # fmt: skip
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    assert run.series["loss/g/mel"].values.tolist() == [20.0] * 3
    assert not any("skipped" in note for note in run.notes)


def test_a_record_followed_by_a_progress_bar_on_its_line_is_read(tmp_path):
    lines = [line40(s) + "\r 12%|#2        | 12/100 [00:01<00:10]" for s in (0, 200)]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200]


def test_loss_like_lists_in_tracebacks_and_other_messages_are_not_read(tmp_path):
    lines = [
        line40(0),
        "Traceback (most recent call last):",
        "    losses = [1.0, 2.0, 3.0, 4.0, 5.0, 6, 7]",
        "RuntimeError: CUDA out of memory. Tried to allocate [2.00, 5.0, 6.0, 7.0, 8.0, 9, 1e-4]",
        "2023-02-18 17:28:03,219 - 44k - INFO - Loaded [1.0, 2.0, 3.0, 4.0, 5.0, 6, 7]",
        "[2023-02-18 17:28:03,219] ERROR 44k: bad values [1.0, 2.0, 3.0, 4.0, 5.0, 6, 7]",
        "Losses: [1.0, 2.0, 3.0, 4.0, 5.0], step: 9, lr: 0.1",  # no record prefix: printed
        line40(200),
    ]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200]


def test_a_utf8_bom_before_a_stdout_format_first_line_is_stripped(tmp_path):
    text = "".join(f"INFO:44k:{MSG40.format(step=s)}\n" for s in (0, 200))
    run = read_train_log(encoded(tmp_path, text.encode("utf-8-sig")))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200]
    assert not any("skipped" in note for note in run.notes)


@pytest.mark.parametrize(
    ("magic", "kind"),
    [
        (b"\xfd7zXZ\x00", "xz"),
        (b"BZh91AY&SY", "bzip2"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"PK\x03\x04", "zip"),
    ],
)
def test_compressed_logs_other_than_gzip_say_decompress_it_first(tmp_path, magic, kind):
    path = encoded(tmp_path, magic + b"\x00\x01rest of the archive" + TEXT.encode())
    with pytest.raises(InputError, match=rf"is an? {kind} archive.*decompress it first") as info:
        read_train_log(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_classic_mac_cr_only_line_endings_are_split_on_cr(tmp_path):
    run = read_train_log(encoded(tmp_path, TEXT.replace("\n", "\r").encode()))
    assert run.series["loss/g/mel"].steps.tolist() == [200, 400]
