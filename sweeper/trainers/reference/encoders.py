"""Encoders and flow of the SynthesizerTrn-style generator (no decoder, see ``decoder.py``).

- :class:`ContentEncoder` (so-vits-svc ``enc_p``): content features + coarse-f0 embedding
  through an attention stack, projected to the prior mean and log-std.
- :class:`PosteriorEncoder` (``enc_q``): WaveNet over the linear spectrogram.
- :class:`CouplingFlow` (``flow``): mean-only residual coupling layers with flips.
- :class:`F0Decoder` (``f0_decoder``): predicts normalised lf0 for automatic pitch.

Attention is plain multi-head attention with a key mask; so-vits-svc uses relative-position
attention. The difference changes parameter counts slightly, not the training recipe.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``[B]`` lengths -> ``[B, 1, T]`` float mask."""
    max_len = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(max_len, device=lengths.device)
    return (steps[None, :] < lengths[:, None]).unsqueeze(1).float()


class ChannelNorm(nn.Module):
    """LayerNorm over channels of a ``[B, C, T]`` tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class AttentionStack(nn.Module):
    """Post-norm transformer encoder: attention then conv feed-forward, both masked."""

    def __init__(
        self,
        hidden: int,
        filter_ch: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
    ) -> None:
        super().__init__()
        self.attn = nn.ModuleList(
            nn.MultiheadAttention(hidden, n_heads, dropout=p_dropout, batch_first=True)
            for _ in range(n_layers)
        )
        self.norm1 = nn.ModuleList(ChannelNorm(hidden) for _ in range(n_layers))
        self.ffn_in = nn.ModuleList(
            nn.Conv1d(hidden, filter_ch, kernel_size, padding=kernel_size // 2)
            for _ in range(n_layers)
        )
        self.ffn_out = nn.ModuleList(
            nn.Conv1d(filter_ch, hidden, kernel_size, padding=kernel_size // 2)
            for _ in range(n_layers)
        )
        self.norm2 = nn.ModuleList(ChannelNorm(hidden) for _ in range(n_layers))
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pad = mask[:, 0] < 0.5  # [B, T], True where padded
        for i in range(len(self.attn)):
            h = x.transpose(1, 2)
            h, _ = self.attn[i](h, h, h, key_padding_mask=pad, need_weights=False)
            x = self.norm1[i](x + self.drop(h.transpose(1, 2)))
            h = self.ffn_out[i](self.drop(torch.relu(self.ffn_in[i](x * mask))) * mask)
            x = self.norm2[i](x + self.drop(h))
        return x * mask


class ContentEncoder(nn.Module):
    """enc_p: ``(x, mask, coarse f0)`` -> ``(z, m_p, logs_p)``."""

    def __init__(
        self,
        out_ch: int,
        hidden: int,
        filter_ch: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
    ) -> None:
        super().__init__()
        self.f0_emb = nn.Embedding(256, hidden)  # 256 coarse pitch bins, as so-vits-svc
        self.encoder = AttentionStack(hidden, filter_ch, n_heads, n_layers, kernel_size, p_dropout)
        self.proj = nn.Conv1d(hidden, out_ch * 2, 1)
        self.out_ch = out_ch

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        f0_coarse: torch.Tensor,
        noise_scale: float = 1.0,
        generator: torch.Generator | None = None,
    ):
        x = x + self.f0_emb(f0_coarse).transpose(1, 2)
        x = self.encoder(x * mask, mask)
        m, logs = torch.split(self.proj(x) * mask, self.out_ch, dim=1)
        noise = torch.randn(m.shape, generator=generator, device=m.device, dtype=m.dtype)
        z = (m + noise * torch.exp(logs) * noise_scale) * mask
        return z, m, logs


class WN(nn.Module):
    """Gated WaveNet stack with optional global conditioning (speaker)."""

    def __init__(
        self, hidden: int, kernel_size: int, n_layers: int, gin: int, p_dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.cond = weight_norm(nn.Conv1d(gin, 2 * hidden * n_layers, 1)) if gin > 0 else None
        self.in_layers = nn.ModuleList(
            weight_norm(nn.Conv1d(hidden, 2 * hidden, kernel_size, padding=kernel_size // 2))
            for _ in range(n_layers)
        )
        # The last layer feeds only the skip path, so it needs half the channels.
        self.res_skip = nn.ModuleList(
            weight_norm(nn.Conv1d(hidden, 2 * hidden if i < n_layers - 1 else hidden, 1))
            for i in range(n_layers)
        )
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None):
        out = torch.zeros_like(x)
        cond = self.cond(g) if (g is not None and self.cond is not None) else None
        n = len(self.in_layers)
        for i in range(n):
            h = self.in_layers[i](x)
            if cond is not None:
                h = h + cond[:, i * 2 * self.hidden : (i + 1) * 2 * self.hidden]
            a, b = h.chunk(2, dim=1)
            acts = self.drop(torch.tanh(a) * torch.sigmoid(b))
            rs = self.res_skip[i](acts)
            if i < n - 1:
                x = (x + rs[:, : self.hidden]) * mask
                out = out + rs[:, self.hidden :]
            else:
                out = out + rs
        return out * mask


class PosteriorEncoder(nn.Module):
    """enc_q: linear spectrogram -> ``(z, m_q, logs_q)`` sampled with the reparam trick."""

    def __init__(self, in_ch: int, out_ch: int, hidden: int, n_layers: int, gin: int) -> None:
        super().__init__()
        self.pre = nn.Conv1d(in_ch, hidden, 1)
        self.enc = WN(hidden, 5, n_layers, gin)
        self.proj = nn.Conv1d(hidden, out_ch * 2, 1)
        self.out_ch = out_ch

    def forward(self, spec: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None):
        x = self.enc(self.pre(spec) * mask, mask, g)
        m, logs = torch.split(self.proj(x) * mask, self.out_ch, dim=1)
        z = (m + torch.randn_like(m) * torch.exp(logs)) * mask
        return z, m, logs


class CouplingFlow(nn.Module):
    """Mean-only affine couplings, each followed by a channel flip (volume preserving)."""

    def __init__(self, channels: int, hidden: int, n_layers: int, n_flows: int, gin: int):
        super().__init__()
        half = channels // 2
        self.pre = nn.ModuleList(nn.Conv1d(half, hidden, 1) for _ in range(n_flows))
        self.wn = nn.ModuleList(WN(hidden, 5, n_layers, gin) for _ in range(n_flows))
        self.post = nn.ModuleList(nn.Conv1d(hidden, half, 1) for _ in range(n_flows))
        for post in self.post:  # start as the identity so early training is stable
            nn.init.zeros_(post.weight)
            nn.init.zeros_(post.bias)

    def _couple(self, i: int, x, mask, g, reverse: bool):
        x0, x1 = x.chunk(2, dim=1)
        shift = self.post[i](self.wn[i](self.pre[i](x0) * mask, mask, g)) * mask
        x1 = (x1 - shift if reverse else x1 + shift) * mask
        return torch.cat([x0, x1], dim=1)

    def forward(self, x, mask, g=None, reverse: bool = False):
        order = range(len(self.wn))
        if not reverse:
            for i in order:
                x = torch.flip(self._couple(i, x, mask, g, reverse=False), dims=[1])
        else:
            for i in reversed(order):
                x = self._couple(i, torch.flip(x, dims=[1]), mask, g, reverse=True)
        return x


class F0Decoder(nn.Module):
    """Predicts normalised lf0 from detached content features and the input pitch curve."""

    def __init__(
        self,
        hidden: int,
        filter_ch: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
        gin: int,
    ) -> None:
        super().__init__()
        self.prenet = nn.Conv1d(hidden, hidden, 3, padding=1)
        self.f0_prenet = nn.Conv1d(1, hidden, 3, padding=1)
        self.cond = nn.Conv1d(gin, hidden, 1)
        self.decoder = AttentionStack(hidden, filter_ch, n_heads, n_layers, kernel_size, p_dropout)
        self.proj = nn.Conv1d(hidden, 1, 1)

    def forward(self, x, norm_f0, mask, g):
        x = self.prenet(torch.detach(x)) + self.f0_prenet(norm_f0) + self.cond(g)
        return self.proj(self.decoder(x * mask, mask)) * mask


def f0_to_coarse(f0: torch.Tensor) -> torch.Tensor:
    """Hz -> 256 mel-spaced bins (1..255; 0 Hz and below 50 Hz fall in bin 1)."""
    mel_min, mel_max = (
        1127 * torch.log(torch.tensor(1 + 50 / 700)),
        1127 * torch.log(torch.tensor(1 + 1100 / 700)),
    )
    mel = 1127 * torch.log(1 + f0 / 700)
    mel = torch.where(mel > 0, (mel - mel_min) * 254 / (mel_max - mel_min) + 1, mel)
    return torch.clamp(torch.round(mel), 1, 255).long()


def normalize_lf0(
    lf0: torch.Tensor, mask: torch.Tensor, uv: torch.Tensor, random_scale: bool
) -> torch.Tensor:
    """Remove each clip's voiced mean (and randomly rescale by 0.8-1.2 during training)."""
    uv = uv.unsqueeze(1)
    voiced = (uv * mask).sum(dim=2, keepdim=True).clamp(min=1)
    mean = (lf0 * uv * mask).sum(dim=2, keepdim=True) / voiced
    if random_scale:
        factor = torch.empty(lf0.shape[0], 1, 1, device=lf0.device).uniform_(0.8, 1.2)
    else:
        factor = torch.ones(lf0.shape[0], 1, 1, device=lf0.device)
    return (lf0 - mean) * factor * uv
