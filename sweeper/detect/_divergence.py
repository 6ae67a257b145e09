"""Divergence: health guards that stop a run which is breaking, not converging."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sweeper.detect._base import Detector, metric_value
from sweeper.detect._history import History
from sweeper.detect._stats import median
from sweeper.detect._verdict import Reason, Verdict

# Metrics whose non-finite value means the run is broken (so-vits-svc tags and ours).
_WATCHED_PREFIXES = ("loss/", "val/", "train/", "grad_norm")
# An explosion must also rise this many noise standard deviations above the best level: on
# a loss near zero (an MSE, an error rate) noise alone doubles a running median.
_RISE_NOISE = 6.0
# Explosion factor for an explode metric that is not a mel loss (see DivergenceDetector).
OTHER_EXPLODE_FACTOR = 5.0
# Values in the running median: 5 masks two outliers (two spikes within 3 points, or two
# dips that set a best level no run could keep, each read as a 2x explosion with 3).
_LEVEL_POINTS = 5
_RECENT = 32  # raw values kept to measure the noise (the history merges points)


class _Track:
    """Last few values, recent raw values and a bounded history of one metric."""

    def __init__(self) -> None:
        self.last: list[float] = []
        self.recent: list[float] = []
        self.history = History(128)
        self.best_level = math.inf
        self.best_noise = 0.0  # noise_sd when best_level was last set

    def add(self, step: int, value: float) -> None:
        self.last = [*self.last[-_LEVEL_POINTS + 1 :], value]
        self.recent = [*self.recent[-_RECENT + 1 :], value]
        self.history.add(step, value)
        # From the first value on: a run that blows up right after its first evaluation
        # (val/mel 94 at step 0, then 284 flat) has only that value as its best level.
        if self.level <= self.best_level:
            # The noise of the healthy stretch: measured after a blow-up, its own jumps would
            # count as noise (a dead run swinging 2-3x was not stopped until it went flat).
            self.best_level, self.best_noise = self.level, self.noise_sd

    @property
    def level(self) -> float:
        """Running median of the last values (fewer at the start)."""
        return median(np.asarray(self.last, dtype=float))

    @property
    def noise_sd(self) -> float:
        """Robust sd of the point-to-point noise (MAD of first differences; a trend and a
        few jumps leave it alone)."""
        if len(self.recent) < 3:
            return 0.0
        diffs = np.diff(self.recent)
        mad = median(np.abs(diffs - median(diffs)))
        return 1.4826 * mad / math.sqrt(2.0)

    @property
    def typical(self) -> float:
        return median(np.asarray(self.history.values, dtype=float))

    def state_dict(self) -> dict[str, Any]:
        best = self.best_level if math.isfinite(self.best_level) else None
        return {
            "last": self.last,
            "recent": self.recent,
            "history": self.history.state_dict(),
            "best": best,
            "best_noise": self.best_noise,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> _Track:
        track = cls()
        track.last = [float(v) for v in state.get("last", state.get("last3", []))]  # or older
        track.recent = [float(v) for v in state.get("recent", track.last)]  # older states
        track.history.load_state_dict(state["history"])
        track.best_level = math.inf if state["best"] is None else float(state["best"])
        track.best_noise = float(state.get("best_noise", 0.0))
        return track


def _best_level(track: _Track) -> float:
    return track.best_level


class DivergenceDetector(Detector):
    """DIVERGED on any of, checked in this order:

    - a non-finite value of a watched metric (``loss/*``, ``val/*``, ``train/*``,
      ``grad_norm*``, and every ``explode_metrics`` entry);
    - explosion: the median of the last 5 values of an ``explode_metrics`` entry exceeds
      ``explode_factor`` x its lowest such median so far (two spikes cannot do it), by more
      than 6 standard deviations of its point-to-point noise where that best was set (so a
      loss near zero, whose noise alone doubles it, does not trip it). That factor is for
      mel losses (a name holding ``mel``), which a healthy so-vits run never doubles; a loss
      of another kind (a pruner's plain ``value``) may rise by design (a KL weight ramped
      up), so it must exceed ``OTHER_EXPLODE_FACTOR`` (5) x its best;
    - gradient explosion: the median of the last 5 ``grad_norm_g``/``grad_norm_d`` exceeds
      ``grad_factor`` x its typical (median) value;
    - discriminator collapse: ``loss/d/total`` falls below ``collapse_ratio`` x its typical
      value while the generator's adversarial loss (``loss/g/gen``, else ``loss/g/fm``)
      climbs above ``3`` x its typical value.

    Adversarial losses drifting upward alone is healthy GAN behaviour and never trips it.
    """

    def __init__(
        self,
        *,
        explode_metrics: tuple[str, ...] = ("val/mel", "loss/g/mel"),
        explode_factor: float = 2.0,
        grad_factor: float = 100.0,
        collapse_ratio: float = 0.05,
        min_points: int = 5,
    ) -> None:
        if not explode_factor > 1:
            raise ValueError(f"explode_factor must be > 1, got {explode_factor=}")
        if not grad_factor > 1:
            raise ValueError(f"grad_factor must be > 1, got {grad_factor=}")
        if not 0 < collapse_ratio < 1:
            raise ValueError(f"collapse_ratio must be in (0, 1), got {collapse_ratio=}")
        self.explode_metrics = tuple(explode_metrics)
        self.explode_factor = explode_factor
        self.grad_factor = grad_factor
        self.collapse_ratio = collapse_ratio
        self.min_points = min_points
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._last_steps: dict[str, int] = {}  # last recorded step of each metric
        # A state saved before steps were counted per metric: its one last step holds for
        # every metric not recorded since.
        self._floor: int | None = None
        self._verdict: Verdict | None = None

    def _track(self, name: str) -> _Track:
        return self._tracks.setdefault(name, _Track())

    def watches(self, name: str) -> bool:
        """Whether ``name`` is one of the metrics this guard reads."""
        # An objective of any name (e.g. the pruner's "value") is watched too.
        return name.startswith(_WATCHED_PREFIXES) or name in self.explode_metrics

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        step = int(step)
        fresh = self._fresh(step, metrics)
        if not fresh:
            # None of its metrics is new at this step (absent, or a restart repeating them).
            return self._verdict or self._healthy(step, f"step {step} repeats; ignored")
        for name, value in fresh.items():
            self._last_steps[name] = step
            if not math.isfinite(value):
                self._verdict = self._diverged(
                    step, name, f"{name} is {value} at step {step}", {"guard": "non_finite"}
                )
                return self._verdict
            self._track(name).add(step, value)
        self._verdict = self._check(step) or self._healthy(step, "no sign of divergence")
        return self._verdict

    def _fresh(self, step: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """The watched values of this update whose metric has not been recorded at this
        step or later. A step counts per metric: a logger sending the training and the
        held-out values of one step in two calls (TensorBoard events) must not have the
        second call dropped as a repeat (val/mel tripling was called CONVERGED)."""
        fresh = {}
        for name, raw in metrics.items():
            if not self.watches(name):
                continue
            value = metric_value(name, raw)
            last = self._last_steps.get(name, self._floor)
            if value is None or (last is not None and step <= last):
                continue
            fresh[name] = value
        return fresh

    def _check(self, step: int) -> Verdict | None:
        guards = [
            # Mel against its best level so far, gradient norms against their usual size.
            (name, "explosion", "its best level", self._explode_limit(name), _best_level)
            for name in self.explode_metrics
        ] + [
            (name, "grad_explosion", "its typical value", self.grad_factor, lambda t: t.typical)
            for name in ("grad_norm_g", "grad_norm_d")
        ]
        for name, guard, reference, limit, level_of in guards:
            track = self._tracks.get(name)
            if track is None or len(track.history) < self.min_points or len(track.last) < 3:
                continue
            base = level_of(track)
            ratio = track.level / base if base > 0 else math.nan
            beyond_noise = guard != "explosion" or (
                track.level - base > _RISE_NOISE * track.best_noise
            )
            if ratio > limit and beyond_noise:
                return self._diverged(
                    step,
                    name,
                    f"{name} exploded to {ratio:.1f}x {reference} ({base:.4g})",
                    {"guard": guard, "ratio": ratio, "limit": limit},
                )
        return self._check_collapse(step)

    def _explode_limit(self, name: str) -> float:
        if "mel" in name:
            return self.explode_factor
        return max(self.explode_factor, OTHER_EXPLODE_FACTOR)

    def _check_collapse(self, step: int) -> Verdict | None:
        disc = self._tracks.get("loss/d/total")
        gen = self._tracks.get("loss/g/gen") or self._tracks.get("loss/g/fm")
        if disc is None or gen is None:
            return None
        if min(len(disc.history), len(gen.history)) < self.min_points or len(disc.last) < 3:
            return None
        d_ratio = disc.level / disc.typical if disc.typical > 0 else math.nan
        g_ratio = gen.level / gen.typical if gen.typical > 0 else math.nan
        if d_ratio < self.collapse_ratio and g_ratio > 3.0:
            return self._diverged(
                step,
                "loss/d/total",
                f"discriminator collapse: loss/d/total at {d_ratio:.2f}x its typical value "
                f"while the generator's adversarial loss is at {g_ratio:.1f}x",
                {"guard": "d_collapse", "d_ratio": d_ratio, "g_ratio": g_ratio},
            )
        return None

    def _diverged(self, step: int, signal: str, message: str, evidence: dict) -> Verdict:
        return Verdict(Reason.DIVERGED, step, None, f"diverged: {message}", signal, evidence)

    def _healthy(self, step: int, message: str) -> Verdict:
        return Verdict(Reason.CONTINUE, step, None, message, "", {})

    def state_dict(self) -> dict[str, Any]:
        return {
            "tracks": {name: track.state_dict() for name, track in self._tracks.items()},
            "last_steps": dict(self._last_steps),
            "floor": self._floor,
            "verdict": None if self._verdict is None else self._verdict.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._tracks = {name: _Track.from_state(s) for name, s in state["tracks"].items()}
        if "last_steps" in state:
            self._last_steps = {name: int(s) for name, s in state["last_steps"].items()}
            self._floor = state["floor"]
        else:  # saved by the code of 2026-12-07 or before: one step for all metrics
            self._last_steps, self._floor = {}, state["last_step"]
        self._verdict = Verdict.from_dict(state["verdict"]) if state["verdict"] else None
