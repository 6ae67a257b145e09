"""NSF-HiFiGAN decoder: a harmonic-plus-noise source driven by f0, injected at every upsample.

The source follows the neural source-filter recipe: sines at f0 and its overtones (amplitude
0.1 where voiced, noise where unvoiced), merged by a linear layer and tanh, then added to the
HiFiGAN activations through strided convolutions at each resolution.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

LRELU_SLOPE = 0.1


def _pad(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock(nn.Module):
    """HiFiGAN type-1 residual block: dilated conv then plain conv, per dilation."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_pad(kernel, d)))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, padding=_pad(kernel)))
            for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            h = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = x + h
        return x


class HarmonicSource(nn.Module):
    """f0 at sample rate ``[B, 1, N]`` -> source excitation ``[B, 1, N]``."""

    def __init__(
        self, sr: int, harmonic_num: int, sine_amp: float = 0.1, noise_std: float = 0.003
    ) -> None:
        super().__init__()
        self.sr, self.harmonics = sr, harmonic_num + 1
        self.sine_amp, self.noise_std = sine_amp, noise_std
        self.merge = nn.Linear(self.harmonics, 1)

    def forward(self, f0: torch.Tensor, generator: torch.Generator | None = None):
        orders = torch.arange(1, self.harmonics + 1, device=f0.device, dtype=f0.dtype)
        freqs = f0.transpose(1, 2) * orders  # [B, N, H]
        uv = (f0.transpose(1, 2) > 0).to(f0.dtype)
        # Random initial phase per overtone (not the fundamental), wrapped cumsum of
        # frequency in cycles to keep float32 precise over long clips.
        b = f0.shape[0]
        phase0 = torch.rand(b, 1, self.harmonics, generator=generator, device=f0.device)
        phase0[:, :, 0] = 0
        cycles = torch.cumsum(freqs / self.sr, dim=1) + phase0
        sines = self.sine_amp * torch.sin(2 * math.pi * torch.remainder(cycles, 1.0))
        noise_amp = uv * self.noise_std + (1 - uv) * self.sine_amp / 3
        noise = torch.randn(sines.shape, generator=generator, device=f0.device)
        src = sines * uv + noise_amp * noise
        return torch.tanh(self.merge(src)).transpose(1, 2)


class NSFDecoder(nn.Module):
    """z ``[B, C, T]`` + frame f0 ``[B, T]`` -> waveform ``[B, 1, T * hop]``."""

    def __init__(
        self,
        in_ch: int,
        sr: int,
        upsample_rates: list[int],
        upsample_initial: int,
        upsample_kernels: list[int],
        res_kernels: list[int],
        res_dilations: list[list[int]],
        gin: int,
        harmonic_num: int,
    ) -> None:
        super().__init__()
        self.hop = math.prod(upsample_rates)
        self.source = HarmonicSource(sr, harmonic_num)
        self.conv_pre = nn.Conv1d(in_ch, upsample_initial, 7, padding=3)
        self.cond = nn.Conv1d(gin, upsample_initial, 1)
        self.ups = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = upsample_initial
        for i, (rate, kernel) in enumerate(zip(upsample_rates, upsample_kernels, strict=True)):
            out = upsample_initial // (2 ** (i + 1))
            self.ups.append(
                weight_norm(
                    nn.ConvTranspose1d(ch, out, kernel, rate, padding=(kernel - rate) // 2)
                )
            )
            # The source lives at sample rate; stride down to this stage's resolution.
            stride = math.prod(upsample_rates[i + 1 :])
            if stride > 1:
                self.noise_convs.append(
                    nn.Conv1d(1, out, stride * 2, stride, padding=(stride + 1) // 2)
                )
            else:
                self.noise_convs.append(nn.Conv1d(1, out, 1))
            for k, d in zip(res_kernels, res_dilations, strict=True):
                self.resblocks.append(ResBlock(out, k, d))
            ch = out
        self.n_kernels = len(res_kernels)
        self.conv_post = weight_norm(nn.Conv1d(ch, 1, 7, padding=3))

    def forward(
        self,
        z: torch.Tensor,
        f0: torch.Tensor,
        g: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        f0_up = F.interpolate(f0.unsqueeze(1), scale_factor=float(self.hop), mode="nearest")
        har = self.source(f0_up.float(), generator).to(z.dtype)
        x = self.conv_pre(z) + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            x = x + self.noise_convs[i](har)[..., : x.shape[-1]]
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            x = sum(block(x) for block in blocks) / self.n_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))
