"""Ray Tune glue: the sweep's searcher (Optuna sampling), the scheduler that lets our pruner
stop trials, the trainable that runs a trainer inside a trial, and run/resume/status.

This layer imports ray and optuna (and the layers below); trainers never import it.
"""

from sweeper.tune._resume import resume_sweep, sweep_status
from sweeper.tune._run import Summary, run_sweep

__all__ = ["Summary", "resume_sweep", "run_sweep", "sweep_status"]
