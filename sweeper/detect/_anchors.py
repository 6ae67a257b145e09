"""Faithful re-implementations of the early-stopping rules we compare against (the anchors).

Each follows its original's arithmetic and quirks (see docs in each class) and speaks our
vocabulary: plateau rules stop with CONVERGED, Prechelt's rise rules with OVERFITTING, and only
Lightning's non-finite check says DIVERGED. ``best_step`` is the step of the best value as the
original defines it. Non-finite numbers in ``state_dict`` are stored as strings ("nan", "inf").
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from sweeper.detect._base import Detector
from sweeper.detect._verdict import EvidenceValue, Reason, Verdict

Outcome = tuple[Reason, str, dict[str, EvidenceValue]]


def _enc(value: Any) -> Any:
    """JSON-safe: lists element-wise, non-finite floats as "nan"/"inf"/"-inf"."""
    if isinstance(value, list):
        return [_enc(v) for v in value]
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return float(value) if isinstance(value, str) else value


def _sign(mode: str) -> float:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode=}")
    return 1.0 if mode == "min" else -1.0


class _Anchor(Detector):
    """Stream bookkeeping shared by the anchors; subclasses implement ``_observe``."""

    _sign = 1.0  # +1 minimise, -1 maximise: rules work on sign * value
    # the rule's state attributes and their initial values (numbers, None or lists of floats)
    _STATE: ClassVar[dict[str, Any]] = {}
    _OWN_BEST = False  # True when the rule defines "best" itself (patience); else the minimum

    def __init__(self, metric: str) -> None:
        if not metric:
            raise ValueError(f"metric must be a non-empty metric name, got {metric=}")
        self.metric = metric
        self.reset()

    def reset(self) -> None:
        self._last_step: int | None = None
        self._n = 0  # accepted reports (Keras' epoch index)
        self._best = math.inf  # sign * best value, as the original defines "best"
        self._best_step: int | None = None
        self._verdict: Verdict | None = None
        for name, initial in self._STATE.items():
            setattr(self, name, copy.copy(initial))

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        if self.metric not in metrics or (self._last_step is not None and step <= self._last_step):
            if self._verdict is not None:
                return self._verdict
            return Verdict(Reason.CONTINUE, int(step), None, f"no {self.metric} yet", self.metric)
        value = self._sign * float(metrics[self.metric])
        if not self._OWN_BEST and math.isfinite(value) and value < self._best:
            self._best, self._best_step = value, int(step)
        reason, message, evidence = self._observe(int(step), value, metrics)
        self._last_step, self._n = int(step), self._n + 1
        self._verdict = Verdict(reason, int(step), self._best_step, message, self.metric, evidence)
        return self._verdict

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_step": self._last_step,
            "n": self._n,
            "best": _enc(self._best),
            "best_step": self._best_step,
            "verdict": None if self._verdict is None else self._verdict.to_dict(),
            "rule": {name: _enc(getattr(self, name)) for name in self._STATE},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._last_step, self._n = state["last_step"], int(state["n"])
        self._best, self._best_step = _dec(state["best"]), state["best_step"]
        v = state["verdict"]
        self._verdict = None if v is None else Verdict.from_dict(v)
        for name in self._STATE:
            setattr(self, name, _dec(state["rule"][name]))

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        raise NotImplementedError


class PatienceDetector(_Anchor):
    """Keras / Lightning ``EarlyStopping``: stop after ``patience`` reports without improvement.

    Improvement means ``value + min_delta < best`` (mode min); the first report is always the
    first best (Keras starts from ``best=None``). The wait counter resets only on improvement, and
    a stop needs ``wait >= patience`` past the first report (Keras' ``epoch > 0``).
    ``check_finite=False`` is Keras 3 exactly: no NaN check; a NaN is never an improvement, and a
    NaN *first* value becomes a best that nothing beats. ``check_finite=True`` is Lightning: a
    NaN/inf value stops at once with DIVERGED (Lightning starts from ``best=inf``, which differs
    from the above only for non-finite values, now caught first). Lightning's stopping and
    divergence thresholds, Keras' baseline and start_from_epoch are not modelled.

    Example:
        >>> det = PatienceDetector.keras("val/mel", patience=3)
        >>> [det.update(s, {"val/mel": v}).stops for s, v in enumerate([5, 4, 4, 4, 4])]
        [False, False, False, False, True]
    """

    _STATE: ClassVar[dict[str, Any]] = {"_wait": 0}
    _OWN_BEST = True

    def __init__(
        self,
        metric: str,
        patience: int = 3,
        min_delta: float = 0.0,
        *,
        mode: str = "min",
        check_finite: bool = True,
    ) -> None:
        if patience < 0 or min_delta < 0:
            raise ValueError(f"need patience, min_delta >= 0; got {patience=}, {min_delta=}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.mode, self.check_finite, self._sign = mode, bool(check_finite), _sign(mode)
        super().__init__(metric)

    @classmethod
    def keras(
        cls, metric: str, patience: int = 0, min_delta: float = 0.0, mode: str = "min"
    ) -> PatienceDetector:
        """Keras ``EarlyStopping`` with its defaults (patience 0, no NaN check)."""
        return cls(metric, patience, min_delta, mode=mode, check_finite=False)

    @classmethod
    def lightning(
        cls, metric: str, patience: int = 3, min_delta: float = 0.0, mode: str = "min"
    ) -> PatienceDetector:
        """Lightning ``EarlyStopping`` with its defaults (patience 3, check_finite)."""
        return cls(metric, patience, min_delta, mode=mode, check_finite=True)

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        raw = self._sign * value
        if self.check_finite and not math.isfinite(value):
            return Reason.DIVERGED, f"{self.metric}={raw} is not finite", {"value": str(raw)}
        best = self._best
        if self._n == 0 or value + self.min_delta < best:  # NaN compares False
            self._best, self._best_step, self._wait = value, step, 0
            return Reason.CONTINUE, f"{self.metric} improved to {raw:.6g}", {"wait": 0}
        self._wait += 1
        evidence: dict[str, EvidenceValue] = {"wait": self._wait, "patience": self.patience}
        if self._wait >= self.patience and self._n > 0:
            why = (
                f"{self.metric} did not improve by more than min_delta={self.min_delta:g} for "
                f"{self._wait} reports (patience={self.patience}); best {self._sign * best:.6g}"
            )
            return Reason.CONVERGED, why, evidence
        return Reason.CONTINUE, f"no improvement for {self._wait} reports", evidence


class RayPlateauDetector(_Anchor):
    """Ray Tune ``TrialPlateauStopper``: stop when the last values barely move.

    Never stops before ``grace_period`` reports or before ``num_results`` values are held; with
    a ``metric_threshold`` it also waits for the latest value to be at or beyond it. Then it
    stops when the population std (ddof=0) of the last ``num_results`` values is below ``std``.
    Ray's std is absolute; ``relative=True`` divides it by |mean| (our scale-free variant).
    A non-finite value in the window gives a NaN std, which never stops. Unlike Ray, a threshold
    of 0.0 is honoured (Ray's truthiness test ignores it).
    """

    _STATE: ClassVar[dict[str, Any]] = {"_window": []}

    def __init__(
        self,
        metric: str,
        std: float = 0.01,
        num_results: int = 4,
        grace_period: int = 4,
        metric_threshold: float | None = None,
        *,
        mode: str = "min",
        relative: bool = False,
    ) -> None:
        if std <= 0 or num_results < 1 or grace_period < 0:
            raise ValueError(
                f"need std > 0, num_results >= 1, grace_period >= 0; got {std=}, "
                f"{num_results=}, {grace_period=}"
            )
        self.std, self.num_results, self.grace_period = float(std), int(num_results), grace_period
        self.metric_threshold, self.relative = metric_threshold, bool(relative)
        self.mode, self._sign = mode, _sign(mode)
        super().__init__(metric)

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        raw = self._sign * value
        self._window = [*self._window, raw][-self.num_results :]
        if self._n + 1 < self.grace_period or len(self._window) < self.num_results:
            return Reason.CONTINUE, "in grace period", {}
        if self.metric_threshold is not None and not (value <= self._sign * self.metric_threshold):
            return Reason.CONTINUE, f"{self.metric} has not reached the threshold", {}
        window = np.asarray(self._window)
        with np.errstate(invalid="ignore", over="ignore"):
            spread = float(np.std(window))
            if self.relative:
                # A window averaging exactly 0 (an error count reaching 0): flat is 0, else inf.
                mean = abs(float(np.mean(window)))
                spread = spread / mean if mean > 0 else (0.0 if spread == 0 else math.inf)
        kind = "relative std" if self.relative else "std"
        evidence: dict[str, EvidenceValue] = {"std": spread if math.isfinite(spread) else None}
        if spread < self.std:
            why = (
                f"{kind} {spread:.3g} of the last {self.num_results} {self.metric} values is "
                f"below std={self.std:g}"
            )
            return Reason.CONVERGED, why, evidence
        return Reason.CONTINUE, f"{kind} {spread:.3g} >= {self.std:g}", evidence


class GLDetector(_Anchor):
    """Prechelt's GL_alpha: stop (OVERFITTING) once GL(t) = 100 (E_va(t)/E_opt(t) - 1) > alpha.

    E_opt is the lowest finite value so far; a non-finite value or E_opt <= 0 gives no GL (the
    rule assumes a positive error). Optional safeguard: with ``progress_metric`` (the training
    loss), at the end of each strip of ``strip`` reports compute the training progress
    P_k = 1000 (mean / min - 1) over the strip and stop (CONVERGED) when it is below
    ``progress_threshold`` (Prechelt: P_5 < 0.1).
    """

    _STATE: ClassVar[dict[str, Any]] = {"_strip_train": []}

    def __init__(
        self,
        metric: str,
        alpha: float = 2.0,
        *,
        progress_metric: str | None = None,
        progress_threshold: float = 0.1,
        strip: int = 5,
    ) -> None:
        if alpha <= 0 or strip < 2 or progress_threshold < 0:
            raise ValueError(
                f"need alpha > 0, strip >= 2, progress_threshold >= 0; got {alpha=}, {strip=}, "
                f"{progress_threshold=}"
            )
        self.alpha, self.strip = float(alpha), int(strip)
        self.progress_metric, self.progress_threshold = progress_metric, float(progress_threshold)
        super().__init__(metric)

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        if 0 < self._best < math.inf and math.isfinite(value):
            gl = 100.0 * (value / self._best - 1.0)
            if gl > self.alpha:
                why = (
                    f"GL={gl:.3g} > alpha={self.alpha:g}: {self.metric}={value:.6g} is "
                    f"{gl:.3g} % above its minimum {self._best:.6g}"
                )
                return Reason.OVERFITTING, why, {"gl": gl}
        if self.progress_metric is None:
            return Reason.CONTINUE, "GL within alpha", {}
        train = float(metrics.get(self.progress_metric, math.nan))
        if math.isfinite(train):
            self._strip_train.append(train)
        if (self._n + 1) % self.strip != 0:
            return Reason.CONTINUE, "GL within alpha", {}
        done, self._strip_train = self._strip_train, []
        if len(done) < 2 or min(done) <= 0:
            return Reason.CONTINUE, "GL within alpha; no training progress measurable", {}
        progress = 1000.0 * (sum(done) / len(done) / min(done) - 1.0)
        if progress < self.progress_threshold:
            why = (
                f"training progress P_{self.strip}={progress:.3g} < {self.progress_threshold:g} "
                f"on {self.progress_metric}"
            )
            return Reason.CONVERGED, why, {"progress": progress}
        return Reason.CONTINUE, "GL within alpha", {"progress": progress}


class UPDetector(_Anchor):
    """Prechelt's UP_s: stop (OVERFITTING) when the value rose at the ends of ``s`` consecutive
    strips of ``strip`` reports, E_va(t) > E_va(t - strip) at each. A NaN comparison is no rise.
    """

    _STATE: ClassVar[dict[str, Any]] = {
        "_previous": None,
        "_ups": 0,
    }  # value at the last strip end

    def __init__(self, metric: str, strip: int = 5, s: int = 3) -> None:
        if strip < 1 or s < 1:
            raise ValueError(f"need strip >= 1 and s >= 1, got {strip=}, {s=}")
        self.strip, self.s = int(strip), int(s)
        super().__init__(metric)

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        if (self._n + 1) % self.strip != 0:
            return Reason.CONTINUE, f"{self._ups} consecutive strip rises", {"ups": self._ups}
        rose = self._previous is not None and value > self._previous
        self._ups = self._ups + 1 if rose else 0
        self._previous = value
        if self._ups >= self.s:
            why = (
                f"{self.metric} rose at the ends of {self._ups} consecutive strips of "
                f"{self.strip} reports (UP_{self.s})"
            )
            return Reason.OVERFITTING, why, {"ups": self._ups}
        return Reason.CONTINUE, f"{self._ups} consecutive strip rises", {"ups": self._ups}
