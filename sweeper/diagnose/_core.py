"""Judge one finished (or running) so-vits-svc run by replaying its logs through detectors."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sweeper.detect import PlateauDetector, Reason, Verdict, first_stop
from sweeper.diagnose._episodes import (
    RECENT,
    blow_up,
    constant,
    fall_since,
    lone_last_non_finite,
    lowest_level,
    lr_changes,
    non_finite_tail,
    stop_stands,
    tail_spike,
)
from sweeper.diagnose._keep import Pick, advise
from sweeper.diagnose._overall import overall_verdicts, raw_nan_start
from sweeper.diagnose._smooth import smoothed_best
from sweeper.diagnose._trial import with_held_out, with_kept_checkpoints
from sweeper.diagnose._verdicts import settle
from sweeper.errors import InputError
from sweeper.logs import RunLog, Series, condense

# Convergence signals in the order they are reported; other ``val/*`` tags follow them.
CONVERGENCE = ("val/mel", "loss/g/mel", "loss/g/total", "loss/g/kl", "loss/g/lf0")
# The learning-rate schedule: logged beside the losses, never judged.
SCHEDULES = ("learning_rate", "lr")
# Health guards: watched for blow-ups, never judged for convergence (GAN terms oscillate).
HEALTH = ("loss/d/total", "loss/g/gen", "loss/g/fm")
DESCRIPTIONS = {
    "val/mel": "validation mel L1",
    "loss/g/mel": "training mel, x c_mel",
    "loss/g/total": "generator total",
    "loss/g/kl": "KL term",
    "loss/g/lf0": "F0 predictor",
    "loss/d/total": "discriminator",
    "loss/g/gen": "generator adversarial",
    "loss/g/fm": "feature matching",
}


@dataclass(frozen=True)
class SignalReport:
    """What one convergence signal says, replayed through its own PlateauDetector.

    Attributes:
        name: the tag, e.g. ``loss/g/mel``.
        final: the verdict after the last logged step.
        first_stop: the first verdict that would have stopped the run, or None.
        checkpoint: ``G_<step>.pth`` advice for best_step, or None with no best step.
        points, finite: logged points, and how many of them are finite.

    ``final`` is the detector's last verdict with two readings of the whole record on top:
    a signal NaN or inf from some step to the end is DIVERGED since then (the detector skips
    such values, training does not recover from them); and a converged stop after which the
    level has not clearly fallen (:func:`fell_clearly`) stands, though at the last step the
    detector, looking again, is no longer sure (a flat curve's bound wanders with its noise).
    """

    name: str
    final: Verdict
    first_stop: Verdict | None
    checkpoint: str | None
    points: int
    finite: int
    last_step: int
    recent_level: float | None = None  # median of the last RECENT finite values
    lowest_level: float | None = None  # lowest median of RECENT neighbouring finite values
    fall_after_stop: tuple[float, float] | None = None  # fall_since(first_stop.step)
    non_finite_since: int | None = None  # first step of a NaN/inf run lasting to the end
    blow_up: Verdict | None = None  # first explosion (a mel loss over 2x its best), if any
    advice: str | None = None  # the checkpoint clause: "keep G_..." or why none is usable
    pick: Pick | None = None  # the file advised, when a known one is (JSON's checkpoint_*)

    @property
    def earliest_stop(self) -> Verdict | None:
        """The first verdict that would have stopped a sweep: a plateau stop or a blow-up."""
        stops = [v for v in (self.first_stop, self.blow_up) if v is not None]
        return min(stops, key=lambda v: v.step, default=None)

    @property
    def diverged_since(self) -> int | None:
        """First step of the divergence that lasts to the end: a NaN tail or a blow-up."""
        if self.final.reason is not Reason.DIVERGED:
            return None
        if self.non_finite_since is not None:
            return self.non_finite_since
        return None if self.blow_up is None else self.blow_up.step

    @property
    def stop(self) -> Verdict | None:
        """The stop behind the final verdict: for a diverged signal the divergence, even
        after an earlier converged stop (one event, one step in text, JSON and plot)."""
        since = self.diverged_since
        if since is not None:
            return dataclasses.replace(self.final, step=since)
        return self.earliest_stop

    @property
    def stop_step(self) -> int | None:
        stop = self.stop
        return None if stop is None else stop.step

    @property
    def best_step(self) -> int | None:
        return self.final.best_step

    @property
    def rise(self) -> float | None:
        """How far the recent level sits above the lowest one (0.33 = 33 %)."""
        lowest, recent = self.lowest_level, self.recent_level
        if lowest is None or recent is None or lowest <= 0:
            return None
        return recent / lowest - 1.0

    def evidence(self, key: str) -> float | None:
        """A finite number from the final verdict's evidence, else None."""
        value = self.final.evidence.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        return None


@dataclass(frozen=True)
class HealthReport:
    """A health guard: logged for blow-ups, not judged for convergence."""

    name: str
    points: int
    last_step: int
    last_value: float
    recent_median: float | None  # median of the finite values in the last 10 % of points
    non_finite: int
    first_non_finite_step: int | None


@dataclass(frozen=True)
class Diagnosis:
    """Everything ``sweeper diagnose`` reports about one run."""

    source: Path
    overall: Verdict | None  # the combined detector's verdict after the last step
    overall_stop: Verdict | None  # its first stopping verdict, if any
    signals: dict[str, SignalReport]
    health: dict[str, HealthReport]
    notes: list[str] = field(default_factory=list)
    budget: int | None = None
    confidence: float = 0.95
    epsilon: float = 0.015  # filled from PlateauDetector's default by diagnose()
    restarts: int = 0
    overwritten: int = 0
    overall_since: Verdict | None = None  # where the overall verdict's reason took hold

    @property
    def overfitting_judged(self) -> bool:
        return any(name.startswith("val/") for name in self.signals)


def is_convergence_signal(name: str) -> bool:
    return name in CONVERGENCE or name.startswith("val/")


def is_health_signal(name: str) -> bool:
    return name in HEALTH or name.startswith("grad_norm")


def diagnose(
    run: RunLog, *, signals: Sequence[str] | None = None, budget: int | None = None
) -> Diagnosis:
    """Replay ``run`` through one PlateauDetector per signal and a ConvergenceDetector overall.

    Args:
        run: what :func:`sweeper.logs.read_run` returned. A signal logged at more than
            1000 points is judged on means over equal step spans (:func:`condense`).
        signals: restrict the report to these tags; None means every convergence signal and
            health guard present.
        budget: the step training was meant to reach; None judges "training as long again".

    Raises:
        InputError: an unknown signal name (the message lists those present), a budget that
            is not a positive step count, or a run with no signal to judge.

    Example:
        >>> diagnosis = diagnose(read_run("logs/44k"))  # doctest: +SKIP
        >>> diagnosis.signals["loss/g/mel"].stop_step  # doctest: +SKIP
        12400
    """
    if budget is not None and budget <= 0:
        raise InputError(f"--budget must be a positive number of steps, got {budget}")
    run = with_held_out(run)  # a sweeper trial's val/* are in its result.json
    run = with_kept_checkpoints(run)  # a cleaned trial's G files: its newest checkpoint
    run = lone_last_non_finite(run)  # one NaN/inf at the very end: no divergence yet
    raw = run.series  # where a NaN tail starts and how long it is: read from every point
    run = condense(run)  # a run logged every step is judged on span means
    chosen = _choose(run, signals)
    judged = [name for name in chosen if not is_health_signal(name)]
    guards = [name for name in chosen if is_health_signal(name)]
    if not judged and not guards:
        diffusion = "validation/loss" in run.series or "train/loss" in run.series
        raise InputError(
            f"no convergence signal in {run.source}: found "
            f"{', '.join(sorted(run.series)) or 'no tags'}"
            f"{' (shallow-diffusion logs, not judged)' if diffusion else ''}; "
            "expected loss/g/mel, loss/g/total or val/* (a so-vits-svc run)"
        )
    reports = {name: _replay(name, run, budget, raw[name]) for name in judged}
    health = {name: _health(name, run.series[name]) for name in guards}
    primary = judged[0] if signals is not None and judged else None
    overall_stop, overall, overall_since = (
        overall_verdicts(run, primary, budget, judged) if judged else (None, None, None)
    )
    if overall is not None and overall.reason is Reason.DIVERGED:
        overall_stop, overall_since = raw_nan_start(
            overall_stop, overall_since, reports, raw
        )
    reports = settle(reports, run, overall, overall_since)
    notes = list(run.notes)
    for name in judged:
        report, series = reports[name], run.series[name]
        note = constant(name, series, RECENT)
        if note is None and report.final.reason is not Reason.DIVERGED:
            note = tail_spike(name, series, RECENT)
        if note is not None:
            notes.append(note)
    # A guard at 0 throughout read "ok" with no word (the quick space trains without its
    # GAN: use_gan false; a probe, 2026-12-08).
    silent = [n for n in guards if (v := run.series[n].values).size and not np.any(v)]
    if silent:
        notes.append(
            f"{', '.join(silent)} {'is' if len(silent) == 1 else 'are'} 0 at every point: the "
            "term is off (use_gan: false, or a weight of 0) or not logged, so its health says "
            "nothing"
        )
    lr = lr_changes(next((run.series[n] for n in SCHEDULES if n in run.series), None))
    if lr is not None:
        notes.append(lr)
    last = max((int(s.steps[-1]) for s in run.series.values() if len(s) > 0), default=None)
    if budget is not None and last is not None and budget <= last:
        notes.append(
            f"the budget ({budget}) is at or before the last logged step ({last}): nothing is "
            "left to gain by definition, so every judged signal reads as converged"
        )
    defaults = PlateauDetector("defaults")  # the settings every replay above used
    return Diagnosis(
        source=run.source,
        overall=overall,
        overall_stop=overall_stop,
        overall_since=overall_since,
        signals=reports,
        health=health,
        notes=notes,
        budget=budget,
        confidence=1.0 - float(defaults.alpha),
        epsilon=float(defaults.epsilon),
        restarts=run.restarts,
        overwritten=run.overwritten,
    )


def _choose(run: RunLog, signals: Sequence[str] | None) -> list[str]:
    present = sorted(name for name, series in run.series.items() if len(series) > 0)
    if signals is None:
        ordered = [name for name in CONVERGENCE if name in present]
        ordered += [n for n in present if n.startswith("val/") and n not in ordered]
        ordered += [n for n in HEALTH if n in present]
        return ordered + [n for n in present if n.startswith("grad_norm")]
    unknown = [name for name in signals if name not in present]
    if unknown:
        raise InputError(
            f"unknown signal {unknown[0]!r}: {run.source} holds {', '.join(present)}; "
            "pass one of those to --signal"
        )
    schedules = [name for name in signals if name in SCHEDULES]
    if schedules:
        losses = [n for n in present if n not in SCHEDULES]
        raise InputError(
            f"{schedules[0]} is the learning-rate schedule, set by you, not a loss to judge; "
            f"pass one of {', '.join(losses)} to --signal"
        )
    return list(dict.fromkeys(signals))  # keep the order given, drop repeats


def _replay(name: str, run: RunLog, budget: int | None, raw: Series) -> SignalReport:
    series = run.series[name]
    detector = PlateauDetector(name, budget=budget)
    stream = ((int(s), {name: float(v)}) for s, v in zip(series.steps, series.values, strict=True))
    first, last = first_stop(detector, stream)
    if last is None:  # a Series is never empty when read from a log; guard anyway
        raise InputError(f"{name} in {run.source} has no points; pick another --signal")
    finite = series.values[np.isfinite(series.values)]
    dead = non_finite_tail(raw)  # not of the span means: their steps are each span's last
    episode = blow_up(name, series)
    if dead is None and episode is not None and episode[1]:  # blown up to the end
        last = dataclasses.replace(
            last, reason=Reason.DIVERGED, message=episode[0].message.removeprefix("diverged: ")
        )
    elif dead is not None:
        since, count = dead
        last = dataclasses.replace(
            last,
            reason=Reason.DIVERGED,
            message=f"{name} is NaN or inf from step {since} to the end ({count} point(s))",
        )
        if first is None or first.step > since:
            first = dataclasses.replace(last, step=since)
    elif stop_stands(first, last, series, detector.epsilon):
        last = dataclasses.replace(last, reason=Reason.CONVERGED)
    best = smoothed_best(series.steps, series.values)
    if best is not None:  # the smoothed curve's lowest point, not a lucky draw of 3
        last = dataclasses.replace(last, best_step=best)
    checkpoint, advice, pick = advise(last.best_step, run)
    return SignalReport(
        name=name,
        final=last,
        first_stop=first,
        checkpoint=checkpoint,
        advice=advice,
        pick=pick,
        points=len(series),
        finite=int(finite.size),
        last_step=int(series.steps[-1]),
        recent_level=float(np.median(finite[-RECENT:])) if finite.size > 0 else None,
        lowest_level=lowest_level(finite),
        non_finite_since=None if dead is None else dead[0],
        blow_up=None if episode is None else episode[0],
        fall_after_stop=None if first is None else fall_since(series, first.step),
    )


def _health(name: str, series: Series) -> HealthReport:
    finite = np.isfinite(series.values)
    tail = series.values[-max(1, len(series) // 10) :]
    tail = tail[np.isfinite(tail)]
    bad = np.flatnonzero(~finite)
    return HealthReport(
        name=name,
        points=len(series),
        last_step=int(series.steps[-1]),
        last_value=float(series.values[-1]),
        recent_median=float(np.median(tail)) if tail.size > 0 else None,
        non_finite=int(bad.size),
        first_non_finite_step=int(series.steps[bad[0]]) if bad.size > 0 else None,
    )
