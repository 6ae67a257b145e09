"""``sweeper clean DIR [--dry-run]``: free the disk of a sweep's ended trials."""

from __future__ import annotations

import argparse

HELP = (
    "delete the .pth files of ended trials' older checkpoints and run/ folders, keeping each "
    "trial's newest checkpoint (its latest and best pairs)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be deleted; delete nothing"
    )


def run(args: argparse.Namespace) -> int:
    from sweeper.summarize.clean import clean, report_lines

    plan = clean(args.dir, dry_run=args.dry_run)
    for line in report_lines(plan):
        print(line)
    return 1 if any(t.failed for t in plan.trials) else 0
