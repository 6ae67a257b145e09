"""Which parameters mattered: Optuna's fANOVA importance evaluator over the ranked trials.

The target is the ranking itself (the composite score, the first lexicographic metric, or
the Pareto front index), so "mattered" means "moved a trial's place", and pruned trials that
kept a best checkpoint count too (Optuna's own call would use COMPLETE trials only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optuna.trial import FrozenTrial

MIN_TRIALS = 3  # fewer points than this say nothing about a parameter's effect


def importances(
    trials: Sequence[FrozenTrial], target: Mapping[int, float], seed: int = 0
) -> tuple[dict[str, float], str]:
    """``({param: importance summing to 1}, note)``; empty with the reason when it cannot be
    measured (too few trials, or no parameter that varied)."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import create_trial

    chosen = [t for t in trials if t.number in target and t.params]
    if len(chosen) < MIN_TRIALS:
        return {}, f"needs {MIN_TRIALS}+ ranked trials with sampled parameters ({len(chosen)})"
    varying = {
        name
        for name in {n for t in chosen for n in t.params}
        if len({repr(t.params.get(name)) for t in chosen}) > 1
    }
    if not varying:
        return {}, "no sampled parameter took more than one value"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    for t in chosen:
        study.add_trial(
            create_trial(params=t.params, distributions=t.distributions, value=target[t.number])
        )
    try:
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except (ValueError, RuntimeError) as err:  # optuna's "cannot evaluate" cases
        return {}, f"Optuna could not evaluate importances ({err})"
    except ImportError:  # the ranking stands without it
        return {}, "needs scikit-learn (Optuna's fANOVA); fix: pip install scikit-learn"
    found = {k: float(v) for k, v in found.items() if k in varying}
    note = f"fANOVA over {len(chosen)} ranked trials (target: what the ranking orders by)"
    # Optuna's fANOVA takes only parameters every trial has: a conditional one is left out.
    partial = sorted(
        n for n in varying if n not in found and any(n not in t.params for t in chosen)
    )
    if partial:
        note += f"; not measured (absent from some trials: conditional): {', '.join(partial)}"
    return found, note
