"""Optuna pruning that knows when a trial has converged, overfits, diverged or is hopeless.

This layer imports optuna and :mod:`sweeper.detect`; never ray or torch.
"""

from sweeper.pruning._pruner import ConvergencePruner
from sweeper.pruning._record import STOP_ATTR, TRAIN_ATTR, report_training, stop_verdict

__all__ = ["STOP_ATTR", "TRAIN_ATTR", "ConvergencePruner", "report_training", "stop_verdict"]
