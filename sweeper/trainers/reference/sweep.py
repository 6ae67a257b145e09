"""The reference trainer as a sweep trainer: ``run(spec, report)`` (see sweeper.trainers._api)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sweeper.trainers._api import Report, TrialSpec
from sweeper.trainers._dataset import split_params, subset_filelist
from sweeper.trainers.reference.config import (
    DataConfig,
    ModelConfig,
    SovitsConfig,
    TrainConfig,
    from_dict,
    load_config,
)

_SECTIONS = {"train": TrainConfig, "data": DataConfig, "model": ModelConfig}


def known_keys() -> frozenset[str]:
    """Every dotted config key a search space may set for this trainer."""
    return frozenset(
        f"{section}.{f.name}"
        for section, cls in _SECTIONS.items()
        for f in dataclasses.fields(cls)
    )


def trial_config(spec: TrialSpec) -> SovitsConfig:
    """The base config with the trial's parameters applied (dataset knobs aside)."""
    base = load_config(spec.preset if spec.preset is not None else str(spec.config))
    raw: dict[str, Any] = base.to_dict()
    config, knobs = split_params(spec.params)
    # One pair besides best/ is all a restart needs; the sweep copies the folder each eval.
    raw["train"]["keep_ckpts"] = 1
    for name, value in config.items():
        section, key = name.split(".", 1)
        raw.setdefault(section, {})[key] = value
    if "train_clips" in knobs:
        path = subset_filelist(
            spec.data_dir,
            raw["data"]["training_files"],
            int(knobs["train_clips"]),
            f"{spec.run_dir}/filelists/train.txt",
        )
        raw["data"]["training_files"] = str(path)
    return from_dict(raw, source="trial config")


def run(spec: TrialSpec, report: Report) -> None:
    """Train one trial in ``spec.run_dir`` (resuming what is there) up to ``spec.max_steps``."""
    import torch

    from sweeper.trainers.reference.training import train

    cfg = trial_config(spec)
    torch.set_num_threads(max(1, int(spec.cpus)))
    device = "cuda" if spec.gpu_ids and torch.cuda.is_available() else "cpu"
    # The best checkpoint follows the sweep's first objective metric, as the study's best
    # step does (until 2026-12-07 it was always the lowest val/mel: summarize then found no
    # G_<best step>.pth for a sweep on val/vuv_error, or on any metric with mode max).
    metric, mode = spec.objective[0] if spec.objective else ("val/mel", "min")
    train(
        cfg,
        spec.data_dir,
        spec.run_dir,
        report=report,
        max_steps=spec.max_steps,
        device=device,
        best_metric=metric,
        best_mode=mode,
        # Ray may start a restarted trial while the trial's old worker is still closing.
        lock_wait_s=60.0,
    )
