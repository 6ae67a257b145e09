"""read_run: files by name or content, run folders merged, checkpoints listed, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sweeper.errors import InputError
from sweeper.logs import read_run

LOSS_LINE = "2023-02-18 17:28:03,219\t44k\tINFO\t[2.5, 2.2, 9.0, {mel}, 1.5, {step}, 0.0001]\n"


def write_log(folder, steps=(0, 200, 400)):
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(LOSS_LINE.format(mel=40.0 - s / 100, step=s) for s in steps)
    (folder / "train.log").write_text(text)
    return folder / "train.log"


def test_folder_prefers_tensorboard_and_fills_in_from_the_text_log(tmp_path, events):
    run_dir = tmp_path / "44k"
    write_log(run_dir)
    events(run_dir, [(0, {"loss/g/mel": 7.0, "loss/g/total": 9.0}), (200, {"loss/g/mel": 6.0})])
    events(run_dir / "eval", [(200, {"val/mel": 0.5})])
    for step in (0, 200, 400):
        (run_dir / f"G_{step}.pth").write_bytes(b"")
    (run_dir / "D_400.pth").write_bytes(b"")
    run = read_run(run_dir)
    assert run.series["loss/g/mel"].values.tolist() == [7.0, 6.0]  # TensorBoard wins
    assert run.series["val/mel"].values.tolist() == [0.5]  # from eval/
    assert run.series["loss/g/gen"].steps.tolist() == [0, 200, 400]  # only in train.log
    assert run.checkpoints == (0, 200, 400)
    assert any("from train.log only" in note and "loss/g/gen" in note for note in run.notes)
    # TensorBoard's own loss/g/total is used, so the text log's caveat about it is dropped.
    assert not any("loss/g/total is derived" in note for note in run.notes)


def test_folder_with_only_a_text_log(tmp_path):
    run_dir = tmp_path / "32k"
    write_log(run_dir)
    (run_dir / "G_200.pth").write_bytes(b"")
    run = read_run(run_dir)
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    assert run.checkpoints == (200,)


def test_restart_across_event_files_keeps_the_newer_file(tmp_path, events):
    first = [(s, {"m": 10.0}) for s in (0, 100, 200, 300)]
    events(tmp_path, first, name="events.out.tfevents.100.h.1.0")
    events(
        tmp_path, [(s, {"m": 5.0}) for s in (200, 300, 400)], name="events.out.tfevents.200.h.2.0"
    )
    run = read_run(tmp_path)  # resumed past the second step (at or before it: started over)
    assert run.series["m"].values.tolist() == [10.0, 10.0, 5.0, 5.0, 5.0]
    assert (run.restarts, run.overwritten) == (1, 2)


def test_event_file_is_recognised_by_content_whatever_its_name(tmp_path, events):
    path = events(tmp_path, [(0, {"m": 1.0})])
    renamed = path.rename(tmp_path / "copy.bin")
    assert read_run(renamed).series["m"].values.tolist() == [1.0]


def test_train_log_file_lists_checkpoints_beside_it(tmp_path):
    log = write_log(tmp_path)
    (tmp_path / "G_400.pth").write_bytes(b"")
    (tmp_path / "G_x.pth").write_bytes(b"")
    assert read_run(log).checkpoints == (400,)


def test_folder_with_neither_log_says_what_it_expected(tmp_path):
    with pytest.raises(InputError, match=r"holds neither a train\.log nor events\.out\.tfevents"):
        read_run(tmp_path)
    (tmp_path / "out.log").write_text("console capture\n")  # `train.py > out.log`
    with pytest.raises(InputError, match=r"pass the log file itself: .*out\.log"):
        read_run(tmp_path)


def test_folder_with_empty_event_files_and_no_log_raises(tmp_path, events):
    events(tmp_path, [])
    with pytest.raises(InputError, match="hold no scalars"):
        read_run(tmp_path)


def test_missing_path_names_it_and_the_fix(tmp_path):
    with pytest.raises(InputError, match=r"no such file or folder: .*missing; pass"):
        read_run(tmp_path / "missing")


def test_reading_logs_imports_no_torch_tensorboard_or_tensorflow():
    code = (
        "import sys, sweeper.logs; "
        "print(sorted(m for m in ('torch', 'tensorboard', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def write_fork_run(model_dir, events, checkpoints):
    """A so-vits-svc-fork layout: Lightning's version_0 folder, resumed once, G_<n>.pth above."""
    version = model_dir / "lightning_logs" / "version_0"
    first = [(s, {"loss/g/mel": 30.0 - s / 100}) for s in range(1, 301)]
    resumed = [(s, {"loss/g/mel": 20.0}) for s in range(251, 601)]
    events(version, first, name="events.out.tfevents.100.host.1.0")
    events(version, resumed, name="events.out.tfevents.200.host.2.0")
    (version / "hparams.yaml").write_text("{}\n")
    for n in checkpoints:
        (model_dir / f"G_{n}.pth").write_bytes(b"")


