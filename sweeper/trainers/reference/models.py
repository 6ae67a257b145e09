"""SynthesizerTrn-style generator: encoders, flow and NSF decoder wired as in so-vits-svc."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.decoder import NSFDecoder
from sweeper.trainers.reference.discriminators import MultiPeriodDiscriminator
from sweeper.trainers.reference.encoders import (
    ContentEncoder,
    CouplingFlow,
    F0Decoder,
    PosteriorEncoder,
    f0_to_coarse,
    normalize_lf0,
    sequence_mask,
)
from sweeper.trainers.reference.losses import lf0_of


@dataclass
class GeneratorOutput:
    """Everything the losses need from one training forward pass."""

    audio: torch.Tensor  # [B, 1, segment] generated waveform slice
    ids_slice: torch.Tensor  # [B] start frame of each slice
    mask: torch.Tensor  # [B, 1, T] frame mask
    z_p: torch.Tensor  # flowed posterior sample
    m_p: torch.Tensor  # prior mean
    logs_p: torch.Tensor  # prior log-std
    logs_q: torch.Tensor  # posterior log-std
    pred_lf0: torch.Tensor | None  # [B, 1, T] f0-decoder output (None when disabled)
    lf0: torch.Tensor  # [B, 1, T] target lf0


class SynthesizerTrn(nn.Module):
    """Content + f0 + speaker -> waveform; trained through the posterior path on slices."""

    def __init__(self, cfg: SovitsConfig) -> None:
        super().__init__()
        m, d = cfg.model, cfg.data
        self.segment_frames = cfg.train.segment_size // d.hop_length
        self.emb_g = nn.Embedding(m.n_speakers, m.gin_channels)
        self.pre = nn.Conv1d(m.ssl_dim, m.hidden_channels, 5, padding=2)
        self.emb_uv = nn.Embedding(2, m.hidden_channels)
        self.enc_p = ContentEncoder(
            m.inter_channels,
            m.hidden_channels,
            m.filter_channels,
            m.n_heads,
            m.n_layers,
            m.kernel_size,
            m.p_dropout,
        )
        self.enc_q = PosteriorEncoder(
            d.filter_length // 2 + 1,
            m.inter_channels,
            m.hidden_channels,
            m.posterior_layers,
            m.gin_channels,
        )
        self.flow = CouplingFlow(
            m.inter_channels, m.hidden_channels, m.n_flow_layer, m.n_flows, m.gin_channels
        )
        self.dec = NSFDecoder(
            m.inter_channels,
            d.sampling_rate,
            m.upsample_rates,
            m.upsample_initial_channel,
            m.upsample_kernel_sizes,
            m.resblock_kernel_sizes,
            m.resblock_dilation_sizes,
            m.gin_channels,
            m.harmonic_num,
        )
        self.f0_decoder = (
            F0Decoder(
                m.hidden_channels,
                m.filter_channels,
                m.n_heads,
                m.f0_decoder_layers,
                m.kernel_size,
                m.p_dropout,
                m.gin_channels,
            )
            if m.use_automatic_f0_prediction
            else None
        )

    def _embed(self, c, f0, uv, lengths, sid):
        mask = sequence_mask(lengths, c.shape[-1]).to(c.dtype)
        g = self.emb_g(sid).unsqueeze(-1)
        x = self.pre(c) * mask + self.emb_uv(uv.long()).transpose(1, 2)
        return x, mask, g

    def forward(self, c, f0, uv, spec, lengths, sid) -> GeneratorOutput:
        """c ``[B, ssl, T]``, f0/uv ``[B, T]``, spec ``[B, F, T]``, lengths/sid ``[B]``."""
        x, mask, g = self._embed(c, f0, uv, lengths, sid)
        lf0 = lf0_of(f0).unsqueeze(1)
        pred_lf0 = None
        if self.f0_decoder is not None:
            norm_lf0 = normalize_lf0(lf0, mask, uv, random_scale=True)
            pred_lf0 = self.f0_decoder(x, norm_lf0, mask, g)
        _, m_p, logs_p = self.enc_p(x, mask, f0_to_coarse(f0))
        z, _, logs_q = self.enc_q(spec, mask, g)
        z_p = self.flow(z, mask, g)
        z_slice, f0_slice, ids = self._random_slice(z, f0, lengths)
        audio = self.dec(z_slice, f0_slice, g)
        return GeneratorOutput(audio, ids, mask, z_p, m_p, logs_p, logs_q, pred_lf0, lf0)

    def _random_slice(self, z, f0, lengths):
        """A random ``segment_frames`` window per clip (clips shorter are zero-padded)."""
        seg = self.segment_frames
        if z.shape[-1] < seg:
            pad = seg - z.shape[-1]
            z = nn.functional.pad(z, (0, pad))
            f0 = nn.functional.pad(f0, (0, pad))
        max_start = torch.clamp(lengths - seg, min=0) + 1
        ids = (torch.rand(z.shape[0], device=z.device) * max_start).long()
        idx = ids[:, None] + torch.arange(seg, device=z.device)[None, :]
        z_slice = torch.gather(z, 2, idx.unsqueeze(1).expand(-1, z.shape[1], -1))
        return z_slice, torch.gather(f0, 1, idx), ids

    @torch.no_grad()
    def infer(
        self, c, f0, uv, sid, noise_scale: float = 0.35, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Inference path: prior sample -> reverse flow -> decoder, with the given f0."""
        lengths = torch.full((c.shape[0],), c.shape[-1], dtype=torch.long, device=c.device)
        x, mask, g = self._embed(c, f0, uv, lengths, sid)
        z_p, _, _ = self.enc_p(x, mask, f0_to_coarse(f0), noise_scale, generator)
        z = self.flow(z_p, mask, g, reverse=True)
        return self.dec(z * mask, f0, g, generator)


def build_models(cfg: SovitsConfig) -> tuple[SynthesizerTrn, MultiPeriodDiscriminator]:
    m = cfg.model
    net_d = MultiPeriodDiscriminator(
        m.disc_periods, m.disc_channel_div, m.use_scale_discriminator, m.use_spectral_norm
    )
    return SynthesizerTrn(cfg), net_d


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
