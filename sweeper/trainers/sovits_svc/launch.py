"""From a sampled trial to the exact ``train.py`` command: pure functions, no I/O.

so-vits-svc's train.py writes to ``./logs/<m>`` relative to its working directory, binds
``MASTER_PORT = train.port`` and trains on every visible GPU. So each trial runs in its own
folder, with its own port and ``CUDA_VISIBLE_DEVICES`` set to exactly the GPUs Ray gave it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sweeper.errors import InputError
from sweeper.space._fields import thaw
from sweeper.trainers.sovits_svc.keys import check_keys

NO_CUDA = "so-vits-svc's train.py needs CUDA; use `trainer: reference` on CPU"
CONFIG_NAME = "config.json"  # the trial's patched config, in the trial folder
FILELISTS = "filelists"  # the trial's filelists with absolute wav paths


@dataclass(frozen=True)
class LaunchSpec:
    """One ``train.py`` process: argv (a list, never a shell string), env and working dir."""

    argv: tuple[str, ...]  # [python, <checkout>/train.py, -c, config.json, -m, name]
    env: Mapping[str, str]  # the full environment of the process
    cwd: str  # the trial folder; train.py's ./logs/<name> lands inside it
    config: Mapping[str, Any]  # the patched config.json content, written to config_path
    config_path: str  # <cwd>/config.json
    model_dir: str  # <cwd>/logs/<name>: train.log, events, G_<step>.pth / D_<step>.pth
    train_list: str  # <cwd>/filelists/train.txt (written by prepare, absolute wav paths)
    val_list: str  # <cwd>/filelists/val.txt
    port: int  # train.port (MASTER_PORT)
    eval_interval: int  # steps between checkpoints = held-out evaluations
    log_interval: int  # steps between logged losses


def align_eval_interval(
    eval_interval: int, log_interval: int, max_steps: int, eval_points: int | None
) -> int:
    """Steps between checkpoints: a multiple of ``log_interval``, ~``eval_points`` per trial.

    Each evaluation then lands on a logged step, so the detector sees train and validation
    values at the same steps. ``eval_points=None`` keeps the config's interval (rounded up
    to a multiple of ``log_interval``).

    Example:
        >>> align_eval_interval(800, 200, 20000, 40)
        400
        >>> align_eval_interval(800, 200, 20000, None)
        800
    """
    if log_interval < 1:
        raise InputError(f"train.log_interval must be >= 1 (got {log_interval=}); fix: use 200")
    if eval_points is None:
        return math.ceil(max(eval_interval, 1) / log_interval) * log_interval
    return max(1, max_steps // eval_points // log_interval) * log_interval


def trial_paths(run_dir: str | PurePath, model_name: str) -> dict[str, str]:
    """Where a trial's files go, relative to nothing but ``run_dir``."""
    run = PurePath(run_dir)
    return {
        "cwd": str(run),
        "config_path": str(run / CONFIG_NAME),
        "model_dir": str(run / "logs" / model_name),
        "train_list": str(run / FILELISTS / "train.txt"),
        "val_list": str(run / FILELISTS / "val.txt"),
    }


def patch_config(
    base: Mapping[str, Any], params: Mapping[str, Any], fixed: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of ``base`` with the sampled ``params`` and the sweeper's ``fixed`` keys set.

    Only those keys change; every other value, ``spk`` included, is the user's.
    """
    check_keys(params, base)
    config = copy.deepcopy(dict(base))
    for name, value in [*params.items(), *fixed.items()]:
        section, _, key = name.partition(".")
        part = config.get(section)
        if not isinstance(part, Mapping):
            raise InputError(
                f"the base config has no {section!r} section (got {sorted(config)}); "
                "fix: use the config.json that preprocess_flist_config.py wrote"
            )
        config[section] = {**part, key: thaw(value)}
    return config


def build_launch(
    params: Mapping[str, Any],
    *,
    base: Mapping[str, Any],
    checkout: str | PurePath,
    run_dir: str | PurePath,
    gpu_ids: Sequence[str],
    port: int,
    max_steps: int,
    environ: Mapping[str, str],
    python: str,
    model_name: str = "44k",
    eval_points: int | None = 40,
) -> LaunchSpec:
    """The ``train.py`` launch of one trial. Pure: nothing is read, written or bound.

    Example:
        >>> spec = build_launch({"train.learning_rate": 2e-4},
        ...     base={"train": {"log_interval": 200, "eval_interval": 800, "port": "8001"},
        ...           "data": {}, "model": {}},
        ...     checkout="/sv", run_dir="/runs/t1", gpu_ids=["3"], port=29123,
        ...     max_steps=8000, environ={}, python="python")
        >>> spec.argv
        ('python', '/sv/train.py', '-c', '/runs/t1/config.json', '-m', '44k')
        >>> spec.env["CUDA_VISIBLE_DEVICES"], spec.config["train"]["port"], spec.eval_interval
        ('3', '29123', 200)
    """
    if not gpu_ids:
        raise InputError(f"no GPU was given to this trial ({gpu_ids=}); fix: {NO_CUDA}")
    if not 1024 <= port <= 65535:
        raise InputError(f"train.port must be a free port in 1024..65535 (got {port=})")
    train = base.get("train") if isinstance(base.get("train"), Mapping) else {}
    log_interval = _int_setting(params, train, "log_interval", 200)
    if eval_points is not None and "train.eval_interval" in params:
        raise InputError(
            "parameter train.eval_interval is set by sovits.eval_points (got "
            f"{params['train.eval_interval']!r}); fix: remove it, or set sovits.eval_points: null"
        )
    eval_interval = align_eval_interval(
        _int_setting(params, train, "eval_interval", 800), log_interval, max_steps, eval_points
    )
    paths = trial_paths(run_dir, model_name)
    fixed = {
        "train.port": str(port),  # train.py assigns it to os.environ: it must be a string
        "train.keep_ckpts": 0,  # the sweeper deletes what it has judged; the best survives
        "train.eval_interval": eval_interval,
        "data.training_files": paths["train_list"],
        "data.validation_files": paths["val_list"],
    }
    config = patch_config(base, params, fixed)
    env = dict(environ)
    env["CUDA_VISIBLE_DEVICES"] = ",".join(gpu_ids)
    env["PYTHONUNBUFFERED"] = "1"  # stdout/stderr reach the trial's files as they happen
    argv = (python, str(PurePath(checkout) / "train.py"), "-c", paths["config_path"])
    return LaunchSpec(
        argv=(*argv, "-m", model_name),
        env=env,
        config=config,
        port=port,
        eval_interval=eval_interval,
        log_interval=log_interval,
        **paths,
    )


def absolute_filelist(text: str, root: str | PurePath) -> str:
    """A filelist with each relative wav path made absolute against ``root``.

    so-vits-svc's filelists hold paths relative to the checkout (``./dataset/44k/a/1.wav``),
    but train.py runs in the trial folder. Backslashes (Windows lists) become slashes, as
    so-vits-svc's loader does; blank lines are dropped.
    """
    out = []
    for line in text.splitlines():
        item = line.strip()
        if not item:
            continue
        path, sep, rest = item.partition("|")
        path = path.replace("\\", "/")
        if not PurePath(path).is_absolute():
            path = str(PurePath(root) / path)
        out.append(f"{path}{sep}{rest}")
    return "".join(f"{line}\n" for line in out)


def _int_setting(params: Mapping[str, Any], train: Mapping[str, Any], key: str, default: int):
    value = params.get(f"train.{key}", train.get(key, default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"train.{key} must be a whole number >= 1 (got {value!r}); fix: e.g. 200")
    return value
