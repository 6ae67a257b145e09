"""Ray for a sweep's driver: the connection (embedded local Ray, or a cluster by address)
and what its nodes can give a trial."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sweeper.config import SweepConfig
from sweeper.errors import InputError
from sweeper.tune._address import TIMEOUT_S, check_address, default_address, host_port
from sweeper.tune._signals import ray_starting

# Set before Ray starts (inherited by the local raylet and workers; sent to a remote cluster's
# workers through the runtime env): CPU-only trials must not see every GPU of their node;
# Tune snapshots its experiment state often, so a dead driver loses little.
RAY_ENV = {"RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "1"}
# Ray's automatic TensorBoard logger is off (the trainers write their own events, and it
# warns in the driver's terminal for every NaN); result.json and progress.csv stay.
DRIVER_ENV = {"TUNE_GLOBAL_CHECKPOINT_S": "2", "RAY_AIR_NEW_OUTPUT": "0",
              "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}  # fmt: skip


def connect_ray(address: str | None) -> bool:
    """Join the cluster at ``address`` (RAY_ADDRESS, else a new local Ray when None); True
    when it joined a running cluster (nodes may come and go), False for a new local one."""
    import ray

    for key, value in {**RAY_ENV, **DRIVER_ENV}.items():
        os.environ.setdefault(key, value)
    # Ray Tune logs each trial failure with its traceback at ERROR; the progress lines say it
    # in one line (the traceback stays in the trial's error file). --debug keeps them.
    if not logging.getLogger("sweeper").isEnabledFor(logging.DEBUG):
        logging.getLogger("ray.tune.execution.tune_controller").setLevel(logging.CRITICAL)
    given = address if address is not None else os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        return given is not None
    for text, source in ((address, "--address"), (os.environ.get("RAY_ADDRESS"), "RAY_ADDRESS")):
        if text is not None and text.strip().startswith("ray://"):
            raise InputError(
                f"{source} {text!r} is a Ray Client address, which a sweep cannot use (its "
                "driver keeps the study and checkpoints on the cluster's file system); fix: "
                "run sweeper on the head node with --address auto, or give the head's "
                "HOST:6379 from a machine that mounts the shared storage"
            )
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": "ERROR",
        "runtime_env": {"env_vars": dict(RAY_ENV)},
    }
    try:
        with ray_starting():
            source = "--address" if address is not None else "RAY_ADDRESS"
            if given is not None and given != "auto":
                check_address(given, source)
                _token_auth(given)
            if address is not None:
                ray.init(address=address, **kwargs)
            elif given is not None:  # Ray joins the cluster RAY_ADDRESS names
                ray.init(**kwargs)
            else:
                ray.init(address=default_address(), **kwargs)
    except ConnectionError as err:
        raise InputError(
            f"cannot reach a Ray cluster at {source} {given!r} ({err}); fix: start one "
            "with `ray start --head` (workers: `RAY_AUTH_MODE=token ray start --address ...`), "
            "give this machine the cluster's token if it uses token auth (Ray's default: the "
            "head's ~/.ray/auth_token, or RAY_AUTH_TOKEN), or leave --address out to run on "
            "this machine"
        ) from err
    return given is not None


def _token_auth(address: str) -> None:
    """Ray 2.60 finds the token (``~/.ray/auth_token``, ``RAY_AUTH_TOKEN``) only for a local
    cluster: at an explicit address it connects without one unless RAY_AUTH_MODE=token, and a
    token-auth cluster (its default) then failed as "cannot reach" (a probe, 2026-12-08).
    Where the cluster asks for a token and no mode is set, use the one at hand. Only then:
    a driver in token mode also asks it of the cluster's workers, and on a cluster without
    auth its trials never ran."""
    if os.environ.get("RAY_AUTH_MODE") is not None or _asks_for_token(address) is not True:
        return
    token_file = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or "~/.ray/auth_token").expanduser()
    if not (os.environ.get("RAY_AUTH_TOKEN") or token_file.is_file()):
        raise InputError(
            f"the Ray cluster at {address!r} uses token authentication and this machine has "
            f"no token ({token_file} is missing); fix: copy the head's ~/.ray/auth_token to "
            "this machine, or set RAY_AUTH_TOKEN to it"
        )
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # another Ray: it reads the mode from the environment
        os.environ["RAY_AUTH_MODE"] = "token"
        return
    # Its "Token authentication is enabled for this Ray cluster" warning reads as if this
    # driver had changed the cluster: not shown.
    quiet = logging.getLogger(maybe_enable_token_auth_if_token_available.__module__)
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    finally:
        quiet.setLevel(level)


def _asks_for_token(address: str) -> bool | None:
    """Whether the GCS at ``address`` refuses a call without a token; None when that cannot
    be told (no host:port, no answer: Ray then says what is wrong)."""
    target = host_port(address)
    if target is None:
        return None
    try:
        import grpc
        from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc
    except ImportError:
        return None
    with grpc.insecure_channel(f"{target[0]}:{target[1]}") as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=TIMEOUT_S)
        except grpc.RpcError as err:
            return True if err.code() == grpc.StatusCode.UNAUTHENTICATED else None
    return False


def check_resources(
    cfg: SweepConfig, space_file: str | Path | None = None, *, joined: bool = False
) -> str | None:
    """Refuse a per-trial request that no node of the cluster can ever satisfy; with the
    sweep file, the error starts with the line that asked for it. On a cluster it ``joined``
    (``--address``), nodes may still come: an autoscaler adds them for waiting trials (the
    shipped AWS, GCP and KubeRay clusters start with a 0-CPU head and no worker), so that
    case is a note, returned, not an error."""
    import ray

    where_key = lambda key: ""  # noqa: E731
    if space_file is not None:
        from sweeper.config._yaml import load_yaml_with_lines

        lines = load_yaml_with_lines(space_file)[1]
        where_key = lambda key: f"{lines.where(key)}: "  # noqa: E731

    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    problem = resource_problem(nodes, cfg.resources.cpu, cfg.resources.gpu, cfg.trainer)
    if problem is None:
        return None
    key, asked, found, fix = problem
    if joined:
        return (
            f"{asked}, but {found} now; trials wait until a node that holds one joins (an "
            "autoscaler adds it if one of its node types does); if none will, stop with "
            f"Ctrl-C and {fix}"
        )
    raise InputError(f"{where_key(key)}{asked}, but {found}; fix: {fix}")


def resource_problem(
    nodes: list[dict[str, float]], cpu: float, gpu: float, trainer: str
) -> tuple[tuple[str, ...], str, str, str] | None:
    """Why no node (Ray's resource dicts) holds a trial's ``cpu`` and ``gpu``: the key that
    asked, the request, what the nodes have, the fix; None when one node holds both."""
    # One node must hold both: the most CPUs and the most GPUs may be on different nodes.
    if any(n.get("CPU", 0.0) >= cpu and n.get("GPU", 0.0) >= gpu for n in nodes):
        return None
    most_cpu, most_gpu = (max((n.get(k, 0.0) for n in nodes), default=0.0) for k in ("CPU", "GPU"))
    if cpu > most_cpu:
        fix = f"set resources.cpu <= {most_cpu:g}" if most_cpu > 0 else "add nodes with CPUs"
        found = f"the largest node of this Ray cluster has {most_cpu:g} CPUs"
        return ("resources", "cpu"), f"resources.cpu={cpu:g} per trial", found, fix
    if gpu > most_gpu:
        found = "no node has a GPU" if most_gpu == 0 else f"the largest node has {most_gpu:g}"
        fix = "set resources.gpu: 0 (trainer: reference runs on CPU) or run on GPU nodes"
        if trainer == "sovits-svc":  # its train.py needs CUDA: gpu 0 is refused at load
            fix = "run on GPU nodes: so-vits-svc's train.py needs CUDA"
        fix += " (--address ADDR of a Ray cluster that has them)"
        return ("resources", "gpu"), f"resources.gpu={gpu:g} per trial", found, fix
    have = ", ".join(f"{n.get('CPU', 0.0):g} CPU + {n.get('GPU', 0.0):g} GPU" for n in nodes)
    return (
        ("resources",),
        f"resources cpu={cpu:g}, gpu={gpu:g} per trial",
        f"no node of this Ray cluster has both ({have})",
        "ask for what one node holds, or add a node that holds both",
    )
