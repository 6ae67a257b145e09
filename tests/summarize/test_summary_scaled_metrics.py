"""A ``summary:`` section added to sweep.yaml after the run is held to `sweeper check`'s rule:
no ranking by a metric that a searched loss weight multiplies (trials would rank by their
c_mel). A probe found summarize and export-best ranked by it while `check` refused the file."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from sweeper.config import load_sweep, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.summarize.summary import criteria_for
from tests.summarize.conftest import SWEEP

PRESENT = ["loss/g/total", "train/mel", "val/mel", "val/mel_l1", "val/vuv_error"]


def _data(tmp_path, summary):
    params = {**SWEEP["parameters"], "train.c_mel": {"type": "categorical", "choices": [20, 45]}}
    space = {**SWEEP, "parameters": params, "summary": summary,
             "objective": {"metrics": ["val/mel_l1"], "modes": ["min"]}}  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False), encoding="utf-8")
    return SimpleNamespace(
        cfg=load_sweep(path), lines=load_yaml_with_lines(path)[1], folder=tmp_path
    ), path


@pytest.mark.parametrize(
    "summary",
    [{"weights": {"val/mel": 1.0}}, {"mode": "lexicographic", "metrics": ["loss/g/total"]}],
)
def test_a_metric_scaled_by_a_searched_weight_is_refused_as_check_does(tmp_path, summary):
    data, path = _data(tmp_path, summary)
    with pytest.raises(InputError) as check:
        load_sweep(path, new=True)  # what `sweeper check` says
    with pytest.raises(InputError) as err:
        criteria_for(data, PRESENT)
    text = str(err.value)
    assert text == str(check.value)
    assert "is multiplied by train.c_mel" in text and "\n" not in text and "fix:" in text
    assert text.startswith(f"{path}:")


def test_the_metrics_offered_leave_out_the_scaled_ones(tmp_path):
    data, _ = _data(tmp_path, {"weights": {"eval/mcd_db": 1.0}})
    with pytest.raises(InputError) as err:
        criteria_for(data, PRESENT)
    offered = str(err.value).partition("use one of: ")[2]
    assert offered == "val/mel_l1, val/vuv_error"


def test_unscaled_metrics_still_rank(tmp_path):
    data, _ = _data(tmp_path, {"weights": {"val/mel_l1": 1.0, "val/vuv_error": 0.5}})
    assert criteria_for(data, PRESENT).metrics == ("val/mel_l1", "val/vuv_error")


def test_a_metric_a_weight_fixed_to_0_zeroes_is_refused_as_check_does(tmp_path):
    params = {**SWEEP["parameters"], "train.c_mel": {"type": "fixed", "value": 0}}
    space = {**SWEEP, "parameters": params, "summary": {"weights": {"val/mel": 1.0}},
             "objective": {"metrics": ["val/mel_l1"], "modes": ["min"]}}  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False), encoding="utf-8")
    data = SimpleNamespace(
        cfg=load_sweep(path), lines=load_yaml_with_lines(path)[1], folder=tmp_path
    )
    with pytest.raises(InputError) as check:
        load_sweep(path, new=True)
    with pytest.raises(InputError) as err:
        criteria_for(data, PRESENT)
    assert str(err.value) == str(check.value) and "fixes to 0" in str(err.value)
