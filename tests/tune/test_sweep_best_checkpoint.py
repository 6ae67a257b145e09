"""A sweep ranked by another metric than val/mel, or with mode max, keeps each trial's best
checkpoint at the study's best step (the trainer is told the sweep's first objective).

Until 2026-12-07 the reference trainer kept best/ by the lowest val/mel whatever the
objective: `sweeper summarize` then found "best checkpoint G_<step>.pth is missing" in every
trial and refused the sweep (so did export-best)."""

from __future__ import annotations

import pytest
from sweep_tools import checkpoints, load_study, write_sweep

pytestmark = pytest.mark.slow


# One sweep for both cases (another metric than val/mel, and mode max): each case is a real
# sweep of ~25 s; the trainer's own tests (tests/trainers/test_reference_best_metric.py)
# cover val/vuv_error min and the other combinations.
@pytest.mark.parametrize("metric, mode", [("val/vuv_error", "max")])
def test_summarize_finds_every_best_checkpoint(tmp_path, procs, metric, mode):
    space = write_sweep(
        tmp_path,
        # val/mel second: the best step is the first metric's; the run shows both (it
        # showed only the first until 2026-12-07)
        objective={"metrics": [metric, "val/mel"], "modes": [mode, "min"]},
        budget={"max_steps": 15, "num_trials": 2, "concurrency": 2},
    )
    text = procs.run("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")
    assert f"best {metric} (first objective) " in text and "; val/mel " in text, text[-2000:]
    head = next(ln for ln in text.splitlines() if ln.lstrip().startswith("trial  state"))
    assert f"best {metric}  " in head and "  val/mel  " in head, head
    sweep_dir = tmp_path / "sweeps" / "t"
    study = load_study(sweep_dir)
    assert len(study.trials) == 2
    for trial in study.trials:
        assert trial.state.name == "COMPLETE", trial.user_attrs
        best = trial.user_attrs["best"]
        values = {s: v for s, v in trial.intermediate_values.items() if s > 0}
        pick = min if mode == "min" else max
        assert values[best["step"]] == pick(values.values())
        folder = sweep_dir / f"trial_{trial.user_attrs['ray_trial_id']}"
        kept = sorted(p.name for p in (checkpoints(folder)[-1] / "best").iterdir())
        assert kept == [f"D_{best['step']}.pth", f"G_{best['step']}.pth"], (metric, mode)
    # summarize (and so export-best) ranks both trials: no best checkpoint is missing.
    from sweeper.summarize import summarize

    summary = summarize(sweep_dir)
    assert [t.problem for t in summary.data.trials] == [None, None]
    assert len(summary.ranked) == 2
    for rec in summary.data.trials:
        assert rec.checkpoint is not None and rec.checkpoint.name == f"G_{rec.best_step}.pth"
