"""The ``sovits:`` section of a sweep file: where the user's so-vits-svc checkout lives.

Only used with ``trainer: sovits-svc``. The base config is ``base.config`` (the checkout's
``configs/config.json``) and the data root is ``data.dir`` (the folder the filelists' relative
wav paths start from, usually the checkout itself); this section adds what only the real
``train.py`` needs. The same keys travel to the trainer as ``TrialSpec.options``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sweeper.space import FieldError
from sweeper.space._fields import as_bool, as_float, as_int, as_str

# Pitch trackers of so-vits-svc that need no downloaded weights and no GPU.
F0_TRACKERS = ("pm", "dio", "harvest")
EVAL_DEVICES = ("cuda", "cpu")
_MODEL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True)
class SovitsSection:
    """How trials run so-vits-svc's own ``train.py``; paths relative to the working dir."""

    checkout: str  # the so-vits-svc folder holding train.py (imported from there, never copied)
    python: str | None = None  # interpreter with so-vits-svc's requirements; null = this one
    train_list: str | None = None  # null = <data.dir>/filelists/train.txt
    val_list: str | None = None  # null = <data.dir>/filelists/val.txt
    pretrained_g: str | None = None  # base model G_0.pth copied into each new trial
    pretrained_d: str | None = None  # and its D_0.pth (give both or neither)
    model_name: str = "44k"  # the -m name: the model dir is <trial>/logs/<model_name>
    eval_points: int | None = 40  # checkpoints (held-out evaluations) per trial; null = config's
    evaluate: bool = True  # synthesise val.txt at each G_<step>.pth (val/mel, f0, vuv)
    f0_tracker: str = "pm"  # so-vits-svc pitch tracker for val/f0_rmse_cents and val/vuv_error
    eval_device: str = "cuda"  # cuda = the trial's GPU; cpu leaves all GPU memory to training
    stop_grace_s: float = 30.0  # SIGTERM, then SIGKILL after this many seconds
    poll_s: float = 1.0  # how often the logs and the model dir are read
    # no new log line or checkpoint for this long = train.py hangs (a DDP rendezvous); null = wait
    stall_s: float | None = 1800.0

    def __post_init__(self) -> None:
        as_str(("checkout",), self.checkout)
        for name in ("python", *_PATHS[1:]):
            value = getattr(self, name)
            if value is not None:
                as_str((name,), value)
        for name in ("python", *_PATHS):  # ~ and ~user, as a shell would (not before 2026-12-07)
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.path.expanduser(value))
        if (self.pretrained_g is None) != (self.pretrained_d is None):
            given, other = (
                ("pretrained_g", "pretrained_d")
                if self.pretrained_d is None
                else ("pretrained_d", "pretrained_g")
            )
            raise FieldError(
                (given,),
                f"is given without {other} (so-vits-svc resumes from a G_0/D_0 pair)",
                getattr(self, given),
                "give both pretrained_g and pretrained_d, or neither",
            )
        as_str(("model_name",), self.model_name)
        if not set(self.model_name) <= _MODEL_NAME_CHARS or self.model_name.startswith("."):
            raise FieldError(
                ("model_name",),
                "must be one folder name of letters, digits, '_', '.' and '-' (no space or "
                "slash; not starting with '.')",
                self.model_name,
                "use e.g. 44k",
            )
        if self.eval_points is not None:
            as_int(("eval_points",), self.eval_points, minimum=1)
        as_bool(("evaluate",), self.evaluate)
        as_str(("f0_tracker",), self.f0_tracker, F0_TRACKERS)
        as_str(("eval_device",), self.eval_device, EVAL_DEVICES)
        for name in ("stop_grace_s", "poll_s"):
            value = as_float((name,), getattr(self, name))
            if value <= 0:
                raise FieldError((name,), "must be > 0", value, "use a few seconds")
            object.__setattr__(self, name, value)
        if self.stall_s is not None:
            value = as_float(("stall_s",), self.stall_s)
            if value <= 0:
                raise FieldError(
                    ("stall_s",), "must be > 0", value, "use minutes (600+), or null to wait"
                )
            object.__setattr__(self, "stall_s", value)

    def resolved(self, root: str | Path) -> SovitsSection:
        """The same section with every path made absolute against ``root``.

        Trials run in their own folders (on other nodes too), so the tune layer sends
        absolute paths.
        """
        paths = {
            name: str((Path(root) / value).resolve())
            for name in _PATHS
            if (value := getattr(self, name)) is not None
        }
        if self.python is not None and "/" in self.python:
            paths["python"] = str((Path(root) / self.python).absolute())
        return replace(self, **paths)

    def to_options(self) -> dict[str, Any]:
        """Plain data for ``TrialSpec.options`` (``SovitsSection(**options)`` rebuilds it)."""
        return asdict(self)


# The fields that name files or folders (python may also be a bare name found on PATH).
_PATHS = ("checkout", "train_list", "val_list", "pretrained_g", "pretrained_d")
