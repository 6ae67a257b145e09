"""Reading both data layouts, and each bad input failing with the file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from sweeper.errors import InputError
from sweeper.trainers.reference.data import collate, epoch_batches, load_split


def _clip_of(clips, wav):
    return next(c for c in clips if c.path.endswith(f"/{wav.parent.name}/{wav.name}"))


def _first_wav(root):
    line = (root / "filelists" / "train.txt").read_text().splitlines()[0]
    return (root / line).resolve()


def test_plain_wav_layout_computes_features(toy_dir, micro_cfg):
    clips = load_split(micro_cfg, toy_dir, "train")
    assert len(clips) == 4
    clip = clips[0]
    frames = clip.f0.shape[0]
    assert clip.spec.shape == (micro_cfg.data.filter_length // 2 + 1, frames)
    assert clip.content.shape == (micro_cfg.model.ssl_dim, frames)
    assert clip.audio.shape[0] == frames * micro_cfg.data.hop_length
    assert clip.true_f0 is not None
    # Praat's f0 on the toy clips tracks the true f0 (median error well under a semitone).
    voiced = (clip.f0 > 0) & (clip.true_f0 > 0)
    cents = 1200 * torch.log2(clip.f0[voiced] / clip.true_f0[voiced]).abs()
    assert float(cents.median()) < 50
    assert {c.sid for c in clips} == {0, 1}


def test_sovits_preprocessed_layout_is_used(write_sovits_files, toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg)
    clip = _clip_of(load_split(micro_cfg, toy_copy, "train"), wav)
    assert torch.all(clip.f0 == 300.0)  # from *.wav.f0.npy, not Praat
    quarter = clip.f0.shape[0] // 4  # 4.1's uv is kept although f0 > 0 there
    assert not clip.uv[:quarter].any() and bool(clip.uv[quarter:].all())
    assert torch.all(clip.spec == 0.5)  # from *.spec.pt
    # Coarse content stretched to the frame rate: each unit repeated about twice.
    assert clip.content.shape[-1] == clip.f0.shape[0]
    assert float(clip.content[0, -1]) == pytest.approx(clip.f0.shape[0] // 2 - 1)


def test_plain_f0_array_is_accepted(write_sovits_files, toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg)
    frames = len(wavfile.read(wav)[1]) // micro_cfg.data.hop_length
    f0 = np.zeros(frames, dtype=np.float32)
    f0[::2] = 200.0
    np.save(f"{wav}.f0.npy", f0)
    clip = _clip_of(load_split(micro_cfg, toy_copy, "train"), wav)
    assert torch.equal(clip.uv, (clip.f0 > 0).float())
    assert float(clip.uv.mean()) == pytest.approx(0.5, abs=0.02)


def test_length_mismatch_names_the_file(write_sovits_files, toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg, frames_delta=-8)
    with pytest.raises(InputError, match=wav.name) as info:
        load_split(micro_cfg, toy_copy, "train")
    assert "disagree" in str(info.value)


def test_wrong_sample_rate_names_the_file(toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    _, data = wavfile.read(wav)
    wavfile.write(wav, 22050, data)
    with pytest.raises(InputError, match=f"{wav.name}.*22050"):
        load_split(micro_cfg, toy_copy, "train")


def test_missing_wav_names_the_file(toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    wav.unlink()
    with pytest.raises(InputError, match=wav.name):
        load_split(micro_cfg, toy_copy, "train")


def test_missing_sibling_feature_names_the_file(write_sovits_files, toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg)
    Path(f"{wav}.f0.npy").unlink()
    with pytest.raises(InputError, match=r"\.f0\.npy"):
        load_split(micro_cfg, toy_copy, "train")


def test_a_missing_spec_pt_is_computed_from_the_wav_as_so_vits_svc_does(
    write_sovits_files, toy_copy, micro_cfg
):
    # so-vits-svc's loader computes X.spec.pt when absent (4.0's preprocessing writes none);
    # until 2026-12-07 such a set was refused as "missing preprocessed file".
    wav = _first_wav(toy_copy)
    plain = _clip_of(load_split(micro_cfg, toy_copy, "train"), wav)
    write_sovits_files(wav, micro_cfg)
    wav.with_suffix(".spec.pt").unlink()
    clip = _clip_of(load_split(micro_cfg, toy_copy, "train"), wav)
    assert clip.preprocessed and torch.equal(clip.spec, plain.spec)
    assert torch.all(clip.f0 == clip.f0[0])  # the .f0.npy's, not Praat's
    assert not wav.with_suffix(".spec.pt").exists()  # the user's data is not written to


def test_wrong_spec_bins_and_content_dim_are_named(write_sovits_files, toy_copy, micro_cfg):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg)
    torch.save(torch.zeros(7, 10), wav.with_suffix(".spec.pt"))
    with pytest.raises(InputError, match="7 bins"):
        load_split(micro_cfg, toy_copy, "train")
    write_sovits_files(wav, micro_cfg)
    torch.save(torch.zeros(1, 3, 10), f"{wav}.soft.pt")
    with pytest.raises(InputError, match=r"soft\.pt has 3 channels"):
        load_split(micro_cfg, toy_copy, "train")


def test_missing_filelist_is_named(toy_copy, micro_cfg):
    (toy_copy / "filelists" / "val.txt").unlink()
    with pytest.raises(InputError, match=r"val\.txt"):
        load_split(micro_cfg, toy_copy, "train")


def test_speaker_missing_from_spk_map_is_named(toy_dir, micro_cfg):
    import dataclasses

    cfg = dataclasses.replace(micro_cfg, spk={"spk0": 0})
    with pytest.raises(InputError, match="'spk1'"):
        load_split(cfg, toy_dir, "train")


def test_collate_pads_and_crops(toy_dir, micro_cfg):
    clips = load_split(micro_cfg, toy_dir, "train")[:2]
    hop = micro_cfg.data.hop_length
    batch = collate(clips, hop, max_frames=1000)
    t = max(c.f0.shape[0] for c in clips)
    assert batch["spec"].shape[-1] == t and batch["audio"].shape[-1] == t * hop
    cropped = collate(clips, hop, max_frames=30, generator=torch.Generator().manual_seed(0))
    assert cropped["f0"].shape[-1] == 20 and bool((cropped["lengths"] == 20).all())


def test_epoch_batches_cover_every_item_and_fill_every_batch_as_so_vits_svc_does():
    batches = epoch_batches(7, 3, seed=1, epoch=2)
    flat = [i for b in batches for i in b]
    assert sorted(set(flat)) == list(range(7)) and [len(b) for b in batches] == [3, 3, 3]
    assert flat[7:] == flat[:2]  # the last batch filled from the epoch's start
    assert batches == epoch_batches(7, 3, seed=1, epoch=2)
    assert batches != epoch_batches(7, 3, seed=1, epoch=3)
    # Fewer clips than a batch: repeated (until 2026-12-07 one clip made a batch of one, so
    # batch_size 2 and 4 trained bit for bit alike; a probe).
    assert epoch_batches(1, 4, seed=0, epoch=1) == [[0, 0, 0, 0]]
    (five,) = epoch_batches(2, 5, seed=0, epoch=1)
    assert sorted([five.count(0), five.count(1)]) == [2, 3]
    whole = epoch_batches(6, 3, seed=0, epoch=1)  # nothing to fill
    assert sorted(i for b in whole for i in b) == list(range(6)) and len(whole) == 2


class _FakeEncoder(torch.nn.Module):
    """Stands in for a user's TorchScript ContentVec: 16 kHz wave -> [1, frames, dim]."""

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        pooled = torch.nn.functional.avg_pool1d(wav[:, None], 320, 320)  # [1, 1, frames]
        return (pooled * 0 + 1.0).transpose(1, 2).expand(-1, -1, 40)


