"""``sweeper check SPACE.yaml``: validate a search space as ``run`` does, without Ray."""

from __future__ import annotations

import argparse

HELP = "check a search space without running it: every error run would give, and its first draws"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("space", nargs="+", help="search space YAML file(s)")
    parser.add_argument(
        "--draws",
        type=int,
        default=3,
        metavar="N",
        help="print the searched values of the first N trials a new sweep draws (default 3)",
    )


def run(args: argparse.Namespace) -> int:
    from sweeper.errors import InputError

    if args.draws < 0:
        raise InputError(f"--draws must be >= 0, got {args.draws}; fix: e.g. --draws 3")
    warned = False
    for i, space in enumerate(args.space):
        if i:
            print()
        warned = check(space, args.draws) or warned
    if len(args.space) == 1:
        fix = "put the dataset where data.dir says (or run on a cluster whose nodes have it), "
        print(f"next: {fix if warned else ''}`sweeper run {args.space[0]}`")
    return 0


def check(space: str, draws: int) -> bool:
    """Everything `sweeper run` checks before Ray starts (the cluster's size aside), then
    what the sweep would be; True when it warned of data this machine lacks."""
    from sweeper.tune._checks import preflight
    from sweeper.tune._preview import TPE_STARTUP, describe, first_draws

    cfg, absent, note = preflight(space)
    print(f"{space}: ok (sweep {cfg.name!r})")
    for line in describe(cfg):
        print(f"  {line}")
    if absent is not None:
        print(
            f"  warning: data.dir: {absent} on this machine (`sweeper run` without --address "
            "refuses it; on a cluster every node that trains needs it)"
        )
    if note is not None:
        print(f"  note: {note}")
    searched = cfg.parameters.searched
    chosen = first_draws(cfg, draws) if draws and searched else []
    if not chosen:
        return absent is not None
    if cfg.sampler.seed is None:
        whose = "a sample (no seed: the sweep draws others)"
    elif cfg.sampler.kind == "tpe" and len(chosen) > TPE_STARTUP:
        whose = f"the sweep's own for the first {TPE_STARTUP}; TPE's later draws follow results"
    else:
        whose = "the sweep's own, with its seed"
    print(f"  first {len(chosen)} trials ({whose}):")
    for number, params in enumerate(chosen):
        shown = "  ".join(f"{k}={_short(params[k])}" for k in searched if k in params)
        print(f"    #{number}  {shown}")
    return absent is not None


def _short(value) -> str:
    """A drawn value as a table shows it: floats to 4 significant digits."""
    from sweeper.space._fields import choice_label

    if isinstance(value, float):
        return f"{value:.4g}"
    return str(choice_label(value))
