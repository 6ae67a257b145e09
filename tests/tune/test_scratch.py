"""Node scratch of object-store trials: a trial killed by a stop (its worker gone, so no
`finally` ran) leaves its folder, and the next trial on the node removes it; a live trial's
folder, or one just being claimed, is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sweeper.tune import _scratch


def _old(path, seconds=3600):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_the_next_trial_removes_the_folders_of_trials_gone_and_only_those(tmp_path):
    experiment = tmp_path / "exp"
    # A trial killed mid-run: its process held the lock, and the kernel dropped it.
    dead = experiment / "trial_dead"
    code = (
        "import sys, pathlib; from sweeper.tune import _scratch; "
        "h = _scratch.claim(pathlib.Path(sys.argv[1])); "
        "(pathlib.Path(sys.argv[1]) / 'G_100.pth').write_bytes(b'x' * 1000)"
    )
    subprocess.run([sys.executable, "-c", code, str(dead)], check=True)  # exits holding it
    _old(dead / _scratch.LOCK)
    # A live trial on the node (this process holds its lock), started long ago.
    live = experiment / "trial_live"
    held = _scratch.claim(live)
    _old(live / _scratch.LOCK)
    # One being claimed right now (lock file fresh), and one with no lock file yet.
    fresh = experiment / "trial_fresh"
    fresh.mkdir(parents=True)
    (fresh / _scratch.LOCK).touch()
    bare = experiment / "trial_bare"
    bare.mkdir()

    me = experiment / "trial_me"
    mine = _scratch.claim(me)
    removed = _scratch.sweep_stale(experiment, me)
    assert removed == [dead] and not dead.exists()
    assert live.is_dir() and fresh.is_dir() and bare.is_dir() and me.is_dir()

    _scratch.release(me, mine)  # a trial that ends normally removes its own
    assert not me.exists()
    held.close()


def test_a_restart_waits_a_bounded_time_for_its_old_worker(tmp_path):
    """A hung old worker still holding the lock must not block its trial's restart for ever."""
    folder = tmp_path / "exp" / "trial_a"
    old = _scratch.claim(folder)
    began = time.monotonic()
    again = _scratch.claim(folder, wait_s=0.5)
    assert 0.5 <= time.monotonic() - began < 5
    assert (folder / _scratch.LOCK).is_file()
    again.close()
    old.close()
