"""The training loop: learning, reporting, TensorBoard tags, checkpoints and exact resume."""

from __future__ import annotations

import dataclasses
import math
import pickle
import shutil

import pytest
import torch

from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference.config import from_dict
from sweeper.trainers.reference.training import train

SOVITS_TAGS = {
    "loss/g/total",
    "loss/g/mel",
    "loss/d/total",
    "loss/g/kl",
    "loss/g/fm",
    "loss/g/lf0",
    "learning_rate",
    "grad_norm_g",
    "grad_norm_d",
}


class Recorder:
    """A picklable report() that keeps every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, step, metrics, checkpoint_dir=None):
        self.calls.append((step, dict(metrics), checkpoint_dir))


def _tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return acc, set(acc.Tags()["scalars"])


def test_overfit_one_batch_mel_falls(toy_dir, tmp_path):
    # One training clip and batch 1: the same batch every step. 60 steps at lr 2e-3.
    (toy_dir / "filelists" / "one.txt").write_text(
        (toy_dir / "filelists" / "train.txt").read_text().splitlines()[0] + "\n"
    )
    cfg = from_dict(
        {
            "preset": "micro",
            "data": {"training_files": "filelists/one.txt"},
            "train": {
                "batch_size": 1,
                "learning_rate": 2e-3,
                "log_interval": 1,
                "eval_interval": 1000,
                "segment_size": 6400,
            },
        }
    )
    result = train(cfg, toy_dir, tmp_path / "run", max_steps=60)
    mel = [m["loss/g/mel"] for s, m in result.history if "loss/g/mel" in m]
    assert len(mel) == 60 and all(math.isfinite(v) for v in mel)
    first, last = sum(mel[:5]) / 5, sum(mel[-5:]) / 5
    assert last < 0.75 * first, (first, last)  # falls by at least 25 %


def test_report_tensorboard_and_checkpoints(toy_dir, tmp_path, micro_cfg):
    rec = Recorder()
    run = tmp_path / "run"
    result = train(micro_cfg, toy_dir, run, report=rec, max_steps=12)
    steps = [s for s, _, _ in rec.calls]
    assert steps == sorted(set(steps)) and steps[0] == 0  # one call per step, increasing
    assert steps == [0, 2, 4, 6, 8, 10, 12]
    val_calls = [(s, m, d) for s, m, d in rec.calls if "val/mel" in m]
    assert [s for s, _, _ in val_calls] == [0, 4, 8, 12]
    assert all(d == str(run) for s, _, d in val_calls if s > 0)
    for _, m, _ in val_calls:
        assert m["val/mel"] == pytest.approx(m["val/mel_l1"] * micro_cfg.train.c_mel)
        assert 0.0 <= m["val/vuv_error"] <= 1.0
    assert "train/mel" in val_calls[-1][1]
    assert set(rec.calls[1][1]) >= SOVITS_TAGS
    acc, tags = _tags(run)
    assert SOVITS_TAGS | {"val/mel", "val/f0_rmse_cents", "val/vuv_error"} <= tags
    assert [e.step for e in acc.Scalars("val/mel")] == [0, 4, 8, 12]
    # keep_ckpts=2: the two newest pairs remain; the best pair sits in best/.
    assert ckpt.list_steps(run) == [8, 12]
    best = sorted(p.name for p in (run / "best").iterdir())
    assert best == [f"D_{result.best_step}.pth", f"G_{result.best_step}.pth"]
    g = torch.load(run / "G_12.pth", weights_only=False)
    assert {"model", "iteration", "optimizer", "learning_rate"} <= set(g)
    log = (run / "train.log").read_text()
    assert "Losses: [" in log and "reference_loss" in log and "Saving model" in log
    pickle.dumps(rec)


def test_resume_gives_the_same_next_losses(toy_dir, tmp_path, micro_cfg):
    cfg = dataclasses.replace(
        micro_cfg,
        train=dataclasses.replace(micro_cfg.train, log_interval=1, eval_interval=3, keep_ckpts=0),
    )
    full, part = Recorder(), Recorder()
    train(cfg, toy_dir, tmp_path / "full", report=full, max_steps=7)
    train(cfg, toy_dir, tmp_path / "part", max_steps=4)  # checkpoint at 3 and 4
    for step in (4,):  # drop the final checkpoint to resume from step 3, mid-epoch
        for prefix in ("G", "D"):
            (tmp_path / "part" / f"{prefix}_{step}.pth").unlink()
    train(cfg, toy_dir, tmp_path / "part", report=part, max_steps=7)
    want = {s: m for s, m, _ in full.calls if s > 3}
    got = {s: m for s, m, _ in part.calls}
    assert sorted(got) == [4, 5, 6, 7]
    for s in got:
        for tag in ("loss/g/total", "loss/g/mel", "loss/d/total", "loss/g/kl", "learning_rate"):
            assert got[s][tag] == want[s][tag], (s, tag)


def test_lr_decays_per_epoch_by_default_and_per_step_as_option(toy_dir, tmp_path, micro_cfg):
    # 4 train clips, batch 2: two steps per epoch.
    base = dataclasses.replace(micro_cfg.train, log_interval=1, eval_interval=100, lr_decay=0.5)
    per_epoch = dataclasses.replace(micro_cfg, train=base)
    per_step = dataclasses.replace(
        micro_cfg, train=dataclasses.replace(base, lr_decay_unit="step")
    )
    lrs = {}
    for name, cfg in (("epoch", per_epoch), ("step", per_step)):
        r = train(cfg, toy_dir, tmp_path / name, max_steps=5)
        lrs[name] = [m["learning_rate"] for s, m in r.history if "learning_rate" in m]
    lr0 = micro_cfg.train.learning_rate
    assert lrs["epoch"] == pytest.approx([lr0, lr0, lr0 / 2, lr0 / 2, lr0 / 4])
    assert lrs["step"] == pytest.approx([lr0 / 2**k for k in range(5)])


def test_mel_only_mode_has_no_discriminator_tags(toy_dir, tmp_path, micro_cfg):
    cfg = dataclasses.replace(micro_cfg, train=dataclasses.replace(micro_cfg.train, use_gan=False))
    r = train(cfg, toy_dir, tmp_path / "run", max_steps=2)
    logged = r.history[-1][1]
    assert "loss/g/mel" in logged and "loss/d/total" not in logged


def test_a_foreign_checkpoint_is_refused(toy_dir, tmp_path, micro_cfg):
    from sweeper.errors import InputError

    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": {}, "iteration": 1}, run / "G_5.pth")
    torch.save({"model": {}, "iteration": 1}, run / "D_5.pth")
    with pytest.raises(InputError, match="fresh --out"):
        train(micro_cfg, toy_dir, run, max_steps=6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="autocast fp16/bf16 needs CUDA")
@pytest.mark.parametrize("half", ["fp16", "bf16"])
def test_cuda_autocast_runs(toy_dir, tmp_path, micro_cfg, half):
    cfg = dataclasses.replace(
        micro_cfg, train=dataclasses.replace(micro_cfg.train, fp16_run=True, half_type=half)
    )
    r = train(cfg, toy_dir, tmp_path / half, max_steps=4, device="cuda")
    assert all(
        math.isfinite(v)
        for _, m in r.history
        for v in m.values()
        if not isinstance(v, str) and not math.isnan(v)
    )


def test_clips_shorter_than_a_segment_are_padded_and_train(tmp_path, micro_cfg):
    # so-vits-svc pads such clips; until 2026-12-06 the frame mask and the padded spectrogram
    # disagreed here ("size of tensor a (20) must match ... (5)").
    from sweeper.data.toy import ToySpec, write_toy_dataset

    seconds = 0.6 * micro_cfg.train.segment_size / micro_cfg.data.sampling_rate
    spec = ToySpec(
        n_speakers=2, clips_per_speaker=2, val_per_speaker=1, seconds=seconds, max_harmonics=10
    )
    write_toy_dataset(tmp_path / "short", spec)
    r = train(micro_cfg, tmp_path / "short", tmp_path / "run", max_steps=2)
    assert r.history and all(math.isfinite(v) for v in r.history[-1][1].values())


def _resume_cfg(micro_cfg, **train):
    return dataclasses.replace(
        micro_cfg, train=dataclasses.replace(micro_cfg.train, eval_interval=2, **train)
    )


def test_resume_on_other_validation_clips_says_so_and_restarts_the_best(
    toy_dir, tmp_path, micro_cfg, capsys
):
    # Until 2026-12-06 the best val/mel of the old clips stayed the bar, in silence.
    data = tmp_path / "data"
    shutil.copytree(toy_dir, data)
    cfg = _resume_cfg(micro_cfg)
    first = train(cfg, data, tmp_path / "run", max_steps=2)
    assert first.best_step is not None and first.best_step <= 2
    val = data / "filelists" / "val.txt"
    val.write_text("".join(val.read_text().splitlines(keepends=True)[:-1]))
    second = train(cfg, data, tmp_path / "run", max_steps=4, progress=True)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "resumed on other data than the checkpoint's: 1 validation clips (checkpoint: 2)" in log
    assert "best checkpoint restarts" in capsys.readouterr().err
    assert second.best_step is not None and second.best_step > 2
    assert sorted(p.name for p in (tmp_path / "run" / "best").iterdir())[0].endswith(
        f"_{second.best_step}.pth"
    )


def test_resume_where_speakers_get_other_ids_names_them(toy_copy, tmp_path, micro_cfg, capsys):
    """Without spk in the config the ids follow the sorted folder names: a resume on data
    with another speaker set renumbered them, and each trained embedding learnt another
    voice, with only "resumed on other data" said (a probe, 2026-12-07)."""
    cfg = _resume_cfg(micro_cfg)
    train(cfg, toy_copy, tmp_path / "run", max_steps=2)
    folder = next(toy_copy.rglob("spk0"))
    folder.rename(folder.with_name("zed"))  # spk0 -> zed: spk1 now sorts first
    for name in ("train.txt", "val.txt"):
        filelist = toy_copy / "filelists" / name
        filelist.write_text(filelist.read_text().replace("/spk0/", "/zed/"))
    capsys.readouterr()
    train(cfg, toy_copy, tmp_path / "run", max_steps=3, progress=True)
    expected = (
        "speaker ids differ from the checkpoint's: 'spk1' 1 -> 0, 'zed' takes 1 (was 'spk1'); "
        "each id's trained embedding now learns another voice; fix: resume with the "
        "checkpoint's map in the config, spk: {spk0: 0, spk1: 1}"
    )
    assert expected in capsys.readouterr().err
    assert expected in (tmp_path / "run" / "train.log").read_text()


def test_resume_on_the_same_data_moved_elsewhere_is_quiet(toy_dir, tmp_path, micro_cfg):
    cfg = _resume_cfg(micro_cfg)
    shutil.copytree(toy_dir, tmp_path / "a")
    first = train(cfg, tmp_path / "a", tmp_path / "run", max_steps=2)
    shutil.move(tmp_path / "a", tmp_path / "b")
    second = train(cfg, tmp_path / "b", tmp_path / "run", max_steps=4)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "resumed at step 2" in log and "differs" not in log and "other data" not in log
    assert first.best_step == 2 and second.best_step in (2, 4)


def test_resume_with_a_new_learning_rate_says_the_checkpoint_schedule_goes_on(
    toy_dir, tmp_path, micro_cfg
):
    lr0 = micro_cfg.train.learning_rate
    train(_resume_cfg(micro_cfg, log_interval=1), toy_dir, tmp_path / "run", max_steps=2)
    faster = _resume_cfg(micro_cfg, log_interval=1, learning_rate=lr0 * 10, batch_size=1)
    r = train(faster, toy_dir, tmp_path / "run", max_steps=3)
    log = (tmp_path / "run" / "train.log").read_text()
    note = next(line for line in log.splitlines() if "differs from the checkpoint's" in line)
    assert f"train.learning_rate {lr0 * 10!r} (checkpoint: {lr0!r})" in note
    assert "train.batch_size 1 (checkpoint: 2)" in note
    assert "train.learning_rate takes effect only in a fresh run" in note
    # Still epoch 1 of the checkpoint's schedule (batch 3 of 4 at the new batch size): lr0.
    assert r.history[-1][0] == 3 and r.history[-1][1]["learning_rate"] == pytest.approx(lr0)


def test_validation_clips_that_are_training_clips_are_named(toy_dir, tmp_path, micro_cfg, capsys):
    # Until 2026-12-06 nothing said so, and val/mel silently tracked the training fit.
    data = tmp_path / "data"
    shutil.copytree(toy_dir, data)
    lists = data / "filelists"
    first = (lists / "train.txt").read_text().splitlines()[0]
    (lists / "val.txt").write_text(first + "\n")
    train(micro_cfg, data, tmp_path / "run", max_steps=0, notes_to_stderr=True)
    note = "1 of 1 validation clip(s) are also training clips"
    log = (tmp_path / "run" / "train.log").read_text()
    assert note in log and "val/mel will not show overfitting" in log
    assert note in capsys.readouterr().err


def test_settings_that_do_less_than_they_seem_are_named(toy_dir, tmp_path, micro_cfg):
    # Until 2026-12-06 fp16 on CPU, a segment longer than every clip and silent clips
    # passed without a word.
    from scipy.io import wavfile

    data = tmp_path / "data"
    shutil.copytree(toy_dir, data)
    wav = data / (data / "filelists" / "train.txt").read_text().splitlines()[0]
    rate, audio = wavfile.read(wav)
    wavfile.write(wav, rate, audio * 0)
    seg = 2 * micro_cfg.data.sampling_rate  # 2 s; the toy clips are 1 s
    cfg = dataclasses.replace(
        micro_cfg, train=dataclasses.replace(micro_cfg.train, fp16_run=True, segment_size=seg)
    )
    train(cfg, data, tmp_path / "run", max_steps=0, device="cpu")
    log = (tmp_path / "run" / "train.log").read_text()
    assert "train.fp16_run=True is ignored on cpu" in log
    assert f"4 of 4 training clip(s) are shorter than train.segment_size={seg}" in log
    assert f"1 clip(s) are silent ({wav.name}" in log.replace(str(wav.parent) + "/", "")
