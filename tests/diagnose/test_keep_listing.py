"""The folder listing, not train.log's save lines, says which checkpoints are kept; JSON
names the advised file as data (checkpoint_step, checkpoint_file, checkpoint_on_disk)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_diagnosis import flat_after_start, make_run

from sweeper.diagnose import diagnose, render_text, to_dict
from sweeper.logs import read_run

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sovits-logs"
LOGGED = tuple(range(0, 20001, 1000))  # train.log's save lines, 4.0: no deletion lines


def mel_line(run) -> str:
    text = render_text(diagnose(run))
    return next(x for x in text.splitlines() if x.startswith("  loss/g/mel"))


def test_a_nan_run_whose_pre_divergence_checkpoints_were_deleted_advises_none():
    # Before 2026-12-07: "keep G_...pth (saved per train.log)", a file the listing shows gone.
    mel = flat_after_start()
    mel[75:] = math.nan  # from step 15000
    run = make_run(checkpoints=(0, 18000, 19000, 20000), logged=LOGGED, loss__g__mel=mel)
    line = mel_line(run)
    assert "saved per train.log)" not in line and "keep G_" not in line
    assert "none of the kept checkpoints is usable: G_18000.pth to G_20000.pth" in line
    best = diagnose(run).signals["loss/g/mel"].best_step
    assert f"the best was at step {best}" in line
    assert f"G_{best // 1000 * 1000}.pth, saved per train.log, is gone" in line


def test_only_g_0_beside_the_logs_advises_none_and_names_the_best_step():
    run = make_run(checkpoints=(0,), logged=LOGGED, loss__g__mel=flat_after_start())
    report = diagnose(run).signals["loss/g/mel"]
    assert report.checkpoint is None
    assert report.advice.startswith("none of the kept checkpoints is usable: beside the logs")
    assert f"train again to about step {report.best_step}" in report.advice
    data = to_dict(diagnose(run))["signals"]["loss/g/mel"]
    assert (data["checkpoint_step"], data["checkpoint_file"], data["checkpoint_on_disk"]) == (
        None,
        None,
        None,
    )


def test_with_no_listing_train_logs_saves_are_advised_and_json_says_not_on_disk():
    run = make_run(logged=LOGGED, loss__g__mel=flat_after_start())
    data = to_dict(diagnose(run))["signals"]["loss/g/mel"]
    step = data["best_step"] // 1000 * 1000
    assert data["checkpoint"] == f"G_{step}.pth (saved per train.log)"
    assert (data["checkpoint_step"], data["checkpoint_file"], data["checkpoint_on_disk"]) == (
        step,
        f"G_{step}.pth",
        False,
    )
    listed = make_run(checkpoints=(0, 4000, 8000), loss__g__mel=flat_after_start())
    data = to_dict(diagnose(listed))["signals"]["loss/g/mel"]
    assert data["checkpoint_file"] == f"G_{data['checkpoint_step']}.pth"
    assert data["checkpoint_on_disk"] is True and data["checkpoint_step"] in (4000, 8000)


def test_the_real_log_beside_only_g_0_is_never_advised_a_file_train_log_saved(tmp_path):
    log = (REAL / "SKwths+so-vits-svc-dodo.train.log").resolve()
    if not log.is_file():
        pytest.skip(f"real so-vits-svc log not found under {REAL} (outside the repo)")
    folder = tmp_path / "logs" / "44k"
    folder.mkdir(parents=True)
    (folder / "train.log").symlink_to(log)  # read where it is, never copied
    (folder / "G_0.pth").touch()
    for path in (folder, folder / "train.log"):
        report = diagnose(read_run(path)).signals["loss/g/mel"]
        assert report.checkpoint is None, path  # before: "G_16000.pth (saved per train.log)"
        assert "G_15000.pth, saved per train.log, is gone" in report.advice
