"""Config presets as plain so-vits-svc style dicts, so YAML files can start from them
(``preset: tiny``): the 4.1 template's sizes, and two scaled-down models for CPUs
(docs/trainer.md has their step times)."""

from __future__ import annotations

from typing import Any

# Presets as plain dicts so YAML files can start from them (``preset: tiny``).
PRESETS_RAW: dict[str, dict[str, Any]] = {
    "sovits-4.1": {"model": {"n_speakers": 200}},  # the so-vits-svc 4.1 template
    "tiny": {
        "train": {
            "learning_rate": 1e-3,
            "batch_size": 4,
            "segment_size": 6400,
            "log_interval": 20,
            "eval_interval": 100,
            "lr_decay": 0.999875,
        },
        "data": {
            "sampling_rate": 16000,
            "filter_length": 1024,
            "hop_length": 320,
            "win_length": 1024,
            "mel_fmax": 8000,
        },
        "model": {
            "inter_channels": 64,
            "hidden_channels": 64,
            "filter_channels": 128,
            "n_heads": 2,
            "n_layers": 2,
            "p_dropout": 0.1,
            "resblock_kernel_sizes": [3, 7],
            "resblock_dilation_sizes": [[1, 3], [1, 3]],
            "upsample_rates": [10, 8, 4],
            "upsample_initial_channel": 128,
            "upsample_kernel_sizes": [20, 16, 8],
            "n_flow_layer": 2,
            "gin_channels": 32,
            "ssl_dim": 80,
            "n_speakers": 8,
            "speech_encoder": "mel",
            "posterior_layers": 3,
            "n_flows": 2,
            "f0_decoder_layers": 1,
            "disc_periods": [2, 3, 5],
            "disc_channel_div": 8,
        },
    },
    "micro": {
        "train": {
            "learning_rate": 1e-3,
            "batch_size": 4,
            "segment_size": 3200,
            "log_interval": 5,
            "eval_interval": 50,
        },
        "data": {
            "sampling_rate": 16000,
            "filter_length": 512,
            "hop_length": 320,
            "win_length": 512,
            "n_mel_channels": 40,
            "mel_fmax": 8000,
        },
        "model": {
            "inter_channels": 32,
            "hidden_channels": 32,
            "filter_channels": 64,
            "n_heads": 2,
            "n_layers": 1,
            "p_dropout": 0.0,
            "resblock_kernel_sizes": [3],
            "resblock_dilation_sizes": [[1, 3]],
            "upsample_rates": [10, 8, 4],
            "upsample_initial_channel": 64,
            "upsample_kernel_sizes": [20, 16, 8],
            "n_flow_layer": 2,
            "gin_channels": 16,
            "ssl_dim": 40,
            "n_speakers": 8,
            "speech_encoder": "mel",
            "posterior_layers": 2,
            "n_flows": 1,
            "f0_decoder_layers": 1,
            "harmonic_num": 4,
            "disc_periods": [2, 3],
            "disc_channel_div": 16,
            "use_scale_discriminator": False,
        },
    },
}
PRESETS = tuple(PRESETS_RAW)
