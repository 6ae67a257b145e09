"""`sweeper check` refuses what every trial (or some drawn ones) would fail on: values inside
a range the trainer refuses, and values that contradict the toy set or the budget."""

from __future__ import annotations

import pytest
from sweep_tools import BASE_SWEEP, write_sweep

from sweeper.cli import main


def _with(tmp_path, **params):
    return write_sweep(
        tmp_path,
        parameters={**BASE_SWEEP["parameters"], **params},
        sampler={"kind": "random", "seed": 0},
    )


@pytest.mark.parametrize(
    ("spec", "got", "fix"),
    [
        # micro has n_heads 2: 31 is refused, though both bounds are fine
        ({"model.hidden_channels": {"type": "int", "low": 30, "high": 32}}, "got 31", "step: 2"),
        # hop 320: 3300 is refused; step 320 keeps to multiples of it
        (
            {"train.segment_size": {"type": "int", "low": 3200, "high": 6400, "step": 100}},
            "got 3300",
            "step: 320",
        ),
        # On a log scale a step is refused: categorical values spread as log spreads them
        # (before 2026-12-07 "fix: step: 2", which check then refused; a probe).
        (
            {"model.hidden_channels": {"type": "int", "low": 16, "high": 64, "log": True}},
            "got 17",
            "type: categorical with the values to try (e.g. choices: [16, 26, 40, 64]), or "
            "log: false with step: 2",
        ),
    ],
)
def test_check_refuses_a_range_with_values_the_trainer_refuses(tmp_path, capsys, spec, got, fix):
    space = _with(tmp_path, **spec, **{"train.learning_rate": {"type": "fixed", "value": 2e-3}})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    name = next(iter(spec))
    assert f"{space}:" in err and f"parameters[{name}]" in err and got in err, err
    assert f"fix: {fix} " in f"{err} ", err


def test_check_accepts_a_range_on_the_step_the_trainer_needs(tmp_path, capsys):
    space = _with(
        tmp_path,
        **{"train.segment_size": {"type": "int", "low": 3200, "high": 6400, "step": 320}},
        **{"train.seed": {"type": "int", "low": 0, "high": 10**9}},  # sampled, not listed
        **{"train.learning_rate": {"type": "fixed", "value": 2e-3}},
    )
    assert main(["check", str(space), "--draws", "0"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("model.n_speakers", 1, "below the toy set's 2 speakers (got 1); fix: lower data.toy"),
        ("data.sampling_rate", 22050, "the toy set's rate, 16000 Hz"),
        # 2 x 2 training clips at micro's batch_size 4: one step per epoch, 30 steps budgeted
        ("train.epochs", 1, "before budget.max_steps (got 1 < 30); fix: train.epochs >= 30"),
    ],
)
def test_check_refuses_values_that_contradict_the_toy_set(tmp_path, capsys, name, value, fragment):
    """Each failed every trial, one after the other (epochs: ended before any validation)."""
    space = _with(tmp_path, **{name: {"type": "fixed", "value": value}})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{space}:" in err and fragment in err, err
    # run refuses it too, before Ray starts or a folder is written
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "sweeps").exists()


def test_check_names_the_budget_line_when_the_base_epochs_run_out(tmp_path, capsys):
    space = write_sweep(tmp_path, budget={"max_steps": 10**8, "num_trials": 2})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(space.read_text().splitlines(), 1) if "max_steps" in t)
    assert f"{space}:{line}: train.epochs " in err and "or lower budget.max_steps" in err, err


