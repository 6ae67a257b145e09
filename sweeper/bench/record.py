"""Finished sweeps' trials as a curves file: ``sweeper bench record SWEEP_DIR... OUT.npz``.

A sweep folder holds one folder per trial, ``trial_*/result.json``, with one JSON object per
report (Ray Tune's result file): ``step`` always, ``val/mel`` and ``train/mel`` at every
evaluation, ``loss/g/mel`` at every log interval. Each trial with at least one ``val/mel``
becomes one curve of the file that ``sweeper bench detector`` and ``sweeper bench pruner``
read (see :mod:`sweeper.bench.curves`):

- ``steps``: the evaluation steps of all trials (their union), which must be one grid: every
  trial's evaluations are the first steps of it (a trial stopped early has fewer);
- ``val``: ``val/mel`` on that grid, NaN after a trial's last evaluation (a NaN it reported
  stays: with ``length``, NaN inside a curve is data, a diverged run);
- ``train``: ``train/mel`` (the mean training mel since the previous evaluation); where a
  report lacks it, the median of the ``loss/g/mel`` reports since the previous evaluation;
- ``length``: evaluations per trial; ``trial``: the trial folder names (extra metadata).

A step reported twice (a trial restored from a checkpoint reports its steps again) keeps the
later report: that is the run the trial went on with.

Example:
    >>> import json, pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "trial_a").mkdir()
    >>> lines = [{"step": s, "val/mel": 30.0 - s / 100, "train/mel": 28.0} for s in (100, 200)]
    >>> _ = (root / "trial_a" / "result.json").write_text("\\n".join(map(json.dumps, lines)))
    >>> curves, names, skipped = read_sweep(root)
    >>> curves.steps.tolist(), curves.val.tolist(), names, skipped
    ([100, 200], [[29.0, 28.0]], ['trial_a'], [])
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sweeper.bench.curves import CurveSet
from sweeper.errors import InputError

VAL, TRAIN, TRAIN_STEP = "val/mel", "train/mel", "loss/g/mel"


def read_trial(path: Path, metric: str = VAL) -> dict[int, tuple[float, float]]:
    """{evaluation step: (metric, training mel)} of one ``result.json``."""
    evals: dict[int, tuple[float, float]] = {}
    since: list[float] = []  # loss/g/mel reports since the previous evaluation
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(
            f"cannot read {str(path)!r} ({err}); fix: pass a sweep folder whose result.json "
            "files Ray Tune wrote (UTF-8 JSON lines)"
        ) from err
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            report = json.loads(line)  # Ray writes NaN and Infinity literals; json reads them
        except json.JSONDecodeError as err:
            raise InputError(
                f"{path}:{number}: not a JSON object ({err.msg}); a result.json holds one "
                "report per line"
            ) from err
        step = report.get("step") if isinstance(report, dict) else None
        if not _number(step) or not 0 <= step < 2**62 or step != int(step):
            raise InputError(
                f"{path}:{number}: a report needs a whole training step >= 0, got "
                f"{line[:80]!r}; fix: record the folder of a sweep whose trainer reports steps"
            )
        if _number(report.get(TRAIN_STEP)):
            since.append(float(report[TRAIN_STEP]))
        if metric not in report:
            continue
        train = report.get(TRAIN)
        if not _number(train):
            train = float(np.median(since)) if since else math.nan
        value = report[metric]
        if not _number(value) and value is not None:  # None: Ray's null for a NaN
            raise InputError(
                f"{path}:{number}: {metric} is {value!r}, not a number; fix: record a metric "
                "the trainer reports as a number"
            )
        evals[int(step)] = (float(value) if _number(value) else math.nan, float(train))
        since = []
    return evals


def read_sweep(
    sweep_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], metric: str = VAL
) -> tuple[CurveSet, list[str], list[str]]:
    """The curves of one sweep folder or several, the trial names in curve order, and the
    trials skipped (no finite ``metric`` reported: failed or stopped before their first
    evaluation). With several folders, names are ``<folder name>/<trial>``."""
    roots = [Path(sweep_dir)] if isinstance(sweep_dir, (str, os.PathLike)) else [
        Path(d) for d in sweep_dir
    ]
    files: list[tuple[str, Path]] = []
    for root in roots:
        found = sorted(root.glob("trial_*/result.json"))
        if not found:
            raise InputError(
                f"no trial_*/result.json under {str(root)!r}; pass the folder of a sweep run by "
                "`sweeper run` (its Ray storage_path/name)"
            )
        files += [(path.parent.name, path) for path in found]
    if len(roots) > 1:  # <folder name>/<trial>; the whole path where two folders share a name
        bare = [root.name for root in roots]
        labels = {r: (r.name if bare.count(r.name) == 1 else str(r)) for r in roots}
        files = [(f"{labels[path.parent.parent]}/{name}", path) for name, path in files]
    where = ", ".join(repr(str(root)) for root in roots)
    trials: dict[str, dict[int, tuple[float, float]]] = {}
    skipped: list[str] = []
    for name, path in files:
        evals = read_trial(path, metric)
        if any(math.isfinite(v) for v, _ in evals.values()):
            trials[name] = dict(sorted(evals.items()))
        else:
            skipped.append(name)
    if not trials:
        raise InputError(
            f"none of the {len(files)} trials under {where} reported {metric!r}; "
            "record a sweep whose trainer evaluates (val/mel every eval_interval)"
        )
    grid = sorted({step for evals in trials.values() for step in evals})
    names = list(trials)
    val = np.full((len(names), len(grid)), math.nan)
    train = np.full_like(val, math.nan)
    length = np.zeros(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        steps = list(trials[name])
        if steps != grid[: len(steps)]:
            missing = next(s for s in grid[: len(steps)] if s not in trials[name])
            raise InputError(
                f"trial {name!r} has no {metric} at step {missing}, where other trials do: "
                "the trials do not share one evaluation grid (is eval_interval searched?); "
                "record trials with the same eval_interval together"
            )
        for j, (v, t) in enumerate(trials[name].values()):
            val[i, j], train[i, j] = v, t
        length[i] = len(steps)
    has_train = bool(np.isfinite(train).any())
    curves = CurveSet(
        steps=np.asarray(grid, dtype=np.int64),
        val=val,
        train=train if has_train else None,
        length=length,
    )
    return curves, names, skipped


def write(curves: CurveSet, names: list[str], out: str | os.PathLike[str]) -> None:
    """Save the curves with the trial names (``trial``, which the loader ignores)."""
    arrays = {
        "steps": curves.steps,
        "val": curves.val,
        "length": curves.length,
        "trial": np.asarray(names, dtype=str),
    }
    if curves.train is not None:
        arrays["train"] = curves.train
    np.savez_compressed(out, **arrays)


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