@pytest.mark.parametrize("where", ["44k", "44k/lightning_logs", "44k/lightning_logs/version_0"])
def test_a_so_vits_svc_fork_run_is_read_from_its_lightning_logs(tmp_path, events, where):
    write_fork_run(tmp_path / "44k", events, checkpoints=(0, 1, 2, 3))
    run = read_run(tmp_path / where)
    mel = run.series["loss/g/mel"]
    assert (mel.steps[0], mel.steps[-1], len(mel)) == (1, 600, 600)
    assert mel.values[260] == 20.0  # the resumed file wins where both logged
    assert run.restarts == 1
    # The fork numbers checkpoints by epoch: a step then names no file.
    assert run.checkpoints == (0, 1, 2, 3)
    assert run.checkpoint_unit == "epoch"
    assert any("so-vits-svc-fork" in note and "ckpt_name_by_step" in note for note in run.notes)


def test_a_fork_event_file_finds_the_checkpoints_of_its_model_folder(tmp_path, events):
    write_fork_run(tmp_path / "44k", events, checkpoints=(400, 600))
    newest = tmp_path / "44k" / "lightning_logs" / "version_0" / "events.out.tfevents.200.host.2.0"
    run = read_run(newest)
    assert run.checkpoints == (400, 600)
    assert run.checkpoint_unit == "step"  # ckpt_name_by_step: numbers reach the last step
    assert not any("so-vits-svc-fork" in note for note in run.notes)


def test_plain_so_vits_svc_checkpoints_count_steps(tmp_path):
    write_log(tmp_path / "44k")
    (tmp_path / "44k" / "G_1.pth").write_bytes(b"")
    assert read_run(tmp_path / "44k").checkpoint_unit == "step"


def test_the_folder_above_a_run_names_the_runs_inside_it(tmp_path):
    write_log(tmp_path / "logs" / "44k")
    (tmp_path / "logs" / "other").mkdir()
    with pytest.raises(InputError, match=r"pass one of the run folders inside it: .*logs/44k$"):
        read_run(tmp_path / "logs")


def test_an_event_file_saved_as_train_log_in_a_folder_is_read_as_events(tmp_path, events):
    path = events(tmp_path / "44k", [(0, {"loss/g/mel": 7.0}), (200, {"loss/g/mel": 6.0})])
    path.rename(tmp_path / "44k" / "train.log")
    assert read_run(tmp_path / "44k").series["loss/g/mel"].values.tolist() == [7.0, 6.0]


def test_a_train_log_from_another_run_than_the_events_is_flagged(tmp_path, events):
    write_log(tmp_path / "44k", steps=range(0, 20001, 200))
    events(tmp_path / "44k", [(s, {"loss/g/mel": 7.0}) for s in range(0, 4001, 200)])
    run = read_run(tmp_path / "44k")
    assert any(
        "train.log ends at step 20000 and the event files at step 4000" in n for n in run.notes
    )


def test_scalars_at_negative_steps_are_left_out_with_a_note(tmp_path, events):
    events(
        tmp_path,
        [(-1, {"loss/g/mel": 40.0}), (0, {"loss/g/mel": 30.0}), (200, {"loss/g/mel": 20.0})],
    )
    run = read_run(tmp_path)
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200]
    assert "1 scalar(s) logged at negative steps were left out" in run.notes


