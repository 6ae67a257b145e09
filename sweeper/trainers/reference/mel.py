"""Linear and log-mel spectrograms in torch, with so-vits-svc's conventions.

Frames: reflect padding of (n_fft - hop) / 2 on both sides (an odd sample on the right) and
``center=False``, so a clip of ``N`` samples (a multiple of hop) gives ``N // hop`` frames.
Magnitude is ``sqrt(re^2 + im^2 + 1e-6)``; the mel is the natural log of ``max(mel, 1e-5)``.
A mel L1 on this scale is what the training term ``loss/g/mel`` multiplies by ``c_mel``.
"""

from __future__ import annotations

import torch

from sweeper.data.features import mel_filterbank


def spectrogram(y: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    """Linear magnitude spectrogram: ``[B, N]`` -> ``[B, n_fft // 2 + 1, N // hop]``."""
    pad = (n_fft - hop) // 2
    # The odd sample, where n_fft - hop is odd, goes right: N // hop frames still (so-vits-svc
    # pads both sides alike and is a frame short there; its hop 512 and n_fft 2048 are even).
    y = torch.nn.functional.pad(y.unsqueeze(1), (pad, n_fft - hop - pad), mode="reflect")
    y = y.squeeze(1)
    window = torch.hann_window(win, device=y.device, dtype=torch.float32)
    spec = torch.stft(
        y.float(),
        n_fft,
        hop_length=hop,
        win_length=win,
        window=window,
        center=False,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)


def spec_to_mel(
    spec: torch.Tensor, sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> torch.Tensor:
    """Log-mel from a linear spectrogram: ``[B, F, T]`` -> ``[B, n_mels, T]``."""
    fb = mel_filterbank(
        sr, n_fft, n_mels, float(fmin), float(fmax if fmax is not None else sr / 2)
    )
    basis = torch.from_numpy(fb).to(spec.device)
    return torch.log(torch.clamp(torch.matmul(basis, spec.float()), min=1e-5))


class MelFrontEnd:
    """The mel settings of one config, as two callables used by training and validation."""

    def __init__(self, data_cfg) -> None:  # data_cfg: DataConfig (kept untyped: no cycle)
        self.sr = data_cfg.sampling_rate
        self.n_fft = data_cfg.filter_length
        self.hop = data_cfg.hop_length
        self.win = data_cfg.win_length
        self.n_mels = data_cfg.n_mel_channels
        self.fmin = data_cfg.mel_fmin
        self.fmax = data_cfg.mel_fmax

    def spec(self, y: torch.Tensor) -> torch.Tensor:
        return spectrogram(y, self.n_fft, self.hop, self.win)

    def spec_to_mel(self, spec: torch.Tensor) -> torch.Tensor:
        return spec_to_mel(spec, self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax)

    def mel(self, y: torch.Tensor) -> torch.Tensor:
        return self.spec_to_mel(self.spec(y))
