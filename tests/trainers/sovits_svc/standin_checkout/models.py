"""Stand-in for so-vits-svc's models.py: a 'synthesiser' that is a sine at the given f0."""

import math
import os
import time

import torch

SAMPLING_RATE = 16000


class SynthesizerTrn(torch.nn.Module):
    def __init__(self, spec_channels, segment_size, **model):
        super().__init__()
        self.hop = math.prod(model["upsample_rates"])
        self.amplitude = torch.nn.Parameter(torch.zeros(1))  # the one 'trained' weight

    def infer(self, c, f0, uv, g=None, noice_scale=0.35, seed=52468, predict_f0=False, vol=None):
        time.sleep(float(os.environ.get("STANDIN_EVAL_S", "0")))  # a slow evaluation
        f0_samples = torch.repeat_interleave(f0, self.hop, dim=-1)
        voiced = torch.repeat_interleave(uv, self.hop, dim=-1)
        phase = torch.cumsum(2 * math.pi * f0_samples / SAMPLING_RATE, dim=-1)
        audio = self.amplitude * torch.sin(phase) * voiced
        return audio[:, None, :], f0
