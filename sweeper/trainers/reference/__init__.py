"""A compact so-vits-svc trainer in torch: same config keys, data layout, losses and log tags,
plus validation metrics (``val/mel``, ``val/f0_rmse_cents``, ``val/vuv_error``).

Example:
    >>> from sweeper.trainers.reference import load_config, train
    >>> cfg = load_config("tiny")
    >>> result = train(cfg, "toy/", "runs/a", report=print, max_steps=200)  # doctest: +SKIP

``config`` imports no torch, so configs can be built and pickled anywhere; the rest is
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from sweeper.trainers.reference.config import PRESETS, SovitsConfig, from_dict, load_config

__all__ = ["PRESETS", "SovitsConfig", "TrainResult", "from_dict", "load_config", "train"]

_LAZY = {
    "train": "sweeper.trainers.reference.training",
    "TrainResult": "sweeper.trainers.reference.training",
}


def __getattr__(name: str) -> Any:
    # torch is imported only when the trainer itself is asked for.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
