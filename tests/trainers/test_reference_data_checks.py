"""Data a real so-vits-svc user has: refused by name when unusable, a note when suspicious."""

from __future__ import annotations

import pytest
from scipy.io import wavfile

from sweeper.errors import InputError
from sweeper.trainers.reference.data import load_split


def _wav(root, split="train", k=0):
    line = (root / "filelists" / f"{split}.txt").read_text().splitlines()[k]
    return (root / line).resolve()


@pytest.mark.parametrize("layout", ["plain", "preprocessed"])
def test_a_clip_too_short_for_praat_is_named_not_a_praat_error(
    write_sovits_files, toy_copy, micro_cfg, layout
):
    # 0.05 s: two whole frames, under Praat's 0.06 s; a preprocessed one used to pass the
    # load and crash in validation (Praat on the generated clip).
    wav = _wav(toy_copy, "val")
    rate, audio = wavfile.read(wav)
    wavfile.write(wav, rate, audio[: int(0.05 * rate)])
    if layout == "preprocessed":
        write_sovits_files(wav, micro_cfg)
    named = rf"{wav.parent.name}/{wav.name}' is 0.050 s long \(0.040 s in whole 320-sample"
    with pytest.raises(InputError, match=named) as info:
        load_split(micro_cfg, toy_copy, "val")
    assert "0.06 s Praat's pitch tracker needs" in str(info.value)
    assert "fix: remove it from the filelist" in str(info.value)


def _notes(cfg, root):
    from sweeper.trainers.reference.datanotes import data_notes
    from sweeper.trainers.reference.runinfo import data_summary

    train, val = load_split(cfg, root, "train"), load_split(cfg, root, "val")
    return data_summary(cfg, train, val), " | ".join(data_notes(cfg, train, val))


def test_a_mix_of_preprocessed_and_plain_clips_is_counted_and_noted(
    write_sovits_files, toy_copy, micro_cfg
):
    summary, notes = _notes(micro_cfg, toy_copy)
    assert "content: the built-in log-mel (no .soft.pt files)" in summary and notes == ""
    write_sovits_files(_wav(toy_copy, "train", 1), micro_cfg)
    summary, notes = _notes(micro_cfg, toy_copy)
    assert "content: 1 clip(s) from .soft.pt files, 5 from the built-in log-mel (spk0/spk0_0" in (
        summary
    )
    assert "5 of 6 clips have no .soft.pt/.f0.npy/.spec.pt (spk0/spk0_000.wav, " in notes
    assert "fix: re-run so-vits-svc's preprocess_hubert_f0.py" in notes


def test_the_log_mel_content_note_only_when_a_clip_lacks_soft_pt_and_names_no_encoder(
    write_sovits_files, toy_copy, micro_cfg
):
    import dataclasses

    # speech_encoder is filled in with 4.1's vec768l12 when a (4.0) config lacks it.
    cfg = dataclasses.replace(
        micro_cfg, model=dataclasses.replace(micro_cfg.model, speech_encoder="vec768l12")
    )
    summary, _ = _notes(cfg, toy_copy)
    assert "log-mel (no .soft.pt files), not model.speech_encoder's units" in summary
    for split, k in [("train", 0), ("train", 1), ("train", 2), ("train", 3), ("val", 0)]:
        write_sovits_files(_wav(toy_copy, split, k), cfg)
    write_sovits_files(_wav(toy_copy, "val", 1), cfg)
    summary, notes = _notes(cfg, toy_copy)
    assert summary.endswith("; content: so-vits-svc's .soft.pt files") and notes == ""
    assert "log-mel" not in summary and "vec768l12" not in summary


def test_a_validation_speaker_without_training_clips_is_noted(toy_copy, micro_cfg):
    train = toy_copy / "filelists" / "train.txt"
    train.write_text("".join(f"{ln}\n" for ln in train.read_text().split() if "spk1" not in ln))
    _, notes = _notes(micro_cfg, toy_copy)
    assert "validation speaker(s) 'spk1' have no training clips" in notes
    assert "'spk0'" not in notes


