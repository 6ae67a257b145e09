"""Stand-in for so-vits-svc's data_utils.py: items from a wav (f0 fixed at 220 Hz)."""

import wave

import numpy as np
import torch
from modules.mel_processing import spectrogram_torch


class TextAudioSpeakerLoader(torch.utils.data.Dataset):
    def __init__(self, audiopaths, hparams, all_in_mem=False, vol_aug=True):
        with open(audiopaths, encoding="utf-8") as handle:
            self.audiopaths = [line.strip().split("|") for line in handle if line.strip()]
        self.hparams = hparams

    def get_audio(self, filename):
        d = self.hparams.data
        with wave.open(filename, "rb") as handle:
            raw = handle.readframes(handle.getnframes())
        audio = torch.from_numpy(np.frombuffer(raw, dtype=np.int16).astype(np.float32))
        audio_norm = (audio / d.max_wav_value)[None]
        frames = audio_norm.shape[1] // d.hop_length
        audio_norm = audio_norm[:, : frames * d.hop_length]
        spec = spectrogram_torch(audio_norm, d.filter_length, d.sampling_rate, d.hop_length,
                                 d.win_length)[0][:, :frames]
        c = torch.zeros(self.hparams.model.ssl_dim, frames)
        f0, uv = torch.full((frames,), 220.0), torch.ones(frames)
        return c, f0, spec, audio_norm, torch.LongTensor([0]), uv, None

    def __len__(self):
        return len(self.audiopaths)
