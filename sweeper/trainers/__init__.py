"""Trainers that sweeps can run. Each one talks to the sweep only through
``report(step, metrics, checkpoint_dir=None)``; none imports ray or optuna.

- :mod:`sweeper.trainers.reference`: a compact so-vits-svc-compatible trainer in torch.
- :mod:`sweeper.trainers.sovits_svc`: the user's own so-vits-svc checkout (train.py) as trials.
"""

from sweeper.config._metrics import TRAIN_METRIC  # what each trainer reports beside val/*

__all__ = ["TRAIN_METRIC"]
