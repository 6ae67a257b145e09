"""``run(spec, report)``: one trial of the user's so-vits-svc ``train.py``, start to stop.

The loop reads train.log and the event files, finds each new G/D pair, has it evaluated on
val.txt, and reports every logged step in order: a step is sent once a later step has been
logged (its TensorBoard scalars are in by then) and, for a checkpoint step, once its
held-out metrics are back. A checkpoint step's report carries a folder laid out like the
trial folder (``logs/<name>/G_<step>.pth`` and ``D_<step>.pth``, the best G so far and
``sovits_state.json``): restored into a fresh trial folder, train.py resumes from it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sweeper.config._sovits import SovitsSection
from sweeper.errors import InputError, SweeperError
from sweeper.trainers._api import Report, TrialSpec
from sweeper.trainers.sovits_svc.evaluate import Evaluation, evaluator_argv
from sweeper.trainers.sovits_svc.follow import EventsFollower, LossPoint, TextFollower
from sweeper.trainers.sovits_svc.launch import NO_CUDA, LaunchSpec, build_launch
from sweeper.trainers.sovits_svc.ports import claim_port
from sweeper.trainers.sovits_svc.prepare import prepare_trial, resolve_sources
from sweeper.trainers.sovits_svc.process import TrainProcess

STATE = "sovits_state.json"  # best step / value and the evaluated steps; travels in checkpoints
CHECKPOINTS = "checkpoints"  # per-report folders handed to the sweep as checkpoint_dir
_PAIR = re.compile(r"^G_(\d+)\.pth$")


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
    if not spec.gpu_ids:
        raise InputError(f"this trial has no GPU (gpu_ids={spec.gpu_ids!r}); fix: {NO_CUDA}")
    if spec.config is None:
        raise InputError(
            "sovits-svc needs its config.json (got base config None); fix: set base.config to "
            "<checkout>/configs/config.json"
        )
    base = _read_json(Path(spec.config))
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
        prepare_trial(launch, sources)
        _Trial(launch, spec, settings, report).run()


class _Trial:
    def __init__(
        self, launch: LaunchSpec, spec: TrialSpec, settings: SovitsSection, report: Report
    ) -> None:
        self.launch, self.spec, self.settings, self.report = launch, spec, settings, report
        self.run_dir, self.model_dir = Path(launch.cwd), Path(launch.model_dir)
        state = _read_state(self.run_dir / STATE)
        self.best_step: int | None = state.get("best_step")
        best_val = state.get("best_val")  # null when no finite val/mel was seen yet
        self.best_val: float = math.inf if best_val is None else float(best_val)
        self.evaluated: set[int] = set(state.get("evaluated", ()))
        pairs = _pairs(self.model_dir)
        self.resume = max(pairs) if pairs else -1  # train.py continues after this step
        # A lone G_0/D_0 (a base model) has not been reported yet: step 0 is its evaluation.
        self.reported = self.resume if self.resume > 0 else -1
        self.pending: dict[int, dict[str, float]] = {}
        self.scalars: dict[int, dict[str, float]] = {}
        self.sizes: dict[int, tuple[int, int]] = {}  # pair step -> sizes at the last scan
        self.ready: set[int] = set()  # checkpoint steps whose pair is complete and judged
        self.queue: list[int] = []
        self.current: Evaluation | None = None
        self.last_logged = self.resume
        self.staged: Path | None = None
        self.done = False
        self.text = TextFollower(self.model_dir / "train.log", start_at_end=True)
        self.events = EventsFollower(self.model_dir, start_at_end=True)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        logs = self.run_dir / "sweeper_logs"
        logs.mkdir(exist_ok=True)
        proc = TrainProcess.start(
            self.launch, self.settings.stop_grace_s, logs / "train.out", logs / "train.err"
        )
        try:
            while not self.done:
                code = proc.poll()
                self._read()
                self._scan(exited=code is not None)
                self._evaluate(logs)
                self._release(exited=code is not None)
                if code is not None and not self.done and self._idle():
                    self._check_exit(code, logs / "train.err")
                    return
                time.sleep(self.settings.poll_s)
        finally:
            proc.stop()
            if self.current is not None:
                self.current.stop()
            self.text.close()
            self.events.close()

    def _idle(self) -> bool:
        return self.current is None and not self.queue and not self.pending

    def _read(self) -> None:
        for event in self.text.poll():
            if isinstance(event, LossPoint) and event.step > self.reported:
                self.pending.setdefault(event.step, {}).update(event.values)
                self.last_logged = max(self.last_logged, event.step)
        for scalar in self.events.poll():
            if scalar.step > self.reported:
                self.scalars.setdefault(scalar.step, {})[scalar.tag] = scalar.value

    def _scan(self, exited: bool) -> None:
        """Queue each G/D pair that is complete: a later step was logged, or it stopped growing."""
        for step, size in sorted(_pairs(self.model_dir).items()):
            if step in self.ready or step in self.queue or step in self.evaluated:
                continue
            if step == self.current_step() or (0 < step <= self.resume):
                continue
            settled = step < self.last_logged or exited or self.sizes.get(step) == size
            self.sizes[step] = size
            if not settled:
                continue
            if self.settings.evaluate:
                self.queue.append(step)
            else:
                self._judged(step, {})

    def current_step(self) -> int | None:
        return None if self.current is None else self.current.step

    def _evaluate(self, logs: Path) -> None:
        if self.current is not None:
            metrics = self.current.result()
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
        """A pair is complete (and evaluated): keep its metrics, update the best, prune."""
        if step > self.reported:
            self.pending.setdefault(step, {}).update(metrics)
        self.ready.add(step)
        self.evaluated.add(step)
        value = metrics.get("val/mel", math.nan)
        if math.isfinite(value) and value < self.best_val:
            self.best_val, self.best_step = value, step
        keep = {0, step, self.best_step}
        for old in _pairs(self.model_dir):
            if old < step and old not in keep and old in self.evaluated:
                for prefix in ("G", "D"):
                    (self.model_dir / f"{prefix}_{old}.pth").unlink(missing_ok=True)
        self._write_state(self.run_dir / STATE)

    def _release(self, exited: bool) -> None:
        interval = self.launch.eval_interval
        for step in sorted(self.pending):
            is_ckpt = step % interval == 0
            judging = step in self.queue or step == self.current_step()
            if is_ckpt and step not in self.ready and (judging or not exited):
                return  # its pair is being written or evaluated; later steps wait too
            if not (step < self.last_logged or exited or step in self.ready):
                return
            metrics = {**self.scalars.pop(step, {}), **self.pending.pop(step)}
            checkpoint = self._stage(step) if step in self.ready and step > 0 else None
            self.report(step, metrics, checkpoint_dir=checkpoint)
            self.reported = step
            for old in [s for s in self.scalars if s <= step]:
                del self.scalars[old]
            if is_ckpt and step >= self.spec.max_steps:
                self.done = True
                return

    def _stage(self, step: int) -> str:
        """A folder laid out like the trial folder, holding what a restart needs."""
        folder = self.run_dir / CHECKPOINTS / f"step_{step}"
        if folder.exists():
            shutil.rmtree(folder)
        target = folder / "logs" / self.settings.model_name
        target.mkdir(parents=True)
        names = [f"G_{step}.pth", f"D_{step}.pth"]
        if self.best_step is not None and self.best_step != step:
            names.append(f"G_{self.best_step}.pth")
        for name in names:
            _link_or_copy(self.model_dir / name, target / name)
        self._write_state(folder / STATE)
        previous, self.staged = self.staged, folder
        if previous is not None and previous != folder:
            # Reported earlier: the sweep has its own copy; a hard link costs no space but
            # would keep the pruned pair's blocks alive.
            shutil.rmtree(previous, ignore_errors=True)
        return str(folder)

    def _write_state(self, path: Path) -> None:
        state = {
            "best_step": self.best_step,
            "best_val": self.best_val if math.isfinite(self.best_val) else None,
            "evaluated": sorted(self.evaluated),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(path)

    def _check_exit(self, code: int, stderr: Path) -> None:
        if code == 0:
            return  # train.py reached train.epochs before max_steps
        tail = _tail(stderr)
        if "CPU training is not allowed" in tail:
            raise InputError(f"train.py found no CUDA device ({code=}); fix: {NO_CUDA}")
        if "Address already in use" in tail or "EADDRINUSE" in tail:
            raise InputError(
                f"train.py could not bind train.port {self.launch.port} (port in use); fix: "
                "retry the trial, or free the port"
            )
        last = " | ".join(tail.strip().splitlines()[-3:]) or "no output"
        raise SweeperError(f"train.py exited with code {code}: {last}; fix: see {stderr}")


def _pairs(model_dir: Path) -> dict[int, tuple[int, int]]:
    """Steps with both G_<step>.pth and D_<step>.pth, with the two file sizes."""
    pairs = {}
    try:
        names = {p.name for p in model_dir.iterdir()}
    except FileNotFoundError:
        return {}
    for name in names:
        match = _PAIR.match(name)
        if match is None or f"D_{match.group(1)}.pth" not in names:
            continue
        step = int(match.group(1))
        try:
            g = (model_dir / name).stat().st_size
            d = (model_dir / f"D_{step}.pth").stat().st_size
        except FileNotFoundError:
            continue  # deleted while we looked
        pairs[step] = (g, d)
    return pairs


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)  # another file system, or links not allowed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such config file: {path}; fix: set base.config") from None
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {path} as JSON ({err}); fix: give a config.json") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{path} is not a JSON object (got {type(data).__name__})")
    return dict(data)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a half-written state from a killed trial: start the bookkeeping afresh
    return data if isinstance(data, dict) else {}


def _tail(path: Path, size: int = 8192) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
