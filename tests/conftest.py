"""The suite runs on two pytest-xdist workers (pyproject's addopts: ``-n 2``).

Most of its wall time is spent waiting: on Ray starting, on trial processes, on servers. The
tests that start a Ray (tests/tune, tests/cluster) run one after another on one worker, as
they always did, so no two Rays or clusters ever share the machine's two cores; the summarize
tests stay together on one worker so that their one shared sweep (a session fixture, made
once per worker) is made once. Every other test module is a unit of its own, spread over both.
"""

from __future__ import annotations

import pytest

GROUPS = {"tune": "ray", "cluster": "ray", "summarize": "summarize-sweep"}


def group_of(nodeid: str) -> str:
    """The work unit of a test: its folder's group, else its module."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in GROUPS:
        return GROUPS[parts[1]]
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's: `-p no:xdist -n 0` runs without it
def pytest_xdist_make_scheduler(config, log):
    # xdist's own --dist loadgroup ignores its xdist_group marks under pytest 9.2 (the node
    # ids it rewrites are no longer read), so the grouping is a scheduler of ours.
    from xdist.scheduler import LoadScopeScheduling

    class FolderGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return FolderGroups(config, log)
