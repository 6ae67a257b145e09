"""Diagnose one so-vits-svc run: per signal, converged or not, since when, what to keep."""

from sweeper.diagnose._core import (
    Diagnosis,
    HealthReport,
    SignalReport,
    diagnose,
)
from sweeper.diagnose._json import to_dict
from sweeper.diagnose._keep import checkpoint_for
from sweeper.diagnose._overall import merged_by_step
from sweeper.diagnose._plot import panel_title, plot
from sweeper.diagnose._smooth import smooth
from sweeper.diagnose._text import render_text, signal_message
from sweeper.diagnose._trial import run_path

__all__ = [
    "Diagnosis",
    "HealthReport",
    "SignalReport",
    "checkpoint_for",
    "diagnose",
    "merged_by_step",
    "panel_title",
    "plot",
    "render_text",
    "run_path",
    "signal_message",
    "smooth",
    "to_dict",
]
