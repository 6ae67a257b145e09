"""The ``summary:`` section of a sweep file: typed, strict, line-numbered errors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from sweeper.config import load_sweep, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.summarize.summary import criteria_for
from tests.summarize.conftest import SWEEP


def _write(tmp_path, summary) -> str:
    data = {**SWEEP, "summary": summary}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _line_of(path: str, text: str) -> int:
    """The first line holding ``text`` inside the summary: section."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = lines.index("summary:")
    return next(i for i, ln in enumerate(lines, 1) if i > start and text in ln)


def test_summary_section_loads_typed(tmp_path):
    cfg = load_sweep(_write(tmp_path, {
        "mode": "pareto", "metrics": ["val/mel", "eval/mcd_db"],
        "modes": {"train_infer/mel": "max"}, "normalize": "zscore",
    }))  # fmt: skip
    s = cfg.summary
    assert (s.mode, s.normalize, s.metrics) == ("pareto", "zscore", ("val/mel", "eval/mcd_db"))
    assert s.modes == {"train_infer/mel": "max"} and s.ranking == "pareto"
    s = load_sweep(_write(tmp_path, {"mode": "composite", "weights": {"val/mel": 2}})).summary
    assert s.weights == {"val/mel": 2.0} and isinstance(s.weights["val/mel"], float)


def test_weights_alone_mean_a_composite_ranking(tmp_path):
    """Weights are read by the composite ranking only: given without a mode, they choose it
    (the default, lexicographic, would ignore them)."""
    data = SimpleNamespace(cfg=load_sweep(_write(tmp_path, {"weights": {"val/mel": 1}})))
    criteria = criteria_for(data, ["val/mel", "train/mel"])
    assert (criteria.mode, dict(criteria.weights)) == ("composite", {"val/mel": 1.0})
    data = SimpleNamespace(cfg=load_sweep(_write(tmp_path, {})))
    assert criteria_for(data, ["val/mel"]).mode == "lexicographic"


def test_no_summary_section_means_defaults(tmp_path):
    data = {k: v for k, v in SWEEP.items() if k != "summary"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    s = load_sweep(path).summary
    assert (s.mode, s.weights, s.metrics, s.normalize) == (None, None, None, "rank")


@pytest.mark.parametrize(
    ("summary", "where", "message"),
    [
        ({"mode": "best"}, "mode:", "summary.mode is not one of the options (got 'best')"),
        ({"normalise": "rank"}, "normalise:", "did you mean 'normalize'?"),
        ({"weights": {"val/mel": -1}}, "val/mel:", "must be >= 0 (got -1)"),
        ({"weights": {"val/mel": "high"}}, "val/mel:", "must be a number (got 'high')"),
        ({"weights": {"val/mel": 0}}, "weights:", "needs a weight > 0"),
        ({"metrics": ["a", "a"]}, "metrics:", "repeats a metric"),
        ({"modes": {"a": "up"}}, "a: up", "is not one of the options (got 'up')"),
        # a key the chosen ranking never reads
        ({"mode": "lexicographic", "weights": {"val/mel": 1}}, "weights:",
         "summary.weights apply to mode: composite, not lexicographic"),
        ({"mode": "pareto", "weights": {"val/mel": 1}}, "weights:", "not pareto"),
        ({"mode": "composite", "metrics": ["val/mel"]}, "metrics:",
         "summary.metrics apply to mode: lexicographic or pareto, not composite"),
    ],
)
def test_bad_summary_is_a_line_numbered_error(tmp_path, summary, where, message):
    path = _write(tmp_path, summary)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    assert "\n" not in text and message in text and "fix:" in text
    assert text.startswith(f"{path}:{_line_of(path, where)}:")


def test_summary_modes_against_the_objective_is_a_line_numbered_error(tmp_path):
    """summary.modes may not turn an objective metric around (each trial's best step was
    chosen by the objective's direction); the error names the sweep file's line."""
    path = _write(tmp_path, {"modes": {"val/mel": "max"}})
    data = SimpleNamespace(cfg=load_sweep(path), lines=load_yaml_with_lines(path)[1])
    with pytest.raises(InputError) as err:
        criteria_for(data, ["val/mel"])
    text = str(err.value)
    assert text.startswith(f"{path}:{_line_of(path, 'val/mel: max')}:")
    assert "summary.modes.val/mel contradicts objective.modes (min) (got 'max')" in text
    assert "fix: remove val/mel from summary.modes" in text and "\n" not in text


def test_a_summary_added_after_the_run_may_not_rank_by_a_searched_parameter(tmp_path):
    """summary.metrics: [learning_rate] ranked trials by the learning rate they drew, and the
    "use one of" list offered learning_rate (a probe): refused as `sweeper check` refuses it."""
    path = _write(tmp_path, {"metrics": ["val/mel", "learning_rate"]})
    data = SimpleNamespace(cfg=load_sweep(path), lines=load_yaml_with_lines(path)[1],
                           folder=tmp_path)  # fmt: skip
    with pytest.raises(InputError) as err:
        criteria_for(data, ["learning_rate", "val/mel", "val/mel_l1"])
    text = str(err.value)
    assert text.startswith(f"{path}:{_line_of(path, '- learning_rate')}: summary.metrics[1] ")
    assert "is the searched parameter train.learning_rate as the trainer reports it" in text
    path = _write(tmp_path, {"metrics": ["val/mel", "eval/mcd_db"]})
    data = SimpleNamespace(cfg=load_sweep(path), lines=load_yaml_with_lines(path)[1],
                           folder=tmp_path)  # fmt: skip
    with pytest.raises(InputError) as err:
        criteria_for(data, ["learning_rate", "val/mel", "val/mel_l1"])
    assert str(err.value).endswith("use one of: val/mel, val/mel_l1")
