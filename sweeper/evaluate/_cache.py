"""Heavy models load once per process (one Ray worker = one process), on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_MODELS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def cached(key: tuple, load: Callable[[], Any]) -> Any:
    """``load()`` once per ``key`` in this process; later calls return the same object."""
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = load()
        return _MODELS[key]


def clear() -> None:
    """Drop every cached model (tests; freeing memory between sweeps)."""
    with _LOCK:
        _MODELS.clear()


def torch_device(device: str | None) -> str:
    """``"cuda"`` when asked for and present, else ``"cpu"``; None picks automatically."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
