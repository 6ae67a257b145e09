"""The early-stopping rules the convergence detector is measured against (public re-export).

Keras/Lightning patience, Ray Tune's plateau stopper, Prechelt's GL and UP, and the
Mann-Kendall "no trend, so stop" rule, each re-implemented faithfully as a :class:`Detector`.
"""

from sweeper.detect._anchors import (
    GLDetector,
    PatienceDetector,
    RayPlateauDetector,
    UPDetector,
)
from sweeper.detect._mannkendall import MannKendallDetector, MKResult, mann_kendall

__all__ = [
    "GLDetector",
    "MKResult",
    "MannKendallDetector",
    "PatienceDetector",
    "RayPlateauDetector",
    "UPDetector",
    "mann_kendall",
]
