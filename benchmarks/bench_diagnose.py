"""Time ``sweeper diagnose`` on a generated so-vits-svc-fork run: a scalar per step.

    python benchmarks/bench_diagnose.py                    # 50 000 steps into a temp folder
    python benchmarks/bench_diagnose.py --steps 200000 --keep /tmp/fork

The fork (voicepaw/so-vits-svc-fork) logs nine tags with torch's ``SummaryWriter`` at every
step into ``logs/44k/lightning_logs/version_0``; this writes the same records (a mel loss
decaying as a power law with 20 % per-batch noise, the other tags flat or drifting), then
prints the time to read the folder, to judge it and to plot it, and the verdict per signal.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def write_fork_run(model_dir: Path, steps: int, seed: int = 0) -> None:
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(seed)
    x = np.arange(1, steps + 1) / steps
    mel = 18.0 + 12.0 * (1.0 + x / 0.02) ** -0.7
    noise = rng.normal(size=(8, steps))
    tags = {
        "loss/g/mel": mel * (1 + 0.2 * noise[0]),
        "loss/g/total": mel + 30.0 + 3.0 * noise[1],
        "loss/g/fm": 8.0 + 2.0 * x + noise[2],
        "loss/g/kl": 1.5 * (1 + 0.3 * noise[3]),
        "loss/g/lf0": 0.01 * (1 + 0.3 * noise[4]),
        "grad_norm_g": 200.0 * (1 + 0.3 * noise[5]),
        "loss/d/total": 2.4 + 0.2 * noise[6],
        "grad_norm_d": 20.0 * (1 + 0.3 * noise[7]),
    }
    writer = SummaryWriter(str(model_dir / "lightning_logs" / "version_0"))
    for i in range(steps):
        writer.add_scalar("lr", 1e-4, i + 1)
        for tag, values in tags.items():
            writer.add_scalar(tag, float(values[i]), i + 1)
    writer.close()
    for epoch in range(0, 60, 7):  # the fork's default: G_<epoch>.pth
        (model_dir / f"G_{epoch}.pth").write_bytes(b"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000, help="steps logged (default 50000)")
    parser.add_argument("--keep", metavar="DIR", help="write the run here and keep it")
    args = parser.parse_args()

    from sweeper.diagnose import diagnose, plot
    from sweeper.logs import read_run

    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(args.keep or scratch) / "logs" / "44k"
        model_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        write_fork_run(model_dir, args.steps)
        size = sum(f.stat().st_size for f in model_dir.rglob("events.out.tfevents.*"))
        print(
            f"wrote {args.steps} steps x 9 tags ({size / 2**20:.1f} MiB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        run = read_run(model_dir)
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        diagnosis = diagnose(run)
        judge_s = time.perf_counter() - start
        start = time.perf_counter()
        plot(diagnosis, run, model_dir / "sweeper-diagnose.png")
        plot_s = time.perf_counter() - start
    print(
        f"read {read_s:.1f} s, judge {judge_s:.1f} s, plot {plot_s:.1f} s, "
        f"total {read_s + judge_s + plot_s:.1f} s"
    )
    for name, report in diagnosis.signals.items():
        print(
            f"  {name}: {report.final.reason.value} over {report.points} points, "
            f"first stop {report.stop_step}, best step {report.best_step}"
        )


if __name__ == "__main__":
    main()
