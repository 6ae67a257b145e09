"""Convergence detection for noisy so-vits-svc curves (numpy + stdlib only).

A detector consumes ``(step, {metric: value})`` reports and answers with a :class:`Verdict`:
CONTINUE, CONVERGED, OVERFITTING or DIVERGED, with the best step (the checkpoint to keep),
a sentence for people and the evidence behind it.
"""

from sweeper.detect._base import Detector, first_stop
from sweeper.detect._best import BestTracker
from sweeper.detect._combine import AnyOf, ConvergenceDetector, most_urgent
from sweeper.detect._divergence import DivergenceDetector
from sweeper.detect._overfit import OverfitDetector
from sweeper.detect._plateau import PlateauDetector
from sweeper.detect._trend import ImprovementBound, improvement_bound, relative_scale
from sweeper.detect._verdict import Reason, Verdict

__all__ = [
    "AnyOf",
    "BestTracker",
    "ConvergenceDetector",
    "Detector",
    "DivergenceDetector",
    "ImprovementBound",
    "OverfitDetector",
    "PlateauDetector",
    "Reason",
    "Verdict",
    "first_stop",
    "improvement_bound",
    "most_urgent",
    "relative_scale",
]
