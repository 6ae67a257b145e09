"""A bounded record of one metric's finite values: the only memory a detector keeps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class History:
    """Finite ``(step, value)`` points of one metric, at most ``capacity`` of them.

    When full, neighbouring points are merged in pairs (weighted means of step and value,
    weights added), so memory and the work per update stay bounded while the whole run is
    still represented, at half the resolution each time it fills. Merged points carry a
    weight equal to the number of raw points behind them.
    """

    def __init__(self, capacity: int = 512) -> None:
        if capacity < 16 or capacity % 2:
            raise ValueError(f"History capacity must be an even number >= 16, got {capacity=}")
        self.capacity = capacity
        self.steps: list[float] = []
        self.values: list[float] = []
        self.weights: list[float] = []

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, step: int, value: float) -> None:
        if len(self.steps) >= self.capacity:
            self._halve()
        self.steps.append(float(step))
        self.values.append(float(value))
        self.weights.append(1.0)

    def _halve(self) -> None:
        s = np.asarray(self.steps)
        v = np.asarray(self.values)
        w = np.asarray(self.weights)
        s2, v2, w2 = s.reshape(-1, 2), v.reshape(-1, 2), w.reshape(-1, 2)
        wsum = w2.sum(axis=1)
        self.steps = ((s2 * w2).sum(axis=1) / wsum).tolist()
        self.values = ((v2 * w2).sum(axis=1) / wsum).tolist()
        self.weights = wsum.tolist()

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.steps, dtype=float),
            np.asarray(self.values, dtype=float),
            np.asarray(self.weights, dtype=float),
        )

    def clear(self) -> None:
        self.steps, self.values, self.weights = [], [], []

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "steps": list(self.steps),
            "values": list(self.values),
            "weights": list(self.weights),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.capacity = int(state["capacity"])
        self.steps = [float(x) for x in state["steps"]]
        self.values = [float(x) for x in state["values"]]
        self.weights = [float(x) for x in state["weights"]]
