"""A tiny Ray Tune sweep for the cluster tests: run as a driver against an existing cluster.

    python tests/cluster/tune_job.py ADDRESS STORAGE_PATH LOG_DIR RESULT_JSON ITERS...

One trial per ITERS value, 1 CPU each. Each iteration sleeps, checkpoints its counter and
appends ``<iteration> <node id> <pid>`` to ``LOG_DIR/<trial index>.log``, so the test can see where
each iteration ran and whether a restarted trial began from its checkpoint. Writes
``{"trials": [{"index", "status", "iterations"}...]}`` to RESULT_JSON at the end (stdout
also carries Ray's log lines).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def trainable(config: dict) -> None:
    import time

    import ray
    from ray import tune

    start = 0
    ckpt = tune.get_checkpoint()
    if ckpt is not None:
        with ckpt.as_directory() as d:
            start = int((Path(d) / "it").read_text())
    node = ray.get_runtime_context().get_node_id()
    log = Path(config["log_dir"]) / f"{config['index']}.log"
    for it in range(start + 1, config["iters"] + 1):
        time.sleep(config["sleep"])
        with log.open("a") as f:
            f.write(f"{it} {node} {os.getpid()}\n")
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "it").write_text(str(it))
            tune.report({"it": it}, checkpoint=tune.Checkpoint.from_directory(d))


def main(argv: list[str]) -> int:
    import ray
    from ray import tune

    address, storage, log_dir, result_file, *iters = argv
    ray.init(address=address, log_to_driver=False)
    space = {
        "index": tune.grid_search(list(range(len(iters)))),
        "iters_all": [int(n) for n in iters],
        "log_dir": log_dir,
        "sleep": 0.4,
    }
    tuner = tune.Tuner(
        tune.with_resources(
            lambda cfg: trainable({**cfg, "iters": cfg["iters_all"][cfg["index"]]}), {"cpu": 1}
        ),
        param_space=space,
        tune_config=tune.TuneConfig(metric="it", mode="max"),
        run_config=tune.RunConfig(
            name="cluster-test",
            storage_path=storage,
            # A lost node fails its trials; they restart elsewhere from the last checkpoint.
            failure_config=tune.FailureConfig(max_failures=3),
            verbose=0,
        ),
    )
    grid = tuner.fit()
    trials = [
        {
            "index": r.config["index"],
            "status": "ERROR" if r.error else "TERMINATED",
            "iterations": (r.metrics or {}).get("it"),
        }
        for r in grid
    ]
    trials.sort(key=lambda t: t["index"])
    Path(result_file).write_text(json.dumps({"trials": trials}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
