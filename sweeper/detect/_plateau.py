"""Plateau: stop only when confident that little improvement is left over the horizon."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeper.detect._base import Detector
from sweeper.detect._best import BestTracker
from sweeper.detect._history import History
from sweeper.detect._stats import LineFit, robust_line, spend, z_quantile
from sweeper.detect._verdict import Reason, Verdict

# A new look (and a new share of alpha) each time the step count grows 4x: by then the
# last-75 % window holds none of the points of the previous look. The whole-history window
# overlaps its earlier looks; for correlated looks the union bound only errs on the safe side.
LOOK_GROWTH = 4.0
# Trailing windows tried, as fractions of the steps so far (Bonferroni over them). The whole
# history is the one with power on a curve flat from the start: its log-step range is ~3x
# that of the last half, so its slope error is ~3x smaller. On a curve decelerating in
# log-steps its average slope over-states what is left (safe side); one steepening late is
# what the steepening guard is for.
WINDOWS = (0.5, 0.75, 1.0)
# A trend from fewer points is at the mercy of the slow wander of GAN losses.
WINDOW_POINTS = 30


@dataclass(frozen=True)
class ImprovementBound:
    """How much better the metric is likely to get over the horizon, relative to its level."""

    estimate: float  # point estimate of the relative improvement left (negative: rising)
    upper: float  # one-sided upper confidence bound on it
    noise_cv: float  # robust noise scale / level in the window used
    window_start: float  # first step of the window that gave the bound
    points: int  # points in that window


def improvement_bound(
    steps: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    horizon_steps: float,
    alpha: float,
    windows: tuple[float, ...] = (0.5, 0.75),
    min_points: int = 20,
    linear_steps: bool = False,
) -> ImprovementBound | None:
    """Upper confidence bound on the relative improvement over the next ``horizon_steps``.

    The trend is a robust line of log(value) on log(step) over trailing windows (by default
    the last 50 % and the last 75 % of the steps so far, at least 30 points each).
    Extrapolating that slope over the horizon over-states what a decelerating curve has
    left, so the bound errs on the side of continuing. Each window is a separate test at
    ``alpha / len(windows)`` (Bonferroni) and the smallest bound wins. The slope's error is
    robust to spikes (Huber) and to autocorrelated noise and slow wander (Newey-West); a
    rising trend counts as flat, never as negative improvement. Where the curve clearly
    steepens in log-steps (a fall linear in steps, a late knee), the slope at the window's
    end is extrapolated instead of the window's average.

    ``linear_steps=True`` fits the trend against the step itself: then the bound only assumes
    the curve decelerates (is convex in steps), which holds for almost every loss but makes it
    much wider; for decisions where a wrong stop costs most, such as pruning a trial that
    might still win.
    """
    t = float(steps[-1])
    # The horizon in the units of x: log-steps, or (scaled to the step so far) steps.
    x_all = steps / max(t, 1.0) if linear_steps else np.log1p(steps)
    horizon_log = (
        horizon_steps / max(t, 1.0) if linear_steps else math.log1p(horizon_steps / (t + 1.0))
    )
    z = z_quantile(alpha / len(windows))
    # Positive losses: work in log space, where the noise is multiplicative-ish and a slope
    # is a relative change. Others (KL can go negative): linear, relative to the level or,
    # near zero, to the curve's range.
    positive = bool(np.all(values > 0))
    y_all = np.log(values) if positive else values
    span = float(np.max(values) - np.min(values))
    best: ImprovementBound | None = None
    for fraction in windows:
        mask = steps >= t * (1.0 - fraction)
        if mask.sum() < WINDOW_POINTS:
            mask = np.zeros_like(mask)
            mask[-WINDOW_POINTS:] = True
        if mask.sum() < min_points:
            continue
        fit = robust_line(x_all[mask], y_all[mask], weights[mask])
        if not math.isfinite(fit.slope_se):
            continue
        if positive:
            scale = 1.0
        else:
            level = fit.at(float(x_all[-1]))
            scale = abs(level) if abs(level) > 0.1 * span else max(span, 1e-12)
        estimate = -fit.slope * horizon_log / scale
        # What lies ahead is never worse than now, and a rising stretch of a GAN loss is more
        # often slow wander than a trend: it counts as flat, buying no confidence of its own.
        upper = (max(-fit.slope, 0.0) + z * fit.slope_se) * horizon_log / scale
        steep = _steepening(x_all[mask], y_all[mask], weights[mask], fit)
        if steep is not None:
            # Falling faster and faster in log-steps (a linear fall, a late knee): the window's
            # average slope under-states what is left; extrapolate the end slope instead.
            end_slope, end_se = steep
            upper = max(upper, (max(-end_slope, 0.0) + z * end_se) * horizon_log / scale)
        candidate = ImprovementBound(
            estimate=estimate,
            upper=upper,
            noise_cv=fit.sigma / scale,
            window_start=float(steps[mask][0]),
            points=int(mask.sum()),
        )
        if best is None or candidate.upper < best.upper:
            best = candidate
    return best


def _steepening(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, line: LineFit
) -> tuple[float, float] | None:
    """(slope at the window's end, its error) when the curve clearly steepens, else None.

    A weighted quadratic on the spike-clipped window; "clearly" is a curvature beyond two
    standard errors. The errors borrow the line's autocorrelation inflation.
    """
    clipped = np.clip(y, line.at(x) - 3 * line.sigma, line.at(x) + 3 * line.sigma)
    xc = x - float(np.average(x, weights=w))
    design = np.stack([np.ones_like(xc), xc, xc * xc], axis=1)
    gram = design.T @ (design * w[:, None])
    try:
        cov_unit = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return None
    coef = cov_unit @ (design.T @ (w * clipped))
    resid = clipped - design @ coef
    dof = max(float(w.sum()) - 3.0, 1.0)
    sigma2 = float(np.sum(w * resid * resid)) / dof
    dx = x - float(np.average(x, weights=w))
    naive_se = math.sqrt(sigma2 / max(float(np.sum(w * dx * dx)), 1e-300))
    inflation = (line.slope_se / naive_se) ** 2 if naive_se > 0 else 1.0
    cov = cov_unit * sigma2 * max(inflation, 1.0)
    if not coef[2] < -2.0 * math.sqrt(cov[2, 2]):
        return None
    end = float(xc[-1])
    gradient = np.array([0.0, 1.0, 2.0 * end])
    return float(coef[1] + 2.0 * coef[2] * end), float(math.sqrt(gradient @ cov @ gradient))


class PlateauDetector(Detector):
    """CONVERGED once, with confidence 1 − alpha, less than ``epsilon`` improvement is left.

    "Left" means over the horizon: up to ``budget`` when the run has one (a sweep trial),
    otherwise over as many steps again as were already trained (``horizon`` = 1.0). The null
    hypothesis is "still improving by at least epsilon"; only its rejection stops the run,
    so noise makes the detector wait, never stop. The trend is tested over the last 50 %,
    the last 75 % and all of the steps so far (``windows``, Bonferroni); the tightest bound
    counts. Repeated checks spend alpha over looks:
    each 4x growth of the step count since the first check (when the last-75 % window has
    renewed all its points) is a new look k and gets alpha / (k (k + 1)), which sums to
    alpha; ``confirm`` consecutive rejections are required within a look.

    NaN and inf values are skipped (the divergence guard judges them).

    Example:
        >>> det = PlateauDetector("val/mel", budget=10_000)
        >>> verdict = det.update(100, {"val/mel": 31.2})
        >>> verdict.reason.value
        'continue'
    """

    def __init__(
        self,
        metric: str,
        *,
        budget: int | None = None,
        horizon: float = 1.0,
        epsilon: float = 0.015,
        alpha: float = 0.05,
        confirm: int = 2,
        min_points: int = 20,
        capacity: int = 512,
        windows: tuple[float, ...] = WINDOWS,
    ) -> None:
        if budget is not None and budget <= 0:
            raise ValueError(f"budget is the last training step and must be > 0, got {budget=}")
        if not horizon > 0:
            raise ValueError(f"horizon is a multiple of the steps trained, > 0; got {horizon=}")
        if not 0 < epsilon < 1:
            raise ValueError(f"epsilon is a relative improvement in (0, 1), got {epsilon=}")
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha is a false-stop probability in (0, 0.5), got {alpha=}")
        if confirm < 1:
            raise ValueError(f"confirm counts consecutive checks and must be >= 1, got {confirm=}")
        if min_points < 8:
            raise ValueError(f"min_points must be >= 8 to fit a trend, got {min_points=}")
        self.metric = metric
        self.budget = budget
        self.horizon = horizon
        self.epsilon = epsilon
        self.alpha = alpha
        self.confirm = confirm
        self.min_points = min_points
        self.windows = windows
        self._history = History(capacity)
        self._best = BestTracker()
        self.reset()

    def reset(self) -> None:
        self._history.clear()
        self._best.reset()
        self._last_step: int | None = None
        self._first_check: int | None = None
        self._streak = 0
        self._verdict: Verdict | None = None

    def _horizon_steps(self, step: int) -> float:
        if self.budget is not None:
            return float(max(self.budget - step, 0))
        return self.horizon * max(step, 1)

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        step = int(step)
        if self._last_step is not None and step <= self._last_step:
            return self._verdict or self._continue(step, f"step {step} repeats; ignored", {})
        value = metrics.get(self.metric)
        if value is None:
            if self._verdict is not None:
                return self._verdict
            return self._continue(step, f"no {self.metric} reported yet", {})
        self._last_step = step
        value = float(value)
        if not math.isfinite(value):
            # No new evidence: a NaN must not count as one more confirming check.
            previous = self._verdict or self._continue(step, f"{self.metric} is {value}", {})
            self._verdict = dataclasses.replace(previous, step=step)
            return self._verdict
        self._history.add(step, value)
        self._best.add(step, value)
        self._verdict = self._judge(step)
        return self._verdict

    def _judge(self, step: int) -> Verdict:
        n = len(self._history)
        if n < self.min_points:
            return self._continue(
                step,
                f"{self.metric}: {n} of {self.min_points} points needed to judge a trend",
                {"points": n},
            )
        horizon = self._horizon_steps(step)
        if self._first_check is None:
            self._first_check = step
        growth = max(step, 1) / max(self._first_check, 1)
        look = 1 + math.floor(math.log(growth) / math.log(LOOK_GROWTH))
        alpha_look = spend(self.alpha, look)
        steps, values, weights = self._history.arrays()
        if horizon <= 0:
            # The budget is spent: nothing is left to gain by definition.
            bound = ImprovementBound(0.0, 0.0, 0.0, float(steps[0]), n)
        else:
            bound = improvement_bound(
                steps, values, weights, horizon, alpha_look, self.windows, self.min_points
            )

        if bound is None:
            return self._continue(step, f"{self.metric}: too few points in the window", {})
        evidence = {
            "improvement_left": bound.estimate,
            "improvement_left_upper": bound.upper,
            "epsilon": self.epsilon,
            "horizon_steps": horizon,
            "noise_cv": bound.noise_cv,
            "best_value": self._best.value,
            "points": n,
            "look": look,
            "alpha_look": alpha_look,
        }
        if bound.upper < self.epsilon:
            self._streak += 1
        else:
            self._streak = 0
        if self._streak >= self.confirm:
            return Verdict(
                Reason.CONVERGED,
                step,
                self._best.step,
                f"{self.metric} has converged: at most {100 * max(bound.upper, 0):.1f} % "
                f"improvement left over the next {horizon:.0f} steps "
                f"({100 * (1 - self.alpha):.0f} % confidence; estimate "
                f"{100 * bound.estimate:.1f} %)",
                self.metric,
                evidence,
            )
        return self._continue(
            step,
            f"{self.metric} is still improving: about {100 * bound.estimate:.1f} % better "
            f"likely over the next {horizon:.0f} steps (could be up to "
            f"{100 * bound.upper:.1f} %)",
            evidence,
        )

    def _continue(self, step: int, message: str, evidence: dict) -> Verdict:
        return Verdict(Reason.CONTINUE, step, self._best.step, message, self.metric, evidence)

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self._history.state_dict(),
            "best": self._best.state_dict(),
            "last_step": self._last_step,
            "first_check": self._first_check,
            "streak": self._streak,
            "verdict": None if self._verdict is None else self._verdict.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._history.load_state_dict(state["history"])
        self._best.load_state_dict(state["best"])
        self._last_step = state["last_step"]
        self._first_check = state["first_check"]
        self._streak = int(state["streak"])
        self._verdict = Verdict.from_dict(state["verdict"]) if state["verdict"] else None
