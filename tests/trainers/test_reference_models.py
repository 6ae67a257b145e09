"""Network shapes, parameter counts per preset, and the loss terms' signs."""

from __future__ import annotations

import torch

from sweeper.trainers.reference.config import load_config
from sweeper.trainers.reference.losses import (
    discriminator_loss,
    feature_loss,
    generator_loss,
    kl_loss,
)
from sweeper.trainers.reference.models import build_models, count_parameters


def _inputs(cfg, batch=2, frames=30):
    torch.manual_seed(0)
    c = torch.randn(batch, cfg.model.ssl_dim, frames)
    f0 = torch.full((batch, frames), 220.0)
    f0[:, :5] = 0.0  # an unvoiced start
    uv = (f0 > 0).float()
    spec = torch.rand(batch, cfg.data.filter_length // 2 + 1, frames)
    lengths = torch.tensor([frames] + [frames - 7] * (batch - 1))
    sid = torch.arange(batch) % cfg.model.n_speakers
    return c, f0, uv, spec, lengths, sid


def test_parameter_counts_per_preset():
    counts = {}
    for name in ("micro", "tiny", "sovits-4.1"):
        net_g, net_d = build_models(load_config(name))
        counts[name] = (count_parameters(net_g), count_parameters(net_d))
    assert 0.9e6 <= counts["tiny"][0] <= 1.3e6  # "about 1M" generator parameters
    assert counts["micro"][0] < counts["tiny"][0] / 3
    # so-vits-svc 4.1 (vec768l12, 200 speakers): G 52.40M, D 46.75M.
    assert abs(counts["sovits-4.1"][0] - 52.40e6) / 52.40e6 < 0.01
    assert abs(counts["sovits-4.1"][1] - 46.75e6) / 46.75e6 < 0.01


def test_forward_and_infer_shapes_tiny():
    cfg = load_config("tiny")
    net_g, net_d = build_models(cfg)
    c, f0, uv, spec, lengths, sid = _inputs(cfg)
    out = net_g(c, f0, uv, spec, lengths, sid)
    seg = cfg.train.segment_size
    assert out.audio.shape == (2, 1, seg)
    assert out.z_p.shape == (2, cfg.model.inter_channels, 30) == out.m_p.shape
    assert out.pred_lf0.shape == (2, 1, 30)
    assert bool((out.ids_slice + seg // cfg.data.hop_length <= lengths).all())
    audio = net_g.infer(c[:1], f0[:1], uv[:1], sid[:1])
    assert audio.shape == (1, 1, 30 * cfg.data.hop_length)
    assert float(audio.abs().max()) <= 1.0  # tanh output
    real, fake, fmap_r, _ = net_d(out.audio.detach(), out.audio.detach())
    n_sub = len(cfg.model.disc_periods) + int(cfg.model.use_scale_discriminator)
    assert len(real) == len(fake) == len(fmap_r) == n_sub
    assert all(r.shape[0] == 2 for r in real)


def test_infer_is_reproducible_with_a_generator():
    cfg = load_config("micro")
    net_g, _ = build_models(cfg)
    net_g.eval()
    c, f0, uv, _, _, sid = _inputs(cfg, batch=1)
    a = net_g.infer(c, f0, uv, sid, generator=torch.Generator().manual_seed(1))
    b = net_g.infer(c, f0, uv, sid, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_losses_are_finite_with_expected_signs():
    cfg = load_config("micro")
    net_g, net_d = build_models(cfg)
    c, f0, uv, spec, lengths, sid = _inputs(cfg)
    out = net_g(c, f0, uv, spec, lengths, sid)
    y = torch.randn_like(out.audio) * 0.1
    real, fake, fmap_r, fmap_g = net_d(y, out.audio)
    d_loss = discriminator_loss(real, fake)
    g_loss, fm = generator_loss(fake), feature_loss(fmap_r, fmap_g)
    kl = kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.mask)
    for value in (d_loss, g_loss, fm, kl):
        assert torch.isfinite(value)
    assert d_loss > 0 and g_loss > 0 and fm > 0
    # Identical real and fake: feature matching is exactly zero, the LSGAN terms are not.
    with torch.no_grad():
        real2, fake2, fr2, fg2 = net_d(y, y)
    assert feature_loss(fr2, fg2).item() == 0.0
    assert torch.allclose(
        discriminator_loss(real2, fake2),
        sum(torch.mean((1 - r) ** 2) + torch.mean(r**2) for r in real2),
    )


def test_kl_is_zero_when_posterior_equals_prior_mean_and_scale():
    m = torch.randn(1, 4, 10)
    logs = torch.zeros(1, 4, 10)
    mask = torch.ones(1, 1, 10)
    # z_p at the prior mean: kl = -0.5 per element (single-sample estimator can be negative).
    assert torch.isclose(kl_loss(m, logs, m, logs, mask), torch.tensor(-0.5 * 4))


def test_torch_mel_gives_a_frame_per_hop_and_matches_the_numpy_one_when_n_fft_minus_hop_is_odd():
    import numpy as np

    from sweeper.data.features import log_mel_content
    from sweeper.trainers.reference.mel import spec_to_mel, spectrogram

    # hop 441 at 44.1 kHz: the torch frames were one short of the content's (a probe).
    n = 7 * 441
    audio = np.sin(np.arange(n) * 0.05).astype(np.float32)
    spec = spectrogram(torch.from_numpy(audio)[None], 2048, 441, 2048)
    mel = spec_to_mel(spec, 44100, 2048, 40, 0.0, None)[0].numpy()
    assert mel.shape == (40, n // 441)
    assert np.abs(mel - log_mel_content(audio, 44100, 2048, 441, 40)).max() < 1e-2
