"""Under ``train.fp16_run``, one non-finite training value is not yet divergence.

so-vits-svc enables a GradScaler iff ``fp16_run`` (fp16 or bf16 autocast): it skips an
overflowing step, whose logged losses or gradient norms are then inf/NaN for that step, and
lowers its scale. A lone one is routine; until 2026-12-07 it was reported, read as
divergence, and a good trial was pruned with its valid score. So a non-finite training value
is left out of its step's report until ``RUN`` logged steps in a row have one: the scaler
recovers within a step or two, and three skipped steps in a row mean the loss itself stays
non-finite. ``val/*`` values (held-out, computed in fp32) and every value of an fp32 run go
out as they are, at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

RUN = 3  # logged steps in a row with a non-finite training value before it is reported


class NonFiniteScreen:
    """``screen(metrics)`` per reported step, in step order."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        train = config.get("train")
        self.amp = isinstance(train, Mapping) and train.get("fp16_run") is True
        self.streak = 0  # logged steps in a row with a non-finite training value

    def screen(self, metrics: dict[str, float]) -> dict[str, float]:
        if not self.amp:
            return metrics
        training = {k: v for k, v in metrics.items() if not k.startswith("val/")}
        bad = {k for k, v in training.items() if not math.isfinite(v)}
        if not bad:
            if training:
                self.streak = 0
            return metrics
        self.streak += 1
        if self.streak >= RUN:
            return metrics  # it persists: the trial diverged
        return {k: v for k, v in metrics.items() if k not in bad}
