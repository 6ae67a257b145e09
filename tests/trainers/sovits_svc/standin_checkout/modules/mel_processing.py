"""Stand-in for so-vits-svc's modules/mel_processing.py: STFT magnitude, pooled 'mels'."""

import torch
from torch.nn import functional as F


def spectrogram_torch(y, n_fft, sampling_rate, hop_size, win_size, center=False):
    pad = (n_fft - hop_size) // 2
    y = F.pad(y[:, None], (pad, pad), mode="reflect")[:, 0]
    window = torch.hann_window(win_size, device=y.device)
    spec = torch.stft(y, n_fft, hop_size, win_size, window, center=False, return_complex=True)
    return torch.sqrt(spec.abs() ** 2 + 1e-6)


def spec_to_mel_torch(spec, n_fft, num_mels, sampling_rate, fmin, fmax):
    mel = F.adaptive_avg_pool1d(spec.transpose(1, 2), num_mels).transpose(1, 2)
    return torch.log(torch.clamp(mel, min=1e-5))


def mel_spectrogram_torch(y, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax,
                          center=False):
    spec = spectrogram_torch(y, n_fft, sampling_rate, hop_size, win_size)
    return spec_to_mel_torch(spec, n_fft, num_mels, sampling_rate, fmin, fmax)
