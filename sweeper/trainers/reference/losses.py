"""so-vits-svc's loss terms, as pure functions (computed in float32)."""

from __future__ import annotations

import torch


def discriminator_loss(real: list[torch.Tensor], fake: list[torch.Tensor]) -> torch.Tensor:
    """LSGAN: sum over sub-discriminators of mean((1 - D(y))^2) + mean(D(G(z))^2)."""
    total = torch.zeros((), device=real[0].device)
    for r, g in zip(real, fake, strict=True):
        total = total + torch.mean((1 - r.float()) ** 2) + torch.mean(g.float() ** 2)
    return total


def generator_loss(fake: list[torch.Tensor]) -> torch.Tensor:
    """LSGAN generator term: sum of mean((1 - D(G(z)))^2)."""
    total = torch.zeros((), device=fake[0].device)
    for g in fake:
        total = total + torch.mean((1 - g.float()) ** 2)
    return total


def feature_loss(fmap_real: list[list[torch.Tensor]], fmap_fake: list[list[torch.Tensor]]):
    """Feature matching: L1 over every layer's feature map, summed, times 2."""
    total = torch.zeros((), device=fmap_real[0][0].device)
    for dr, dg in zip(fmap_real, fmap_fake, strict=True):
        for r, g in zip(dr, dg, strict=True):
            total = total + torch.mean(torch.abs(r.float().detach() - g.float()))
    return total * 2


def kl_loss(z_p, logs_q, m_p, logs_p, mask) -> torch.Tensor:
    """KL(q || p) per frame with the single-sample estimator; can be slightly negative."""
    z_p, logs_q, m_p, logs_p, mask = (t.float() for t in (z_p, logs_q, m_p, logs_p, mask))
    kl = logs_p - logs_q - 0.5 + 0.5 * (z_p - m_p) ** 2 * torch.exp(-2.0 * logs_p)
    return torch.sum(kl * mask) / torch.sum(mask)


def lf0_of(f0: torch.Tensor) -> torch.Tensor:
    """so-vits-svc's log-f0 scale: 2595 * log10(1 + f0 / 700) / 500."""
    return 2595.0 * torch.log10(1.0 + f0 / 700.0) / 500.0
