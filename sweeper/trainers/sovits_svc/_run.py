"""``run(spec, report)``: one trial of the user's so-vits-svc ``train.py``, start to stop.

The loop reads train.log and the event files, finds each new G/D pair, has it evaluated on
val.txt, and reports every logged step in order: a step is sent once a later step has been
logged (its TensorBoard scalars are in by then) and, for a checkpoint step, once its
held-out metrics are back. A checkpoint step's report carries a folder laid out like the
trial folder (``logs/<name>/G_<step>.pth`` and ``D_<step>.pth``, ``best/G_<b>.pth`` and
``sovits_state.json``, see :mod:`.checkpoints`): restored into a fresh trial folder,
train.py resumes from it.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from sweeper.config._sovits import SovitsSection
from sweeper.errors import InputError, SweeperError
from sweeper.trainers._api import Report, TrialSpec
from sweeper.trainers.sovits_svc.checkpoints import Kept
from sweeper.trainers.sovits_svc.evaluate import Evaluation, EvaluationError, evaluator_argv
from sweeper.trainers.sovits_svc.files import (
    exit_error,
    import_error,
    pairs,
    read_json,
    vanished,
    written,
)
from sweeper.trainers.sovits_svc.follow import EventsFollower, LossPoint, TextFollower
from sweeper.trainers.sovits_svc.launch import NO_CUDA, LaunchSpec, build_launch
from sweeper.trainers.sovits_svc.ports import claim_port
from sweeper.trainers.sovits_svc.prepare import prepare_trial, resolve_sources
from sweeper.trainers.sovits_svc.process import TrainProcess
from sweeper.trainers.sovits_svc.runlock import claim_run_folder
from sweeper.trainers.sovits_svc.screen import NonFiniteScreen

WAITING = 2  # pairs that may wait for the evaluator; an older one goes out unevaluated


def run(spec: TrialSpec, report: Report) -> None:
    """Train one trial with so-vits-svc's train.py; return once ``spec.max_steps`` is saved.

    Raises:
        InputError: no train.py, no GPU, an unknown sampled key, a missing dataset file, a
            port in use, or train.py refusing to run on CPU.
        SweeperError: train.py or the evaluator failed.
    """
    settings = SovitsSection(**dict(spec.options))
    checkout = Path(settings.checkout)
    if not (checkout / "train.py").is_file():
        raise InputError(
            f"no train.py in {str(checkout)!r} (sovits.checkout); fix: point it at your "
            "so-vits-svc folder"
        )
    if settings.python is not None and shutil.which(settings.python) is None:
        raise InputError(
            f"sovits.python {settings.python!r} is not an executable; fix: the python of your "
            "so-vits-svc environment (e.g. /opt/sovits/venv/bin/python), or leave it out"
        )
    if not spec.gpu_ids:
        raise InputError(f"this trial has no GPU (gpu_ids={spec.gpu_ids!r}); fix: {NO_CUDA}")
    if spec.config is None:
        raise InputError(
            "sovits-svc needs its config.json (got base config None); fix: set base.config to "
            "<checkout>/configs/config.json"
        )
    base = read_json(Path(spec.config))
    sources = resolve_sources(settings, spec.data_dir)
    with claim_port() as port:
        launch = build_launch(
            spec.params,
            base=base,
            checkout=checkout.resolve(),
            run_dir=Path(spec.run_dir).resolve(),
            gpu_ids=spec.gpu_ids,
            port=port,
            max_steps=spec.max_steps,
            environ=os.environ,
            python=settings.python or sys.executable,
            model_name=settings.model_name,
            eval_points=settings.eval_points,
        )
        # A train.py of an earlier run of this folder that still trains is stopped first,
        # before anything reads or writes the folder.
        logs = Path(launch.cwd) / "sweeper_logs"
        logs.mkdir(parents=True, exist_ok=True)
        lock = claim_run_folder(logs, settings.stop_grace_s)
        try:
            prepare_trial(launch, sources)
            trial = _Trial(launch, spec, settings, report)
        except BaseException:
            if lock is not None:
                os.close(lock)
            raise
        trial.run(lock)


class _Trial:
    def __init__(
        self, launch: LaunchSpec, spec: TrialSpec, settings: SovitsSection, report: Report
    ) -> None:
        self.launch, self.spec, self.settings, self.report = launch, spec, settings, report
        self.run_dir, self.model_dir = Path(launch.cwd), Path(launch.model_dir)
        self.kept = Kept(self.run_dir, self.model_dir, settings.model_name)
        found = pairs(self.model_dir)
        self.resume = max(found) if found else -1  # train.py continues after this step
        # A lone G_0/D_0 (a base model) has not been reported yet: step 0 is its evaluation.
        self.reported = self.resume if self.resume > 0 else -1
        self.pending: dict[int, dict[str, float]] = {}
        self.scalars: dict[int, dict[str, float]] = {}
        self.sizes: dict[int, tuple[int, int]] = {}  # pair step -> sizes at the last scan
        self.ready: set[int] = set()  # checkpoint steps whose pair is complete and judged
        self.queue: list[int] = []  # complete pairs waiting for the evaluator, oldest first
        self.current: Evaluation | None = None
        self.last_logged = self.resume
        self.logged = False  # train.py logged a step in this run
        self.warned_unlogged = False
        self.progress: tuple[Any, float] = (None, time.monotonic())  # what was seen, since when
        self.done = False
        self.screen = NonFiniteScreen(launch.config)  # fp16_run: a lone NaN is routine
        self.text = TextFollower(self.model_dir / "train.log", start_at_end=True)
        self.events = EventsFollower(self.model_dir, start_at_end=True)

    # -- the loop --------------------------------------------------------------------------
    def run(self, lock: int | None) -> None:
        """Start train.py, holding the run folder's ``lock`` (a descriptor, closed here)."""
        logs = self.run_dir / "sweeper_logs"
        try:
            proc = TrainProcess.start(
                self.launch, self.settings.stop_grace_s, logs / "train.out",
                logs / "train.err", lock_fd=lock,
            )  # fmt: skip
        finally:
            if lock is not None:
                os.close(lock)  # the guard's tree holds it now (or nothing started)
        stopped = False  # by us: the budget's last pair is in, no more training is needed
        try:
            while not self.done:
                code = proc.poll()
                self._read()
                self._scan(exited=code is not None)
                if code is None and not stopped:
                    self._check_stall()
                if not stopped and self._budget_taken():
                    proc.stop()  # rather than train on while the last evaluations run
                    stopped = True
                self._evaluate(logs)
                self._release(exited=code is not None)
                if code is not None and not self.done and self._idle():
                    if not stopped:
                        self._check_exit(code, logs)
                    return
                time.sleep(self.settings.poll_s)
        finally:
            proc.stop()
            if self.current is not None:
                self.current.stop()
                self.current = None  # its pair is pruned below like any unreported one
            self.text.close()
            self.events.close()
            self._prune(keep_after=False)  # pairs never reported: a restart starts earlier

    def _check_stall(self) -> None:
        seen = (self.last_logged, tuple(sorted(self.sizes.items())))
        now = time.monotonic()
        if seen != self.progress[0]:
            self.progress = (seen, now)
        elif self.settings.stall_s is not None and now - self.progress[1] > self.settings.stall_s:
            raise SweeperError(
                f"train.py logged nothing and saved no checkpoint for {self.settings.stall_s:g} "
                f"s ({_last_step(self.last_logged)}): hung (a DDP rendezvous?); fix: see "
                f"{self.run_dir / 'sweeper_logs'}, or raise sovits.stall_s"
            )

    def _idle(self) -> bool:
        return self.current is None and not self.queue and not self.pending

    def _read(self) -> None:
        for event in self.text.poll():
            if isinstance(event, LossPoint) and event.step > self.reported:
                self.pending.setdefault(event.step, {}).update(event.values)
                self.last_logged = max(self.last_logged, event.step)
                self.logged = True
        for scalar in self.events.poll():
            if scalar.step > self.reported:
                self.scalars.setdefault(scalar.step, {})[scalar.tag] = scalar.value

    def _scan(self, exited: bool) -> None:
        """Take each G/D pair that is complete: whole zip files, and a later step was logged,
        train.py exited, or their sizes held still. With evaluation on, at most ``WAITING``
        pairs wait for the evaluator (the newest): an older one is reported without val/*,
        so an evaluation slower than the checkpoints cannot leave reports (and the pruner)
        ever further behind, nor pile pairs up on disk."""
        for step, size in sorted(pairs(self.model_dir).items()):
            if step in self.ready or step in self.queue or step in self.kept.judged():
                continue
            if step == self.current_step() or (0 < step <= self.resume):
                continue
            if self._budget_taken():
                return  # the pair of the budget's last step is in: the trial ends with it
            settled = step < self.last_logged or exited or self.sizes.get(step) == size
            self.sizes[step] = size
            names = (f"G_{step}.pth", f"D_{step}.pth")
            if not settled or not all(written(self.model_dir / n) for n in names):
                continue
            if not self.settings.evaluate:
                self._judged(step, {})
                continue
            self.queue.append(step)
            while len(self.queue) > WAITING:
                self._skip(self.queue.pop(0))

    def _budget_taken(self) -> bool:
        taken = [*self.ready, *self.queue, self.current_step() or -1]
        return max(taken, default=-1) >= self.spec.max_steps

    def _skip(self, step: int) -> None:
        if not self.kept.skipped:
            self._note(
                f"so-vits-svc trial {self.run_dir}: checkpoints come faster than they are "
                f"evaluated; step {step} and others go out without val/* (the newest pair is "
                "evaluated); fix: fewer sovits.eval_points, or sovits.eval_device: cuda"
            )
        self.kept.skipped.add(step)
        self._judged(step, {})

    def _note(self, message: str) -> None:
        """A warning where the user reads: train.log, in its own format (until 2026-12-07
        only in Ray's worker-*.err), and Python's warnings."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ",000"
        line = f"{stamp}\t{self.settings.model_name}\tWARNING\tsweeper: {message}\n"
        with (self.model_dir / "train.log").open("a", encoding="utf-8") as handle:
            handle.write(line)
        warnings.warn(message, stacklevel=3)

    def current_step(self) -> int | None:
        return None if self.current is None else self.current.step

    def _evaluate(self, logs: Path) -> None:
        if self.current is not None:
            try:
                metrics = self.current.result()
            except EvaluationError:
                checkpoint = self.model_dir / f"G_{self.current.step}.pth"
                if not checkpoint.is_file():
                    raise vanished(checkpoint) from None
                # Missing requirements: as train.py's, an InputError (retried before).
                missing = import_error(self.current.stderr, "the held-out evaluator")
                if missing is not None:
                    raise missing from None
                raise
            if metrics is None:
                return
            step, self.current = self.current.step, None
            self._judged(step, metrics)
        if self.queue:
            step = self.queue.pop(0)
            argv = evaluator_argv(
                self.settings.python or sys.executable,
                str(Path(self.settings.checkout).resolve()),
                self.launch.config_path,
                str(self.model_dir / f"G_{step}.pth"),
                device=self.settings.eval_device,
                f0=self.settings.f0_tracker,
            )
            self.current = Evaluation.start(step, argv, self.launch.env, self.launch.cwd, logs)

    def _judged(self, step: int, metrics: dict[str, float]) -> None:
        """A pair is complete (and evaluated): keep its metrics and update the best."""
        if step > self.reported:
            self.pending.setdefault(step, {}).update(metrics)
        self.ready.add(step)
        # The pair kept in best/ is the study's best step: the sweep's first objective
        # metric and mode (until 2026-12-07 always the lowest val/mel, so a sweep on another
        # metric or mode found no best checkpoint to summarize).
        metric, mode = self.spec.objective[0] if self.spec.objective else ("val/mel", "min")
        value = metrics.get(metric, self.scalars.get(step, {}).get(metric, math.nan))
        self.kept.judge(step, -value if mode == "max" else value)

    def _release(self, exited: bool) -> None:
        interval = self.launch.eval_interval
        for step in sorted(self.pending):
            is_ckpt = step % interval == 0
            judging = step in self.queue or step == self.current_step()
            # A later pair means this step's will not come (a train.py saving off the grid).
            later = any(s > step for s in self.sizes)
            waiting = judging or not (exited or later)
            if is_ckpt and step not in self.ready and waiting:
                return  # its pair is being written or evaluated; later steps wait too
            if not (step < self.last_logged or exited or step in self.ready):
                return
            metrics = {**self.scalars.pop(step, {}), **self.pending.pop(step)}
            metrics = self.screen.screen(metrics)
            checkpoint = self.kept.stage(step) if step in self.ready and step > 0 else None
            if checkpoint is not None and not self.logged:
                self._warn_unlogged(step)
            self.report(step, metrics, checkpoint_dir=checkpoint)
            self.reported = step
            for old in [s for s in self.scalars if s <= step]:
                del self.scalars[old]
            if checkpoint is not None:
                self._prune(keep_after=True)
            if is_ckpt and step >= self.spec.max_steps:
                self.done = True
                return

    def _warn_unlogged(self, step: int) -> None:
        """A checkpoint with no loss line before it: a train.py that logs elsewhere or in
        another format. The trial goes on, but reports only its checkpoint steps."""
        if self.warned_unlogged:
            return
        self.warned_unlogged = True
        log = self.model_dir / "train.log"
        why = "no line in the 4.0 or 4.1 loss format" if log.is_file() else "no such file"
        warnings.warn(
            f"so-vits-svc trial {self.run_dir}: checkpoint {step} but no loss line read from "
            f"{log} ({why}): the trial reports its checkpoint steps only, with training "
            "losses only where TensorBoard has them at those steps; fix: a train.py that "
            "logs its losses to train.log as so-vits-svc 4.x does",
            stacklevel=2,
        )

    def _prune(self, keep_after: bool) -> None:
        # Before any report of this run, the pair it resumed from is the last one reported.
        last = max((s for s in self.ready if s <= self.reported), default=self.resume)
        self.kept.prune(last, keep_after, busy=self.current_step())

    def _check_exit(self, code: int, logs: Path) -> None:
        if code != 0:
            step = self.last_logged
            raise exit_error(code, logs / "train.err", step, NO_CUDA, self.launch.port)
        if not self.logged:
            # It would do the same at every start (train.epochs reached, a log elsewhere):
            # not retried, which cost 3 more starts (a probe, 2026-12-08).
            raise InputError(
                "train.py exited (code 0) without logging a training step; fix: see "
                f"{logs / 'train.out'} and {logs / 'train.err'} (train.epochs reached? "
                "no train.log in the model dir?)"
            )
        # else: train.py reached train.epochs before max_steps


def _last_step(step: int) -> str:
    """How far train.py got, for the stall message (-1: nothing logged yet)."""
    return "before its first logged step" if step < 0 else f"last step {step}"
