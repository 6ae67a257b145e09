"""``sweeper export-best DIR --out config.json``: the winner as a so-vits-svc config."""

from __future__ import annotations

import argparse

HELP = (
    "write the best trial's hyperparameters as a so-vits-svc config.json "
    "(4.1; onto a 4.0 --base, a 4.0 one)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument("--out", required=True, help="the config.json to write")
    parser.add_argument(
        "--base",
        help="your so-vits-svc config.json to apply the winning parameters to (default: the "
        "trial's own config: sovits-svc sweeps' base.config, or the reference preset)",
    )
    parser.add_argument("--trial", type=int, help="export this trial number instead of the best")
    parser.add_argument(
        "--mode",
        choices=("composite", "lexicographic", "pareto"),
        help="rank this way instead of the sweep file's summary.mode",
    )
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from sweeper.summarize import summarize
    from sweeper.summarize.collect import NOT_RANKED
    from sweeper.summarize.export import export_best
    from sweeper.summarize.output import pruned_on_front
    from sweeper.tune._resume import unfinished_warning

    summary = summarize(args.dir, mode=args.mode)
    for note in summary.notes:
        print(note, file=sys.stderr)
    unfinished = unfinished_warning(args.dir)  # the winner of a sweep that goes on may change
    if unfinished is not None:
        print(f"warning: {unfinished}", file=sys.stderr)
    done = export_best(summary, args.out, base=args.base, trial=args.trial)
    if args.json:
        print(json.dumps(done.to_dict(), indent=1))
        return 0
    print(f"wrote {done.path} (trial #{done.trial}; {summary.describe()})")
    print(f"best checkpoint: {done.checkpoint}")
    tied = [r.key for r in summary.ranked if r.front == 0 and r.key != done.trial]
    front = next((r.front for r in summary.ranked if r.key == done.trial), None)
    if front is not None and front > 0:
        # A --trial off the front: "also on the front" read as a tie with trials that beat
        # it on every metric (a probe, 2026-12-08).
        print(f"trial #{done.trial} is not on the Pareto front (front {front}: another "
              f"trial is better on every metric); the front: "
              f"{', '.join(f'#{k}' for k in tied)}")  # fmt: skip
    elif tied:  # a Pareto front is a tie: say who else is on it, and how to take one of them
        others = ", ".join(f"#{k}" for k in tied)
        print(f"also on the Pareto front: {others} (none is better on every metric; "
              "choose one with --trial N)")  # fmt: skip
        if (note := pruned_on_front(summary)) is not None:
            print(note)  # as summarize says it: Optuna's own front may differ
    for name, value in done.applied.items():
        print(f"  {name} = {json.dumps(value)}")
    by_why: dict[str, list[str]] = {}  # one line per reason (the fixed keys share one)
    for name, why in done.dropped.items():
        by_why.setdefault(why, []).append(name)
    for why, names in by_why.items():
        print(f"  left out {', '.join(names)}: {why}")
    for caution in done.cautions:
        print(f"caution: {caution}")
    # A trial whose checkpoint or folder went missing (or is corrupt) is not a candidate
    # however good it was: say so (diverged ones are not ranked by design: no word).
    lost = [
        (t, why)
        for t, why in summary.excluded
        if t.state not in ("RUNNING", "WAITING", "FAIL") and t.rule not in NOT_RANKED
    ]
    for t, why in lost:
        print(f"not a candidate: #{t.number}, {why}")
    return 0