@pytest.mark.filterwarnings("ignore:`torch.jit.(script|load)` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("kind", ["torchscript", "export"])
def test_content_encoder_checkpoint_is_plugged_in(toy_dir, tmp_path, micro_cfg, kind):
    import dataclasses

    path = tmp_path / f"enc.{kind}"
    if kind == "torchscript":
        torch.jit.script(_FakeEncoder()).save(str(path))
    else:
        wave = torch.zeros(1, 16000)
        samples = torch.export.Dim("samples", min=640, max=10**7)
        program = torch.export.export(_FakeEncoder(), (wave,), dynamic_shapes=({1: samples},))
        torch.export.save(program, str(path))
    data = dataclasses.replace(micro_cfg.data, content_encoder=f"{kind}:{path}")
    cfg = dataclasses.replace(micro_cfg, data=data)
    clip = load_split(cfg, toy_dir, "train")[0]
    assert clip.content.shape == (40, clip.f0.shape[0])
    assert bool((clip.content == 1.0).all())
    missing = dataclasses.replace(micro_cfg.data, content_encoder=f"{kind}:/no/such.pt")
    with pytest.raises(InputError, match=r"such\.pt"):
        load_split(dataclasses.replace(micro_cfg, data=missing), toy_dir, "train")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("empty f0", r"cannot read preprocessed file '.*\.f0\.npy' \(EOFError"),
        ("empty soft", r"cannot read preprocessed file '.*\.soft\.pt'"),
        ("nan soft", r"\.soft\.pt' holds 1 NaN or inf value"),
        ("nan f0", r"\.f0\.npy' holds 1 NaN or inf value"),
        ("short uv", r"\.f0\.npy' holds f0 of \d+ frames but uv of \d+"),
    ],
)
def test_damaged_preprocessed_files_are_named_not_a_traceback(
    write_sovits_files, toy_copy, micro_cfg, damage, message
):
    wav = _first_wav(toy_copy)
    write_sovits_files(wav, micro_cfg)
    if damage == "empty f0":
        (wav.parent / f"{wav.name}.f0.npy").write_bytes(b"")
    elif damage == "empty soft":
        (wav.parent / f"{wav.name}.soft.pt").write_bytes(b"")
    elif damage == "nan soft":
        soft = torch.load(f"{wav}.soft.pt")
        soft[0, 0, 0] = float("nan")
        torch.save(soft, f"{wav}.soft.pt")
    else:
        f0, uv = np.load(f"{wav}.f0.npy", allow_pickle=True)
        if damage == "nan f0":
            f0[3] = np.nan
        else:
            uv = uv[:-10]
        pair = np.empty(2, dtype=object)
        pair[0], pair[1] = f0, uv
        np.save(f"{wav}.f0.npy", pair, allow_pickle=True)
    with pytest.raises(InputError, match=message):
        load_split(micro_cfg, toy_copy, "train")


