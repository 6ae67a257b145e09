"""``sweeper status`` and the run's table (a probe, 2026-12-07): a failed trial showed only
"#0 FAIL error 0 - -" though `sweeper run` sends the user to status for the errors; after
--time-limit a RUNNING trial showed "steps 0" though progress had said "steps 35"; a trial
past its budget made "steps run: 45 of 40 ...: -12% saved"."""

from __future__ import annotations

import json
from argparse import Namespace
from types import SimpleNamespace

from sweeper.tune._study import OUTCOME, RAY_ID
from sweeper.tune._table import Row, compute_text, rows


def _frozen(number, state, ray_id, outcome=None, values=None):
    """What row_of reads of an Optuna trial."""
    attrs = {RAY_ID: ray_id, **({OUTCOME: outcome} if outcome else {})}
    return SimpleNamespace(number=number, state=SimpleNamespace(name=state),
                           intermediate_values=values or {}, user_attrs=attrs)  # fmt: skip


def test_a_running_trial_shows_the_step_ray_recorded(tmp_path):
    trial = tmp_path / "trial_abc"
    trial.mkdir()
    lines = [json.dumps({"step": s, "loss/g/total": 30.0}) for s in (0, 5, 35, 20)]
    (trial / "result.json").write_text("\n".join([*lines, '{"step": 9']) + "\n")  # cut line
    ended = {"rule": "budget", "step": 40}
    trials = [_frozen(0, "RUNNING", "abc"), _frozen(1, "RUNNING", "gone"),
              _frozen(2, "COMPLETE", "abc", ended, {40: 0.5})]  # fmt: skip
    study = SimpleNamespace(folder=str(tmp_path),
                            study=SimpleNamespace(get_trials=lambda deepcopy: trials))  # fmt: skip
    assert [r.steps for r in rows(study)] == [35, 0, 40]


def test_steps_past_the_budget_are_not_negative_savings():
    text = compute_text(45, 40, 0)
    assert "-" not in text and "none saved (the trials ran 5 step(s) past their budget)" in text
    assert compute_text(40, 40, 0).endswith("0% saved")


def row_of(number, state, message="", ray_id=None):
    return Row(number, ray_id, state, "error" if state == "FAIL" else "budget", message, 0,
               None, None, {})  # fmt: skip


def test_status_prints_each_failed_trials_error(tmp_path, monkeypatch, capsys):
    from sweeper.tune._table import failures

    (tmp_path / "trial_r2").mkdir()
    (tmp_path / "trial_r2" / "error.txt").write_text("Traceback ...\n  x\nRuntimeError: boom\n\n")
    table = [
        row_of(0, "FAIL", "InputError: sovits.python 'x' is not an executable; fix: ...\nmore"),
        row_of(1, "COMPLETE"),
        row_of(2, "FAIL", "", "r2"),
    ]
    assert failures(table, tmp_path) == [
        "#0: InputError: sovits.python 'x' is not an executable; fix: ...",
        "#2: RuntimeError: boom",
    ]
    import sweeper.cli._run
    import sweeper.tune
    import sweeper.tune._resume
    from sweeper.cli import _status

    summary = SimpleNamespace(table=table, sweep_dir=str(tmp_path))
    monkeypatch.setattr(sweeper.tune._resume, "load_sweep_dir", lambda d: (d, None))
    monkeypatch.setattr(sweeper.tune, "sweep_status", lambda d: summary)
    monkeypatch.setattr(sweeper.cli._run, "print_summary", lambda s, c: print("TABLE"))
    assert _status.run(Namespace(dir=str(tmp_path), json=False)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["TABLE", "failed trials' errors:"]
    assert out[2].startswith("  #0: InputError: sovits.python 'x'") and len(out) == 4
