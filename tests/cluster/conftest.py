"""Fixtures that start real servers: a multi-node Ray cluster and a PostgreSQL server.

Both are stopped in the fixture's teardown, which pytest runs whether the test passed,
failed or raised; the Ray nodes are also stopped if starting the cluster itself fails.
Helpers live in local_ray.py / local_postgres.py (not ``conftest``, a name other test
folders import from).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from local_postgres import PostgresServer, PostgresUnavailable
from local_ray import LocalRayCluster


@pytest.fixture(scope="session")
def _ray_session():
    """``ray start --head`` (0 CPUs: it only coordinates) and two 1-CPU workers, on loopback.

    One cluster for the session (starting one costs ~20 s on 2 cores); ``ray_cluster``
    replaces the workers a test stopped.
    """
    # A short root: Ray puts unix sockets under it, and socket paths are limited to 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="rc-", dir="/tmp"))
    cluster = LocalRayCluster(root)
    try:
        cluster.start_head()
        cluster.wait_for_nodes(1)
        yield cluster
    finally:
        cluster.stop()
        left = cluster.leftover_pids()
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"Ray processes of this test session survived the teardown: {left}"


@pytest.fixture
def ray_cluster(_ray_session):
    """The session's cluster with exactly two live 1-CPU workers (3 nodes alive)."""
    cluster = _ray_session
    while len(cluster.live_workers()) < 2:
        cluster.add_worker()
    cluster.wait_for_nodes(3)
    return cluster


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server (Debian's package); fails, never skips, when unavailable."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as err:
        pytest.fail(str(err))
    try:
        server.start()
        yield server
    finally:
        server.stop()