def test_filelists_from_windows_notepad_and_so_vits_svc_on_windows_are_read(toy_copy, micro_cfg):
    # A UTF-8 BOM, CRLF, and so-vits-svc's os.path.join on Windows: ./dataset/44k/spk\a.wav
    train = toy_copy / "filelists" / "train.txt"
    lines = train.read_text().splitlines()
    windows = [line.replace("/", "\\") if k % 2 else line for k, line in enumerate(lines)]
    train.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(windows).encode() + b"\r\n")
    clips = load_split(micro_cfg, toy_copy, "train")
    assert [c.path for c in clips] == [str((toy_copy / line).resolve()) for line in lines]


def test_clips_far_longer_than_sovits_slices_are_named_in_the_data_line(toy_copy, micro_cfg):
    from sweeper.trainers.reference.runinfo import data_summary

    def line():
        train = load_split(micro_cfg, toy_copy, "train")
        return data_summary(micro_cfg, train, load_split(micro_cfg, toy_copy, "val"))

    assert "over 30 s" not in line()
    rel = (toy_copy / "filelists" / "val.txt").read_text().splitlines()[0]
    wav = (toy_copy / rel).resolve()
    rate, audio = wavfile.read(wav)
    wavfile.write(wav, rate, np.tile(audio, int(np.ceil(40 * rate / len(audio)))))
    text = line()
    assert "1 validation clip(s) over 30 s (" in text and f"{wav.name}: 4" in text
    assert "training clip(s) over" not in text
    assert "fix: slice them to 5-15 s" in text


def test_every_bad_file_of_a_split_is_named_in_one_error(toy_copy, micro_cfg):
    # Until 2026-12-06 only the first was named: one fix and one rerun per bad file.
    lines = (toy_copy / "filelists" / "train.txt").read_text().splitlines()
    first, second = ((toy_copy / line).resolve() for line in lines[:2])
    first.write_bytes(b"")
    second.unlink()
    with pytest.raises(InputError) as info:
        load_split(micro_cfg, toy_copy, "train")
    message = str(info.value)
    assert message.startswith("2 train files cannot be used (also ")
    assert first.name in message and second.name in message and "\n" not in message
    assert "fix:" in message.split("the first: ")[1]
