"""Metric names the reference trainer never reports are refused at load time (file:line,
did you mean); the list the check uses is what a real reference run reports."""

from __future__ import annotations

import pytest
import yaml

from sweeper.config import load_sweep
from sweeper.config._metrics import REFERENCE_METRICS
from sweeper.errors import InputError
from sweeper.testing import tiny_sweep


def _write(tmp_path, **sections):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep(**sections), sort_keys=False), encoding="utf-8")
    return path


def _line(path, text):
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def test_an_objective_metric_the_trainer_never_reports_is_refused(tmp_path):
    path = _write(tmp_path, objective={"metrics": ["val/mell"], "modes": ["min"]})
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    assert text.startswith(f"{path}:{_line(path, 'val/mell')}: objective.metrics[0]")
    assert "'val/mell'" in text and "did you mean 'val/mel'?" in text and "\n" not in text


def test_a_train_metric_the_trainer_never_reports_is_refused(tmp_path):
    pruner = {"n_warmup_steps": 5, "train_metric": "train/mell"}
    path = _write(tmp_path, pruner=pruner)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    assert text.startswith(f"{path}:{_line(path, 'train/mell')}: pruner.train_metric")
    assert "did you mean 'train/mel'?" in text
    ok = _write(tmp_path, pruner={"n_warmup_steps": 5, "train_metric": "train_infer/mel"})
    assert load_sweep(ok).pruner.train_metric == "train_infer/mel"


def test_a_summary_metric_the_trainer_never_reports_is_refused_before_the_sweep(tmp_path):
    summary = {"mode": "composite", "weights": {"val/mel": 1, "val/vuv_eror": 0.5}}
    path = _write(tmp_path, summary=summary)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert "summary.weights.val/vuv_eror" in str(err.value)
    assert "did you mean 'val/vuv_error'?" in str(err.value)
    # --evaluate's names exist only after the sweep: summarize checks them.
    summary["weights"] = {"val/mel": 1, "eval/mcd_db": 0.5}
    assert load_sweep(_write(tmp_path, summary=summary)).summary.weights["eval/mcd_db"] == 0.5


def test_the_known_names_are_what_the_reference_trainer_reports(tmp_path):
    from sweeper.trainers._api import TrialSpec
    from sweeper.trainers.reference import sweep as reference
    from sweeper.tune._trainable import Job, toy_data

    cfg = load_sweep(_write(tmp_path, budget={"max_steps": 5, "num_trials": 1}))
    job = Job.from_sweep(cfg)
    params = {"train.use_gan": True, "train.eval_interval": 5, "train.log_interval": 5}
    seen: set[str] = set()
    spec = TrialSpec(params, str(tmp_path / "run"), toy_data(job), 5, preset="tiny")
    reference.run(spec, lambda step, metrics, checkpoint_dir=None: seen.update(metrics))
    assert {"val/mel", "train/mel", "train_infer/mel", "loss/d/total"} <= seen
    assert seen <= REFERENCE_METRICS, seen - REFERENCE_METRICS


def _with_c_mel(**sections):
    params = dict(tiny_sweep()["parameters"])
    params["train.c_mel"] = {"type": "categorical", "choices": [20.0, 90.0]}
    return {"parameters": params, **sections}


def test_ranking_by_a_metric_that_a_searched_loss_weight_multiplies_is_refused(tmp_path):
    """val/mel is the held-out L1 x c_mel: with c_mel searched, c_mel 20 'beats' 90 on
    scale alone (a probe's grid ranked all four c_mel = 20 trials first)."""
    path = _write(tmp_path, **_with_c_mel())
    with pytest.raises(InputError) as err:
        load_sweep(path, new=True)
    text = str(err.value)
    assert text.startswith(f"{path}:{_line(path, '- val/mel')}: objective.metrics[0]")
    assert "multiplied by train.c_mel" in text and "fix: use 'val/mel_l1'" in text
    # A sweep started before this check still opens (status, summarize, resume read it).
    assert load_sweep(path).objective.metrics == ("val/mel",)
    summary = {"mode": "composite", "weights": {"val/mel_l1": 1, "train_infer/mel": 0.5}}
    objective = {"metrics": ["val/mel_l1"], "modes": ["min"]}
    path = _write(tmp_path, **_with_c_mel(objective=objective, summary=summary))
    with pytest.raises(InputError, match=r"summary\.weights\.train_infer/mel is multiplied"):
        load_sweep(path, new=True)
    summary["weights"] = {"val/mel_l1": 1}
    path = _write(tmp_path, **_with_c_mel(objective=objective, summary=summary))
    assert load_sweep(path, new=True).objective.metrics == ("val/mel_l1",)
    # A fixed weight scales every trial alike: ranking by val/mel is fine then.
    fixed = _with_c_mel()
    fixed["parameters"]["train.c_mel"] = {"type": "fixed", "value": 30.0}
    assert load_sweep(_write(tmp_path, **fixed), new=True).objective.metrics == ("val/mel",)


def test_a_discriminator_metric_with_the_gan_fixed_off_is_refused(tmp_path):
    path = _write(tmp_path, objective={"metrics": ["loss/d/total"], "modes": ["min"]})
    with pytest.raises(InputError) as err:
        load_sweep(path, new=True)  # tiny_sweep fixes train.use_gan: false
    text = str(err.value)
    assert text.startswith(f"{path}:{_line(path, 'loss/d/total')}: objective.metrics[0]")
    assert "only when the GAN trains" in text and "fix:" in text
    params = dict(tiny_sweep()["parameters"])
    params["train.use_gan"] = {"type": "categorical", "choices": [True, False]}
    objective = {"metrics": ["loss/d/total"], "modes": ["min"]}
    # Searched with false among its choices: those trials ran their budget, then FAIL.
    path = _write(tmp_path, parameters=params, objective=objective)
    with pytest.raises(InputError, match="searched with false among its choices"):
        load_sweep(path, new=True)
    for name in ("loss/g/gen", "loss/g/fm"):
        pruner = {"train_metric": name}
        with pytest.raises(InputError, match=r"pruner.train_metric is reported only when the GAN"):
            load_sweep(_write(tmp_path, parameters=params, pruner=pruner), new=True)
    params["train.use_gan"] = {"type": "categorical", "choices": [True]}
    assert load_sweep(_write(tmp_path, parameters=params, objective=objective), new=True)
