"""argparse value types shared by the commands."""

from __future__ import annotations

import argparse


def seed_arg(text: str) -> int:
    """A random seed: numpy takes whole numbers >= 0 only."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, got {value}")
    return value


def duration_arg(text: str) -> float:
    """A wall-clock duration in seconds: ``8h``, ``90m``, ``1h30m``, ``2d`` or seconds."""
    from sweeper.tune._deadline import parse_duration

    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_time_limit(parser: argparse.ArgumentParser) -> None:
    """``--time-limit`` of ``run`` and ``resume``."""
    parser.add_argument(
        "--time-limit",
        type=duration_arg,
        default=None,
        metavar="DURATION",
        help="stop this run after DURATION (8h, 90m, 1h30m) as Ctrl-C does: running trials "
        "keep their last checkpoint and `sweeper resume` goes on (exit code 124)",
    )
