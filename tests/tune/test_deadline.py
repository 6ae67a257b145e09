"""--time-limit: durations read as a user writes them, and a deadline that stops the driver
as Ctrl-C does (SIGINT), only while the run it limits is in progress."""

from __future__ import annotations

import time

import pytest

from sweeper.cli import main
from sweeper.errors import InputError
from sweeper.tune._deadline import Deadline, check_limit, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("45s", 45.0), ("90m", 5400.0), ("8h", 28800.0), ("1h30m", 5400.0),
     ("2d", 172800.0), ("0.5h", 1800.0), (" 1H 5M ", 3900.0), ("1d2h3m4s", 93784.0)],
)  # fmt: skip
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "8x", "h", "1h30", "-5m", "0", "0h", "nan", "inf", "1h-1m"])
def test_bad_durations_name_the_value(text):
    with pytest.raises(ValueError, match="duration") as err:
        parse_duration(text)
    assert repr(text) in str(err.value)


def test_format_duration_echoes_what_was_meant():
    assert [format_duration(s) for s in (5400, 28800, 40, 93784, 0.2)] == [
        "1h30m", "8h", "40s", "26h3m4s", "0.2s",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "8h", True])
def test_check_limit_refuses_what_is_not_seconds(bad):
    with pytest.raises(InputError, match="time_limit_s"):
        check_limit(bad)


def test_a_deadline_interrupts_the_main_thread_once_its_time_is_up():
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Deadline(0.3) as deadline:
        time.sleep(5)
    assert deadline.fired and 0.25 < time.monotonic() - started < 4


def test_a_deadline_left_in_time_never_fires():
    with Deadline(0.3) as deadline:
        pass
    time.sleep(0.6)  # a KeyboardInterrupt here would fail the test
    assert not deadline.fired
    with Deadline(None) as none:
        time.sleep(0.05)
    assert not none.fired


def test_the_cli_refuses_a_bad_time_limit_before_anything_starts(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        main(["run", str(tmp_path / "space.yaml"), "--time-limit", "soon"])
    assert exited.value.code == 2
    assert "a duration is a number with d, h, m or s" in capsys.readouterr().err
    assert not (tmp_path / "sweeps").exists()
