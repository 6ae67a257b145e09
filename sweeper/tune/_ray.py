"""Ray for a sweep's driver: the connection (embedded local Ray, or a cluster by address)
and what its nodes can give a trial."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sweeper.config import SweepConfig
from sweeper.errors import InputError
from sweeper.tune._address import check_address, default_address
from sweeper.tune._signals import ray_starting

# Set before Ray starts (inherited by the local raylet and workers; sent to a remote cluster's
# workers through the runtime env): CPU-only trials must not see every GPU of their node;
# Tune snapshots its experiment state often, so a dead driver loses little.
RAY_ENV = {"RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "1"}
# Ray's automatic TensorBoard logger is off (the trainers write their own events, and it
# warns in the driver's terminal for every NaN); result.json and progress.csv stay.
DRIVER_ENV = {"TUNE_GLOBAL_CHECKPOINT_S": "2", "RAY_AIR_NEW_OUTPUT": "0",
              "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}  # fmt: skip


def connect_ray(address: str | None) -> None:
    """Join the cluster at ``address`` (RAY_ADDRESS, else a new local Ray when None)."""
    import ray

    for key, value in {**RAY_ENV, **DRIVER_ENV}.items():
        os.environ.setdefault(key, value)
    # Ray Tune logs each trial failure with its traceback at ERROR; the progress lines say it
    # in one line (the traceback stays in the trial's error file). --debug keeps them.
    if not logging.getLogger("sweeper").isEnabledFor(logging.DEBUG):
        logging.getLogger("ray.tune.execution.tune_controller").setLevel(logging.CRITICAL)
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": "ERROR",
        "runtime_env": {"env_vars": dict(RAY_ENV)},
    }
    try:
        with ray_starting():
            if address is None:
                # Ray joins the cluster RAY_ADDRESS names and retries a stale one for minutes.
                if os.environ.get("RAY_ADDRESS"):
                    check_address(os.environ["RAY_ADDRESS"], "RAY_ADDRESS")
                    ray.init(**kwargs)
                else:
                    ray.init(address=default_address(), **kwargs)
            else:
                check_address(address)  # ray.init retries an unreachable one for minutes
                ray.init(address=address, **kwargs)
    except ConnectionError as err:
        raise InputError(
            f"cannot reach a Ray cluster at --address {address!r} ({err}); fix: start one "
            "with `ray start --head` (workers: `RAY_AUTH_MODE=token ray start --address ...`), "
            "or leave --address out to run on this machine"
        ) from err


def check_resources(cfg: SweepConfig, space_file: str | Path | None = None) -> None:
    """Refuse a per-trial request that no node of the cluster can ever satisfy; with the
    sweep file, the error starts with the line that asked for it."""
    import ray

    where_key = lambda key: ""  # noqa: E731
    if space_file is not None:
        from sweeper.config._yaml import load_yaml_with_lines

        lines = load_yaml_with_lines(space_file)[1]
        where_key = lambda key: f"{lines.where(key)}: "  # noqa: E731

    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    cpu, gpu = (max((n.get(k, 0.0) for n in nodes), default=0.0) for k in ("CPU", "GPU"))
    want = cfg.resources
    if want.cpu > cpu:
        raise InputError(
            f"{where_key(('resources', 'cpu'))}resources.cpu={want.cpu:g} per trial, but the "
            "largest node of this Ray cluster "
            f"has {cpu:g} CPUs; fix: set resources.cpu <= {cpu:g}"
        )
    if want.gpu > gpu:
        where = "no node has a GPU" if gpu == 0 else f"the largest node has {gpu:g}"
        fix = "set resources.gpu: 0 (trainer: reference runs on CPU) or run on GPU nodes"
        if cfg.trainer == "sovits-svc":  # its train.py needs CUDA: gpu 0 is refused at load
            fix = "run on GPU nodes: so-vits-svc's train.py needs CUDA"
        raise InputError(
            f"{where_key(('resources', 'gpu'))}resources.gpu={want.gpu:g} per trial, but "
            f"{where}; fix: {fix} (--address ADDR "
            "of a Ray cluster that has them)"
        )