def test_repeated_filelist_lines_are_noted(toy_copy, micro_cfg):
    train = toy_copy / "filelists" / "train.txt"
    lines = train.read_text().split()
    train.write_text("\n".join([*lines, lines[1], lines[1]]) + "\n")
    _, notes = _notes(micro_cfg, toy_copy)
    assert "the training filelist lists 1 file(s) more than once (spk0/spk0_001.wav x3)" in notes
    assert "4 different files in 6 entries" in notes and "validation filelist" not in notes


def test_no_voiced_validation_frame_says_the_f0_metrics_are_nan(toy_copy, micro_cfg):
    _, notes = _notes(micro_cfg, toy_copy)
    assert "voiced" not in notes
    for k in (0, 1):
        wav = _wav(toy_copy, "val", k)
        rate, audio = wavfile.read(wav)
        wavfile.write(wav, rate, (audio * 0).astype(audio.dtype))
        wav.with_name(f"{wav.name}.f0_true.npy").unlink()
    _, notes = _notes(micro_cfg, toy_copy)
    assert "no validation frame is voiced" in notes
    assert "val/f0_rmse_cents and val/f0_gross_error will be NaN" in notes


def test_float_samples_a_little_over_full_scale_are_noted_by_name(toy_copy, micro_cfg):
    wav = _wav(toy_copy, "val", 1)
    rate, audio = wavfile.read(wav)
    wavfile.write(wav, rate, (audio / 32768 * 1.5 / (abs(audio).max() / 32768)).astype("float32"))
    _, notes = _notes(micro_cfg, toy_copy)
    assert "1 clip(s) have float samples beyond [-1, 1] (spk1/spk1_002.wav: peak 1.50)" in notes


def test_a_bad_file_list_names_speaker_and_file(toy_copy, micro_cfg):
    # so-vits-svc names clips 0.wav, 1.wav per speaker: a bare file name is ambiguous.
    for k in (0, 2):
        _wav(toy_copy, "train", k).write_bytes(b"")
    also = r"^2 train files cannot be used \(also spk1/spk1_000\.wav\)"
    with pytest.raises(InputError, match=also):
        load_split(micro_cfg, toy_copy, "train")


def test_speaker_folders_in_nfd_match_nfc_spk_keys(toy_copy, micro_cfg):
    import dataclasses

    # macOS writes "zoë" as z o e + combining diaeresis; a config's spk key is NFC.
    nfd, nfc = "zoe\u0308", "zo\u00eb"
    (toy_copy / "dataset" / "16k" / "spk1").rename(toy_copy / "dataset" / "16k" / nfd)
    for split in ("train", "val"):
        path = toy_copy / "filelists" / f"{split}.txt"
        path.write_text(path.read_text().replace("spk1/", f"{nfd}/"))
    cfg = dataclasses.replace(micro_cfg, spk={"spk0": 0, nfc: 1})
    assert sorted(c.sid for c in load_split(cfg, toy_copy, "train")) == [0, 0, 1, 1]


def test_a_soft_pt_far_from_its_clip_length_is_noted(write_sovits_files, toy_copy, micro_cfg):
    import torch

    wav = _wav(toy_copy, "train", 1)
    write_sovits_files(wav, micro_cfg)  # 25 units for 1 s: within a factor 3 of 50/s
    assert "units/s" not in _notes(micro_cfg, toy_copy)[1]
    torch.save(torch.zeros(1, micro_cfg.model.ssl_dim, 5), f"{wav}.soft.pt")  # a cut file
    _, notes = _notes(micro_cfg, toy_copy)
    assert "1 clip(s) have a .soft.pt far from their length at so-vits-svc's 50 units/s" in notes
    assert "(spk0/spk0_001.wav: 5 units, about 50 expected)" in notes


def test_built_in_content_channels_without_an_fft_bin_are_counted(toy_copy, micro_cfg):
    import dataclasses

    assert "reach no FFT bin" not in _notes(micro_cfg, toy_copy)[1]  # 40 bands over 512
    # so-vits-svc's sizes, 768 bands over a 2048 FFT at 44.1 kHz, leave 136 empty; here
    # 200 bands over the micro 512-point FFT at 16 kHz.
    model = dataclasses.replace(micro_cfg.model, ssl_dim=200)
    _, notes = _notes(dataclasses.replace(micro_cfg, model=model), toy_copy)
    assert "of the 200 built-in log-mel content channels (model.ssl_dim) reach no FFT bin" in notes


