"""``--evaluate``'s cache and val data: keyed by the data, errors never cached, a data error
said once. The checkpoints are measured in this process (Ray replaced by direct calls)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import pytest

from sweeper.summarize import summarize
from sweeper.summarize.collect import collect
from sweeper.summarize.evaluation import (
    DataError,
    cache_path,
    evaluate_trials,
    evaluation_job,
    load_cached,
)


class _Task:
    def __init__(self, fn):
        self.fn = fn

    def remote(self, req):
        return _Ref(self.fn(req))


class _Ref:
    def __init__(self, value):
        self.value = value


@pytest.fixture
def local(sweep_copy, tmp_path, monkeypatch):
    """The sweep copy reading its toy set from a folder of its own (``data.dir``), and
    evaluation tasks run here: (sweep folder, data folder, log lines)."""
    import ray

    import sweeper.summarize.evaluation as evaluation
    import sweeper.tune._run as tune_run
    from sweeper.tune._trainable import toy_data

    data = tmp_path / "data"
    shutil.copytree(toy_data(evaluation_job(collect(sweep_copy))), data)
    as_dir = lambda d: replace(evaluation_job(d), toy=None, data_dir=str(data))  # noqa: E731
    monkeypatch.setattr(evaluation, "evaluation_job", as_dir)
    monkeypatch.setattr(tune_run, "connect_ray", lambda address: None)
    monkeypatch.setattr(evaluation, "_resources", lambda cfg: (1.0, 0.0, ""))
    monkeypatch.setattr(ray, "remote", lambda **kw: _Task)
    monkeypatch.setattr(ray, "get", lambda ref: ref.value)
    lines: list[str] = []
    return sweep_copy, data, lines


def _run(folder, lines, metrics=("mel_l1",)):
    d = collect(folder)
    evaluate_trials(d, metrics=list(metrics), log=lines.append)
    return d


def _val_wav(data):
    return data / (data / "filelists" / "val.txt").read_text().split()[0]


def test_changed_val_data_is_measured_again(local):
    folder, data, lines = local
    first = _run(folder, lines)
    assert all("eval/mel_l1" in t.values for t in first.trials)
    assert load_cached(collect(folder)) == 3
    wav = _val_wav(data)  # the same size, another mtime: the cache ignored it
    os.utime(wav, ns=(wav.stat().st_atime_ns, wav.stat().st_mtime_ns + 10**9))
    assert load_cached(collect(folder)) == 0
    lines.clear()
    _run(folder, lines)
    assert sum("1 metrics" in ln for ln in lines) == 3  # measured again, cached again
    assert load_cached(collect(folder)) == 3


def test_a_data_error_is_said_once_and_not_cached(local):
    folder, data, lines = local
    wav = _val_wav(data)
    good = wav.read_bytes()
    wav.write_bytes(b"")
    with pytest.raises(DataError, match=rf"validation data: .*{wav.name}") as err:
        _run(folder, lines)
    assert "\n" not in str(err.value)
    assert not list((folder / "summary" / "eval").glob("*.json"))  # was 3 error entries
    wav.write_bytes(good)
    s = summarize(folder)  # a plain summary failed: "evaluation failed" on every trial
    assert all(t.problem is None for t in s.data.trials)
    _run(folder, lines)  # the fixed data is measured, without --refresh
    assert load_cached(collect(folder)) == 3


def test_an_error_entry_in_the_cache_is_measured_again_not_a_keyerror(local):
    folder, _, lines = local
    d = _run(folder, lines)
    rec = d.trials[0]
    path = cache_path(d, rec)
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({"key": entry["key"], "error": "InputError: x"}))
    assert load_cached(collect(folder)) == 2  # no "evaluation failed" from the old entry
    lines.clear()
    _run(folder, lines, ("mel_l1", "mcd_db"))  # KeyError: 'metrics' before
    assert sum("2 metrics" in ln for ln in lines) == 3


def test_a_transcript_without_words_is_named(local):
    folder, data, lines = local
    vals = (data / "filelists" / "val.txt").read_text().split()
    said = ["..."] + ["a word"] * (len(vals) - 1)  # one line of dots: an InputError at [0]
    lines_ = [f"{v}|{t}\n" for v, t in zip(vals, said, strict=True)]
    (data / "transcripts.txt").write_text("".join(lines_))
    want = rf"transcripts.txt' gives .*{vals[0]} the sentence '\.\.\.', no words"
    with pytest.raises(DataError, match=want):
        _run(folder, lines)


def test_metrics_without_their_packages_are_named_with_the_fix(local, monkeypatch):
    """The README's plain install measured 4 of the metrics; the terminal said nothing of
    the rest (summary.json alone had the fix)."""
    import sweeper.evaluate._core as core

    folder, _, lines = local
    gone = {"speaker_similarity": ["resemblyzer"], "mos_naturalness": ["distillmos"]}
    monkeypatch.setattr(core, "missing_modules", lambda metric: gone.get(metric.name, []))
    want = ("mel_l1", "speaker_similarity", "mos_naturalness")
    _run(folder, lines, metrics=want)
    warnings = [ln for ln in lines if ln.startswith("warning:")]
    assert warnings == [
        "warning: --evaluate could not measure speaker_similarity (packages missing here); "
        "fix: pip install 'sovits-sweeper[eval]'",
        "warning: --evaluate could not measure mos_naturalness (packages missing here); "
        "fix: pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0",
    ]
    lines.clear()
    _run(folder, lines, metrics=want)  # from the cache: said again
    assert [ln for ln in lines if ln.startswith("warning:")] == warnings
