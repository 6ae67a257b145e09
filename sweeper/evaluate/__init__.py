"""Audio metrics for a trial's best checkpoint: numpy arrays and a sampling rate in, numbers
out. No ray, optuna or torch at import; learned models load lazily, once per process.

    >>> from sweeper.evaluate import METRICS
    >>> METRICS["mcd_db"].direction, METRICS["mcd_db"].unit
    ('min', 'dB')

``evaluate(refs, outs, sr)`` returns ``{name: MetricResult}``; a metric whose package is
missing comes back ``status="unavailable"`` with the install command, never estimated.
``sweeper.evaluate._remote.evaluation_task`` wraps it as a Ray task (GPU where given one);
``sweeper.evaluate.synth.synthesize`` makes the outs from a loaded reference generator.
"""

from sweeper.evaluate._base import SKIPPED, UNAVAILABLE, Metric, MetricResult
from sweeper.evaluate._cache import clear as clear_model_cache
from sweeper.evaluate._core import Settings, evaluate
from sweeper.evaluate._registry import METRICS, get_metrics, missing_modules

__all__ = [
    "METRICS",
    "SKIPPED",
    "UNAVAILABLE",
    "Metric",
    "MetricResult",
    "Settings",
    "clear_model_cache",
    "evaluate",
    "get_metrics",
    "missing_modules",
]
