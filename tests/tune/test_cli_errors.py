"""One-line errors of run/resume/status before any Ray starts."""

from __future__ import annotations

from conftest import write_sweep

from sweeper.cli import main


def test_resume_and_status_refuse_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    for command in ("resume", "status"):
        assert main([command, str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "is not a sweep folder" in err and "fix:" in err


def test_run_refuses_to_overwrite_a_sweep_folder(tmp_path, capsys):
    space = write_sweep(tmp_path)
    (tmp_path / "sweeps" / "t").mkdir(parents=True)
    (tmp_path / "sweeps" / "t" / "sweep.yaml").write_text("name: t\n")
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a sweep" in err and "sweeper resume" in err and "--name t-2" in err


def test_run_names_an_unknown_trainer_key_with_its_line(tmp_path, capsys):
    params = {"train.learning_rat": {"type": "float", "low": 1e-4, "high": 1e-2}}
    space = write_sweep(tmp_path, parameters=params, sampler={"kind": "tpe", "seed": 0})
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "train.learning_rat" in err and "did you mean 'train.learning_rate'" in err
    assert f"{space.name}:" in err and not (tmp_path / "sweeps").exists()


def test_run_refuses_a_bucket_it_cannot_open_and_a_bad_yaml(tmp_path, capsys):
    space = write_sweep(tmp_path)
    assert main(["run", str(space), "--storage", "s3://bucket/sweeps"]) == 2
    assert "s3://bucket/sweeps" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(space.read_text().replace("max_steps: 30", "max_steps: -3"))
    assert main(["run", str(bad), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.yaml:" in err and "max_steps" in err and "-3" in err
