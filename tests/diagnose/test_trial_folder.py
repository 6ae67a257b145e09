"""Diagnosing a sovits-sweeper trial (a probe, 2026-12-07): on a so-vits-svc trial's
run/logs/44k it said "overfitting: cannot be judged — no val/* signal" while the val/* values
the sweep judged sit in the trial's result.json; the trial folder and its run/ were "neither a
train.log nor events"; "best so far at step 45; keep ../../best/G_10.pth" did not say that
G_10 was saved long before step 45."""

from __future__ import annotations

import json
from pathlib import Path

from sweeper.diagnose import checkpoint_for, diagnose, render_text
from sweeper.logs import RunLog, read_run


def _sovits_trial(root: Path, steps: int = 60) -> Path:
    """A so-vits-svc trainer's trial folder: logs in run/logs/44k, val/* in result.json."""
    trial = root / "trial_abc"
    logs = trial / "run" / "logs" / "44k"
    logs.mkdir(parents=True)
    (trial / "run" / "best").mkdir()
    (trial / "run" / "best" / "G_10.pth").write_bytes(b"")
    (logs / "G_0.pth").write_bytes(b"")
    (logs / "config.json").write_text(json.dumps({"train": {"eval_interval": 10}}))
    lines = []
    for step in range(5, steps + 1, 5):
        mel = 20.0 + 10.0 / step
        lines += [f"2026-12-07 13:43:21,123\t44k\tINFO\tTrain Epoch: {step} [50%]",
                  f"2026-12-07 13:43:21,123\t44k\tINFO\tLosses: [2.1, 2.6, 9.1, {mel}, 1.2], "
                  f"step: {step}, lr: 0.0001, reference_loss: {mel + 15}"]  # fmt: skip
    (logs / "train.log").write_text("\n".join(lines) + "\n")
    results = [{"step": 0, "val/mel_l1": 0.7, "val/f0_rmse_cents": float("nan")},
               {"step": 5, "loss/g/mel": 21.0},
               *({"step": s, "val/mel_l1": 0.1 + (s - 10) / 1000} for s in range(10, 61, 10)),
               {"step": 20, "val/mel_l1": 0.55}]  # a resumed trial reports step 20 again
    text = "\n".join(json.dumps(r) for r in results) + '\n{"step": 7'  # a cut last line
    (trial / "result.json").write_text(text)
    (trial / "params.json").write_text("{}")
    return trial


def test_a_trials_held_out_values_are_judged(tmp_path):
    trial = _sovits_trial(tmp_path)
    diagnosis = diagnose(read_run(trial / "run" / "logs" / "44k"))
    assert "val/mel_l1" in diagnosis.signals
    text = render_text(diagnosis)
    assert "no val/* signal" not in text
    assert f"read from {trial / 'result.json'}" in text
    (line,) = [ln for ln in text.splitlines() if ln.startswith("  val/mel_l1 (validation)")]
    assert "keep ../../best/G_10.pth" in line, line
    from sweeper.diagnose._trial import held_out

    found = held_out(trial)
    assert list(found) == ["val/mel_l1"]  # NaN-only f0 left out; no training loss
    assert found["val/mel_l1"].steps.tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert found["val/mel_l1"].values[2] == 0.55  # the last report of a step wins


def test_a_trial_folder_and_its_run_folder_lead_to_the_logs(tmp_path):
    from sweeper.diagnose import run_path

    trial = _sovits_trial(tmp_path)
    logs = trial / "run" / "logs" / "44k"
    assert run_path(trial) == logs and run_path(trial / "run") == logs
    assert run_path(logs) == logs
    assert read_run(run_path(trial)).series["loss/g/mel"].steps[-1] == 60
    reference = tmp_path / "ref" / "trial_def"  # the reference trainer logs into run/
    (reference / "run").mkdir(parents=True)
    (reference / "run" / "train.log").write_text((logs / "train.log").read_text())
    (reference / "result.json").write_text('{"step": 0}\n')
    assert run_path(reference) == reference / "run"
    assert run_path(reference / "run") == reference / "run"
    assert run_path(tmp_path) == tmp_path  # not a trial: read_run's own error stands


def test_sweeper_diagnose_reads_a_trial_folder(tmp_path, capsys):
    from sweeper.cli import main

    trial = _sovits_trial(tmp_path)
    for path in (trial, trial / "run"):
        assert main(["diagnose", str(path), "--no-plot"]) == 0, capsys.readouterr().err
        text = capsys.readouterr().out
        assert "val/mel_l1 (validation)" in text and "loss/g/mel" in text


def test_a_checkpoint_kept_long_before_the_best_step_is_said_to_be(tmp_path):
    run = RunLog(tmp_path, kept_best=(10,), best_dir="../../best", save_every=10)
    assert checkpoint_for(45, run) == "../../best/G_10.pth, the latest kept before step 45"
    assert checkpoint_for(15, run) == "../../best/G_10.pth"  # the save before it: as always
    assert checkpoint_for(45, RunLog(tmp_path, kept_best=(10,))) == "best/G_10.pth"


def test_a_cleaned_trials_checkpoints_are_read_from_its_newest_ray_checkpoint(tmp_path):
    # `sweeper clean` leaves no G_*.pth in run/: diagnose named a deleted file from train.log's
    # save lines, then (first fix) only the kept best/, advising best/G_30 for a signal whose
    # best step, 55, the kept latest G_50 is nearer to.
    from sweeper.diagnose._trial import with_kept_checkpoints

    for trial, logs, mirror in (
        (tmp_path / "ref" / "trial_a", "run", ""),  # the reference trainer
        (_sovits_trial(tmp_path), "run/logs/44k", "logs/44k/"),  # so-vits-svc's layout
    ):
        (trial / "run").mkdir(parents=True, exist_ok=True)
        for p in (trial / "run").rglob("*.pth"):
            p.unlink()
        (trial / "result.json").write_text('{"step": 0}\n')
        for n, latest in ((1, 40), (2, 50)):  # Ray keeps two; the newer one counts
            (trial / f"checkpoint_00000{n}" / mirror / "best").mkdir(parents=True, exist_ok=True)
            (trial / f"checkpoint_00000{n}" / mirror / f"G_{latest}.pth").write_bytes(b"")
            (trial / f"checkpoint_00000{n}" / "best").mkdir(exist_ok=True)
            (trial / f"checkpoint_00000{n}" / "best" / "G_30.pth").write_bytes(b"")
        run = with_kept_checkpoints(RunLog(trial / logs))
        up = "../" * logs.count("/") + "../checkpoint_000002/"
        assert (run.checkpoints, run.kept_best) == ((50,), (30,))
        assert checkpoint_for(55, run) == f"{up}{mirror}G_50.pth"
        assert checkpoint_for(35, run) == f"{up}best/G_30.pth"
        assert (trial / logs / checkpoint_for(55, run)).is_file()
        # clean keeps run/'s G_ saved after the checkpoint's latest: it stays, best/ is added
        newer = with_kept_checkpoints(RunLog(trial / logs, checkpoints=(60,)))
        assert (newer.checkpoints, newer.checkpoint_dir, newer.kept_best) == ((60,), "", (30,))
        assert checkpoint_for(35, newer) == f"{up}best/G_30.pth"
        live = RunLog(trial / logs, kept_best=(30,))  # a best/ beside the logs: as it is
        assert with_kept_checkpoints(live) is live
