"""The contract between a sweep and a trainer: one trial in, reports out.

A trainer is a module with ``run(spec: TrialSpec, report: Report) -> None``. It trains the
trial in ``spec.run_dir`` (resuming from the checkpoints it finds there), calls ``report``
for every logged step, and returns at ``spec.max_steps``. The sweep may kill it at any
time; what it reported with a checkpoint directory is what survives. It never imports ray
or optuna: the tune layer translates ``report`` into ``ray.tune.report``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Report(Protocol):
    def __call__(
        self, step: int, metrics: dict[str, float], checkpoint_dir: str | None = None
    ) -> None:
        """Send the metrics of ``step``; ``checkpoint_dir`` holds what a restart needs."""


@dataclass(frozen=True)
class TrialSpec:
    """Everything one trial needs; plain data, so it pickles to any Ray worker."""

    params: Mapping[str, Any]  # sampled values by dotted key (train.learning_rate, ...)
    run_dir: str  # the trial's own working folder (local to the node it runs on)
    data_dir: str  # dataset root with filelists/train.txt and val.txt
    max_steps: int  # the last training step
    preset: str | None = None  # base config: a trainer preset ...
    config: str | None = None  # ... or a config file (absolute path)
    gpu_ids: tuple[str, ...] = ()  # devices Ray gave this trial ("0", "1"); () = CPU
    cpus: float = 1.0  # cores reserved (threads to use)
    options: Mapping[str, Any] = field(default_factory=dict)  # trainer-specific settings
    # The sweep's objective as (metric, mode) pairs: the sweep's best step of a trial is where
    # the first metric is best (strictly, step > 0, finite), so a trainer that keeps a best
    # checkpoint keeps it by that. () outside a sweep.
    objective: tuple[tuple[str, str], ...] = ()


TrainerRun = Callable[[TrialSpec, Report], None]
