"""A start that fails (no node fits the trial, the study storage cannot be written) leaves no
half-made sweep folder, so the fixed file runs under the same name. Real local Ray."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sweep_tools import write_sweep

from sweeper.errors import InputError
from sweeper.tune._study import SweepStudy
from sweeper.tune._undo import undo_start
from sweeper.tune.storage import check_study_storage


def _run(space, cwd):
    argv = [sys.executable, "-m", "sweeper", "run", str(space), "--storage", str(cwd / "sweeps")]
    return subprocess.run(argv, cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def test_a_failed_start_leaves_nothing_that_refuses_the_retry(tmp_path):
    sweep_dir = tmp_path / "sweeps" / "t"
    space = write_sweep(tmp_path, resources={"cpu": 64, "gpu": 0})
    done = _run(space, tmp_path)
    assert done.returncode == 2 and "resources.cpu=64" in done.stderr, done.stderr[-2000:]
    line = next(i for i, ln in enumerate(space.read_text().splitlines(), 1) if "cpu: 64" in ln)
    assert f"{space}:{line}: resources.cpu=64" in done.stderr  # the line that asked for it
    assert not sweep_dir.exists()
    # The study cannot be created (after sweep.yaml and sweep.json were written).
    done = _run(write_sweep(tmp_path, storage="/proc/study.journal"), tmp_path)
    assert done.returncode == 2 and "'/proc/study.journal'" in done.stderr, done.stderr[-2000:]
    assert "already holds a sweep" not in done.stderr
    assert not sweep_dir.exists()


def test_undo_never_deletes_a_trial_or_a_journal_that_saw_one(tmp_path):
    with_trial = tmp_path / "a"
    (with_trial / "trial_x").mkdir(parents=True)
    (with_trial / "sweep.yaml").write_text("name: a\n")
    undo_start(with_trial, False, False, ("sweep.yaml",))
    assert (with_trial / "sweep.yaml").is_file() and (with_trial / "trial_x").is_dir()
    with_journal = tmp_path / "b"
    with_journal.mkdir()
    (with_journal / "sweep.yaml").write_text("name: b\n")
    SweepStudy("b", str(with_journal / "study.journal"), ["minimize"]).ask("r1")
    undo_start(with_journal, False, False, ("sweep.yaml",))
    assert (with_journal / "sweep.yaml").is_file() and (with_journal / "study.journal").is_file()
    made = tmp_path / "c"  # a folder this start made, holding only its files: it goes
    made.mkdir()
    (made / "sweep.yaml").write_text("name: c\n")
    undo_start(made, False, False, ("sweep.yaml",))
    assert not made.exists()


def test_a_storage_journal_in_a_missing_folder_is_refused_not_made(tmp_path):
    """A mistyped shared path (/shraed/...) became a local folder, the sweep's study in it."""
    typo = tmp_path / "shraed" / "sweeps" / "study.journal"
    with pytest.raises(InputError, match=r"in a folder whose parent does not exist .*shraed"):
        check_study_storage(str(typo))
    assert not typo.parent.parent.exists()
    check_study_storage(str(tmp_path / "study.journal"))  # an existing folder: fine
    check_study_storage(str(tmp_path / "journals" / "x.journal"))  # one new level: made
    check_study_storage("postgresql://u@h/db")  # a database: not a path
