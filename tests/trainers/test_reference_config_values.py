"""Config values that used to train silently wrong or end in "internal error" are refused at
construction, in one line naming the key, the value and the fix."""

from __future__ import annotations

import pytest

from sweeper.errors import InputError
from sweeper.trainers.reference.config import from_dict


def _refused(raw):
    with pytest.raises(InputError) as info:
        from_dict({"preset": "tiny", **raw})
    message = str(info.value)
    assert "\n" not in message and "fix:" in message, message
    return message


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        # Until 2026-12-07 these gave an all-zero mel filterbank: val/mel exactly 0.0000.
        ({"mel_fmin": 9000, "mel_fmax": 8000}, ["data.mel_fmin", "mel_fmin=9000.0"]),
        ({"mel_fmin": 7999, "mel_fmax": 8000}, ["80 mel band(s) without an FFT bin"]),
        ({"n_mel_channels": 0}, ["data.n_mel_channels", "n_mel_channels=0"]),
        ({"n_mel_channels": 400}, ["n_mel_channels=400", "mel band(s) without an FFT bin"]),
        ({"mel_fmin": -1.0}, ["mel_fmin=-1.0"]),
    ],
)
def test_settings_that_leave_mel_bands_empty_are_refused(data, fragments):
    message = _refused({"data": data})
    for fragment in fragments:
        assert fragment in message


def test_mel_settings_of_the_presets_and_a_narrow_valid_band_load():
    cfg = from_dict({"preset": "tiny", "data": {"mel_fmin": 7000.0}})
    assert cfg.data.mel_fmin == 7000.0
