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
