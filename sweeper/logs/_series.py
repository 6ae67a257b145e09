"""What a run's logs hold once read: scalar series by tag, checkpoints, and notes."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class Series:
    """One scalar signal over training steps.

    Attributes:
        steps: int64, strictly increasing (restarts are already resolved).
        values: float64, same length; NaN and inf are kept as logged.
    """

    steps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps, dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64)
        if steps.ndim != 1 or values.ndim != 1 or steps.shape != values.shape:
            raise ValueError(
                f"Series needs two 1-D arrays of equal length, got steps {steps.shape} "
                f"and values {values.shape}"
            )
        if steps.size > 1 and not bool(np.all(np.diff(steps) > 0)):
            bad = int(np.argmax(np.diff(steps) <= 0)) + 1
            raise ValueError(
                f"Series steps must be strictly increasing, but step {int(steps[bad])} "
                f"follows {int(steps[bad - 1])}; resolve restarts before building a Series"
            )
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def non_finite(self) -> int:
        """How many values are NaN or inf."""
        return int(np.count_nonzero(~np.isfinite(self.values)))


@dataclass
class RunLog:
    """Everything read from one so-vits-svc run.

    Attributes:
        source: the file or folder that was read.
        series: tag (TensorBoard naming, e.g. ``loss/g/mel``) -> Series.
        notes: plain sentences about what was seen: restarts, skipped lines, dropped records.
        checkpoints: steps of the ``G_<step>.pth`` files present beside the logs, sorted.
        kept_best: steps of the ``best/G_<step>.pth`` files beside them: where sovits-sweeper's
            trainers keep a trial's best, out of the way of the rolling checkpoints.
        best_dir: that folder, relative to the logs (``../../best`` for a so-vits-svc trial,
            whose logs are in ``run/logs/44k``).
        checkpoint_dir: where the ``checkpoints`` are, relative to the logs, with a trailing
            slash ("": beside them; a cleaned sweeper trial's newest Ray checkpoint else).
        logged_checkpoints: steps of ``G_<step>.pth`` the text log says were saved and not
            deleted since (they may have been removed by hand).
        restarts: how many times training started again within these logs.
        overwritten: how many logged points a later restart superseded.
        checkpoint_unit: what ``n`` in ``G_<n>.pth`` counts: ``step`` (so-vits-svc), or
            ``epoch`` (so-vits-svc-fork's default naming, where a step maps to no file name).
        save_every: steps between checkpoints (so-vits-svc saves G_<step>.pth every
            ``train.eval_interval``), from the ``config.json`` it copies beside the logs.
    """

    source: Path
    series: dict[str, Series] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checkpoints: tuple[int, ...] = ()
    kept_best: tuple[int, ...] = ()
    best_dir: str = "best"
    checkpoint_dir: str = ""
    logged_checkpoints: tuple[int, ...] = ()
    restarts: int = 0
    overwritten: int = 0
    checkpoint_unit: str = "step"
    save_every: int | None = None  # train.eval_interval of the config.json beside the logs


class Timeline:
    """Builds one tag's series where a later write wins at the same or later steps.

    A restart resumes from the last checkpoint, so it logs steps again that an earlier
    segment already logged; the final timeline keeps the latest segment's values.
    """

    def __init__(self) -> None:
        self._steps: list[int] = []
        self._values: list[float] = []
        self.overwritten = 0
        # (step it went back to, first and last step dropped) of the latest restart that
        # went back to or before the second step kept: training started over, not resumed.
        self.started_over: tuple[int, int, int] | None = None

    def add(self, step: int, value: float) -> bool:
        """Append one point; return True when it went back in steps (a restart)."""
        went_back = bool(self._steps) and step <= self._steps[-1]
        if went_back:
            cut = bisect.bisect_left(self._steps, step)
            # Back to the first logged step, or to the second one when the first was step 0
            # (the untrained model): resumed from G_0 or a base model, whose first logged step
            # is one log_interval in - training started over. Back to the second step of a run
            # whose first was later is a resume from its first checkpoint (log_interval ==
            # eval_interval, killed before the second save), not a start-over.
            if cut == 0 or (cut == 1 and self._steps[0] == 0):
                cut = 0
                self.started_over = (step, self._steps[0], self._steps[-1])
            self.overwritten += len(self._steps) - cut
            del self._steps[cut:]
            del self._values[cut:]
        self._steps.append(step)
        self._values.append(value)
        return went_back

    @property
    def last_step(self) -> int | None:
        return self._steps[-1] if self._steps else None

    def replace_last(self, value: float) -> None:
        """The last step logged again by the same writer: the later value wins."""
        self._values[-1] = value

    def series(self) -> Series:
        return Series(np.array(self._steps, dtype=np.int64), np.array(self._values))


def replaced_note(timelines: Iterable[Timeline]) -> str:
    """What restarts dropped: points a resumed run logged again, or a whole earlier run."""
    timelines = list(timelines)
    count = max((t.overwritten for t in timelines), default=0)
    over = next((t.started_over for t in timelines if t.started_over is not None), None)
    if over is not None:
        start, first, last = over
        return (
            f"training started over from step {start}, so the earlier run (steps "
            f"{first}..{last}) is ignored ({count} logged point(s) dropped in all)"
        )
    return f"{count} logged point(s) were replaced by a restart's values from where it resumed"


def describe_non_finite(series: dict[str, Series]) -> list[str]:
    """One note per tag holding NaN or inf, naming the first step where it happens."""
    notes = []
    for tag, s in sorted(series.items()):
        if s.non_finite > 0:
            first = int(s.steps[np.argmax(~np.isfinite(s.values))])
            notes.append(
                f"{tag}: {s.non_finite} non-finite value(s) (NaN/inf), first at step {first}"
            )
    return notes


def condense(run: RunLog, max_points: int = 1000) -> RunLog:
    """Means over equal step spans for the tags logged at more than ``max_points`` points.

    so-vits-svc logs every ``log_interval`` (200) steps, a few hundred points per run; its
    Lightning fork (voicepaw/so-vits-svc-fork) logs every step, 100 000 points and more. Each
    point is one batch's loss either way, so a mean over a span keeps the curve and shrinks
    only its noise, and the judgement costs what a few hundred points cost. A span's point
    sits at its last step (what was known then); a span holding NaN or inf keeps the first
    such value, so a blow-up still reads as one. Tags logged on the same steps stay aligned.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points=}")
    dense = {tag: s for tag, s in run.series.items() if len(s) > max_points}
    if not dense:
        return run
    series = dict(run.series)
    spans = set()
    for tag, s in dense.items():
        width = math.ceil((int(s.steps[-1]) - int(s.steps[0]) + 1) / max_points)
        series[tag] = _span_means(s, width)
        spans.add(width)
    logged = max(len(s) for s in dense.values())
    kept = max(len(series[tag]) for tag in dense)
    note = (
        f"{', '.join(sorted(dense))}: logged at up to {logged} points; judged and plotted as "
        f"means over {'/'.join(str(w) for w in sorted(spans))}-step spans (up to {kept} "
        "points), which keeps the curve and shrinks only the per-batch noise"
    )
    return replace(run, series=series, notes=[*run.notes, note])


def _span_means(series: Series, width: int) -> Series:
    span = (series.steps - series.steps[0]) // width
    starts = np.flatnonzero(np.r_[True, np.diff(span) > 0])
    ends = np.r_[starts[1:], span.size] - 1
    finite = np.isfinite(series.values)
    sums = np.add.reduceat(np.where(finite, series.values, 0.0), starts)
    values = sums / np.diff(np.r_[starts, span.size])
    bad = np.add.reduceat(~finite, starts) > 0
    if bad.any():
        first_bad = np.flatnonzero(~finite)
        # The first non-finite value of each span that holds one.
        values[bad] = series.values[first_bad[np.searchsorted(first_bad, starts[bad])]]
    return Series(series.steps[ends], values)
