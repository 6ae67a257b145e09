"""sweeper.detect (and the log readers) load numpy and the stdlib only."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module", ["sweeper.detect", "sweeper.logs", "sweeper.bench.curves", "sweeper.bench.generator"]
)
def test_import_loads_no_heavy_dependency(module):
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('torch', 'ray', 'optuna', 'scipy', 'matplotlib', 'tensorboard') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
