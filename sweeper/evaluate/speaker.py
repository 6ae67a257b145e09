"""Speaker similarity: cosine of Resemblyzer d-vectors (GE2E LSTM, weights in its wheel).

The encoder is Resemblyzer's (3-layer LSTM on 40-band mel power, 1.6 s partials at 1.3 per
second, mean of L2-normed partial embeddings), loaded from the wheel's ``pretrained.pt`` into
the same module shape here. Importing ``resemblyzer`` itself would import ``webrtcvad``,
whose ``pkg_resources`` call fails on setuptools >= 81; its VAD silence trimming is skipped,
which for equal-length ref/out pairs changes nothing that both sides do not share. Every
clip is brought to -30 dBFS (Resemblyzer's level; it only raises quiet clips), so the score
does not depend on the output's gain. Direction: higher is better; same voice, other sentence
~0.86, another voice ~0.5.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from sweeper.evaluate._base import result, skipped, unavailable
from sweeper.evaluate._cache import cached, torch_device

_SR, _WIN, _HOP, _MELS, _PARTIAL = 16000, 400, 160, 40, 160  # Resemblyzer's hparams
_RATE, _MIN_COVERAGE = 1.3, 0.75
_SILENT_DBFS = -80.0  # below this a clip has no voice to embed (digital silence, a dead model)


def weights_path() -> Path | None:
    spec = importlib.util.find_spec("resemblyzer")  # locates, does not import
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    return path if path.is_file() else None


def _load(device: str, threads: int):
    import torch

    torch.set_num_threads(threads)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(_MELS, 256, 3, batch_first=True)
            self.linear = torch.nn.Linear(256, 256)

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    path = weights_path()
    if path is None:
        raise FileNotFoundError("resemblyzer/pretrained.pt not found")
    state = torch.load(path, map_location="cpu", weights_only=False)["model_state"]
    # The checkpoint also holds GE2E's similarity scale/bias, unused at inference.
    state = {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}
    net = Encoder()
    net.load_state_dict(state, strict=True)
    return net.to(device).eval()


def _slices(n_samples: int) -> list[int]:
    """Start frames of the 1.6 s partials (Resemblyzer's ``compute_partial_slices``)."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round((_SR / _RATE) / _HOP))
    starts = list(range(0, max(1, n_frames - _PARTIAL + step + 1), step))
    coverage = (n_samples - starts[-1] * _HOP) / (_PARTIAL * _HOP)
    if coverage < _MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def embed(net, audio16k: np.ndarray, device: str) -> np.ndarray:
    """L2-normed 256-d embedding of one 16 kHz clip."""
    import librosa
    import torch

    wav = audio16k.astype(np.float32)
    # An inaudible DC offset (0.01, -40 dBFS) moved the embedding as far as another sentence
    # does (1.0 -> 0.90 against the same clip; a probe, 2026-12-08): it goes first.
    wav = wav - np.float32(wav.mean(dtype=np.float64))
    rms = _rms(wav)
    if rms > 0:
        # To -30 dBFS, Resemblyzer's level, both ways: its own only raises quiet clips, so an
        # out 20 dB louder than its ref scored 0.64 against the same voice.
        wav = wav * (10 ** (-30 / 20) / rms)
    starts = _slices(len(wav))
    need = (starts[-1] + _PARTIAL) * _HOP
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    mel = librosa.feature.melspectrogram(
        y=wav, sr=_SR, n_fft=_WIN, hop_length=_HOP, n_mels=_MELS
    ).astype(np.float32).T
    batch = np.stack([mel[s : s + _PARTIAL] for s in starts])
    with torch.no_grad():
        partial = net(torch.from_numpy(batch).to(device)).cpu().numpy()
    mean = partial.mean(axis=0)
    return mean / np.linalg.norm(mean)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _silent(clips: dict[str, list[np.ndarray]]) -> str | None:
    """Why no similarity can be given: a silent clip embeds as silence, which scored 1.0
    against silence and 0.38 against speech (a dead model's output looked half right)."""
    for name, group in clips.items():
        for i, x in enumerate(group):
            rms = _rms(x)
            if rms < 10 ** (_SILENT_DBFS / 20):
                level = "-inf" if rms == 0 else f"{20 * np.log10(rms):.0f}"
                return f"{name}[{i}] is silent ({level} dBFS): no voice to compare"
    return None


def compute(batch, metrics) -> dict:
    (metric,) = metrics
    silent = _silent({"refs": batch.refs, "outs": batch.outs})
    if silent is not None:
        return {metric.name: skipped(metric, silent)}
    device = torch_device(batch.settings.device)
    try:
        net = cached(("resemblyzer", device), lambda: _load(device, batch.settings.threads))
    except (FileNotFoundError, KeyError, RuntimeError) as err:
        return {metric.name: unavailable(metric, f"cannot load Resemblyzer weights ({err})")}
    refs, outs = batch.at_model_rate("refs"), batch.at_model_rate("outs")
    sims = [
        # unit vectors: rounding gave 1 + 1e-7 for an identical pair
        float(np.clip(embed(net, r, device) @ embed(net, o, device), -1.0, 1.0))
        for r, o in zip(refs, outs, strict=True)
    ]
    return {metric.name: result(metric, float(np.mean(sims)), sims)}
