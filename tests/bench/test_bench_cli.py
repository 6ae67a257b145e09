"""``sweeper bench curves``, ``detector`` and ``record`` end to end (in process)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sweeper.bench import record
from sweeper.bench.curves import load
from sweeper.cli import main
from sweeper.errors import InputError


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
        (["bench", "detector", "X.npz", "--jobs", "0"], "--jobs must be >= 1, got --jobs 0"),
        (["bench"], "choose a benchmark"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# sweeper bench record: a sweep folder's result.json files as a curves file

EVAL, LOG = 200, 50  # eval_interval, log_interval of the stand-in trainer


def _trial(root, name: str, vals: list[float], *, train: bool = True, nan_at=None, extra=()):
    """A result.json as the trainer relays it: loss lines every LOG, eval lines every EVAL."""
    lines = []
    for k, v in enumerate(vals, 1):
        for s in range((k - 1) * EVAL + LOG, k * EVAL, LOG):
            lines.append({"step": s, "loss/g/mel": 40.0 - s / 100, "loss/d/total": 2.5})
        line = {"step": k * EVAL, "loss/g/mel": 40.0 - k * EVAL / 100, "val/mel": v}
        if train:
            line["train/mel"] = 0.9 * v
        if nan_at == k:
            line["val/mel"] = math.nan
        lines.append(line)
    lines.extend(extra)
    folder = root / name
    folder.mkdir()
    (folder / "result.json").write_text("\n".join(json.dumps(x) for x in lines) + "\n")


@pytest.fixture
def sweep(tmp_path):
    root = tmp_path / "sweep"
    root.mkdir()
    _trial(root, "trial_0001", [30.0, 25.0, 22.0, 21.0])  # ran to its budget
    _trial(root, "trial_0002", [35.0, 33.0])  # stopped after 2 evaluations
    _trial(root, "trial_0003", [31.0, 28.0, 27.0], train=False, nan_at=3)  # diverged, no train
    _trial(root, "trial_0004", [])  # failed before its first evaluation
    (root / "study.journal").write_text("not a trial")
    return root


def test_read_sweep_puts_every_trial_on_the_common_grid(sweep):
    curves, names, skipped = record.read_sweep(sweep)
    assert names == ["trial_0001", "trial_0002", "trial_0003"] and skipped == ["trial_0004"]
    assert curves.steps.tolist() == [200, 400, 600, 800]
    assert curves.length.tolist() == [4, 2, 3]
    assert curves.val[0].tolist() == [30.0, 25.0, 22.0, 21.0]
    assert np.isnan(curves.val[1, 2:]).all()  # NaN after it ended
    assert curves.val[2, :2].tolist() == [31.0, 28.0] and np.isnan(curves.val[2, 2])
    assert curves.lengths().tolist() == [4, 2, 3]  # the reported NaN is data, not the end
    assert curves.train[0].tolist() == pytest.approx([27.0, 22.5, 19.8, 18.9])
    # no train/mel: the median of the loss/g/mel reports since the previous evaluation
    assert curves.train[2, 1] == pytest.approx(
        np.median([40 - s / 100 for s in (250, 300, 350, 400)])
    )


def test_a_repeated_step_keeps_the_later_report(tmp_path):
    root = tmp_path / "sweep"
    root.mkdir()
    restart = [{"step": 400, "val/mel": 24.0, "train/mel": 20.0}]  # restored, re-reported
    _trial(root, "trial_a", [30.0, 25.0], extra=restart)
    curves, _, _ = record.read_sweep(root)
    assert curves.val[0].tolist() == [30.0, 24.0]


def test_cli_writes_a_file_both_replays_read(sweep, tmp_path, capsys):
    out = tmp_path / "rec.npz"
    assert main(["bench", "record", str(sweep), str(out)]) == 0
    said = capsys.readouterr().out
    assert "3 curves of val/mel on 4 steps" in said and "skipped 1 trials" in said
    curves = load(out)
    assert curves.n_curves == 3 and curves.train is not None
    with np.load(out) as raw:
        assert raw["trial"].tolist() == ["trial_0001", "trial_0002", "trial_0003"]
    argv = ["bench", "pruner", str(out), "--json", "--methods", "none", "--orders", "1"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_curves"] == 3 and doc["methods"]["none"]["stops"] == [None] * 3


def test_trials_on_different_grids_are_refused(tmp_path):
    root = tmp_path / "sweep"
    root.mkdir()
    _trial(root, "trial_a", [30.0, 25.0, 22.0])
    (root / "trial_b").mkdir()
    lines = [{"step": 300, "val/mel": 29.0}, {"step": 600, "val/mel": 27.0}]
    (root / "trial_b" / "result.json").write_text("\n".join(map(json.dumps, lines)))
    with pytest.raises(InputError, match="trial 'trial_a' has no val/mel at step 300"):
        record.read_sweep(root)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no trial_*/result.json"), ("{oops\n", "result.json:1: not a JSON object"),
     ('{"val/mel": 3}\n', "needs a whole training step"), ('{"step": 1}\n', "reported 'val/mel'")],
)  # fmt: skip
def test_bad_folders_exit_2_with_one_line(tmp_path, capsys, content, message):
    if content is not None:
        (tmp_path / "trial_x").mkdir()
        (tmp_path / "trial_x" / "result.json").write_text(content)
    assert main(["bench", "record", str(tmp_path), str(tmp_path / "o.npz")]) == 2
    assert message in capsys.readouterr().err


def test_several_sweeps_make_one_file_with_prefixed_names(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    _trial(one, "trial_a", [30.0, 25.0, 22.0])
    _trial(two, "trial_a", [31.0, 26.0])  # same trial name in another sweep
    out = tmp_path / "both.npz"
    assert main(["bench", "record", str(one), str(two), str(out)]) == 0
    with np.load(out) as raw:
        assert raw["trial"].tolist() == ["one/trial_a", "two/trial_a"]
    assert load(out).lengths().tolist() == [3, 2]


def test_ctrl_c_during_a_forked_replay_prints_one_line(tmp_path):
    # The workers took the Ctrl-C too and printed "Process ForkPoolWorker-1:" and half
    # tracebacks over the parent's one line.
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "many.npz"
    assert main(["bench", "curves", str(path), "--n", "400", "--seed", "1"]) == 0
    argv = [sys.executable, "-m", "sweeper", "bench", "detector", str(path), "--jobs", "2"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own group: Ctrl-C reaches the workers too, as in a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 60
    while len(children.read_text().split()) < 2:  # the pool has forked its workers
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "sweeper bench: interrupted\n")
