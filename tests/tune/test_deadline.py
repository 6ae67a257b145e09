"""--time-limit: durations read as a user writes them, and a deadline that stops the driver
as Ctrl-C does (SIGINT), only while the run it limits is in progress."""

from __future__ import annotations

import signal
import time
from pathlib import Path

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


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "8h", True, 1e300])
def test_check_limit_refuses_what_is_not_seconds(bad):
    with pytest.raises(InputError, match="time_limit_s"):
        check_limit(bad)


class _TuneLikeHandler:
    """Ray Tune's graceful SIGINT handler, while a run is in progress."""

    def __init__(self):
        self.calls = 0

    def __call__(self, signum, frame):
        self.calls += 1
        raise KeyboardInterrupt


def test_a_deadline_interrupts_the_main_thread_once_its_time_is_up():
    handler = _TuneLikeHandler()
    previous = signal.signal(signal.SIGINT, handler)
    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt), Deadline(0.3) as deadline:
            time.sleep(5)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert deadline.fired and handler.calls == 1 and 0.25 < time.monotonic() - started < 4


def test_a_deadline_waits_while_no_graceful_handler_is_in_place():
    """Before Tune installs its handler (a slow start) or after a Ctrl-C made it put the
    default back, a SIGINT would be a bare KeyboardInterrupt: the deadline looks again."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    handler = _TuneLikeHandler()
    try:
        with pytest.raises(KeyboardInterrupt), Deadline(0.2) as deadline:
            time.sleep(1.5)  # past the limit: no signal yet
            assert not deadline.fired
            signal.signal(signal.SIGINT, handler)  # Tune's loop starts
            time.sleep(5)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert deadline.fired and handler.calls == 1


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


def test_a_limit_that_stopped_the_run_before_every_trial_started_exits_124(capsys):
    from sweeper.cli._run import exit_code
    from sweeper.tune import Summary

    stopped = Summary("sweeps/s", [], 0, 0, 0, 5.0, time_limit_s=60.0)
    assert exit_code(stopped, "run", num_trials=4) == 124
    err = capsys.readouterr().err
    assert "stopped by --time-limit 1m with 4 trial(s) not started;" in err
    assert "`sweeper resume sweeps/s` continues the sweep" in err
    assert exit_code(Summary("sweeps/s", [], 0, 0, 0, 5.0), "run", num_trials=4) == 0
    # On a cluster the command names it: without --address, resume starts a local Ray.
    assert exit_code(stopped, "run", 4, address="10.0.0.5:6379") == 124
    assert "`sweeper resume sweeps/s --address 10.0.0.5:6379` continues" in capsys.readouterr().err


@pytest.mark.parametrize(("limit", "code"), [(25.0, 124), (None, 130)])
def test_the_limit_and_sigterm_count_unfinished_trials_alike(capsys, limit, code):
    """--time-limit said "2 trial(s) unfinished" where SIGTERM said 1, and the table 1: the
    limit's count took in the trial never started."""
    from sweeper.cli._run import exit_code, print_summary
    from sweeper.config import load_sweep
    from sweeper.tune import Summary
    from sweeper.tune._table import Row

    done = Row(0, None, "COMPLETE", "converged", "", 30, 1.0, 30, {})
    running = Row(1, None, "RUNNING", None, "", 10, 2.0, 10, {})
    summary = Summary("sweeps/s", [done, running], 40, 90, 1, 5.0, time_limit_s=limit)
    assert exit_code(summary, "run", num_trials=3) == code
    why = "interrupted" if limit is None else "stopped by --time-limit 25s"
    assert f"{why} with 1 trial(s) unfinished and 1 not started;" in capsys.readouterr().err
    print_summary(summary, load_sweep(Path(__file__).resolve().parents[2] / "search_spaces"
                                      / "quick.yaml"))  # fmt: skip
    assert "trials: 2 (1 converged, 1 unfinished)" in capsys.readouterr().out


def test_a_sweep_whose_every_trial_failed_exits_3_with_a_command_that_works(capsys):
    """Every trial ended without a value: exit 3, not 0 (`run X && summarize X` went on), and
    the hint names a folder the space can run into (as it is, it is refused: already used)."""
    from sweeper.cli._run import NO_VALUE, exit_code, print_summary
    from sweeper.config import load_sweep
    from sweeper.tune import Summary
    from sweeper.tune._table import Row

    failed = [Row(n, None, "FAIL", "error", "InputError: ...", 0, None, None, {}) for n in (0, 1)]
    summary = Summary("sweeps/seg", failed, 0, 0, 2, 5.0)
    assert exit_code(summary, "run", num_trials=2) == NO_VALUE == 3
    cfg = load_sweep(Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml")
    print_summary(summary, cfg)
    out = capsys.readouterr().out
    assert "no trial has a value to rank" in out and "--name seg-2`" in out
    good = Row(2, None, "COMPLETE", "converged", "", 30, 1.0, 30, {})
    assert exit_code(Summary("sweeps/seg", [*failed, good], 30, 30, 2, 5.0), "run", 3) == 0


@pytest.mark.parametrize(("state", "rule"), [("FAIL", "error"), ("PRUNED", "diverged")])
def test_a_sweep_whose_only_scored_trial_failed_or_diverged_exits_3(capsys, state, rule):
    """A trial that reported values and then failed every retry (or diverged) has no best
    checkpoint summarize ranks: the run exited 0 and pointed at export-best, which refused."""
    from sweeper.cli._run import NO_VALUE, exit_code, print_summary
    from sweeper.config import load_sweep
    from sweeper.tune import Summary
    from sweeper.tune._table import Row, ranked

    scored = Row(0, None, state, rule, "RuntimeError: CUDA out of memory", 40, 0.5, 30, {})
    unscored = Row(1, None, "FAIL", "error", "InputError: ...", 0, None, None, {})
    good = Row(2, None, "COMPLETE", "converged", "", 30, 0.9, 30, {})
    summary = Summary("sweeps/oom", [scored, unscored], 40, 40, 2, 5.0)
    assert exit_code(summary, "run", num_trials=2) == NO_VALUE
    print_summary(summary, load_sweep(Path(__file__).resolve().parents[2] / "search_spaces"
                                      / "quick.yaml"))  # fmt: skip
    out = capsys.readouterr().out
    assert "no trial has a value to rank" in out and "export-best" not in out
    # The trials table ranks as summarize does: the worse but finished trial first.
    assert [r.number for r in ranked([scored, unscored, good], "min")] == [2, 0, 1]
    assert exit_code(Summary("sweeps/oom", [scored, good], 70, 70, 2, 5.0), "run", 2) == 0
