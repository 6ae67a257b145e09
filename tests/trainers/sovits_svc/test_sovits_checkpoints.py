"""Checkpoints of a so-vits-svc trial against a STAND-IN train.py (the real one needs CUDA):
the best kept where train.py cannot overwrite it, pairs taken only when whole and never
pruned before they are reported, evaluation that cannot fall ever further behind, and the
one-line errors of a train.py that dies, quits or deletes checkpoints itself."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from test_sovits_process import Recorder

from sweeper.errors import InputError, SweeperError
from sweeper.trainers.sovits_svc import run


def _amplitude(path: Path) -> float:
    return float(torch.load(path, map_location="cpu")["model"]["amplitude"])


def _logged_steps(run_dir: str) -> list[int]:
    log = (Path(run_dir) / "logs" / "44k" / "train.log").read_text()
    return [int(ln.split("step: ")[1].split(",")[0]) for ln in log.splitlines() if "step: " in ln]


def test_a_40_restart_saving_the_best_step_again_leaves_the_kept_best_alone(trial, monkeypatch):
    """so-vits-svc 4.0 resumes at the start of the saved epoch and saves its checkpoints
    again, retrained (other weights); the best G of the first run must survive that."""
    first = trial("first", eval_points=2, max_steps=40)  # pairs at 0, 20, 40: none skipped
    stopped = Recorder(stop_at=20)
    with pytest.raises(KeyboardInterrupt):
        run(first, stopped)  # step 20 is the best and the resume point
    saved = Path(stopped.calls[-1][2])
    assert json.loads((saved / "sovits_state.json").read_text())["best_step"] == 20
    assert _amplitude(saved / "best" / "G_20.pth") == pytest.approx(0.3)

    monkeypatch.setenv("STANDIN_RESUME_40", "1")
    second = trial("second", eval_points=2, max_steps=40)
    shutil.copytree(saved, second.run_dir)  # what the tune layer does on a restart
    rec = Recorder()
    run(second, rec)
    assert "Loaded checkpoint" in (Path(second.run_dir) / "logs/44k/train.log").read_text()
    assert 20 in _logged_steps(second.run_dir)[1:]  # step 20 trained and saved again
    last = Path([c for _, _, c in rec.calls if c is not None][-1])
    assert json.loads((last / "sovits_state.json").read_text())["best_step"] == 20
    assert _amplitude(last / "best" / "G_20.pth") == pytest.approx(0.3)  # was 0.5: retrained


def test_evaluation_slower_than_checkpoints_stays_bounded(trial, monkeypatch):
    """A checkpoint every 0.05 s, an evaluation of >= 1 s: at most WAITING pairs wait, the
    older ones go out without val/*, the budget's last pair is evaluated, train.py stops
    once that pair is in, and the model dir keeps only the last pair reported."""
    monkeypatch.setenv("STANDIN_STEP_S", "0.005")
    monkeypatch.setenv("STANDIN_EVAL_S", "1.0")
    spec = trial(eval_points=10, max_steps=100)  # a pair every 10 steps
    rec = Recorder()
    with pytest.warns(UserWarning, match="checkpoints come faster than they are evaluated"):
        run(spec, rec)
    by_step = {s: (m, c) for s, m, c in rec.calls}
    assert rec.steps == list(range(0, 105, 5))
    unevaluated = [s for s in range(10, 100, 10) if "val/mel" not in by_step[s][0]]
    assert unevaluated and by_step[unevaluated[0]][1] is not None  # still a checkpoint
    assert "val/mel" in by_step[100][0] and "val/mel" in by_step[0][0]
    state = json.loads((Path(spec.run_dir) / "sovits_state.json").read_text())
    assert state["skipped"] == unevaluated
    assert not set(state["skipped"]) & set(state["evaluated"])  # both, before 2026-12-07
    # The warning is in train.log, where the user reads (only in Ray's worker-*.err before).
    log = (Path(spec.run_dir) / "logs" / "44k" / "train.log").read_text()
    assert "\tWARNING\tsweeper: " in log and "checkpoints come faster than they are" in log
    # Before: train.py trained on until every queued pair was evaluated (11 evaluations of
    # >= 1 s: step 2000 and more); now it is stopped once the pair of step 100 is complete
    # (a poll or two later: steps 105-200, more on a loaded machine).
    assert max(_logged_steps(spec.run_dir)) < 1500
    model_dir = Path(spec.run_dir) / "logs" / "44k"
    assert sorted(p.name for p in model_dir.glob("G_*.pth")) == ["G_0.pth", "G_100.pth"]


def test_pairs_found_together_are_all_reported_before_any_is_pruned(trial, monkeypatch):
    """evaluate: false, several pairs per poll (or train.py ended between polls): the
    older pair was pruned by the newer one's judgement before it was staged."""
    monkeypatch.setenv("STANDIN_STEP_S", "0.005")
    spec = trial(evaluate=False, eval_points=8, max_steps=80, poll_s=0.5)
    rec = Recorder()
    run(spec, rec)
    checkpoints = [(s, c) for s, _, c in rec.calls if c is not None]
    assert [s for s, _ in checkpoints] == list(range(10, 90, 10))


def test_a_checkpoint_is_taken_only_once_written_whole(trial, monkeypatch):
    """Each D stalls halfway through its write for longer than two polls: sizes holding
    still is not enough (a truncated D went out as the checkpoint before)."""
    monkeypatch.setenv("STANDIN_SAVE_STALL_S", "0.6")
    monkeypatch.setenv("STANDIN_STEP_S", "0.05")
    spec = trial(evaluate=False, eval_points=2, max_steps=40, poll_s=0.1)
    rec = Recorder()

    def check_then_record(step, metrics, checkpoint_dir=None):
        if checkpoint_dir is not None:  # Ray copies the folder now: it must be whole
            for path in Path(checkpoint_dir).rglob("*.pth"):
                assert zipfile.ZipFile(path).testzip() is None, path
        rec(step, metrics, checkpoint_dir)

    run(spec, check_then_record)
    assert [s for s, _, c in rec.calls if c is not None] == [20, 40]


def test_out_of_gpu_memory_is_named_first_and_not_retried(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_OOM", "1")
    with pytest.raises(InputError) as err:  # InputError: the sweep does not retry it
        run(trial(evaluate=False, eval_points=4), Recorder())
    text = str(err.value)
    assert "\n" not in text and text.startswith("train.py ran out of GPU memory")
    assert "fix: lower train.batch_size or train.segment_size" in text


@pytest.mark.filterwarnings("ignore:.*checkpoints come faster")  # a pair every 0.2 s
def test_a_train_py_that_quits_or_deletes_checkpoints_says_so(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_QUIT", "1")
    # InputError: not retried (it did the same at each of 4 starts).
    with pytest.raises(InputError, match="exited \\(code 0\\) without logging a training"):
        run(trial("quit"), Recorder())
    monkeypatch.delenv("STANDIN_QUIT")
    monkeypatch.setenv("STANDIN_KEEP", "1")  # an edited train.py: keeps only its newest pair
    # A pair every 0.2 s: gone long before its evaluation (>= 1 s) has read it, and the
    # budget (20 s) far away.
    with pytest.raises(InputError, match=r"G_\d+\.pth was deleted before the sweeper used it"):
        run(trial("keep", eval_points=100, max_steps=1000), Recorder())


def test_a_train_py_writing_no_train_log_is_warned_of(trial, monkeypatch):
    """Its checkpoints are still reported and evaluated (with what TensorBoard holds at
    their steps), with a warning that the steps between are missing (before: silently)."""
    monkeypatch.setenv("STANDIN_NO_LOG", "1")
    spec = trial(eval_points=2, max_steps=40)
    rec = Recorder()
    with pytest.warns(UserWarning, match=r"checkpoint 20 but no loss line .* \(no such file\)"):
        run(spec, rec)
    assert [s for s, _, c in rec.calls if c is not None] == [20, 40]
    assert rec.steps == [0, 20, 40]  # no logged steps between checkpoints
    assert all("val/mel" in m for _, m, _ in rec.calls)
    assert not (Path(spec.run_dir) / "logs" / "44k" / "train.log").exists()


def test_a_wrong_interpreter_is_named_before_anything_starts(trial):
    with pytest.raises(InputError, match=r"sovits\.python '/nonexistent/python3' is not an exec"):
        run(trial(python="/nonexistent/python3"), Recorder())


@pytest.mark.parametrize(
    ("stderr", "code", "kind", "starts"),
    [
        # the cause, not the shutdown warnings printed after it
        ("Traceback (most recent call last):\n  File x\nRuntimeError: NCCL error\n"
         "/usr/lib/python3.10/multiprocessing/resource_tracker.py:224: UserWarning: leaked\n"
         "  warnings.warn('resource_tracker: There appear to be %d '\n",
         1, SweeperError, "train.py exited with code 1: RuntimeError: NCCL error; fix: see"),
        ("Traceback (most recent call last):\nModuleNotFoundError: No module named 'torchcrepe'\n",
         1, InputError, "train.py cannot import what it needs (ModuleNotFoundError: No module"),
        ("", 137, SweeperError, "train.py was killed (SIGKILL, code 137) at step 40: often the "
         "host's out-of-memory killer"),
        ("", 1, SweeperError, "train.py exited with code 1: no output; fix: see"),
        # torch without kernels for the GPU: the same at every start, so not retried.
        ("Traceback (most recent call last):\nRuntimeError: CUDA error: no kernel image is "
         "available for execution on the device\n", 1, InputError,
         "train.py's torch has no kernels for this GPU (RuntimeError: CUDA error: no kernel"),
    ],
)  # fmt: skip
def test_an_exit_is_explained_by_its_cause(tmp_path, stderr, code, kind, starts):
    from sweeper.trainers.sovits_svc.files import exit_error

    path = tmp_path / "train.err"
    path.write_text(stderr)
    err = exit_error(code, path, 40, "use trainer: reference", 12345)
    assert type(err) is kind and str(err).startswith(starts) and "\n" not in str(err)


def test_the_base_model_at_step_0_is_never_the_kept_best(tmp_path):
    """A trial that never beats its base model kept G_0 in best/, while the sweep (which
    ranks trained steps only) named a later step whose pair had been pruned: unrankable."""
    from sweeper.trainers.sovits_svc.checkpoints import Kept

    model_dir = tmp_path / "logs" / "44k"
    model_dir.mkdir(parents=True)
    for step in (0, 20, 40):
        (model_dir / f"G_{step}.pth").write_bytes(f"G{step}".encode())
    kept = Kept(tmp_path, model_dir, "44k")
    kept.judge(0, 1.0)  # the base model: better than anything trained below
    kept.judge(20, 5.0)
    kept.judge(40, 6.0)
    assert kept.best_step == 20
    assert [p.name for p in (tmp_path / "best").iterdir()] == ["G_20.pth"]


# val/mel min (the default, G_20 here) is test_sovits_process's full-trial test.
@pytest.mark.parametrize(("objective", "best"), [(("val/mel", "max"), 40)])
def test_the_pair_kept_in_best_is_the_objectives_best(trial, objective, best):
    """best/ follows the sweep's first objective and its mode (the study's best step), not
    always the lowest val/mel: a max objective found no best checkpoint to summarize."""
    import dataclasses

    spec = dataclasses.replace(trial(evaluate=True), objective=(objective,))
    rec = Recorder()
    run(spec, rec)
    by_step = {s: m for s, m, _ in rec.calls}
    assert by_step[20]["val/mel"] < by_step[40]["val/mel"]  # the stand-in is best at 20
    assert [p.name for p in (Path(spec.run_dir) / "best").iterdir()] == [f"G_{best}.pth"]


def test_a_stall_before_the_first_step_does_not_say_last_step_minus_1():
    from sweeper.trainers.sovits_svc._run import _last_step

    assert _last_step(-1) == "before its first logged step"
    assert _last_step(400) == "last step 400"
