"""Plateau: stop only when confident that little improvement is left over the horizon."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from sweeper.detect._base import Detector, metric_value
from sweeper.detect._best import BestTracker
from sweeper.detect._history import History
from sweeper.detect._stats import spend
from sweeper.detect._trend import WINDOWS, improvement_bound
from sweeper.detect._verdict import Reason, Verdict

# A new look (and a new share of alpha) each time the step count grows 4x: by then the
# last-75 % window holds none of the points of the previous look. The whole-history window
# overlaps its earlier looks; for correlated looks the union bound only errs on the safe side.
LOOK_GROWTH = 4.0
# A trend is not extrapolated over more than this many times the steps it was measured on.
# Early in a long budget a gentle fall linear in steps is flat in log-steps and inside the
# noise; read as flat, a 10 % fall over the budget at 1 % noise was stopped at 9-20 % of it
# with 8 % still to come (16 of 20 seeds; 4 of 20 with this rule). Stops before a quarter
# of the budget were few on the generated sets (seed 0: 38.9 -> 38.5 % saved on plateaus).
MAX_REACH = 3.0
# Without a budget (diagnose's "as long again") MAX_REACH cannot hold a stop back, and at
# 20-21 points a fall linear in steps, still flat in log-steps, read as converged: a 4 %
# fall so far with 50 % to come, at 3 % noise, in 7 of 20 seeds (1 of 20 at 30 points,
# none at 40). At so-vits-svc's log interval (200 steps) a 20 % fall over 60k steps was
# still converged at 40-60 points in 4 of 20 seeds with calibrated slope errors, in none
# with 60 (2026-12-08). So no converged stop without a budget before this many points.
NO_BUDGET_POINTS = 60


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
    alpha; ``confirm`` consecutive rejections are required, each at the level of the look
    it falls in (a streak may span two looks).

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
        value = metric_value(self.metric, metrics.get(self.metric))
        if value is None:
            if self._verdict is not None:
                return self._verdict
            return self._continue(step, f"no {self.metric} reported yet", {})
        self._last_step = step
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
        # Past the budget nothing is left to gain by definition (a zero horizon), but the
        # fit still measures the noise, which the pruner's margins need.
        bound = improvement_bound(
            steps, values, weights, max(horizon, 0.0), alpha_look, self.windows, self.min_points
        )

        if bound is None:
            return self._continue(step, f"{self.metric}: too few points in the window", {})
        evidence = {
            "improvement_left": bound.estimate,
            "improvement_left_upper": bound.upper,
            "improvement_left_lower": bound.lower,
            "epsilon": self.epsilon,
            "horizon_steps": horizon,
            "noise_cv": bound.noise_cv,
            "best_value": self._best.value,
            "points": n,
            "look": look,
            "alpha_look": alpha_look,
        }
        reach = horizon / max(step, 1)
        enough = self.budget is not None or n >= NO_BUDGET_POINTS
        if bound.upper < self.epsilon and reach <= MAX_REACH and enough:
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
        if bound.upper < self.epsilon and not enough:
            evidence["points_needed"] = NO_BUDGET_POINTS
            return self._continue(
                step,
                f"{self.metric} looks flat (at most {100 * max(bound.upper, 0):.1f} % "
                f"improvement left on its trend), but {n} points are too few to call it "
                f"converged without a budget; judged again at {NO_BUDGET_POINTS} points",
                evidence,
            )
        if bound.upper < self.epsilon and reach <= MAX_REACH:  # the first of `confirm` checks
            return self._continue(
                step,
                f"{self.metric} looks flat (at most {100 * max(bound.upper, 0):.1f} % "
                f"improvement left over the next {horizon:.0f} steps); to be confirmed at the "
                "next check",
                evidence,
            )
        if bound.upper < self.epsilon:  # reach > MAX_REACH: too early to extrapolate
            return self._continue(
                step,
                f"{self.metric} looks flat (at most {100 * max(bound.upper, 0):.1f} % "
                f"improvement left on its trend), but the {horizon:.0f} steps left are more "
                f"than {MAX_REACH:g}x the {step} trained; judged again from step "
                f"{math.ceil((step + horizon) / (1 + MAX_REACH))}",
                evidence,
            )
        if bound.lower <= 0:
            # A positive estimate within the noise is no sign of improvement: a flat curve
            # read "still improving: about 4.5 % better" in 2 of 6 seeds.
            estimate = f" (estimate {100 * bound.estimate:.1f} %)" if bound.estimate > 0 else ""
            return self._continue(
                step,
                f"{self.metric} shows no clear downward trend, but up to "
                f"{100 * bound.upper:.1f} % improvement over the next {horizon:.0f} steps "
                f"cannot be ruled out yet{estimate}",
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
