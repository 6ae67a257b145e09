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


def test_a_second_ctrl_c_while_the_trials_stop_says_how_to_go_on(capsys):
    """Ray Tune's fit() stops its trials at a first Ctrl-C and raises KeyboardInterrupt at a
    second one (seen with a real sweep, 0.8 s apart; the stand-in below raises it at once).
    No table follows then; until 2026-12-07 the line said only "interrupted" (a probe)."""
    import pytest

    from sweeper.cli import _interrupted
    from sweeper.tune._run import _fit

    class SecondCtrlC:  # stand-in for a Tuner whose fit() is cut by the second Ctrl-C
        def fit(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as stop:
        _fit(SecondCtrlC(), None, "sweeps/quick", None)
    assert _interrupted("sweeper run", *stop.value.args) == 130
    assert capsys.readouterr().err == (
        "sweeper run: interrupted before the trials stopped; `sweeper resume sweeps/quick` "
        "continues the sweep\n"
    )
