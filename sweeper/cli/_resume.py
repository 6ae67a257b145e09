"""``sweeper resume DIR``: continue a sweep whose driver died or was interrupted."""

from __future__ import annotations

import argparse

from sweeper.cli._args import duration_arg

HELP = "continue a sweep whose driver died: unfinished trials go on from their checkpoints"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument(
        "--address",
        default=None,
        help="Ray cluster address (default: a local Ray on this machine)",
    )
    parser.add_argument(
        "--time-limit",
        type=duration_arg,
        default=None,
        metavar="DURATION",
        help="stop this run after DURATION (8h, 90m, 1h30m) as Ctrl-C does: running trials "
        "keep their last checkpoint and `sweeper resume` goes on (exit code 124)",
    )


def run(args: argparse.Namespace) -> int:
    from sweeper.cli._run import exit_code, print_summary
    from sweeper.tune import resume_sweep
    from sweeper.tune._resume import load_sweep_dir

    _, cfg = load_sweep_dir(args.dir)
    summary = resume_sweep(args.dir, address=args.address, time_limit_s=args.time_limit)
    print_summary(summary, cfg)
    return exit_code(summary, "resume")
