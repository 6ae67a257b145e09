"""What a killed driver leaves, mended before a resume: a torn or damaged study journal, a
trial asked for after Ray's last snapshot, a stop recorded but not told; and the driver lock
that keeps a second driver off a sweep folder. Real Optuna journal storage, no Ray."""

from __future__ import annotations

import json

import pytest
from optuna.trial import TrialState
from test_study import make

from sweeper.errors import InputError
from sweeper.tune._journal import repair_journal, torn_tail, torn_warning
from sweeper.tune._lock import DriverLock, driver_running
from sweeper.tune._recover import mend, ray_trial_ids
from sweeper.tune._study import OUTCOME, Outcome


def _journal_of_three(tmp_path):
    study = make(tmp_path)
    for name in ("a", "b", "c"):
        study.ask(name)
    return study, tmp_path / "study.journal"


def test_a_torn_journal_is_named_and_repaired_before_anything_appends(tmp_path):
    sweep, path = _journal_of_three(tmp_path)
    winner = sweep.find("c")
    sweep.set_attr(winner._trial_id, "best", {"step": 5, "metrics": ["m"], "values": {"m": 1.0}})
    sweep.tell(winner._trial_id, Outcome("budget", "ran to its budget", 5, 5, 1.0))
    whole = path.read_bytes()
    path.write_bytes(whole[: -len(whole.splitlines()[-1]) // 2 - 1])  # the last write, cut
    assert torn_tail(path) > 0
    assert "ends in a partial line" in torn_warning(path, tmp_path)
    # Optuna reads it as if the write never happened: the winner shows RUNNING.
    assert make(tmp_path).find("c").state == TrialState.RUNNING

    note = repair_journal(path)
    assert note is not None and "cut off" in note
    backup = next(tmp_path.glob("study.journal.torn-*"))
    assert len(backup.read_bytes()) > len(path.read_bytes()) and path.read_bytes()[-1:] == b"\n"
    assert torn_tail(path) == 0 and repair_journal(path) is None
    assert torn_warning(path, tmp_path) is None
    again = make(tmp_path)  # a resumed driver: its writes land on a line of their own
    again.ask("d")
    assert {t.user_attrs["ray_trial_id"] for t in make(tmp_path).study.trials} == set("abcd")


def test_a_damaged_line_inside_the_journal_is_a_one_line_error_with_its_number(tmp_path):
    from sweeper.config import load_sweep
    from sweeper.tune._journal import open_existing

    _, path = _journal_of_three(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3][:20] + lines[4]  # what a resume appending onto a torn line made
    path.write_bytes(b"".join(lines))
    cfg = load_sweep(_sweep_yaml(tmp_path))
    with pytest.raises(InputError) as err:
        open_existing(cfg, tmp_path)
    text = str(err.value)
    assert "\n" not in text and "study.journal line 4 is damaged" in text and "fix:" in text


def _sweep_yaml(tmp_path):
    from sweep_tools import write_sweep

    return write_sweep(tmp_path, name="s")


def test_mend_ends_recorded_stops_and_hands_an_unknown_trial_to_the_next_one(tmp_path):
    sweep, _ = _journal_of_three(tmp_path)
    decided, orphan, started = sweep.find("a"), sweep.find("b"), sweep.find("c")
    # a: a stop recorded, the driver killed before it told Optuna
    sweep.set_attr(decided._trial_id, OUTCOME, Outcome("diverged", "NaN", 10).to_dict())
    # c: reported, but Ray's state never knew it
    sweep.report(started._trial_id, 5, 3.0)
    notes = mend(sweep, known={"x"})  # Ray's run state knows none of the three
    assert len(notes) == 3
    states = {t.user_attrs["ray_trial_id"]: t.state for t in make(tmp_path).study.trials}
    assert states == {"a": TrialState.PRUNED, "b": TrialState.RUNNING, "c": TrialState.FAIL}
    config = orphan.user_attrs["config"]
    # The next new Ray trial trains b's configuration: num_trials holds.
    assert sweep.ask("new") == config and len(sweep.study.trials) == 3
    reused = sweep.find("new")
    assert reused.number == orphan.number and reused.user_attrs["former_ray_ids"] == ["b"]
    assert sweep.ask("newer") != config and len(sweep.study.trials) == 4  # once only
    assert mend(sweep, known={"new", "newer"}) == []


def test_ray_trial_ids_come_from_the_newest_run_state(tmp_path):
    assert ray_trial_ids(tmp_path) is None
    for stamp, ids in (("2026-01-01_00-00-00", ["a"]), ("2026-01-01_00-00-09", ["a", "b"])):
        data = {"trial_data": [[json.dumps({"trial_id": i}), "{}"] for i in ids]}
        (tmp_path / f"experiment_state-{stamp}.json").write_text(json.dumps(data))
    assert ray_trial_ids(tmp_path) == {"a", "b"}


def test_one_driver_per_sweep_folder(tmp_path):
    assert driver_running(tmp_path) is None
    lock = DriverLock(tmp_path, "sweeper run").acquire()
    try:
        holder = driver_running(tmp_path)
        assert holder is not None and holder["pid"] > 0
        with pytest.raises(InputError) as err:  # a second driver, even in this process
            DriverLock(tmp_path, "sweeper run").acquire()
        text = str(err.value)
        assert "is being run by `sweeper run` (pid" in text and f"pid {holder['pid']}" in text
        assert "\n" not in text and "fix:" in text
    finally:
        lock.release()
    assert driver_running(tmp_path) is None  # released (the kernel also drops it at exit)
    DriverLock(tmp_path, "sweeper run").acquire().release()


@pytest.mark.parametrize("added", [b"garbage\n", b'{"op_code": 6, "worker_id": "x"\n'])
def test_a_last_line_that_is_no_record_is_named_and_cut_though_it_ends_in_a_newline(
    tmp_path, added
):
    """Optuna skips it without a word; a resume appended behind it, and every reader after
    refused the file as damaged at that line (a probe, 2026-12-08)."""
    _, path = _journal_of_three(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole + added)
    assert torn_tail(path) == len(added)
    assert "ends in a partial line" in torn_warning(path, tmp_path)
    note = repair_journal(path)
    assert note is not None and path.read_bytes() == whole
    again = make(tmp_path)  # a resumed driver writes on, and the file reads whole
    again.ask("d")
    assert {t.user_attrs["ray_trial_id"] for t in make(tmp_path).study.trials} == set("abcd")
    assert torn_tail(path) == 0
