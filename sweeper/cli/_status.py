"""``sweeper status DIR``: the trials of a sweep (running or finished) as a table."""

from __future__ import annotations

import argparse

HELP = "show a sweep's trials: state, steps, best metric, why each stopped"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from sweeper.cli._run import print_summary
    from sweeper.tune import sweep_status
    from sweeper.tune._resume import load_sweep_dir
    from sweeper.tune._table import failures

    _, cfg = load_sweep_dir(args.dir)
    summary = sweep_status(args.dir)
    if args.json:
        rows = [dataclasses.asdict(r) for r in summary.table]
        print(json.dumps({"sweep_dir": summary.sweep_dir, "trials": rows}, indent=1))
        return 0
    print_summary(summary, cfg)
    failed = failures(summary.table, summary.sweep_dir)
    if failed:  # `sweeper run` sends the user here for them: the table says only "error"
        print("failed trials' errors:")
        for line in failed:
            print(f"  {line}")
    return 0
