"""Stand-in for so-vits-svc's utils.py: hparams from a file, and a pitch tracker."""

import json

import numpy as np


class HParams:
    """Nested attribute access over config.json, usable as ``**hps.model``."""

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            setattr(self, key, HParams(**value) if isinstance(value, dict) else value)

    def keys(self):
        return self.__dict__.keys()

    def __getitem__(self, key):
        return getattr(self, key)


def get_hparams_from_file(config_path, infer_mode=False):
    with open(config_path, encoding="utf-8") as handle:
        return HParams(**json.load(handle))


class _AutocorrelationTracker:
    """f0 from the autocorrelation peak of a 512-sample window; voiced where loud enough."""

    def __init__(self, hop_length, sampling_rate):
        self.hop, self.sr = hop_length, sampling_rate

    def compute_f0_uv(self, wav, p_len=None):
        frames = len(wav) // self.hop
        f0, uv = np.zeros(frames), np.zeros(frames)
        lags = np.arange(self.sr // 1000, self.sr // 60)
        for i in range(frames):
            seg = wav[i * self.hop : i * self.hop + 512]
            if len(seg) < lags[-1] + 1 or np.sqrt(np.mean(seg**2)) < 0.01:
                continue
            corr = np.array([np.dot(seg[:-lag], seg[lag:]) / (len(seg) - lag) for lag in lags])
            first = int(np.argmax(corr >= 0.9 * corr.max()))  # the period, not a multiple
            f0[i], uv[i] = self.sr / lags[first], 1.0
        return f0, uv


def get_f0_predictor(f0_predictor, hop_length, sampling_rate, **kwargs):
    return _AutocorrelationTracker(hop_length, sampling_rate)
