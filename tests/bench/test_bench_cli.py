"""``sweeper bench curves`` and ``sweeper bench detector`` end to end (in process)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sweeper.bench.curves import load
from sweeper.cli import main


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "small.npz"
    assert main(["bench", "curves", str(path), "--n", "30", "--seed", "3"]) == 0
    return path


def test_curves_writes_a_loadable_set(small, capsys):
    curves = load(small)
    assert curves.n_curves == 30 and curves.has_truth


def test_detector_table_has_one_row_per_method(small, capsys):
    assert main(["bench", "detector", str(small), "--methods", "keras,up", "gl-tuned"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "truth given" in lines[0]
    assert lines[1].split()[:3] == ["method", "false", "stop"]
    assert [line.split()[0] for line in lines[2:5]] == ["keras", "up", "gl-tuned"]
    assert "[3/3] gl-tuned" in err  # progress goes to stderr


def test_detector_json(small, capsys):
    assert main(["bench", "detector", str(small), "--json", "--methods", "lightning"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["truth"] == "given" and doc["n_curves"] == 30
    row = doc["methods"]["lightning"]
    assert len(row["stops"]) == len(row["reasons"]) == 30
    assert 0 <= row["compute_saved"] <= 1


def test_detector_says_when_truth_is_estimated(tmp_path, capsys):
    path = tmp_path / "mine.npz"
    rng = np.random.default_rng(0)
    val = 20 + 10 * np.exp(-np.arange(50) / 8) + rng.normal(0, 0.3, (4, 50))
    np.savez(path, steps=np.arange(1, 51) * 100, val=val)
    assert main(["bench", "detector", str(path), "--json", "--methods", "mk"]) == 0
    assert json.loads(capsys.readouterr().out)["truth"] == "estimated"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "detector", "MISSING.npz"], "cannot read curves file"),
        (["bench", "detector", "X.npz", "--methods", "nope"], "unknown method(s) ['nope']"),
        (["bench"], "choose a benchmark"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
