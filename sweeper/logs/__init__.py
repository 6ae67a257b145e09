"""Read so-vits-svc runs: ``train.log`` text logs and TensorBoard event files (and a sweeper
trial's ``result.json``).

numpy and the standard library only: no torch, tensorboard or tensorflow import.
"""

from sweeper.logs._results import read_results
from sweeper.logs._run import list_checkpoints, read_run
from sweeper.logs._series import RunLog, Series, condense
from sweeper.logs._textlog import read_train_log
from sweeper.logs._tfevents import read_tfevents

__all__ = [
    "RunLog",
    "Series",
    "condense",
    "list_checkpoints",
    "read_results",
    "read_run",
    "read_tfevents",
    "read_train_log",
]
