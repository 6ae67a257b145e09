"""What a so-vits-svc trial keeps on disk: the best G out of train.py's way, the folders
handed to the sweep as checkpoints, the pruned model dir, and ``sovits_state.json``."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from sweeper.trainers.sovits_svc.files import (
    link_or_copy,
    pairs,
    private_copy,
    read_state,
)

STATE = "sovits_state.json"  # best step / value, evaluated and skipped steps; in checkpoints
CHECKPOINTS = "checkpoints"  # per-report folders handed to the sweep as checkpoint_dir
BEST = "best"  # the best G so far, out of train.py's model dir (it may save a step again)


class Kept:
    """The trial folder's bookkeeping; its state comes back from a restored folder."""

    def __init__(self, run_dir: Path, model_dir: Path, model_name: str) -> None:
        self.run_dir, self.model_dir, self.model_name = run_dir, model_dir, model_name
        state = read_state(run_dir / STATE)
        self.best_step: int | None = state.get("best_step")
        best_val = state.get("best_val")  # null when no finite val/mel was seen yet
        self.best_val: float = math.inf if best_val is None else float(best_val)
        self.evaluated: set[int] = set(state.get("evaluated", ()))  # judged pairs
        self.skipped: set[int] = set(state.get("skipped", ()))  # judged unevaluated (backlog)
        self.staged: Path | None = None
        self._adopt_best()

    def _adopt_best(self) -> None:
        """The best G in ``best/`` with blocks of its own (a restored folder of before
        2026-12-06 kept it in the model dir, where 4.0's train.py may save its step again)."""
        if self.best_step is None:
            return
        target = self.run_dir / BEST / f"G_{self.best_step}.pth"
        if not target.is_file():
            source = self.model_dir / target.name
            if not source.is_file():
                return
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(source, target)
        private_copy(target)

    def judge(self, step: int, value: float) -> None:
        """The pair of ``step`` is judged, with the objective = ``value``, lower is better
        (negated for a max objective; NaN: none); a new
        best gets a hard link in ``best/`` (the model dir's pairs are pruned later). Step 0,
        the base model, is evaluated but never the best: the sweep ranks what the trial's
        training made, and G_0 stays in the model dir anyway."""
        if step not in self.skipped:  # judged without val/* (listed in both until 2026-12-07)
            self.evaluated.add(step)
        if step > 0 and math.isfinite(value) and value < self.best_val:
            best = self.run_dir / BEST
            best.mkdir(exist_ok=True)
            for old in best.glob("G_*.pth"):
                old.unlink()
            link_or_copy(self.model_dir / f"G_{step}.pth", best / f"G_{step}.pth")
            self.best_val, self.best_step = value, step
        self.write_state(self.run_dir / STATE)

    def judged(self) -> set[int]:
        """Every step judged: evaluated, or skipped for the evaluator's backlog."""
        return self.evaluated | self.skipped

    def prune(self, last: int, keep_after: bool, busy: int | None) -> None:
        """Delete the model dir's pairs before ``last`` (the last one reported; step 0, the
        base model, stays) and, unless ``keep_after``, every one after it (never reported:
        no restart resumes from them); never ``busy``'s (being evaluated)."""
        for step in pairs(self.model_dir):
            if step in (0, last, busy) or (keep_after and step > last):
                continue
            for prefix in ("G", "D"):
                (self.model_dir / f"{prefix}_{step}.pth").unlink(missing_ok=True)

    def stage(self, step: int) -> str:
        """A folder laid out like the trial folder, holding what a restart needs."""
        folder = self.run_dir / CHECKPOINTS / f"step_{step}"
        if folder.exists():
            shutil.rmtree(folder)
        target = folder / "logs" / self.model_name
        target.mkdir(parents=True)
        for name in (f"G_{step}.pth", f"D_{step}.pth"):
            link_or_copy(self.model_dir / name, target / name)
        if self.best_step is not None:
            (folder / BEST).mkdir()
            name = f"G_{self.best_step}.pth"
            link_or_copy(self.run_dir / BEST / name, folder / BEST / name)
        self.write_state(folder / STATE)
        previous, self.staged = self.staged, folder
        if previous is not None and previous != folder:
            # Reported earlier: the sweep has its own copy; a hard link costs no space but
            # would keep the pruned pair's blocks alive.
            shutil.rmtree(previous, ignore_errors=True)
        return str(folder)

    def write_state(self, path: Path) -> None:
        state = {
            "best_step": self.best_step,
            "best_val": self.best_val if math.isfinite(self.best_val) else None,
            "evaluated": sorted(self.evaluated),
            "skipped": sorted(self.skipped),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(path)
