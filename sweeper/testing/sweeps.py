"""The smallest sweep that really trains, as a search-space dict for tests to write as YAML."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def tiny_sweep(
    name: str = "t", learning_rates: Sequence[float] = (2.0e-3, 4.0e-3), **sections: Any
) -> dict[str, Any]:
    """Micro preset, 2 speakers x 3 clips of 1 s, mel + KL only (~0.1 s per step on one
    core), a grid over ``learning_rates``, one trial each, no pruner; ``sections`` replace
    whole top-level sections.

    Example:
        >>> s = tiny_sweep("x", (1e-3,), budget={"max_steps": 10, "num_trials": 1})
        >>> s["name"], s["budget"], s["parameters"]["train.learning_rate"]["choices"]
        ('x', {'max_steps': 10, 'num_trials': 1}, [0.001])
    """
    sweep = {
        "name": name,
        "trainer": "reference",
        "base": {"preset": "micro"},
        "data": {"toy": {"speakers": 2, "clips": 3, "val": 1, "seconds": 1.0, "seed": 0}},
        "objective": {"metrics": ["val/mel"], "modes": ["min"]},
        "budget": {"max_steps": 30, "num_trials": len(learning_rates), "concurrency": 2},
        "resources": {"cpu": 1, "gpu": 0},
        "parameters": {
            "train.learning_rate": {"type": "categorical", "choices": list(learning_rates)},
            "train.use_gan": {"type": "fixed", "value": False},
            "train.eval_interval": {"type": "fixed", "value": 5},
            "train.log_interval": {"type": "fixed", "value": 5},
        },
        "sampler": {"kind": "grid", "seed": 0},
        "pruner": None,
    }
    return {**sweep, **sections}
