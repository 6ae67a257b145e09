"""The Ray side: ``evaluate`` as a remote task on a trial's resources.

Ray is imported inside the functions only; the sweep layer calls, for example::

    task = evaluation_task(num_cpus=2, num_gpus=trial_gpus)
    ref = task.remote(refs, outs, sr, transcripts=texts)
    metrics = ray.get(ref)          # {name: MetricResult.to_dict()}

Models are cached per worker process. Ray retires a GPU task's worker after every call by
default (``max_calls=1``), which would reload every model; ``max_calls=0`` keeps the worker,
and its models, for the next evaluation. ``Settings.device`` left at None picks the GPU Ray
assigned (CUDA_VISIBLE_DEVICES), else the CPU.
"""

from __future__ import annotations

from sweeper.evaluate._core import Settings, evaluate


def run_evaluation(
    refs, outs, sr, metrics=None, transcripts=None, ref_f0=None, settings: Settings | None = None
) -> dict[str, dict]:
    """``evaluate`` with plain-dict results (picklable, JSON-ready) for crossing processes."""
    found = evaluate(
        refs,
        outs,
        sr,
        metrics,
        transcripts=transcripts,
        ref_f0=ref_f0,
        settings=settings or Settings(),
    )
    return {name: res.to_dict() for name, res in found.items()}


def evaluation_task(num_cpus: float = 1, num_gpus: float = 0, **options):
    """``run_evaluation`` wrapped by ``ray.remote`` with the given resources."""
    import ray

    options.setdefault("max_calls", 0)
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, **options)(run_evaluation)
