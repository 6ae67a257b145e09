"""The live progress line of a resumed sweep starts from what the study already holds."""

from __future__ import annotations

import io

from test_study import make

from sweeper.tune._progress import SweepProgress
from sweeper.tune._study import BEST


def test_a_resumed_sweeps_status_line_counts_the_trials_run_before(tmp_path):
    study = make(tmp_path)
    for ray_id, steps, best in (("r0", 30, 30.9), ("r1", 10, 31.6)):
        study.ask(ray_id)
        trial_id = study.find(ray_id)._trial_id
        for step in range(0, steps + 1, 5):
            study.report(trial_id, step, best + (steps - step))
        study.set_attr(trial_id, BEST, {"step": steps, "metrics": ["val/mel"],
                                        "values": {"val/mel": best}})  # fmt: skip
    # A new driver (`sweeper resume`): its progress knows #0's 30.9 and the 40 steps run.
    progress = SweepProgress(make(tmp_path), "val/mel", "min", num_trials=4, max_steps=30)
    progress.out = io.StringIO()
    progress._status([])
    line = progress.out.getvalue()
    assert "best val/mel 30.9 (#0)" in line and "steps 40 of 120 budgeted" in line, line


def test_the_best_so_far_leaves_out_step_0(tmp_path):
    """Step 0 is the model before training: the line said "best val/mel 93.92" from it."""

    class Trial:
        trial_id = "r0"

    study = make(tmp_path)
    study.ask("r0")
    progress = SweepProgress(study, "val/mel", "min", num_trials=1, max_steps=30)
    progress.out = io.StringIO()
    progress.on_trial_result(0, [], Trial(), {"step": 0, "val/mel": 10.0})
    progress.on_trial_result(0, [], Trial(), {"step": 5, "val/mel": 30.0})
    progress._status([])
    assert "best val/mel 30 (#0)" in progress.out.getvalue(), progress.out.getvalue()


def test_a_progress_restored_from_tuner_pkl_counts_again_on_restart(tmp_path):
    """Ray restores the callback pickled as the sweep started (nothing counted, its clock):
    ``restart`` (called by resume) counts the study's trials and times from now."""
    import pickle
    import time

    study = make(tmp_path)
    started = pickle.dumps(SweepProgress(study, "val/mel", "min", num_trials=2, max_steps=30))
    study.ask("r0")
    trial_id = study.find("r0")._trial_id
    study.report(trial_id, 30, 30.9)
    study.set_attr(trial_id, BEST, {"step": 30, "metrics": ["val/mel"],
                                    "values": {"val/mel": 30.9}})  # fmt: skip
    progress = pickle.loads(started)
    progress._start -= 3600  # the first start, an hour ago
    progress.restart()
    progress.out = io.StringIO()
    progress._status([])
    line = progress.out.getvalue()
    assert line.startswith("[0:00:0") and "best val/mel 30.9 (#0)" in line, line
    assert "steps 30 of 60 budgeted" in line and time.monotonic() - progress._start < 60, line


def test_several_objectives_say_the_best_is_the_first_and_show_the_others(tmp_path):
    """The line said "best val/mel 30 (#0)" alone, in a Pareto sweep where no single best is."""

    class Trial:
        trial_id = "r0"

    study = make(tmp_path)
    study.ask("r0")
    progress = SweepProgress(study, "val/mel", "min", 1, 30, others=["val/vuv_error"])
    progress.out = io.StringIO()
    progress.on_trial_result(0, [], Trial(), {"step": 5, "val/mel": 30.0, "val/vuv_error": 0.2})
    progress._status([])
    line = progress.out.getvalue()
    assert "best val/mel (first objective) 30 (#0; val/vuv_error 0.2);" in line, line


def test_a_sweep_whose_trials_all_wait_for_a_node_says_so_once_a_minute(tmp_path, monkeypatch):
    """Trials waiting for resources make no events: nothing was printed for minutes."""
    import time
    from types import SimpleNamespace

    from sweeper.tune import _progress

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    progress = SweepProgress(make(tmp_path), "val/mel", "min", num_trials=2, max_steps=30)
    progress.out = io.StringIO()
    waiting = [SimpleNamespace(status="PENDING", trial_id=f"r{i}") for i in range(2)]
    progress.on_step_end(1, waiting)
    assert progress.out.getvalue() == ""  # not at once: trials pend a moment at every start
    clock[0] += _progress.WAITING_EVERY_S
    progress.on_step_end(2, waiting)
    text = progress.out.getvalue()
    assert "running 0, pending 2" in text and "waiting: no trial is running" in text, text
    progress.on_step_end(3, waiting)
    assert progress.out.getvalue() == text  # not again within the minute
    clock[0] += _progress.WAITING_EVERY_S
    busy = [SimpleNamespace(status="RUNNING", trial_id="r0"), waiting[1]]
    progress.on_step_end(4, busy)
    assert progress.out.getvalue() == text  # one runs: its results make the lines


def test_a_trial_ended_before_it_ran_counts_as_ended(tmp_path):
    """A resume ends a trial the study saw finish while Ray still has it PENDING: the first
    line said "pending 2, ended 1" of two ended trials."""
    from types import SimpleNamespace

    progress = SweepProgress(make(tmp_path), "val/mel", "min", num_trials=2, max_steps=30)
    progress.out = io.StringIO()
    done = SimpleNamespace(status="TERMINATED", trial_id="r0")
    ending = SimpleNamespace(status="PENDING", trial_id="r1")
    progress._status([done, ending], ending=ending)
    assert "running 0, pending 0, ended 2" in progress.out.getvalue(), progress.out.getvalue()
