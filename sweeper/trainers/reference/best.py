"""Which step's pair the trainer keeps in ``best/``: the best value of one reported metric.

Standalone runs keep the lowest ``val/mel``. A sweep passes its first objective metric and
mode, and the rule is the one its scheduler uses for the study's best step
(sweeper/tune/_scheduler.py ``on_trial_result``): among the reports after step 0 that carry
the metric with a finite value, a strictly better value than the best so far (the first of
equal values wins; no smoothing). So ``best/G_<step>.pth`` is the checkpoint of the study's
``best`` step, which ``sweeper summarize`` and ``export-best`` look for. Until 2026-12-07 it
was always the lowest ``val/mel``: a sweep on another metric, or with mode max, found no
best checkpoint in any trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sweeper.errors import InputError

DEFAULT = ("val/mel", "min")
MODES = ("min", "max")
# Training tags this trainer reports only with these settings on (the rest always).
GAN_ONLY = frozenset({"loss/d/total", "loss/g/gen", "loss/g/fm", "grad_norm_d"})
F0_ONLY = frozenset({"loss/g/lf0"})


@dataclass
class Best:
    """The best value of ``metric`` (``mode``) so far and its step (None: none yet)."""

    metric: str = DEFAULT[0]
    mode: str = DEFAULT[1]
    value: float = math.inf
    step: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(
                f"best_mode={self.mode!r} for {self.metric!r} is not a mode; fix: min or max"
            )
        if not isinstance(self.metric, str) or not self.metric:
            raise InputError(
                f"best_metric={self.metric!r} is not a metric name; fix: e.g. val/mel"
            )
        if self.step is None:
            self.reset()

    def reset(self) -> None:
        """No best yet: the next finite value (after step 0) is kept."""
        self.value, self.step = (math.inf if self.mode == "min" else -math.inf), None

    def offer(self, step: int, metrics: Mapping[str, float]) -> bool:
        """Whether ``metrics`` (everything reported at ``step``) holds a new best; if so it
        becomes the best. Step 0 is the model before training: never kept (nor by the sweep)."""
        value = metrics.get(self.metric)
        if step <= 0 or isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value):
            return False
        better = value < self.value if self.mode == "min" else value > self.value
        if better:
            self.value, self.step = float(value), int(step)
        return better

    def state(self) -> dict[str, object]:
        """What a checkpoint keeps (``best_val``/``best_step`` as before 2026-12-07)."""
        return {
            "best_val": self.value,
            "best_step": self.step,
            "best_metric": self.metric,
            "best_mode": self.mode,
        }

    def restore(self, saved: Mapping) -> str | None:
        """Take the checkpoint's best if it was kept by this metric and mode (a checkpoint
        without them kept the lowest val/mel); else start over, and say so."""
        was = (saved.get("best_metric", DEFAULT[0]), saved.get("best_mode", DEFAULT[1]))
        if was == (self.metric, self.mode):
            self.value = float(saved["best_val"])
            self.step = None if saved["best_step"] is None else int(saved["best_step"])
            return None
        self.reset()
        return (
            f"the checkpoint kept its best pair by {was[0]} ({was[1]}), this run keeps it by "
            f"{self.metric} ({self.mode}): best/ is replaced at the next {self.metric} reported"
        )

    def check(self, use_gan: bool, f0_prediction: bool) -> None:
        """Refuse a metric this configuration never reports (no pair would ever be kept)."""
        off = None
        if self.metric in GAN_ONLY and not use_gan:
            off, fix = "train.use_gan is false", "train.use_gan: true"
        elif self.metric in F0_ONLY and not f0_prediction:
            off = "model.use_automatic_f0_prediction is false"
            fix = "model.use_automatic_f0_prediction: true"
        if off is not None:
            raise InputError(
                f"best checkpoint metric {self.metric!r} (the sweep's first objective metric) "
                f"is never reported: {off}; fix: an objective metric every trial reports, "
                f"such as 'val/mel_l1', or {fix}"
            )
