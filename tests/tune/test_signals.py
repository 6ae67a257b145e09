"""ray_starting around ray.init: a handler the caller installed comes back; with none, Ray's
own stays (its exit runs ray.shutdown; the default action killed `summarize --evaluate`'s
driver outright, a review found)."""

from __future__ import annotations

import signal

from sweeper.tune._signals import ray_starting


def _rays(signum, frame) -> None:  # what ray.init installs
    raise SystemExit(signum)


def _mine(signum, frame) -> None:
    raise KeyboardInterrupt


def test_ray_starting_gives_back_only_a_handler_the_caller_installed():
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with ray_starting():
            signal.signal(signal.SIGTERM, _rays)
        assert signal.getsignal(signal.SIGTERM) is _rays
        signal.signal(signal.SIGTERM, _mine)
        with ray_starting():
            signal.signal(signal.SIGTERM, _rays)
        assert signal.getsignal(signal.SIGTERM) is _mine
    finally:
        signal.signal(signal.SIGTERM, before)
