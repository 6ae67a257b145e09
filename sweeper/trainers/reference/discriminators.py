"""Multi-period discriminator plus the scale discriminator (HiFiGAN's D, as in so-vits-svc).

Widths can be divided by ``disc_channel_div`` so the tiny presets train on a CPU.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm
from torch.nn.utils.parametrizations import weight_norm

from sweeper.trainers.reference.decoder import LRELU_SLOPE


def _w(channels: int, div: int) -> int:
    return max(4, channels // div)


def _conv_stack(convs: nn.ModuleList, conv_post: nn.Module, x: torch.Tensor):
    """Leaky-ReLU conv stack; returns the flattened score and every layer's feature map."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = conv_post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


class PeriodDiscriminator(nn.Module):
    """Folds the waveform into ``[T / p, p]`` and convolves along time only."""

    def __init__(self, period: int, div: int, use_spectral_norm: bool = False) -> None:
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        self.period = period
        widths = [1] + [_w(c, div) for c in (32, 128, 512, 1024, 1024)]
        self.convs = nn.ModuleList(
            norm(nn.Conv2d(widths[i], widths[i + 1], (5, 1), (3 if i < 4 else 1, 1), (2, 0)))
            for i in range(5)
        )
        self.conv_post = norm(nn.Conv2d(widths[-1], 1, (3, 1), 1, (1, 0)))

    def forward(self, x: torch.Tensor):
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), mode="reflect")
        return _conv_stack(self.convs, self.conv_post, x.view(b, c, -1, self.period))


class ScaleDiscriminator(nn.Module):
    """Grouped strided 1-D convolutions over the raw waveform."""

    def __init__(self, div: int, use_spectral_norm: bool = False) -> None:
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        spec = [  # (out, kernel, stride, groups) before division
            (16, 15, 1, 1),
            (64, 41, 4, 4),
            (256, 41, 4, 16),
            (1024, 41, 4, 64),
            (1024, 41, 4, 256),
            (1024, 5, 1, 1),
        ]
        convs, ch = [], 1
        for out, kernel, stride, groups in spec:
            out = _w(out, div)
            groups = max(1, min(groups // div, ch, out))
            while ch % groups or out % groups:  # keep group counts valid after division
                groups -= 1
            convs.append(norm(nn.Conv1d(ch, out, kernel, stride, kernel // 2, groups=groups)))
            ch = out
        self.convs = nn.ModuleList(convs)
        self.conv_post = norm(nn.Conv1d(ch, 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor):
        return _conv_stack(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    """Returns ``(real scores, fake scores, real fmaps, fake fmaps)``, one entry per sub-D."""

    def __init__(
        self,
        periods: list[int],
        div: int = 1,
        use_scale: bool = True,
        use_spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        subs: list[nn.Module] = [ScaleDiscriminator(div, use_spectral_norm)] if use_scale else []
        subs += [PeriodDiscriminator(p, div, use_spectral_norm) for p in periods]
        self.discriminators = nn.ModuleList(subs)

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor):
        real, fake, fmap_real, fmap_fake = [], [], [], []
        for d in self.discriminators:
            r, fr = d(y)
            g, fg = d(y_hat)
            real.append(r)
            fake.append(g)
            fmap_real.append(fr)
            fmap_fake.append(fg)
        return real, fake, fmap_real, fmap_fake
