"""The summary: section when a sweep starts (load_sweep(new=True), what `check` and `run`
read): what the objective is refused for, summary.metrics and weights are refused for too,
and a summary.modes entry the ranking never reads (a probe, 2026-12-07)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeper.config import load_sweep
from sweeper.errors import InputError
from tests.config.test_load_sweep import GOOD


def _write(tmp_path: Path, summary: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "summary:\n" + summary)
    return path


def _line(path: Path, text: str) -> int:
    """The first line of the summary: section holding ``text``."""
    lines = path.read_text().splitlines()
    start = lines.index("summary:")
    return next(i for i, ln in enumerate(lines, 1) if i > start and text in ln)


@pytest.mark.parametrize(
    ("summary", "key"),
    [
        ("  metrics: [val/mel, learning_rate]\n", "summary.metrics[1]"),
        ("  weights:\n    val/mel: 1\n    learning_rate: 0.5\n", "summary.weights.learning_rate"),
    ],
)
def test_a_summary_ranked_by_a_searched_parameter_is_refused(tmp_path, summary, key):
    """summary.metrics: [learning_rate] passed check, and summarize ranked trials by the
    learning rate they drew; objective.metrics was already refused for it."""
    path = _write(tmp_path, summary)
    with pytest.raises(InputError) as info:
        load_sweep(path, new=True)
    text = str(info.value)
    assert text.startswith(f"{path}:{_line(path, 'learning_rate')}: {key} is the searched ")
    assert "parameter train.learning_rate as the trainer reports it" in text
    assert "fix: rank by a held-out metric such as 'val/mel_l1'" in text and "\n" not in text
    assert load_sweep(path).summary is not None  # a folder already run with it still opens
    if "weights" in summary:  # a weight of 0 only shows the metric: it ranks nothing
        ok = _write(tmp_path, summary.replace("0.5", "0"))
        assert load_sweep(ok, new=True).summary.weights["learning_rate"] == 0.0


_MODES = "  modes:\n    val/vuv_error: max\n"


@pytest.mark.parametrize(
    ("summary", "fix", "ranked"),
    [  # the section, the fix named, the section with the metric ranked (accepted)
        (_MODES, "add val/vuv_error to summary.metrics",
         "  metrics: [val/mel, val/vuv_error]\n" + _MODES),
        ("  metrics: [val/mel, val/mel_l1]\n" + _MODES, "add val/vuv_error to summary.metrics",
         "  metrics: [val/mel_l1, val/vuv_error]\n" + _MODES),
        ("  weights: {val/mel: 1}\n" + _MODES, "add val/vuv_error to summary.weights",
         "  weights: {val/mel: 1, val/vuv_error: 0}\n" + _MODES),
    ],
)
def test_a_direction_for_a_metric_not_ranked_is_refused(tmp_path, summary, fix, ranked):
    """summary.modes for a metric the ranking does not use was accepted and did nothing."""
    path = _write(tmp_path, summary)
    with pytest.raises(InputError) as info:
        load_sweep(path, new=True)
    text = str(info.value)
    assert text.startswith(f"{path}:{_line(path, 'val/vuv_error: max')}: summary.modes.")
    assert "is not a metric the ranking uses" in text and "(got 'val/vuv_error')" in text
    assert f"fix: {fix}, or remove it from summary.modes" in text and "\n" not in text
    assert load_sweep(_write(tmp_path, ranked), new=True).summary.modes == {"val/vuv_error": "max"}
