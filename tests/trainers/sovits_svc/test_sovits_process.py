"""run(spec, report) against a STAND-IN train.py (the real one needs CUDA).

The stand-in (standin_sovits_train.py) writes so-vits-svc's files in the 4.1 formats; these
tests check what the sweeper does with them: every logged step reported in order, held-out
metrics from the checkout's own (stand-in) modules, the best checkpoint kept, the whole
process group gone after a prune, and a restart resuming from the latest G/D pair.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeper.errors import InputError, SweeperError
from sweeper.trainers.sovits_svc import run


class Recorder:
    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[tuple[int, dict[str, float], str | None]] = []
        self.stop_at = stop_at

    def __call__(self, step, metrics, checkpoint_dir=None):
        self.calls.append((step, dict(metrics), checkpoint_dir))
        if self.stop_at is not None and step >= self.stop_at:
            raise KeyboardInterrupt("pruned")  # what a stop from the sweep looks like here

    @property
    def steps(self) -> list[int]:
        return [c[0] for c in self.calls]


def _pids(run_dir: str) -> list[int]:
    path = Path(run_dir) / "logs" / "44k" / "pids"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def test_full_trial_reports_every_step_with_held_out_metrics(trial):
    spec = trial(params={"train.learning_rate": 2e-4}, evaluate=True)
    rec = Recorder()
    run(spec, rec)
    # log_interval 5; eval_points 2 over 40 steps -> a checkpoint every 20 steps.
    assert rec.steps == list(range(0, 45, 5))
    by_step = {s: m for s, m, _ in rec.calls}
    for step in (0, 20, 40):
        assert {"val/mel", "val/f0_rmse_cents", "val/vuv_error"} <= set(by_step[step])
    assert "val/mel" not in by_step[5]
    # The stand-in matches the val data best at step 20 (STANDIN_BEST_STEP).
    assert by_step[20]["val/mel"] < by_step[40]["val/mel"] < by_step[0]["val/mel"]
    assert by_step[20]["val/f0_rmse_cents"] < 50
    # TensorBoard-only tags joined the text log's losses.
    assert {"loss/g/total", "loss/g/lf0", "loss/g/mel"} <= set(by_step[10])
    checkpoints = {s: c for s, _, c in rec.calls if c is not None}
    assert sorted(checkpoints) == [20, 40]
    last = Path(checkpoints[40])
    assert sorted(p.name for p in (last / "logs" / "44k").iterdir()) == ["D_40.pth", "G_40.pth"]
    assert [p.name for p in (last / "best").iterdir()] == ["G_20.pth"]  # out of train.py's way
    # The model dir keeps the base model and the last pair reported; the best is in best/.
    model_dir = Path(spec.run_dir) / "logs" / "44k"
    assert sorted(p.name for p in model_dir.glob("?_*.pth")) == [
        "D_0.pth", "D_40.pth", "G_0.pth", "G_40.pth"
    ]
    assert [p.name for p in (Path(spec.run_dir) / "best").iterdir()] == ["G_20.pth"]
    state = json.loads((Path(checkpoints[40]) / "sovits_state.json").read_text())
    assert state["best_step"] == 20
    config = json.loads((Path(spec.run_dir) / "config.json").read_text())
    assert config["train"]["learning_rate"] == 2e-4
    assert config["train"]["port"] != "8001" and config["train"]["keep_ckpts"] == 0
    assert not any(_alive(p) for p in _pids(spec.run_dir))


def test_prune_kills_the_whole_group_even_a_worker_ignoring_sigterm(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_IGNORE_TERM", "1")
    spec = trial(evaluate=False, stop_grace_s=0.5)
    rec = Recorder(stop_at=10)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(spec, rec)
    pids = _pids(spec.run_dir)
    assert pids and not any(_alive(p) for p in pids)
    assert time.monotonic() - started < 30


def test_restart_resumes_from_the_latest_pair(trial):
    first = trial("first", evaluate=False, eval_points=4)  # a checkpoint every 10 steps
    rec = Recorder(stop_at=20)
    with pytest.raises(KeyboardInterrupt):
        run(first, rec)
    saved = rec.calls[-1][2]
    assert rec.steps[-1] == 20 and saved is not None
    # What the tune layer does on a restart: the reported folder becomes the trial folder.
    second = trial("second", evaluate=False, eval_points=4)
    shutil.copytree(saved, second.run_dir)
    rec2 = Recorder()
    run(second, rec2)
    assert rec2.steps == [25, 30, 35, 40]
    log = (Path(second.run_dir) / "logs" / "44k" / "train.log").read_text()
    assert "Loaded checkpoint" in log and "G_20.pth" in log
    # A restart stopped before its first checkpoint keeps the pair it resumed from.
    third = trial("third", evaluate=False, eval_points=4)
    shutil.copytree(saved, third.run_dir)
    with pytest.raises(KeyboardInterrupt):
        run(third, Recorder(stop_at=0))
    assert (Path(third.run_dir) / "logs" / "44k" / "G_20.pth").is_file()


def _running(run_dir: str, script: str = "evaluate.py") -> list[int]:
    """Pids whose command line runs ``script`` on a file of ``run_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = run_dir.encode() in b" ".join(argv)
        if ours and any(a.endswith(script.encode()) for a in argv) and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_a_trial_process_killed_outright_takes_its_group_down(trial, tmp_path, monkeypatch):
    """Ray killing the trial's actor (SIGKILL: no finally runs) takes train.py's group and a
    running evaluation with it (the evaluator ran on, holding its GPU memory, before)."""
    monkeypatch.setenv("STANDIN_EVAL_S", "120")  # an evaluation still running at the kill
    spec = trial(stop_grace_s=0.5, max_steps=100000)
    script = tmp_path / "trial.py"
    script.write_text(
        "import pickle, sys\n"
        "from sweeper.trainers.sovits_svc import run\n"
        "spec = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
        "run(spec, lambda *a, **k: None)\n"
    )
    import pickle

    proc = subprocess.Popen([sys.executable, str(script), pickle.dumps(spec).hex()])
    deadline = time.monotonic() + 60
    while not (_pids(spec.run_dir) and _running(spec.run_dir)):
        assert time.monotonic() < deadline, "the stand-in or its evaluation never started"
        time.sleep(0.2)
    pids = _pids(spec.run_dir) + _running(spec.run_dir)
    proc.send_signal(signal.SIGKILL)  # Ray killing the trial's actor: no finally runs
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def test_port_in_use_is_a_clear_error(trial, monkeypatch):
    import contextlib
    import socket

    from sweeper.trainers.sovits_svc import _run

    holder = socket.socket()
    holder.bind(("", 0))
    holder.listen()
    port = holder.getsockname()[1]
    monkeypatch.setattr(_run, "claim_port", lambda: contextlib.nullcontext(port))
    with holder, pytest.raises(InputError, match=rf"port {port} \(port in use\)"):
        run(trial(evaluate=False), Recorder())


