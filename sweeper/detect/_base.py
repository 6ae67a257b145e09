"""The one verb of a detector: ``update(step, metrics) -> Verdict``."""

from __future__ import annotations

import abc
import copy
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from sweeper.detect._verdict import Verdict
from sweeper.errors import InputError


class Detector(abc.ABC):
    """Consumes a stream of ``(step, {metric: value})`` and answers with a :class:`Verdict`.

    Contract (checked for every detector by ``tests/detect/test_contract.py``):
    - ``update`` does bounded work and keeps bounded memory, whatever the stream length;
    - a step not greater than the last accepted one is ignored (restarts repeat steps) and
      the previous verdict is returned again;
    - metrics the detector does not watch are ignored; NaN/inf never raise; ``None`` (JSON
      null) means "not reported at this step"; a number of any kind (numpy scalars, a
      1-element array) counts, anything else raises ``InputError`` (``metric_value``);
    - ``state_dict()`` returns plain Python data (JSON-able) from which ``load_state_dict``
      restores a detector that answers the rest of the stream exactly as the original;
    - instances pickle.
    """

    @abc.abstractmethod
    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        """Take one report and return the current verdict."""

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the stream later (plain data)."""

    @abc.abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def fresh(self) -> Detector:
        """A new detector with the same settings and no history."""
        clone = copy.deepcopy(self)
        clone.reset()
        return clone

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget the stream; keep the settings."""


def metric_value(name: str, raw: object) -> float | None:
    """``raw`` as a float, or None when the metric was not reported (``None``, JSON null).

    A numpy scalar or a 1-element array (a logger's ``tensor.numpy()``) is a number; a string
    is refused even when it parses ("0.5" is a formatting slip upstream, "nan" would hide a
    crash), so the error names the metric instead of stopping on garbage later.
    """
    if raw is None:
        return None
    if isinstance(raw, np.ndarray) and raw.size == 1:
        raw = raw.item()
    if not isinstance(raw, str | bytes):
        try:
            return float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    shown = " ".join(repr(raw).split())[:80]  # one line, even for an array
    raise InputError(
        f"metric {name!r} has value {shown}, not a number; fix: report a float, or None "
        "when it was not measured at this step"
    )


def first_stop(
    detector: Detector, stream: Iterable[tuple[int, Mapping[str, float]]]
) -> tuple[Verdict | None, Verdict | None]:
    """Replay ``stream`` and return (first stopping verdict or None, last verdict or None).

    The replay continues after the first stop so the last verdict describes the whole run.
    """
    first: Verdict | None = None
    last: Verdict | None = None
    for step, metrics in stream:
        last = detector.update(step, metrics)
        if first is None and last.stops:
            first = last
    return first, last
