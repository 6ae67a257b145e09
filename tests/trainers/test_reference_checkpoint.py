"""Checkpoint files: unreadable pairs are skipped on resume, best/ is replaced atomically."""

from __future__ import annotations

import shutil

import pytest

from sweeper.errors import InputError
from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference.training import train


@pytest.fixture(scope="module")
def two_pairs(toy_dir, tmp_path_factory):
    """A micro run with G/D_2 and G/D_4 (and best/)."""
    from sweeper.trainers.reference.config import from_dict

    cfg = from_dict(
        {
            "preset": "micro",
            "train": {"log_interval": 2, "eval_interval": 2, "batch_size": 2, "keep_ckpts": 2},
        }
    )
    run = tmp_path_factory.mktemp("ckpt") / "run"
    train(cfg, toy_dir, run, max_steps=4)
    assert ckpt.list_steps(run) == [2, 4]
    return cfg, run


def _damage(path, how):
    data = path.read_bytes()
    path.write_bytes(b"" if how == "empty" else data[: len(data) // 2])


@pytest.mark.parametrize("name", ["G_4.pth", "D_4.pth"])
@pytest.mark.parametrize("how", ["empty", "half"])
def test_an_unreadable_newest_pair_falls_back_to_the_older_one(two_pairs, tmp_path, name, how):
    # Until 2026-12-06 this was "internal error: EOFError: Ran out of input" on every resume.
    _, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    _damage(run / name, how)
    resumed, notes = ckpt.latest(run)
    assert resumed is not None and resumed[0]["step"] == 2
    assert len(notes) == 1 and str(run / name) in notes[0] and "step 4 is skipped" in notes[0]


def test_the_resume_says_which_file_it_skipped_and_goes_on(two_pairs, tmp_path, toy_dir, capsys):
    cfg, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    _damage(run / "G_4.pth", "empty")
    capsys.readouterr()
    result = train(cfg, toy_dir, run, max_steps=5, notes_to_stderr=True)
    log = (run / "train.log").read_text()
    assert "resumed at step 2" in log and f"{run / 'G_4.pth'} cannot be read" in log
    assert f"{run / 'G_4.pth'} cannot be read" in capsys.readouterr().err
    assert result.step == 5 and ckpt.latest(run)[0][0]["step"] == 5
    assert ckpt.latest(run)[1] == []  # step 4 was saved again, readable


def test_no_readable_pair_is_one_line_naming_the_files(two_pairs, tmp_path):
    _, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    _damage(run / "G_4.pth", "empty")
    _damage(run / "D_2.pth", "half")
    with pytest.raises(InputError) as info:
        ckpt.latest(run)
    message = str(info.value)
    assert "\n" not in message and "fix:" in message
    assert str(run / "G_4.pth") in message and str(run / "D_2.pth") in message


def test_a_checkpoint_this_user_may_not_read_is_named_not_skipped(two_pairs, monkeypatch):
    """A permission error is not damage: skipping the pair would later overwrite it. (The
    tests run as root, who reads every file: torch.load is made to raise it.)"""
    _, run = two_pairs

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(ckpt.torch, "load", refuse)
    with pytest.raises(InputError, match=r"cannot read '.*G_4\.pth': Permission denied; fix:"):
        ckpt.latest(run)


def test_pruning_never_deletes_a_readable_pair_for_a_skipped_newer_one(two_pairs, tmp_path):
    # keep_ckpts 1, resumed from 2 past an unreadable 4 (left in place): saving 3 keeps 3.
    _, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    (g, d), _ = ckpt.latest(run)
    ckpt.save_pair(run, 3, g, d, keep=1)
    assert ckpt.list_steps(run) == [3, 4]


def test_save_best_never_leaves_half_a_pair(two_pairs, tmp_path, monkeypatch):
    _, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    ckpt.save_best(run, 2)
    copies = []

    def copy_then_stop(a, b):
        if copies:  # the D copy: stop as a Ctrl-C would
            raise KeyboardInterrupt
        copies.append(b)
        shutil.copyfile(a, b)

    monkeypatch.setattr(ckpt, "_link_or_copy", copy_then_stop)  # (a link where it can)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_best(run, 4)
    monkeypatch.undo()
    assert sorted(p.name for p in (run / "best").iterdir()) == ["D_2.pth", "G_2.pth"]
    ckpt.save_best(run, 4)  # the next save clears what the stop left
    assert sorted(p.name for p in (run / "best").iterdir()) == ["D_4.pth", "G_4.pth"]
    assert not (run / ".best.tmp").exists() and not (run / ".best.old").exists()


def _scalar_steps(run, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return [e.step for e in acc.Scalars(tag)]


def test_a_stop_right_after_a_checkpoint_keeps_that_steps_metrics(
    two_pairs, toy_dir, tmp_path, monkeypatch
):
    # Until 2026-12-06 the scalars were written after the save: a stop in between lost the
    # step's val/* for good (the resume starts after the checkpoint).
    cfg, _ = two_pairs
    real_save, run = ckpt.save_pair, tmp_path / "run"

    def save_then_stop(run_dir, step, *args, **kwargs):
        path = real_save(run_dir, step, *args, **kwargs)
        if step == 4:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(ckpt, "save_pair", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, toy_dir, run, max_steps=4)
    assert ckpt.list_steps(run) == [2, 4]
    assert _scalar_steps(run, "val/mel") == [0, 2, 4]
    assert 4 in _scalar_steps(run, "loss/g/mel")


def test_steps_replayed_after_a_resume_show_once_in_tensorboard(two_pairs, toy_dir, tmp_path):
    # Until 2026-12-06 the replayed steps were in TensorBoard twice (one per event file).
    cfg, src = two_pairs
    run = tmp_path / "run"
    shutil.copytree(src, run)
    for prefix in ("G", "D"):  # as if the run was killed after writing step 4's scalars
        (run / f"{prefix}_4.pth").unlink()
    train(cfg, toy_dir, run, max_steps=4)
    assert _scalar_steps(run, "loss/g/mel") == [2, 4]
    assert _scalar_steps(run, "val/mel") == [0, 2, 4]
