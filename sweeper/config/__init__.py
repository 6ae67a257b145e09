"""Sweep files (``search_spaces/*.yaml``) as typed, validated config (pyyaml + stdlib).

No optuna, ray or torch here; the tune layer reads a :class:`SweepConfig` and checks what
only it can know (parameter keys against the chosen trainer, the cluster's size).
"""

from sweeper.config._load import load_sweep
from sweeper.config._schema import (
    MAX_TRIALS_PER_GPU,
    MODES,
    SAMPLERS,
    TRAINERS,
    Base,
    Budget,
    DataSpec,
    Objective,
    PrunerSettings,
    Resources,
    Sampler,
    SweepConfig,
    ToyData,
)
from sweeper.config._sovits import F0_TRACKERS, SovitsSection
from sweeper.config._yaml import Lines, load_yaml_with_lines

__all__ = [
    "F0_TRACKERS",
    "MAX_TRIALS_PER_GPU",
    "MODES",
    "SAMPLERS",
    "TRAINERS",
    "Base",
    "Budget",
    "DataSpec",
    "Lines",
    "Objective",
    "PrunerSettings",
    "Resources",
    "Sampler",
    "SovitsSection",
    "SweepConfig",
    "ToyData",
    "load_sweep",
    "load_yaml_with_lines",
]
