"""The metric names each trainer reports, where they are known, so a typo in
``objective.metrics`` or ``pruner.train_metric`` fails at load time instead of a sweep that
silently never stops a trial (or never sees overfitting).

The reference trainer's names (sweeper/trainers/reference: validate.py ``evaluate`` with
prefixes val and train_infer, train.py's losses, train/mel, gradient norms, learning rate);
tests/config/test_metric_names.py checks them against a real run. The sovits-svc trainer
relays whatever so-vits-svc logs: not checked (docs/sweep.md says so).
"""

from __future__ import annotations

from sweeper.space import FieldError
from sweeper.space._fields import closest

REFERENCE_METRICS = frozenset(
    {
        *(f"val/{m}" for m in ("mel", "mel_l1", "f0_rmse_cents", "f0_gross_error", "vuv_error")),
        "train_infer/mel",
        "train_infer/mel_l1",
        "train/mel",
        *(f"loss/g/{m}" for m in ("total", "mel", "kl", "fm", "gen", "lf0")),
        "loss/d/total",
        "grad_norm_g",
        "grad_norm_d",
        "learning_rate",
    }
)
KNOWN = {"reference": REFERENCE_METRICS}  # trainer -> every metric name it reports


def check_metric(key: tuple, name: str, trainer: str) -> None:
    """Refuse a metric name ``trainer`` never reports (no-op where its names are unknown)."""
    known = KNOWN.get(trainer)
    if known is None or name in known:
        return
    near = closest(name, known)
    how = f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(sorted(known))}"
    raise FieldError(key, f"is not a metric the {trainer} trainer reports", name, how)
