"""``sweeper resume DIR``: continue a sweep whose driver died or was interrupted."""

from __future__ import annotations

import argparse

from sweeper.cli._args import add_time_limit

HELP = "continue a sweep whose driver died: unfinished trials go on from their checkpoints"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument(
        "--address",
        default=None,
        help="Ray cluster address (default: a local Ray on this machine)",
    )
    add_time_limit(parser)


def run(args: argparse.Namespace) -> int:
    from sweeper.cli._run import exit_code, print_summary
    from sweeper.tune import resume_sweep
    from sweeper.tune._resume import load_sweep_dir

    _, cfg = load_sweep_dir(args.dir)
    summary = resume_sweep(args.dir, address=args.address, time_limit_s=args.time_limit)
    print_summary(summary, cfg)
    return exit_code(summary, "resume", cfg.budget.num_trials, args.address)
