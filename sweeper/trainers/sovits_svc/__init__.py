"""Trials that run the user's own so-vits-svc ``train.py`` (``trainer: sovits-svc``).

``run(spec, report)`` is the trainer contract of :mod:`sweeper.trainers._api`. The layers:

- :mod:`.keys`: so-vits-svc's config keys; ``check_keys`` rejects a name it does not read.
- :mod:`.launch`: pure ``build_launch(...) -> LaunchSpec(argv, env, cwd, ...)``.
- :mod:`.ports`: a free port per trial, unique on the host.
- :mod:`.prepare`: the trial folder (config.json, absolute filelists, G_0/D_0).
- :mod:`.process`: train.py in its own process group; SIGTERM, then SIGKILL.
- :mod:`.follow`: incremental train.log / TensorBoard reading.
- :mod:`.evaluate`: held-out metrics of each ``G_<step>.pth`` with the checkout's own code.
- :mod:`.files`: G/D pairs, whole checkpoints, why train.py exited.
- :mod:`.checkpoints`: the best G, the staged checkpoints, the pruned model dir, the state.

Example:
    >>> from sweeper.trainers.sovits_svc import run
    >>> run(spec, report)  # doctest: +SKIP

Nothing here imports torch, ray or optuna; the evaluator process imports torch and the
user's checkout.
"""

from sweeper.trainers.sovits_svc._run import run
from sweeper.trainers.sovits_svc.keys import SOVITS_KEYS, check_keys
from sweeper.trainers.sovits_svc.launch import LaunchSpec, align_eval_interval, build_launch

__all__ = ["SOVITS_KEYS", "LaunchSpec", "align_eval_interval", "build_launch", "check_keys", "run"]
