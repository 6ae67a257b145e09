"""Helpers shipped for tests of sweeper and of code built on it (numpy and stdlib only)."""

from sweeper.testing.curves import noisy, stream
from sweeper.testing.sweeps import tiny_sweep

__all__ = ["noisy", "stream", "tiny_sweep"]
