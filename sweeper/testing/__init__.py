"""Helpers shipped for tests of sweeper and of code built on it (numpy only)."""

from sweeper.testing.curves import noisy, stream

__all__ = ["noisy", "stream"]
