"""``sweeper run SPACE.yaml``: a Ray Tune sweep with live progress and a ranking at the end."""

from __future__ import annotations

import argparse
from pathlib import Path

from sweeper.cli._args import add_time_limit

NO_VALUE = 3  # exit code: every trial ended, none with a value to rank (failed or diverged)
HELP = "run a sweep: Ray Tune trials, Optuna sampling, convergence-based early stopping"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("space", help="search space YAML (e.g. search_spaces/quick.yaml)")
    parser.add_argument(
        "--address",
        default=None,
        help="Ray cluster address; 'local': a Ray of this run's own (default: the cluster "
        "`ray start` started on this machine if one answers, else a local Ray)",
    )
    parser.add_argument("--name", default=None, help="sweep folder name (default: name: in YAML)")
    parser.add_argument(
        "--storage",
        default=None,
        help="folder or bucket (s3://..., gs://...) that holds sweep folders (default: ./sweeps)",
    )
    add_time_limit(parser)


def print_summary(summary, cfg, space: str | None = None) -> None:
    """The trials table (objective's first metric, searched parameters) and the totals;
    ``space`` is the search space file run was given (resume: the sweep folder's copy)."""
    from sweeper.tune._table import compute_text, format_table

    print()
    print(format_table(summary.table, cfg.objective.metrics[0], cfg.parameters.searched))
    by_rule: dict[str, int] = {}
    for row in summary.table:
        waiting = row.state == "WAITING"  # in the study, never started (a grid's queue)
        rule = row.rule or ("unfinished" if _unfinished(row) else "not started" if waiting
                            else row.state.lower())  # fmt: skip
        by_rule[rule] = by_rule.get(rule, 0) + 1
    ended = ", ".join(f"{n} {rule}" for rule, n in sorted(by_rule.items()))
    print(f"\ntrials: {len(summary.table)} ({ended})")
    if summary.steps_budget:
        run = compute_text(summary.steps_run, summary.steps_budget, summary.not_counted)
        print(f"steps run: {run}")
    if summary.wall_s > 0:
        print(f"wall time: {summary.wall_s / 60:.1f} min")
    print(f"results: {summary.sweep_dir}")
    if summary.wall_s > 0 and not any(row.state == "RUNNING" for row in summary.table):
        # a finished run or resume (status prints this table too, without the pointers)
        if _no_value(summary):
            from sweeper.tune._run import SWEEP_FILE

            name = Path(str(summary.sweep_dir)).name  # that folder keeps the failed trials
            space = space or f"{summary.sweep_dir}/{SWEEP_FILE}"  # resume: the sweep's copy
            if any(row.state == "FAIL" for row in summary.table):
                fix = (
                    "fix what the trials' errors above say (also in `sweeper status "
                    f"{summary.sweep_dir}`)"
                )
            else:  # no error to point at (a probe, 2026-12-07: every trial had diverged)
                fix = "every trial diverged: narrow the space (a lower train.learning_rate range)"
            print(
                "next: no trial has a value to rank (failed and diverged trials are not "
                f"ranked); {fix}, then `sweeper run {space} --name {name}-2`"
            )
            return
        from sweeper.tune.remote import is_uri

        where = summary.sweep_dir
        disk = f"; `sweeper clean {where}` frees the older checkpoints' disk"
        disk = "" if is_uri(where) else disk  # clean refuses an object store
        print(
            f"next: `sweeper summarize {where}` (ranking, HTML report), "
            f"`sweeper export-best {where} --out config.json`{disk}"
        )


def run(args: argparse.Namespace) -> int:
    from sweeper.config import load_sweep
    from sweeper.tune import run_sweep

    cfg = load_sweep(args.space)
    summary = run_sweep(
        args.space,
        address=args.address,
        name=args.name,
        storage=args.storage,
        time_limit_s=args.time_limit,
    )
    print_summary(summary, cfg, args.space)
    return exit_code(summary, "run", cfg.budget.num_trials, args.address)


def _no_value(summary) -> bool:
    return bool(summary.table) and not any(row.rankable for row in summary.table)


def exit_code(
    summary, command: str, num_trials: int | None = None, address: str | None = None
) -> int:
    """0 when every trial ended; 3 when they all ended without a value to rank; 130 (as
    for Ctrl-C) when the driver was stopped first (Ray Tune ends its loop quietly on
    SIGINT/SIGTERM, so the table alone looked like an end); 124 (as `timeout`) when its
    --time-limit stopped it."""
    import sys

    from sweeper.tune._deadline import format_duration
    from sweeper.tune._run import resume_command

    running = sum(1 for row in summary.table if row.state == "RUNNING")
    unfinished = sum(1 for row in summary.table if _unfinished(row))
    waiting = sum(1 for row in summary.table if row.state == "WAITING")
    not_started = max(0, (num_trials or 0) - len(summary.table)) + waiting
    limit = summary.time_limit_s
    # Without a limit, only a RUNNING trial shows that the driver was stopped, not ended.
    if not running and (limit is None or not unfinished + not_started):
        # Ended, but nothing to rank: `sweeper run ... && sweeper summarize` must stop here.
        return NO_VALUE if _no_value(summary) else 0
    why = "interrupted" if limit is None else f"stopped by --time-limit {format_duration(limit)}"
    print(
        f"sweeper {command}: {why} with {stopped_text(unfinished, not_started)}; "
        f"`{resume_command(summary.sweep_dir, address)}` continues the sweep",
        file=sys.stderr,
    )
    return 130 if limit is None else 124


def _unfinished(row) -> bool:
    """Started and not ended: the table's "unfinished" and the stop line's (the limit's
    line also counted trials not in the study yet; SIGTERM's did not). A WAITING trial (a
    grid's queued point) never started: "not started" (a probe, 2026-12-07: an interrupted
    grid said "6 unfinished" where 4 had never started)."""
    return row.state == "RUNNING"


def stopped_text(unfinished: int, not_started: int) -> str:
    """``1 trial(s) unfinished and 2 not started``: the same counts whichever way the driver
    was stopped; not started: trials the sweep has not put in its study yet."""
    parts = [f"{unfinished} trial(s) unfinished"] if unfinished else []
    if not_started:
        parts.append(f"{not_started}{'' if parts else ' trial(s)'} not started")
    return " and ".join(parts)
