"""sweeper.config and sweeper.space load pyyaml, numpy and the stdlib only: no torch, ray,
optuna, and not the trainer (the tune layer checks parameter keys against it)."""

import subprocess
import sys


def test_config_and_space_import_no_heavy_dependency():
    code = (
        "import sys, sweeper.config, sweeper.space; "
        "sweeper.config.load_sweep('search_spaces/quick.yaml'); "
        "heavy = [m for m in ('torch', 'ray', 'optuna', 'scipy', 'matplotlib', "
        "'sweeper.trainers') if m in sys.modules]; print(','.join(heavy))"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == ""
