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


# The longest --time-limit (10 years): 1e300 overflowed the deadline's timestamp in a thread.
MAX_LIMIT_S = 10 * 365 * 86400.0


def duration_arg(text: str) -> float:
    """A wall-clock duration in seconds: ``8h``, ``90m``, ``1h30m``, ``2d`` or seconds."""
    from sweeper.tune._deadline import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if seconds > MAX_LIMIT_S:
        raise argparse.ArgumentTypeError(
            f"a duration must be at most 10 years ({MAX_LIMIT_S:.0f} s), got {text!r}; fix: "
            "leave --time-limit out to run without a limit"
        )
    return seconds


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
