"""The run folder: one trainer at a time, and a full disk, a read-only folder or a file as
``--out`` in one line naming the path (they were "internal error: OSError ...")."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sweeper.errors import InputError
from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference import runinfo
from sweeper.trainers.reference.training import train


def test_a_second_run_on_the_same_out_is_refused_naming_the_first(toy_dir, tmp_path, micro_cfg):
    # Two runs on one --out interleaved train.log and resumed from each other's pairs.
    from sweeper.trainers.reference.rundir import RunLock

    out = tmp_path / "run"
    out.mkdir()
    first = RunLock(out).acquire()  # another open file: conflicts as another process would
    try:
        with pytest.raises(InputError, match=rf"being trained by .*pid {os.getpid()} on"):
            train(micro_cfg, toy_dir, out, max_steps=1)
        assert not (out / "train.log").exists()  # refused before anything was written
    finally:
        first.release()
    # Released (as the kernel releases it when a process dies): the next run goes ahead.
    assert train(micro_cfg, toy_dir, out, max_steps=1).step == 1
    assert train(micro_cfg, toy_dir, out, max_steps=2).step == 2  # and its own lock is gone


def test_out_naming_a_file_is_refused_in_one_line(toy_dir, tmp_path, micro_cfg):
    afile = tmp_path / "afile"
    afile.write_text("notes\n")
    with pytest.raises(InputError, match=r"afile' is a file; fix: --out must be a folder"):
        train(micro_cfg, toy_dir, afile, max_steps=1)
    with pytest.raises(InputError, match=r"a file stands on its path"):
        train(micro_cfg, toy_dir, afile / "run", max_steps=1)
    assert afile.read_text() == "notes\n"


def test_a_full_disk_is_named_and_the_last_pair_is_kept(toy_dir, tmp_path, micro_cfg, monkeypatch):
    out = tmp_path / "run"
    train(micro_cfg, toy_dir, out, max_steps=4)  # eval_interval 4: G_4/D_4 and best/
    real = ckpt.torch.save

    def full_at_step_8(state, fh):
        if "_8.pth" in fh.name:
            fh.write(b"PK\x03\x04 half")  # the part that fitted, then the write fails
            raise OSError(errno.ENOSPC, "No space left on device")
        real(state, fh)

    monkeypatch.setattr(ckpt.torch, "save", full_at_step_8)
    with pytest.raises(InputError) as info:
        train(micro_cfg, toy_dir, out, max_steps=8)
    message = str(info.value)
    assert "no space left to write" in message and ".G_8.pth.tmp" in message
    assert "fix: free space" in message and "\n" not in message
    # The cut file is gone (its space back), the last complete pair stays.
    assert ckpt.list_steps(out) == [4] and not list(out.glob(".*.tmp"))
    monkeypatch.undo()
    assert train(micro_cfg, toy_dir, out, max_steps=8).step == 8  # resumes from step 4


def test_a_read_only_out_is_named_with_the_fix(toy_dir, tmp_path, micro_cfg, monkeypatch):
    # A read-only mount (root ignores chmod, so the OS answer is stood in for).
    def read_only(self, message):
        raise OSError(errno.EROFS, "Read-only file system", str(self.path))

    monkeypatch.setattr(runinfo.TextLog, "info", read_only)
    with pytest.raises(InputError, match=r"cannot write .*train\.log' \(Read-only file system\)"
                       r"; fix: a --out folder this user can write to"):  # fmt: skip
        train(micro_cfg, toy_dir, tmp_path / "run", max_steps=1)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_torch_save_to_a_file_object_reports_a_full_disk_as_oserror():
    # Why checkpoint._save hands torch a file: to a path name torch raises RuntimeError
    # ("unexpected pos"), which cannot be told from a bug.
    import torch

    with pytest.raises(OSError) as info, open("/dev/full", "wb") as fh:
        torch.save({"w": torch.zeros(100_000)}, fh)
    assert info.value.errno == errno.ENOSPC


def test_best_is_a_hard_link_to_its_pair_not_a_second_copy(toy_dir, tmp_path, micro_cfg):
    out = tmp_path / "run"
    result = train(micro_cfg, toy_dir, out, max_steps=4)
    step = result.best_step
    for prefix in ("G", "D"):
        kept, best = out / f"{prefix}_{step}.pth", out / "best" / f"{prefix}_{step}.pth"
        assert os.stat(kept).st_ino == os.stat(best).st_ino
    # keep_ckpts prunes the run's name only: the best pair stays whole.
    train(micro_cfg, toy_dir, out, max_steps=12)  # keep_ckpts 2: G_4 goes
    if not (out / "best" / "G_4.pth").exists():  # a later step was better
        return
    assert not (out / "G_4.pth").exists()
    assert ckpt._load(out / "best" / "G_4.pth") is not None


def test_a_full_disk_outside_out_does_not_point_at_out(tmp_path):
    # A cache under ~/.cache filling up got "... or a --out on a disk with room".
    from sweeper.trainers.reference import rundir

    with pytest.raises(InputError) as info, rundir.write_errors(tmp_path / "run"):
        raise OSError(errno.ENOSPC, "No space left on device", "/home/u/.cache/x.bin")
    message = str(info.value)
    assert "'/home/u/.cache/x.bin'" in message and "--out" not in message
    assert message.endswith("fix: free space on that disk and rerun")


def test_without_fcntl_a_run_goes_unguarded(tmp_path, monkeypatch):
    # Windows has no fcntl: importing the reference trainer failed there.
    import sys

    from sweeper.trainers.reference import rundir

    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl raises ImportError
    (tmp_path / "run").mkdir()
    lock = rundir.RunLock(tmp_path / "run").acquire()
    lock.release()
