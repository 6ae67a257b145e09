"""The ``summary:`` section of a sweep file: typed, strict, line-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sweeper.config import load_sweep
from sweeper.errors import InputError
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
        "modes": {"train_infer/mel": "max"}, "weights": {"val/mel": 2}, "normalize": "zscore",
    }))  # fmt: skip
    s = cfg.summary
    assert (s.mode, s.normalize, s.metrics) == ("pareto", "zscore", ("val/mel", "eval/mcd_db"))
    assert s.weights == {"val/mel": 2.0} and isinstance(s.weights["val/mel"], float)
    assert s.modes == {"train_infer/mel": "max"}


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
    ],
)
def test_bad_summary_is_a_line_numbered_error(tmp_path, summary, where, message):
    path = _write(tmp_path, summary)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    assert "\n" not in text and message in text and "fix:" in text
    assert text.startswith(f"{path}:{_line_of(path, where)}:")