def test_no_gpu_and_no_train_py_are_clear_errors(trial, checkout):
    spec = trial(evaluate=False)
    from dataclasses import replace

    with pytest.raises(InputError, match="needs CUDA; use `trainer: reference` on CPU"):
        run(replace(spec, gpu_ids=()), Recorder())
    os.remove(checkout / "train.py")
    with pytest.raises(InputError, match=r"no train\.py in"):
        run(spec, Recorder())


def test_missing_dataset_file_is_a_clear_error(trial, checkout):
    (checkout / "dataset" / "44k" / "singer" / "b.wav").unlink()
    with pytest.raises(InputError, match=r"dataset file missing: 1 of 2 wavs .*b\.wav"):
        run(trial(evaluate=False), Recorder())
    (checkout / "filelists" / "val.txt").unlink()
    with pytest.raises(InputError, match=r"dataset file missing: sovits.val_list"):
        run(trial(evaluate=False), Recorder())


def test_unknown_sampled_key_is_a_clear_error(trial):
    with pytest.raises(InputError, match=r"did you mean train\.learning_rate"):
        run(trial(params={"train.learning_rat": 1e-4}), Recorder())


def test_a_train_py_that_hangs_silently_is_stopped_after_stall_s(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_HANG", "1")  # no line, no checkpoint: a hung rendezvous
    spec = trial(stall_s=2.0)
    with pytest.raises(SweeperError, match="logged nothing and saved no checkpoint for 2 s"):
        run(spec, Recorder())
    assert not _running(spec.run_dir, "train.py")  # its process group was stopped