def test_check_checks_every_file_and_fails_if_any_is_bad(tmp_path, capsys):
    """It stopped at the first bad file; the ones after it went unchecked."""
    good = write_sweep(tmp_path)
    bad1 = write_sweep(tmp_path, name="b1", budget={"max_steps": 0, "num_trials": 1})
    bad2 = write_sweep(tmp_path, name="b2", budget={"max_steps": 10, "num_trials": 0})
    assert main(["check", str(bad1), str(good), str(bad2), "--draws", "0"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert str(bad1) in lines[0] and "max_steps" in lines[0]
    assert str(bad2) in lines[1] and "num_trials" in lines[1]
    assert f"{good}: ok" in out and "2 of 3 files refused" in out


def test_check_says_when_the_sweep_folder_is_taken(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    space = write_sweep(tmp_path)
    (tmp_path / "sweeps" / "t").mkdir(parents=True)
    (tmp_path / "sweeps" / "t" / "sweep.yaml").write_text(space.read_text())
    assert main(["check", str(space), "--draws", "0"]) == 0
    out = capsys.readouterr().out
    assert "sweeps/t already holds a sweep" in out and "`sweeper resume sweeps/t`" in out, out
    assert "--name t-2" in out and "next:" not in out
    # A driver runs it: resume would be refused, so it is not offered (a probe, 2026-12-08).
    from sweeper.tune._lock import DriverLock

    lock = DriverLock(tmp_path / "sweeps" / "t", "sweeper run").acquire()
    try:
        assert main(["check", str(space), "--draws", "0"]) == 0
        out = capsys.readouterr().out
    finally:
        lock.release()
    assert "`sweeper run` (pid" in out and "is running it" in out and "resume" not in out, out
    assert main(["check", str(space), "--draws", "0", "--name", "t-2"]) == 0
    out = capsys.readouterr().out
    assert "already holds" not in out and f"next: `sweeper run {space} --name t-2`" in out
    spaced = space.rename(space.with_name("my space.yaml"))  # the command quotes it now
    assert main(["check", str(spaced), "--draws", "0", "--name", "t-2"]) == 0
    assert f"next: `sweeper run '{spaced}' --name t-2`" in capsys.readouterr().out
    space = spaced.rename(space)
    # Under --storage the way on keeps it (probe W: the hint dropped it, so a run as shown
    # went to ./sweeps instead).
    (tmp_path / "other" / "t").mkdir(parents=True)
    (tmp_path / "other" / "t" / "sweep.yaml").write_text(space.read_text())
    assert main(["check", str(space), "--draws", "0", "--storage", "other"]) == 0
    out = capsys.readouterr().out
    assert f"`sweeper run {space} --name t-2 --storage other`" in out, out
    # The command refused names --name when check was given one (a probe, 2026-12-07: it
    # named `sweeper run SPACE`, which starts another folder and is not refused).
    (tmp_path / "sweeps" / "a").mkdir(parents=True)
    (tmp_path / "sweeps" / "a" / "sweep.yaml").write_text(space.read_text())
    assert main(["check", str(space), "--draws", "0", "--name", "a"]) == 0
    out = capsys.readouterr().out
    assert f"so `sweeper run {space} --name a` would be refused" in out, out


def test_a_name_too_long_for_a_folder_is_refused_by_check(tmp_path, capsys):
    """300 characters passed check, then run failed with an internal OSError."""
    space = write_sweep(tmp_path)
    space.write_text(space.read_text().replace("name: t\n", f"name: {'a' * 300}\n", 1))
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    assert f"{space}:1: name is too long (300 characters)" in err and "at most 200" in err


def test_a_base_that_does_not_load_is_named_with_the_sweep_files_line(tmp_path, capsys):
    """base: {preset: Micro} and a base.config the trainer refuses named no file:line."""
    line = 3  # write_sweep writes name, trainer, then base:
    space = write_sweep(tmp_path, base={"preset": "Micro"})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    assert f"{space}:{line + 1}: base.preset: config 'Micro'" in err and "'micro'" in err, err
    other = tmp_path / "other.yaml"
    other.write_text("colour: red\n")
    space = write_sweep(tmp_path, base={"config": str(other)})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    assert f"{space}:{line + 1}: base.config: {other}: unknown key" in err, err


@pytest.mark.parametrize(
    ("steps", "interval", "count", "fix"),
    [
        # the trainer validates at the last step too: 10 steps with eval every 50 rank fine
        (10, 50, "1 held-out evaluation", "fix: budget.max_steps of at least 40"),
        # every step already: a smaller eval_interval cannot help, more steps can
        (10, 1, "10 held-out evaluations", "fix: budget.max_steps of at least 40 with"),
        (43, 5, "9 held-out evaluations", "fix: a fixed train.eval_interval of at most 1"),
    ],
)
def test_the_few_evaluations_note_counts_the_last_one_and_fixes(
    tmp_path, capsys, steps, interval, count, fix
):
    space = _with(tmp_path, **{"train.eval_interval": {"type": "fixed", "value": interval}})
    text = space.read_text().replace("max_steps: 30", f"max_steps: {steps}")
    space.write_text(text.replace("pruner: null", "pruner: {}"))
    assert main(["check", str(space), "--draws", "0"]) == 0
    out = capsys.readouterr().out
    assert f"note: {count} per trial" in out and fix in out, out


def test_check_describes_the_sweep_as_it_runs(tmp_path, capsys):
    """A conditional fixed value showed as set in every trial, a list value as "in" a list of
    values, null/true as None/True, catch_up as on in a multi-objective sweep (the sweep turns
    it off), and a grid with fewer trials than points said nothing of the ones left out."""
    params = {
        "train.betas": {"type": "categorical", "choices": [[0.8, 0.99], [0.5, 0.9]]},
        "train.c_kl": {"type": "fixed", "value": 2.0, "when": {"train.betas": [0.8, 0.99]}},
        "train.use_gan": {"type": "categorical", "choices": [False]},
        "train.eval_interval": {"type": "fixed", "value": 5},
    }
    space = write_sweep(
        tmp_path,
        parameters=params,
        objective={"metrics": ["val/mel_l1", "val/vuv_error"], "modes": ["min", "min"]},
        pruner={"train_metric": None},
        budget={"max_steps": 30, "num_trials": 1},
    )
    assert main(["check", str(space), "--draws", "1"]) == 0
    out = capsys.readouterr().out
    assert "train.c_kl=2.0 (when train.betas = [0.8, 0.99])" in out, out
    assert "catch_up off (several objectives), train_metric null" in out
    assert "train.use_gan: one of false (one choice: acts as fixed)" in out
    assert "train.use_gan=false" in out and "False" not in out
    assert "the grid has 2 points and num_trials 1: 1 of them will not run" in out
    space = write_sweep(tmp_path, pruner=None)
    assert main(["check", str(space), "--draws", "0"]) == 0
    assert "unless it diverges: NaN or a loss explodes" in capsys.readouterr().out


def test_type_float_on_an_int_key_says_type_int(tmp_path, capsys):
    space = _with(tmp_path, **{"train.batch_size": {"type": "float", "low": 2, "high": 8}})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    assert "parameters[train.batch_size] is type float" in err and "fix: type: int" in err, err


def test_the_preview_shows_a_conditional_fixed_value_where_it_applies(tmp_path, capsys):
    params = {
        "train.betas": {"type": "categorical", "choices": [[0.8, 0.99], [0.5, 0.9]]},
        "train.c_kl": {"type": "fixed", "value": 2.0, "when": {"train.betas": [0.8, 0.99]}},
        "train.use_gan": {"type": "fixed", "value": False},
    }
    space = write_sweep(tmp_path, parameters=params, budget={"max_steps": 30, "num_trials": 2})
    assert main(["check", str(space), "--draws", "2"]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("#")]
    assert len(rows) == 2
    for row in rows:
        assert ("train.c_kl=2" in row) == ("train.betas=[0.8, 0.99]" in row), rows


def test_a_stepped_float_range_is_tried_value_by_value_and_ends(tmp_path, capsys):
    """The values of a stepped float, listed lazily, must stop at high (check hung on it)."""
    from itertools import islice

    from sweeper.space import FloatParam
    from sweeper.tune._check_values import _FloatGrid

    grid = _FloatGrid(FloatParam(0.1, 0.3, step=0.1))
    assert list(islice(iter(grid), 10)) == [0.1, 0.2, 0.3]
    c_kl = {"type": "float", "low": 0.5, "high": 2.0, "step": 0.5}
    space = _with(tmp_path, **{"train.c_kl": c_kl})
    assert main(["check", str(space), "--draws", "0"]) == 0, capsys.readouterr().err


def test_check_refuses_a_journal_in_a_folder_whose_parent_is_missing(tmp_path, capsys):
    """run refuses it after Ray has started; check said ok."""
    journal = tmp_path / "nowhere" / "dir" / "x.journal"
    space = write_sweep(tmp_path, storage=str(journal))
    assert main(["check", str(space), "--draws", "0"]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(space.read_text().splitlines(), 1) if "storage" in t)
    assert f"{space}:{line}: storage: " in err and "parent does not exist" in err, err
    (tmp_path / "nowhere").mkdir()  # its own folder may be made, as run does
    assert main(["check", str(space), "--draws", "0"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u@127.0.0.1:1/db", "needs the MySQLdb driver; fix: pip install 'mysqlclient'"),
        ("postgresql://u@h:xx/db", "is not one SQLAlchemy knows"),
        ("redis://h/0", "unknown study storage scheme 'redis'"),
    ],
)
def test_check_refuses_a_database_url_run_cannot_open_anywhere(tmp_path, capsys, url, said):
    """check said ok of these; run refused them only after Ray had started."""
    space = write_sweep(tmp_path, storage=url)
    assert main(["check", str(space), "--draws", "0"]) == 2
    err = capsys.readouterr().err.strip()
    line = next(i for i, t in enumerate(space.read_text().splitlines(), 1) if "storage" in t)
    assert err.startswith(f"sweeper check: error: {space}:{line}: ") and said in err, err


def test_check_refuses_a_name_option_run_would_refuse(tmp_path, capsys):
    space = write_sweep(tmp_path)
    assert main(["check", str(space), "--name", "a/b"]) == 2
    assert "--name must be a folder-safe name" in capsys.readouterr().err


# micro: hop 320 = 10 x 8 x 4, kernels 20 16 8, segment 3200, hidden_channels 32, n_heads 2
_HOP_256 = {
    "data.hop_length": {"type": "fixed", "value": 256},
    "model.upsample_rates": {"type": "fixed", "value": [8, 8, 4]},
    "model.upsample_kernel_sizes": {"type": "fixed", "value": [16, 16, 8]},
    "train.segment_size": {"type": "int", "low": 2560, "high": 5120, "step": 256},
}


def test_fixed_values_that_belong_together_are_checked_together(tmp_path, capsys):
    """hop_length 256 was tried alone on the preset's upsample_rates (product 320) and
    refused, though the space fixes rates whose product is 256; the segment range, a multiple
    of 256 but not of 320, was refused for the same reason."""
    assert main(["check", str(_with(tmp_path, **_HOP_256)), "--draws", "0"]) == 0, (
        capsys.readouterr().err
    )
    bad = {**_HOP_256, "model.upsample_rates": {"type": "fixed", "value": [8, 8, 2]}}
    space = _with(tmp_path, **bad)
    assert main(["check", str(space), "--draws", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "parameters[model.upsample_rates] value [8, 8, 2]" in err
    assert "product 128" in err and "fix: " in err, err


def test_two_searched_values_the_trainer_refuses_together_are_named(tmp_path, capsys):
    """Each value alone is fine on the preset (hidden 34 with its 2 heads, 4 heads with its
    hidden 32), but a trial drawing hidden 34 with 4 heads failed."""
    pair = {
        "model.hidden_channels": {"type": "categorical", "choices": [32, 34]},
        "model.n_heads": {"type": "categorical", "choices": [2, 4]},
    }
    space = _with(tmp_path, **pair)
    assert main(["check", str(space), "--draws", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "parameters[model.n_heads] value 4 with model.hidden_channels 34" in err, err
    assert "must divide by n_heads=4" in err and "fix: values of model.hidden_channels" in err


def test_values_a_when_keeps_apart_or_brings_along_are_accepted(tmp_path, capsys):
    """34 hidden channels only with 2 heads (a `when` keeps 34 from 4 heads), and 3 heads
    only with the 48 hidden channels fixed for them (a `when` brings them along)."""
    apart = {
        "model.n_heads": {"type": "categorical", "choices": [2, 4]},
        "model.hidden_channels": {
            "type": "categorical", "choices": [32, 34], "when": {"model.n_heads": 2}
        },
    }
    along = {
        "model.n_heads": {"type": "categorical", "choices": [2, 3]},
        "model.hidden_channels": {"type": "fixed", "value": 48, "when": {"model.n_heads": 3}},
    }
    for params in (apart, along):
        space = _with(tmp_path, **params)
        assert main(["check", str(space), "--draws", "0"]) == 0, capsys.readouterr().err
    alone = {**along, "model.hidden_channels": {"type": "fixed", "value": 48}}
    alone["model.n_heads"] = {"type": "categorical", "choices": [2, 3, 5]}  # 48 % 5
    assert main(["check", str(_with(tmp_path, **alone)), "--draws", "0"]) == 2
    assert "parameters[model.n_heads] value 5: " in capsys.readouterr().err


def test_half_precision_searched_on_cpu_trials_is_noted(tmp_path, capsys):
    """A probe (2026-12-07): train.fp16_run true and false gave one val/mel on CPU trials,
    and only each trial's own run notes said why."""
    fp16 = {"train.fp16_run": {"type": "categorical", "choices": [True, False]}}
    space = _with(tmp_path, **fp16)
    assert main(["check", str(space), "--draws", "0"]) == 0
    out = capsys.readouterr().out
    assert "note: parameters[train.fp16_run] is searched, but with resources.gpu: 0" in out, out
    assert "so its values train alike" in out
    space = _with(tmp_path, **{"train.fp16_run": {"type": "fixed", "value": False}})
    assert main(["check", str(space), "--draws", "0"]) == 0
    assert "train alike" not in capsys.readouterr().out
