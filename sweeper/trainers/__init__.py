"""Trainers that sweeps can run. Each one talks to the sweep only through
``report(step, metrics, checkpoint_dir=None)``; none imports ray or optuna.

- :mod:`sweeper.trainers.reference`: a compact so-vits-svc-compatible trainer in torch.
- :mod:`sweeper.trainers.sovits_svc`: the user's own so-vits-svc checkout (train.py) as trials.
"""

# The training metric each trainer reports with every validation, beside val/*: what the
# overfitting rule compares the held-out rise with (the pruner's train_metric "auto").
TRAIN_METRIC = {
    "reference": "train/mel",  # mean training mel loss since the previous validation
    "sovits-svc": "loss/g/mel",  # the mel loss of the log line at that step
}
