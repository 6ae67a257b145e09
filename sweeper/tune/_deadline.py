"""A wall-clock limit on one driver run (``--time-limit``): at the limit the driver stops as
Ctrl-C stops it, so what a limit leaves is what an interrupted sweep leaves (and is tested
as such): running trials keep their last checkpoint, finished ones stay finished, and
``sweeper resume`` goes on. Ray Tune's own ``time_budget_s`` ends the running trials
instead, which a resume could not continue."""

from __future__ import annotations

import math
import os
import re
import signal
import threading

from sweeper.errors import InputError

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> float:
    """Seconds in ``90m``, ``8h``, ``1h30m``, ``2d``, ``45s`` or a plain number of seconds.

    >>> parse_duration("1h30m"), parse_duration("90"), parse_duration("0.5h")
    (5400.0, 90.0, 1800.0)
    """
    spec = text.strip().lower().replace(" ", "")
    try:
        seconds = float(spec)
    except ValueError:
        parts = _PART.findall(spec)
        if not parts or "".join(n + u for n, u in parts) != spec:
            raise ValueError(
                f"a duration is a number with d, h, m or s (e.g. 8h, 90m, 1h30m), got {text!r}"
            ) from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be above 0 (e.g. 8h, 90m), got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """``5400`` -> ``1h30m`` (what a message echoes back)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or f"{seconds:g}s"


MAX_LIMIT_S = 10 * 365 * 24 * 3600


def check_limit(seconds: float | None) -> float | None:
    """A time limit in seconds, or None; anything else is refused before Ray starts."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise InputError(f"time_limit_s must be a number of seconds, got {seconds!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"time_limit_s must be above 0 seconds (e.g. 3600), got {seconds!r}")
    if seconds > MAX_LIMIT_S:  # 1e300 overflowed the timer's timestamp in its thread
        raise InputError(
            f"time_limit_s must be at most {MAX_LIMIT_S:.0f} seconds (10 years), got "
            f"{seconds!r}; fix: a shorter limit, or none"
        )
    return float(seconds)


class Deadline:
    """Sends this process SIGINT (Ray Tune's graceful stop) ``seconds`` after it is entered.

    ``fired`` says whether it did. Only the main thread can take Tune's signal handler, so a
    driver run from another thread gets no deadline (it cannot be stopped this way).
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = check_limit(seconds)
        self.fired = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._active = False

    def __enter__(self) -> Deadline:
        main = threading.current_thread() is threading.main_thread()
        if self.seconds is not None and main:
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._active = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:  # no SIGINT once the run it limits has returned
            self._active = False
            if self._timer is not None:
                self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if not self._active:
                return
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                # Ray Tune's graceful handler is not in place: not yet (a slow start), or
                # no more (a Ctrl-C already started the stop). A SIGINT now would be a
                # KeyboardInterrupt mid-setup or cut the state save short: look again soon.
                self._timer = threading.Timer(1.0, self._fire)
                self._timer.daemon = True
                self._timer.start()
                return
            self.fired = True
            os.kill(os.getpid(), signal.SIGINT)