def test_the_silent_clip_note_says_silent_validation_clips_weigh_on_val_mel(toy_copy, micro_cfg):
    from sweeper.trainers.reference.runinfo import setting_notes

    train, val = load_split(micro_cfg, toy_copy, "train"), load_split(micro_cfg, toy_copy, "val")
    train[0].audio.zero_()
    assert "validation clips weigh" not in " ".join(setting_notes(micro_cfg, train, "cpu", val))
    val[0].audio.zero_()
    notes = " ".join(setting_notes(micro_cfg, train, "cpu", tuple(val)))
    assert "2 clip(s) are silent" in notes
    assert "silent validation clips weigh on val/mel without measuring the voice" in notes


def test_speakers_given_one_id_in_spk_are_noted(toy_copy, micro_cfg):
    import dataclasses

    cfg = dataclasses.replace(micro_cfg, spk={"spk0": 0, "spk1": 0})  # merged in silence
    _, notes = _notes(cfg, toy_copy)
    assert "spk gives several speaker folders one id: 'spk0' and 'spk1' share id 0" in notes
    _, notes = _notes(dataclasses.replace(micro_cfg, spk={"spk0": 0, "spk1": 1}), toy_copy)
    assert "share id" not in notes


def test_a_linked_speaker_folder_is_the_speaker_the_filelist_names(toy_copy, micro_cfg):
    """Until 2026-12-07 the paths were resolved: a speaker folder linked to another disk
    (or wavs stored as git-annex/DVC links) took the link target's name as its speaker."""
    import shutil

    store = toy_copy.parent / "elsewhere"
    for speaker in ("spk0", "spk1"):
        folder = next(toy_copy.rglob(speaker))
        shutil.move(folder, store / f"{speaker}_take2")
        folder.symlink_to(store / f"{speaker}_take2", target_is_directory=True)
    clips = load_split(micro_cfg, toy_copy, "train")
    assert {c.path.split("/")[-2] for c in clips} == {"spk0", "spk1"}
    assert sorted({c.sid for c in clips}) == [0, 1]


@pytest.mark.parametrize("encoding", ["utf-16", "gbk"])
def test_a_filelist_in_another_encoding_is_read_or_named(toy_copy, micro_cfg, encoding):
    # Notepad's "Unicode" is UTF-16 with a BOM: read. A GBK file (Python on Chinese Windows)
    # was read with replacement characters and named a "missing audio file".
    folder = next(toy_copy.rglob("spk1"))
    renamed = folder.with_name("歌手")
    folder.rename(renamed)
    train = toy_copy / "filelists" / "train.txt"
    text = train.read_text().replace("/spk1/", "/歌手/")
    train.write_bytes(text.encode(encoding))
    if encoding == "utf-16":
        clips = load_split(micro_cfg, toy_copy, "train")
        assert {c.path.split("/")[-2] for c in clips} == {"spk0", "歌手"}
    else:
        with pytest.raises(InputError, match=r"train\.txt' is not UTF-8 \(line \d+: .*GBK"):
            load_split(micro_cfg, toy_copy, "train")


def test_a_filelist_of_windows_paths_names_the_relative_one_that_exists(toy_copy, micro_cfg):
    # so-vits-svc preprocessed on Windows with absolute paths, trained here: the message was
    # "missing audio file '<data>/D:/so-vits-svc/...'".
    train = toy_copy / "filelists" / "train.txt"
    first = train.read_text().split()[0].removeprefix("./")
    train.write_text(f"D:\\so-vits-svc\\{first}\n")
    with pytest.raises(InputError) as info:
        load_split(micro_cfg, toy_copy, "train")
    assert f"lists 'D:/so-vits-svc/{first}', a Windows path; ./{first} exists under" in str(
        info.value
    )
    assert "fix: write the filelists with paths relative to the data folder" in str(info.value)
