"""A relative sqlite study database is the sweep's, wherever status runs; reading never
creates one."""

from __future__ import annotations

import pytest
import yaml

from sweeper.config import load_sweep
from sweeper.errors import InputError
from sweeper.testing.sweeps import tiny_sweep
from sweeper.tune._journal import open_existing


def test_relative_sqlite_is_rooted_and_a_missing_one_is_not_created(tmp_path):
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump({**tiny_sweep("q"), "storage": "sqlite:///x.db"}))
    ran_in = tmp_path / "project"
    cfg = load_sweep(space, root=ran_in)
    assert cfg.storage == f"sqlite:///{ran_in / 'x.db'}"  # was left relative to the cwd
    assert load_sweep(space).storage == "sqlite:///x.db"  # a new sweep: the cwd, as before
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(InputError, match=r"study database .*x\.db.* does not exist; fix:"):
        open_existing(cfg, elsewhere / "q")
    assert not (ran_in / "x.db").exists() and not ran_in.exists()  # nothing created
