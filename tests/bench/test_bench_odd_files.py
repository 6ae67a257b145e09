"""Curve files a bench had never seen (a probe, 2026-12-07): each was a crash, invalid JSON,
or a score that meant nothing. In process, small files, few methods."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from sweeper.bench import curves as bench_curves
from sweeper.bench.curves import load
from sweeper.bench.generator import generate
from sweeper.cli import main

STEPS = np.arange(1, 61) * 100


def _save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _strict_json(text: str) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _falling(n: int = 6, floor: float = 10.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.arange(STEPS.size)
    return floor + 20 * np.exp(-x / 12) * rng.uniform(0.8, 1.2, (n, 1)) + rng.normal(
        0, 0.2, (n, STEPS.size)
    )


def test_a_grid_of_step_0_alone_and_a_one_point_curve_from_step_0(tmp_path, capsys):
    # The detector was built with budget 0 (internal error) for both benches.
    one = _save(tmp_path / "one.npz", steps=np.array([0]), val=np.array([[3.0], [4.0]]))
    assert main(["bench", "detector", one, "--methods", "sweeper"]) == 0
    assert main(["bench", "pruner", one, "--orders", "1", "--methods", "sweeper"]) == 0
    val = _falling(3)
    val[1, 1:] = np.nan  # died right after its step-0 evaluation
    short = _save(tmp_path / "short.npz", steps=np.arange(60) * 100, val=val)
    capsys.readouterr()
    assert main(["bench", "detector", short, "--methods", "sweeper", "--json"]) == 0
    assert len(_strict_json(capsys.readouterr().out)["methods"]["sweeper"]["stops"]) == 3


def test_curves_at_exactly_zero_do_not_divide_by_zero(tmp_path, capsys):
    val = np.maximum(0.0, 5 - np.arange(400) / 10.0) * np.ones((4, 1))  # an error count
    path = _save(tmp_path / "zero.npz", steps=np.arange(1, 401), val=val)
    assert main(["bench", "pruner", path, "--orders", "1", "--methods", "ray-plateau"]) == 0
    capsys.readouterr()
    assert main(["bench", "detector", path, "--methods", "ray-tuned", "--json"]) == 0
    row = _strict_json(capsys.readouterr().out)["methods"]["ray-tuned"]
    assert row["reasons"][0] == "converged"  # flat at 0: a plateau, relative std 0


def test_pruner_json_is_strict_and_undefined_scores_are_null(tmp_path, capsys):
    val = _falling(6)
    val[2, 0] = np.nan  # NaN at the first point, values after: a divergence at index 0
    path = _save(tmp_path / "nan0.npz", steps=STEPS, val=val)
    assert main(["bench", "pruner", path, "--json", "--orders", "2", "--methods", "sha"]) == 0
    row = _strict_json(capsys.readouterr().out)["methods"]["sha"]
    assert row["regret_picked"] is None or 0 <= row["regret_picked"] < 1
    val[:, 0] = np.nan  # every curve: no finite truth anywhere
    path = _save(tmp_path / "nan_all.npz", steps=STEPS, val=val)
    assert main(["bench", "pruner", path, "--json", "--orders", "1", "--methods", "none"]) == 0
    row = _strict_json(capsys.readouterr().out)["methods"]["none"]
    assert row["regret_picked"] is None and row["top10_cut"] is None  # not "100 % cut"


def test_a_missing_training_value_means_the_same_in_both_benches(tmp_path, capsys):
    val = _falling(4)
    train = val - 1.0
    train[:, 1::2] = np.nan  # the sweep logged training loss at every other evaluation
    path = _save(tmp_path / "sparse.npz", steps=STEPS, val=val, train=train)
    assert main(["bench", "detector", path, "--methods", "sweeper", "--json"]) == 0
    reasons = _strict_json(capsys.readouterr().out)["methods"]["sweeper"]["reasons"]
    assert "diverged" not in reasons  # was: every curve, at the first NaN


def test_a_curve_ends_where_its_val_ends_not_its_train(tmp_path, capsys):
    val, train = _falling(4), _falling(4) - 1
    val[:, 40:] = np.nan  # training logged on after the last evaluation
    path = _save(tmp_path / "longer.npz", steps=STEPS, val=val, train=train)
    assert load(path).lengths().tolist() == [40] * 4
    assert main(["bench", "detector", path, "--methods", "sweeper", "--json"]) == 0
    assert "diverged" not in _strict_json(capsys.readouterr().out)["methods"]["sweeper"]["reasons"]


def test_maximize_negates_and_rising_curves_are_pointed_out(tmp_path, capsys):
    accuracy = 1 - _falling(6) / 60  # rising from ~0.3 to ~0.83
    path = _save(tmp_path / "acc.npz", steps=STEPS, val=accuracy)
    assert main(["bench", "detector", path, "--methods", "sweeper", "--json"]) == 0
    assert "pass --maximize" in capsys.readouterr().err
    assert main(["bench", "detector", path, "--methods", "sweeper", "--json", "--maximize"]) == 0
    out, err = capsys.readouterr()
    assert "--maximize" not in err
    assert "diverged" not in _strict_json(out)["methods"]["sweeper"]["reasons"]


def test_trailing_all_nan_columns_do_not_move_the_pruners_budget(tmp_path, capsys):
    val = generate(8, seed=1, points=40, mix={"plateau": 0.5, "flat": 0.5}).val
    padded = np.hstack([val, np.full((8, 20), np.nan)])
    stops = []
    for name, steps, v in (("cut", STEPS[:40], val), ("pad", STEPS, padded)):
        path = _save(tmp_path / f"{name}.npz", steps=steps, val=v)
        argv = ["bench", "pruner", path, "--orders", "1", "--methods", "sweeper", "--json"]
        assert main(argv) == 0
        stops.append(_strict_json(capsys.readouterr().out)["methods"]["sweeper"]["stops"])
    assert stops[0] == stops[1]


def test_scores_near_zero_are_fractions_of_the_fall_not_of_a_tiny_level():
    # A loss levelling off at 0.0005 from 2.3: a fraction of 0.0005 made every stop "false".
    base = bench_curves.curve_base
    assert base(np.array([2.3, 1.0, 0.1, 0.0005, 0.0006])) == pytest.approx(2.2995)
    assert base(np.array([30.0, 20.0, 10.0, 12.0, 90.0])) == 10.0  # a rise after: no
    assert bench_curves.fraction_base(-0.01, 2.3) == pytest.approx(2.31)  # no jump at 0
    curves = generate(20, seed=4, mix={"plateau": 1.0})
    for row in curves.val_true:  # the generated sets keep their level as the base
        assert base(row) == pytest.approx(np.nanmin(row))


@pytest.mark.parametrize(
    ("make", "argv_tail", "message"),
    [
        ("truncated", ["detector"], "cannot read curves file"),
        ("complex", ["detector"], "must hold real numbers"),
        ("kind_bytes", ["detector"], "'kind' must hold curve kinds as strings"),
        ("kind_caps", ["pruner"], "'kind' must hold curve kinds as strings"),
        ("good", ["detector", "--methods", ","], "--methods names no method"),
        ("good", ["detector", "--plot", "{tmp}"], "is a folder"),
    ],
)
def test_bad_files_and_arguments_are_one_line_before_any_replay(
    tmp_path, capsys, make, argv_tail, message
):
    good = {"steps": STEPS, "val": _falling(2)}
    path = tmp_path / f"{make}.npz"
    if make == "truncated":
        _save(path, **good)
        path.write_bytes(path.read_bytes()[:200])
    elif make == "complex":
        _save(path, steps=STEPS, val=_falling(2).astype(complex))
    elif make == "kind_bytes":
        _save(path, **good, kind=np.array([b"plateau", b"slow"]))
    elif make == "kind_caps":
        _save(path, **good, kind=np.array(["Plateau", "slow"]))
    else:
        _save(path, **good)
    argv = ["bench", argv_tail[0], str(path), *[a.format(tmp=tmp_path) for a in argv_tail[1:]]]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert "[1/" not in err  # refused before the replay


def test_outputs_are_checked_first_and_named_as_written(tmp_path, capsys):
    assert main(["bench", "curves", str(tmp_path / "missing" / "x.npz"), "--n", "2"]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["bench", "curves", str(tmp_path / "noext"), "--n", "2"]) == 0
    assert f"wrote {tmp_path / 'noext.npz'}:" in capsys.readouterr().out
    assert zipfile.is_zipfile(tmp_path / "noext.npz")


def test_record_keeps_trials_of_two_sweep_folders_with_one_name(tmp_path, capsys):
    for parent, trials in (("x", ["a"]), ("y", ["a", "b"])):
        for trial in trials:
            folder = tmp_path / parent / "sw" / f"trial_{trial}"
            folder.mkdir(parents=True)
            lines = [{"step": s, "val/mel": 30.0 - s / 100} for s in (100, 200, 300)]
            (folder / "result.json").write_text("\n".join(map(json.dumps, lines)))
    out = tmp_path / "both.npz"
    argv = ["bench", "record", str(tmp_path / "x" / "sw"), str(tmp_path / "y" / "sw"), str(out)]
    assert main(argv) == 0
    with np.load(out) as data:
        names = data["trial"].tolist()
    assert len(names) == len(set(names)) == 3, names


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"step": 1e300, "val/mel": 3.0}', "whole training step"),
        ('{"step": 100.5, "val/mel": 3.0}', "whole training step"),
        ('{"step": 100, "val/mel": "3.0"}', "not a number"),
    ],
)
def test_record_refuses_steps_and_values_it_would_mangle(tmp_path, capsys, line, message):
    folder = tmp_path / "sw" / "trial_a"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(line + "\n")
    assert main(["bench", "record", str(tmp_path / "sw"), str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_files_an_evaluator_brings_are_read_or_named(tmp_path, capsys):
    """A probe (2026-12-07): a header claiming a huge array was an internal MemoryError; the
    array checks named no file; a user's own 'kind' labels and a float 'length' refused the
    file; --maximize on a loss advised to pass --maximize."""
    huge = tmp_path / "huge.npz"
    with zipfile.ZipFile(huge, "w") as archive:
        with archive.open("steps.npy", "w") as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": (10**13,)}
            )
        archive.writestr("val.npy", b"")
    argv = ["bench", "pruner", str(huge), "--orders", "1", "--methods", "none"]
    assert main(argv) == 2
    assert f"cannot read curves file '{huge}'" in capsys.readouterr().err

    bad = _save(tmp_path / "bad.npz", steps=STEPS[:-1], val=_falling(2))
    assert main(["bench", "detector", bad, "--methods", "sweeper"]) == 2
    assert f"error: curves file '{bad}': 'val' must have shape" in capsys.readouterr().err

    labelled = _save(tmp_path / "labelled.npz", steps=STEPS, val=_falling(3),
                     kind=np.array(["good", "bad", "good"]), length=np.full(3, 60.0))  # fmt: skip
    assert main(["bench", "pruner", labelled, "--orders", "1", "--methods", "none"]) == 0
    err = capsys.readouterr().err
    assert "'kind' holds labels other than the generator's curve kinds" in err
    assert "ignored, so the truth is estimated" in err

    loss = _save(tmp_path / "loss.npz", steps=STEPS, val=_falling(6))
    assert main(["bench", "detector", loss, "--methods", "sweeper", "--maximize"]) == 0
    err = capsys.readouterr().err
    assert "6 of 6 curves end lower than they start" in err and "drop --maximize" in err


def test_pruner_json_says_which_order_its_stops_are_and_their_compute(tmp_path, capsys):
    # With several orders `compute` is a median; `stops` are the first order's (a probe
    # found them not to add up to it).
    path = _save(tmp_path / "c.npz", steps=STEPS, val=_falling(8))
    argv = ["bench", "pruner", path, "--orders", "3", "--methods", "asha", "--json", "--jobs", "1"]
    assert main(argv) == 0
    row = _strict_json(capsys.readouterr().out)["methods"]["asha"]
    assert row["stops_order"] == 0 and len(row["stops"]) == 8
    run = [STEPS.size if stop is None else stop + 1 for stop in row["stops"]]
    assert row["stops_compute"] == pytest.approx(sum(run) / (8 * STEPS.size))


def test_keys_outside_the_format_are_named_with_a_near_miss(tmp_path, capsys):
    """A probe (2026-12-08): a misspelt 'val_truth' was dropped without a word, and the
    curves were scored against estimated truth."""
    odd = _save(tmp_path / "odd.npz", steps=STEPS, val=_falling(3), val_truth=_falling(3),
                names=np.array(["a", "b", "c"]))  # fmt: skip
    assert main(["bench", "pruner", odd, "--orders", "1", "--methods", "none"]) == 0
    err = capsys.readouterr().err
    assert "ignored 'val_truth' (did you mean 'val_true'?), 'names': not part of" in err
