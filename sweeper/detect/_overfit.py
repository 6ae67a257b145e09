"""Overfitting: the held-out metric climbs from its minimum while training still improves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sweeper.detect._base import Detector, metric_value
from sweeper.detect._best import BestTracker
from sweeper.detect._history import History
from sweeper.detect._noise import long_run_variance
from sweeper.detect._plateau import LOOK_GROWTH
from sweeper.detect._stats import robust_line, robust_sigma, rolling_median, spend, z_quantile
from sweeper.detect._verdict import Reason, Verdict


class OverfitDetector(Detector):
    """OVERFITTING when ``val_metric`` has risen above its best by more than its noise.

    Prechelt's GL (generalization loss: how far the held-out metric sits above its minimum)
    with a noise-aware threshold, and his UP (the rise persists): the mean of the last
    ``level_points`` held-out values must exceed the lowest such mean so far by more than
    ``z`` standard errors of a difference of two means (autocorrelation-inflated), plus the
    bias of picking the lowest of many means, and by at least ``min_rise`` relative; the
    training metric, when reported, must not be rising; and all this on ``confirm``
    consecutive held-out reports.

    Example:
        >>> det = OverfitDetector()
        >>> det.update(800, {"val/mel": 0.61, "loss/g/mel": 27.0}).reason.value
        'continue'
    """

    def __init__(
        self,
        val_metric: str = "val/mel",
        train_metric: str | None = "loss/g/mel",
        *,
        alpha: float = 0.05,
        min_rise: float = 0.01,
        level_points: int = 10,
        confirm: int = 3,
        min_points: int = 40,
        capacity: int = 512,
    ) -> None:
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha is a false-alarm probability in (0, 0.5), got {alpha=}")
        if not 0 <= min_rise < 1:
            raise ValueError(f"min_rise is a relative rise in [0, 1), got {min_rise=}")
        if level_points < 3:
            raise ValueError(f"level_points must be >= 3, got {level_points=}")
        if confirm < 1:
            raise ValueError(f"confirm counts consecutive checks, >= 1; got {confirm=}")
        if min_points < 2 * level_points:
            raise ValueError(
                f"min_points must be >= 2 * level_points ({2 * level_points}), got {min_points=}"
            )
        self.val_metric = val_metric
        self.train_metric = train_metric
        self.alpha = alpha
        self.min_rise = min_rise
        self.level_points = level_points
        self.confirm = confirm
        self.min_points = min_points
        self._val = History(capacity)
        self._train = History(capacity)
        self._best = BestTracker()
        self.reset()

    def reset(self) -> None:
        self._val.clear()
        self._train.clear()
        self._best.reset()
        self._last_steps: dict[str, int] = {}  # "val" / "train": its last recorded step
        # A state saved before steps were counted per metric: its one last step holds for
        # both metrics until each is recorded again.
        self._floor: int | None = None
        self._judged_at: int | None = None  # the step of the last held-out judgement
        self._before_judging: tuple[int, int | None] = (0, None)  # (streak, first check)
        self._streak = 0
        self._rising = False
        self._first_check: int | None = None
        self._verdict: Verdict | None = None

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        step = int(step)
        train = self._fresh("train", self.train_metric, step, metrics)
        value = self._fresh("val", self.val_metric, step, metrics)
        if train is None and value is None:
            # Neither metric is new at this step (absent, or a restart repeating them).
            return self._verdict or self._continue(step, f"no {self.val_metric} reported yet", {})
        if train is not None and math.isfinite(train):
            self._train.add(step, train)
            if value is None and self._judged_at == step:
                # The held-out value of this step came in an earlier call: judge the step
                # again with its training value, as if both had come together.
                self._streak, self._first_check = self._before_judging
                self._verdict = self._judge(step)
                return self._verdict
        if value is None or not math.isfinite(value):
            if self._verdict is None:
                self._verdict = self._continue(step, f"no finite {self.val_metric} yet", {})
            return self._verdict
        self._val.add(step, value)
        self._best.add(step, value)
        self._before_judging = (self._streak, self._first_check)
        self._judged_at = step
        self._verdict = self._judge(step)
        return self._verdict

    def _fresh(
        self, key: str, name: str | None, step: int, metrics: Mapping[str, float]
    ) -> float | None:
        """The value of ``name`` at this update, or None when it is absent or was already
        recorded at this step or later (a restart). Steps count per metric: a logger that
        sends the training and held-out values of one step in two calls must not have the
        second dropped as a repeat (an overfitting run was then named CONVERGED)."""
        if name is None:
            return None
        value = metric_value(name, metrics.get(name))
        last = self._last_steps.get(key, self._floor)
        if value is None or (last is not None and step <= last):
            return None
        self._last_steps[key] = step
        return value

    def _judge(self, step: int) -> Verdict:
        n = len(self._val)
        m = self.level_points
        # From two level windows on, the rise is measured (to name a stop another rule has
        # decided: a plateau rule may stop before ``min_points``); from ``min_points`` on it
        # can also be confirmed.
        judged = n >= self.min_points
        if n < 2 * m:
            return self._continue(
                step, f"{self.val_metric}: {n} of {self.min_points} points needed", {"points": n}
            )
        steps, values, weights = self._val.arrays()
        # Spikes (GAN bursts) clipped at 3 robust sigmas around a running median before
        # averaging, so one burst cannot fake a rise.
        centre = rolling_median(values, 11)
        # Two views of the noise, the larger trusted: around a running median (which follows
        # part of the noise, hence / 0.89, its share for white noise) and from differences of
        # neighbours (blind to the trend); on a short record each can come out far too small.
        sigma = max(
            robust_sigma((values - centre) * np.sqrt(weights)) / 0.89,
            robust_sigma(np.diff(values)) / math.sqrt(2.0),
        )
        clipped = centre + np.clip(values - centre, -3 * sigma, 3 * sigma)
        # Means of m consecutive points; the last one is "now", the lowest is "the best".
        means = np.convolve(clipped, np.ones(m) / m, mode="valid")
        now = float(means[-1])
        i_best = int(np.argmin(means[: len(means) - m]))  # a best at least m points back
        best = float(means[i_best])
        se_diff = math.sqrt(2.0 * long_run_variance(clipped, sigma) / m)
        if self._first_check is None and judged:
            self._first_check = step
        first = self._first_check if self._first_check is not None else step
        look = 1 + int(math.log(max(step, 1) / max(first, 1)) / math.log(LOOK_GROWTH))
        # Within a look the "now" mean renews every m points: about n / m separate checks
        # share the look's alpha (Bonferroni), or a flat curve would cry wolf by chance.
        z = z_quantile(spend(self.alpha, look) * m / max(n, m))
        # The lowest of K means sits about sqrt(2 ln K) of their errors below the truth.
        selection = math.sqrt(2.0 * math.log(max(len(means) / m, 2.0))) * se_diff / math.sqrt(2)
        threshold = z * se_diff + selection
        rise = now - best
        scale = abs(best) if best != 0 else 1.0
        gap = rise / scale
        train_trend, train_upper = self._train_trend(float(steps[i_best]))
        # Prechelt's UP read as a trend: past the best window, the held-out line rises
        # clearly while the training line clearly falls. The points after the window carry
        # no selection bias; the mean test above needs the rise to clear the noise of two
        # means, this one sees a steady climb sooner (it only names a stop, see ``rising``).
        after = i_best + m
        climb = robust_line(steps[after:].astype(float), clipped[after:], weights[after:])
        climb_lower = (climb.slope - z_quantile(self.alpha) * climb.slope_se) / scale
        train_falls = train_upper is not None and train_upper < 0.0
        climbing = climb_lower > 0.0 and gap > self.min_rise and train_falls
        # The same test made once, without the repeated-check correction: what ``rising``
        # reports, for naming a stop that another rule has already decided.
        once = max((z_quantile(self.alpha) * se_diff + selection) / scale, self.min_rise)
        evidence = {
            "generalization_gap": gap,
            "gap_threshold": max(threshold / scale, self.min_rise),
            "gap_threshold_once": once,
            "noise_cv": sigma / scale,
            "best_value": self._best.value,
            "train_trend": train_trend,
            "rise_per_step_lower": climb_lower,
            "climbing": climbing,
            "points": n,
            "look": look,
        }
        # A rise with no improvement before it is a warm-up or a run that has not begun to
        # learn (a lone trial whose warm-up lifted the loss was pruned as overfitting at its
        # 42nd report, 45 of 60 runs), unless training clearly improves meanwhile (a
        # fine-tuned model can overfit from its first step).
        improved = float(means[0]) - best > z_quantile(self.alpha) * se_diff
        evidence["improved_before_best"] = improved
        rising = judged and rise > threshold and gap > self.min_rise and (improved or train_falls)
        train_ok = train_trend is None or train_trend <= 0.0
        self._streak = self._streak + 1 if rising and train_ok else 0
        # A name decided on one look, at a stop another rule chose, needs the training
        # metric clearly improving (Prechelt: held-out worse *while* training improves);
        # "not getting worse" let flat held-out curves be named in up to 5 % of seeds.
        self._rising = (gap > once and train_falls) or climbing
        if self._streak >= self.confirm:
            train_words = (
                f"while {self.train_metric} kept improving"
                if train_trend is not None
                else "(no training metric to compare)"
            )
            return Verdict(
                Reason.OVERFITTING,
                step,
                self._best.step,
                f"{self.val_metric} is overfitting: {100 * gap:.1f} % above its best "
                f"{train_words}; noise allows {100 * evidence['gap_threshold']:.1f} %",
                self.val_metric,
                evidence,
            )
        if not judged:
            return self._continue(
                step,
                f"{self.val_metric} is {100 * gap:.1f} % above its best; {n} of "
                f"{self.min_points} points needed to confirm overfitting",
                evidence,
            )
        if rise > threshold and not improved:
            return self._continue(
                step,
                f"{self.val_metric} is {100 * gap:.1f} % above its best, set among its first "
                "values: a rise before any improvement (a warm-up?) is not overfitting unless "
                "the training metric clearly improves meanwhile",
                evidence,
            )
        return self._continue(
            step,
            f"{self.val_metric} is {100 * gap:.1f} % above its best "
            f"(overfitting needs > {100 * evidence['gap_threshold']:.1f} %)",
            evidence,
        )

    @property
    def rising(self) -> bool:
        """True when the latest check, taken alone (no correction for repeated checks),
        found the held-out metric above its best by more than its noise, or climbing clearly
        since its best window, while training clearly improved. Not a stop: it names a stop
        another rule decides at this step."""
        return self._rising

    def _train_trend(self, since: float) -> tuple[float | None, float | None]:
        """Confidence bounds (lower, upper) on the relative change per log-step of the
        training metric since ``since`` (None, None without data).

        The lower bound is positive only when training is clearly getting worse too, which
        is not overfitting; the upper bound is negative when training clearly improves.
        """
        if len(self._train) == 0:
            return None, None
        steps, values, weights = self._train.arrays()
        mask = steps >= since
        if mask.sum() < 5:
            return None, None
        fit = robust_line(np.log1p(steps[mask]), values[mask], weights[mask])
        level = abs(fit.at(float(np.log1p(steps[-1])))) or 1.0
        margin = z_quantile(self.alpha) * fit.slope_se
        return (fit.slope - margin) / level, (fit.slope + margin) / level

    def _continue(self, step: int, message: str, evidence: dict) -> Verdict:
        return Verdict(Reason.CONTINUE, step, self._best.step, message, self.val_metric, evidence)

    def state_dict(self) -> dict[str, Any]:
        return {
            "val": self._val.state_dict(),
            "train": self._train.state_dict(),
            "best": self._best.state_dict(),
            "last_steps": dict(self._last_steps),
            "floor": self._floor,
            "judged_at": self._judged_at,
            "before_judging": list(self._before_judging),
            "streak": self._streak,
            "rising": self._rising,
            "first_check": self._first_check,
            "verdict": None if self._verdict is None else self._verdict.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._val.load_state_dict(state["val"])
        self._train.load_state_dict(state["train"])
        self._best.load_state_dict(state["best"])
        if "last_steps" in state:
            self._last_steps = {key: int(s) for key, s in state["last_steps"].items()}
            self._floor = state["floor"]
            self._judged_at = state["judged_at"]
            streak, first = state["before_judging"]
            self._before_judging = (int(streak), first)
        else:  # saved by the code of 2026-12-07 or before: one step for both metrics
            self._last_steps, self._floor = {}, state["last_step"]
            self._judged_at, self._before_judging = None, (0, None)
        self._streak = int(state["streak"])
        self._rising = bool(state.get("rising", False))
        self._first_check = state["first_check"]
        self._verdict = Verdict.from_dict(state["verdict"]) if state["verdict"] else None
