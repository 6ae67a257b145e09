"""The decision vocabulary every detector speaks."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

EvidenceValue = float | int | str | bool | None


class Reason(str, enum.Enum):
    """Why a detector says what it says; str-valued so it serialises as plain text."""

    CONTINUE = "continue"
    CONVERGED = "converged"
    OVERFITTING = "overfitting"
    DIVERGED = "diverged"

    @property
    def stops(self) -> bool:
        """True when the run should stop (every reason but CONTINUE)."""
        return self is not Reason.CONTINUE


@dataclass(frozen=True)
class Verdict:
    """One decision: the reason, where it was taken, which checkpoint to keep, and why.

    Attributes:
        reason: CONTINUE, CONVERGED, OVERFITTING or DIVERGED.
        step: the training step where this verdict was reached. A CONTINUE carries the step
            of the update that returned it (in ``ConvergenceDetector`` also when that update
            lacked the judged metric and the message is the last judgement's); a stop keeps
            the step of the report that decided it, and a repeated step gets the previous
            verdict as it was.
        best_step: the step of the best value of the judged signal so far (the checkpoint
            to keep), or None before any finite value was seen.
        message: one sentence a person can read.
        signal: the metric the verdict is about (e.g. ``val/mel``), or "" when none.
        evidence: the numbers behind the decision (improvement left and its bound, the
            generalization gap, noise level, ...); None marks a quantity not yet estimable.
    """

    reason: Reason
    step: int
    best_step: int | None
    message: str
    signal: str = ""
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)

    @property
    def stops(self) -> bool:
        return self.reason.stops

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Verdict:
        """Inverse of :meth:`to_dict`."""
        best = data["best_step"]
        return cls(
            reason=Reason(data["reason"]),
            step=int(data["step"]),  # type: ignore[arg-type]
            best_step=None if best is None else int(best),  # type: ignore[arg-type]
            message=str(data["message"]),
            signal=str(data.get("signal", "")),
            evidence=dict(data.get("evidence", {})),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return {
            "reason": self.reason.value,
            "step": self.step,
            "best_step": self.best_step,
            "message": self.message,
            "signal": self.signal,
            "evidence": dict(self.evidence),
        }
