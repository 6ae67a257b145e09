"""so-vits-svc checkpoint files: ``G_<step>.pth`` / ``D_<step>.pth`` in the run directory.

Each file holds so-vits-svc's keys (``model``, ``iteration`` = epoch, ``optimizer``,
``learning_rate`` = the configured lr) so its tools can load it, plus what exact resume needs
(``step``, ``scheduler``, ``rng``, ``best``...). The best pair (by ``val/mel``, or a sweep's
first objective metric: best.py) lives in ``best/`` so so-vits-svc's "latest G_*.pth" scan
never picks it up and ``keep_ckpts`` never deletes it.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sweeper.errors import InputError

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
        _save(state, tmp)
        tmp.replace(run_dir / f"{prefix}_{step}.pth")  # atomic: a crash never leaves half a file
    if keep > 0:
        # Pairs past this step are leftovers (unreadable ones a resume skipped): this run
        # overwrites them when it gets there, so they never push a readable pair out.
        steps = [s for s in list_steps(run_dir) if s <= step]
        for old in steps[:-keep]:
            for prefix in ("G", "D"):
                (run_dir / f"{prefix}_{old}.pth").unlink(missing_ok=True)
    return run_dir / f"G_{step}.pth"


def _save(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` through a Python file: a full disk is then an OSError naming ``path``
    (to a path name, torch raises a RuntimeError "unexpected pos"); a cut file is removed."""
    try:
        with path.open("wb") as fh:
            torch.save(state, fh)
    except OSError as err:
        path.unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from None


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link where the file system has them: best/ then costs no second copy of the
    pair (save_pair replaces files by rename, never in place, so the link never changes)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def save_best(
    run_dir: Path, step: int, states: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> Path:
    """Link (or copy) the pair of ``step`` into ``best/`` (replacing the previous best), or write
    ``states`` (G, D) there: a step that logs a best training loss has no pair to copy.

    The copy goes to ``.best.tmp/`` first and is renamed into place, so a stop mid-copy
    leaves the previous best (or none), never half a pair.
    """
    best, tmp, old = run_dir / "best", run_dir / ".best.tmp", run_dir / ".best.old"
    if old.exists() and not best.exists():  # stopped between the two renames below
        os.replace(old, best)
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    tmp.mkdir(parents=True)
    try:
        for prefix, state in zip(("G", "D"), states or (None, None), strict=True):
            if state is None:
                _link_or_copy(run_dir / f"{prefix}_{step}.pth", tmp / f"{prefix}_{step}.pth")
            else:
                _save(state, tmp / f"{prefix}_{step}.pth")
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # the previous best stays; free the space
        raise
    if best.exists():
        os.replace(best, old)  # a directory cannot be replaced onto a non-empty one
    os.replace(tmp, best)
    if old.exists():
        shutil.rmtree(old)
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


# What torch.load raises on a 0-byte, truncated or overwritten file.
_UNREADABLE = (
    EOFError,
    RuntimeError,
    OSError,
    ValueError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


def _load(path: Path) -> dict[str, Any] | None:
    """The checkpoint dict in ``path``, or None when the file cannot be read as one."""
    try:
        # weights_only=False: our own files hold numpy RNG state and config dicts.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except PermissionError as err:  # not damage: skipping it would later overwrite it
        raise InputError(
            f"cannot read {str(path)!r}: {err.strerror}; fix: give this user read access "
            "(ls -l shows the owner), or use a fresh --out directory"
        ) from None
    except _UNREADABLE:
        return None
    return state if isinstance(state, dict) else None


def check_finite(run_dir: Path, g: Mapping[str, Any], d: Mapping[str, Any]) -> None:
    """Refuse to resume from a pair whose weights hold NaN or inf: a diverged run's last
    checkpoints do, and a resume trained on from them, NaN at every step, whatever the new
    learning rate (a probe, 2026-12-08)."""
    import torch

    for prefix, state in (("G", g), ("D", d)):
        model = state.get("model")
        weights = model.items() if isinstance(model, Mapping) else ()
        bad = [k for k, t in weights if torch.is_tensor(t) and t.is_floating_point()
               and not bool(torch.isfinite(t).all())]  # fmt: skip
        if bad:
            path = run_dir / f"{prefix}_{g.get('step')}.pth"
            raise InputError(
                f"{path} holds NaN or inf weights "
                f"({len(bad)} tensors, e.g. {bad[0]}): the run diverged, and a resume would "
                "train on from them; fix: a fresh --out (with a lower train.learning_rate), "
                f"or delete the diverged pairs to resume from an older one ({run_dir / 'best'} "
                "holds the best model it validated)"
            )


def latest(
    run_dir: Path,
) -> tuple[tuple[dict[str, Any], dict[str, Any]] | None, list[str]]:
    """The newest readable ``(G state, D state)`` (None when there is no pair) and a note per
    pair skipped because a file of it cannot be read (cut short by a crash, a full disk or
    an interrupted copy). Raises InputError when pairs exist but none can be read."""
    steps = list_steps(run_dir)
    notes, bad = [], []
    for step in reversed(steps):
        g = _load(run_dir / f"G_{step}.pth")
        d = _load(run_dir / f"D_{step}.pth") if g is not None else None
        if g is not None and d is not None:
            return (g, d), notes
        path = run_dir / (f"G_{step}.pth" if g is None else f"D_{step}.pth")
        bad.append(str(path))
        notes.append(
            f"{path} cannot be read as a checkpoint (empty or cut short), so the pair of "
            f"step {step} is skipped and the run resumes from an older one; this run "
            f"overwrites it at step {step}"
        )
    if not steps:
        return None, notes
    raise InputError(
        f"no checkpoint pair in {run_dir} can be read ({', '.join(bad)}); fix: restore them "
        "from a copy, or use a fresh --out directory"
    )
