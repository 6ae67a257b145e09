"""so-vits-svc checkpoint files: ``G_<step>.pth`` / ``D_<step>.pth`` in the run directory.

Each file holds so-vits-svc's keys (``model``, ``iteration`` = epoch, ``optimizer``,
``learning_rate`` = the configured lr) so its tools can load it, plus what exact resume needs
(``step``, ``scheduler``, ``rng``, ``best``...). The best pair by ``val/mel`` lives in
``best/`` so so-vits-svc's "latest G_*.pth" scan never picks it up and ``keep_ckpts`` never
deletes it.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

_NAME = re.compile(r"^G_(\d+)\.pth$")


def rng_state() -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_pair(
    run_dir: Path, step: int, g_state: dict[str, Any], d_state: dict[str, Any], keep: int
) -> Path:
    """Write ``G_<step>.pth``/``D_<step>.pth`` then prune to the newest ``keep`` pairs."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for prefix, state in (("G", g_state), ("D", d_state)):
        tmp = run_dir / f".{prefix}_{step}.pth.tmp"
        torch.save(state, tmp)
        tmp.replace(run_dir / f"{prefix}_{step}.pth")  # atomic: a crash never leaves half a file
    if keep > 0:
        steps = list_steps(run_dir)
        for old in steps[:-keep]:
            for prefix in ("G", "D"):
                (run_dir / f"{prefix}_{old}.pth").unlink(missing_ok=True)
    return run_dir / f"G_{step}.pth"


def save_best(run_dir: Path, step: int) -> Path:
    """Copy the pair of ``step`` into ``best/`` (replacing the previous best)."""
    best = run_dir / "best"
    if best.exists():
        shutil.rmtree(best)
    best.mkdir(parents=True)
    for prefix in ("G", "D"):
        shutil.copy2(run_dir / f"{prefix}_{step}.pth", best / f"{prefix}_{step}.pth")
    return best


def list_steps(run_dir: Path) -> list[int]:
    """Steps with both G and D present, ascending."""
    steps = []
    for path in run_dir.glob("G_*.pth"):
        match = _NAME.match(path.name)
        if match and (run_dir / f"D_{match.group(1)}.pth").is_file():
            steps.append(int(match.group(1)))
    return sorted(steps)


def lone_notes(run_dir: Path, start: int) -> list[str]:
    """``G_<n>.pth`` files without their ``D_<n>.pth`` (another tool's file, or a save cut
    short): not resumable, and this run overwrites each one when it reaches step n."""
    pairs = set(list_steps(run_dir))
    lone = []
    for path in run_dir.glob("G_*.pth"):
        match = _NAME.match(path.name)
        if match and int(match.group(1)) not in pairs and int(match.group(1)) > start:
            lone.append(int(match.group(1)))
    return [
        f"{run_dir / f'G_{n}.pth'} has no D_{n}.pth beside it, so it is not resumed "
        f"from, and this run overwrites it at step {n}; move it away to keep it"
        for n in sorted(lone)
    ]


def latest(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The newest ``(G state, D state)`` or None when the directory has none."""
    steps = list_steps(run_dir)
    if not steps:
        return None
    step = steps[-1]
    # weights_only=False: our own files hold numpy RNG state and config dicts.
    g = torch.load(run_dir / f"G_{step}.pth", map_location="cpu", weights_only=False)
    d = torch.load(run_dir / f"D_{step}.pth", map_location="cpu", weights_only=False)
    return g, d
