"""One small real sweep for every summarize test (reference trainer, 3 trials x 30 steps),
and cheap copies of it that a test may damage (hard links; a damaged file is replaced)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sweeper.testing import tiny_sweep

# The test sweep (micro preset) with three learning rates, so the ranking has an order and
# the parameter importance has something to explain.
SWEEP = tiny_sweep(
    "s",
    (1.0e-3, 2.0e-3, 4.0e-3),
    summary={
        "mode": "composite",
        "weights": {"val/mel": 1.0, "val/vuv_error": 0.5},
        "normalize": "minmax",
    },
)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sweeper", *args]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600):
    return subprocess.run(
        cli(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("summarize-sweep")
    space = root / "s.yaml"
    space.write_text(yaml.safe_dump(SWEEP, sort_keys=False), encoding="utf-8")
    argv = ["nice", "-n", "5", *cli("run", str(space), "--storage", str(root / "sweeps"))]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "sweeps" / "s"


def light_copy(src: Path, dst: Path) -> Path:
    """The sweep folder without the trainers' run/ folders, files hard-linked (instant)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("run", "summary"),
                    copy_function=os.link)  # fmt: skip
    return dst


@pytest.fixture
def sweep_copy(sweep_dir, tmp_path) -> Path:
    return light_copy(sweep_dir, tmp_path / "s")


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` without touching the hard-linked original."""
    path.unlink()
    path.write_bytes(data)
