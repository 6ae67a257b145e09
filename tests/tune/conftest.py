"""The fixture of the sweep tests; their helpers are in sweep_tools.py."""

from __future__ import annotations

import pytest
from sweep_tools import Processes


@pytest.fixture
def procs():
    p = Processes()
    yield p
    p.kill_all()