def _deny(monkeypatch, method, target):
    """Make Path.<method> raise EACCES for ``target`` as Python 3.11 does for an unreadable path.

    The tests run as root, who may read anything, so chmod cannot make a path unreadable:
    the PermissionError is emulated by patching the Path method instead.
    """
    original = getattr(Path, method)

    def denied(self, *args, **kwargs):
        if self == target or target in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, denied)


@pytest.mark.parametrize(
    ("method", "where"),
    [
        ("is_dir", "44k"),  # read_run's own stat of the path
        ("is_file", "44k/train.log"),  # a file inside a folder that cannot be entered
        ("iterdir", "44k"),  # a folder that can be stat'ed but not listed
        ("is_dir", "44k/lightning_logs"),  # a subfolder looked into while finding event files
    ],
)
def test_a_path_that_cannot_be_read_is_a_one_line_input_error(
    tmp_path, monkeypatch, method, where
):
    write_log(tmp_path / "44k")
    (tmp_path / "44k" / "lightning_logs").mkdir()
    _deny(monkeypatch, method, tmp_path / where)
    target = tmp_path / "44k" / "train.log" if method == "is_file" else tmp_path / "44k"
    with pytest.raises(InputError, match=r"cannot read .*: Permission denied; check") as info:
        read_run(target)
    assert "\n" not in str(info.value)


def test_a_dash_or_a_pipe_as_path_says_to_pass_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^cannot read '-' \(standard input\): .*pass the path"):
        read_run("-")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"is not a file or a folder \(a pipe.*pass the path"):
        read_run(fifo)


def test_a_folder_that_cannot_be_entered_is_named(tmp_path, monkeypatch):
    # Root enters any folder, so both the failing stat and os.access are emulated.
    write_log(tmp_path / "44k")
    shut = tmp_path / "44k"
    _deny(monkeypatch, "is_file", shut / "train.log")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != shut and real_access(p, mode))
    with pytest.raises(InputError, match=rf"Permission denied \(cannot enter {shut}\); check"):
        read_run(shut / "train.log")


def test_one_event_file_of_a_run_finds_its_checkpoints_and_names_its_sibling(tmp_path, events):
    # Before 2026-12-07: a file in eval/ looked for G_*.pth in eval/ (none are ever there),
    # and the main file alone said nothing of the val/mel beside it.
    run_dir = tmp_path / "44k"
    main = events(run_dir, [(200, {"loss/g/mel": 20.0})])
    held_out = events(run_dir / "eval", [(200, {"val/mel": 0.5})])
    for name in ("G_0.pth", "G_39200.pth"):
        (run_dir / name).write_bytes(b"")
    from_eval = read_run(held_out)
    assert from_eval.checkpoints == (0, 39200)
    assert any(f"{run_dir} holds the run's training losses" in n for n in from_eval.notes)
    alone = read_run(main)
    assert alone.checkpoints == (0, 39200)
    assert any(
        f"{run_dir / 'eval'} holds 1 event file(s)" in n and f"pass the folder {run_dir}" in n
        for n in alone.notes
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [('{"train": {"eval_interval": 800}}', 800), ('{"train": {}}', None), ("{not json", None)],
)
def test_the_config_json_beside_the_log_gives_the_checkpoint_interval(tmp_path, config, expected):
    (tmp_path / "train.log").write_text(
        "2026-01-01 00:00:00,000\t44k\tINFO\tLosses: [2.0, 2.5, 9.0, 20.0, 1.0], step: 5, "
        "lr: 0.0001, reference_loss: 34.5\n"
    )
    (tmp_path / "config.json").write_text(config)
    assert read_run(tmp_path).save_every == expected
    assert read_run(tmp_path / "train.log").save_every == expected


def test_a_shallow_diffusion_folder_is_never_suggested_as_the_run(tmp_path, events):
    # Before 2026-12-07: "pass one of the run folders inside it: .../diffusion", where
    # diagnose then found no so-vits signal.
    events(tmp_path / "44k" / "diffusion", [(100, {"train/loss": 0.2, "validation/loss": 0.3})])
    with pytest.raises(InputError) as err:
        read_run(tmp_path / "44k")
    message = str(err.value)
    assert "run folders inside it" not in message
    assert "diffusion holds shallow-diffusion logs, which diagnose does not judge" in message
