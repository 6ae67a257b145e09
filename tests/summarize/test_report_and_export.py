"""The HTML report in headless Chromium; export-best; the dashboard (one real sweep)."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sweeper.summarize import summarize
from sweeper.summarize.report_html import render
from sweeper.trainers.reference.config import from_dict
from sweeper.trainers.reference.presets import PRESETS_RAW
from sweeper.trainers.sovits_svc.keys import SOVITS_KEYS
from tests.summarize.browser import find_browser, load_page
from tests.summarize.conftest import SWEEP, cli, run_cli

SHOT = Path("/tmp/sweeper-summarize-report.png")  # kept for a person to look at


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def test_the_page_checker_sees_errors_and_broken_images(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body><img src='missing.png'>"
        "<script>console.error('boom'); notAFunction();</script></body></html>"
    )
    found = load_page(page)
    text = "\n".join(found.errors)
    assert "console: boom" in text and "exception:" in text and "missing.png" in text
    assert found.facts["images"] == 1 and found.facts["images_ok"] == 0


def test_report_renders_its_plots_and_table_in_chromium(sweep_dir, tmp_path):
    assert find_browser() is not None, "no chromium; fix: apt-get install -y chromium"
    report = tmp_path / "report.html"
    report.write_text(render(summarize(sweep_dir)), encoding="utf-8")
    assert "<script" not in report.read_text() and "http" not in report.read_text()
    found = load_page(report)
    assert found.errors == []
    facts = found.facts
    assert facts["images"] >= 6 and facts["images_ok"] == facts["images"]  # every plot decoded
    assert facts["table_rows"] == 3
    assert report.read_text().count('<tr class="why') == 3  # each trial's reason on its line
    SHOT.write_bytes(found.screenshot)
    pixels = _pixels(found.screenshot)
    assert pixels.shape[1] == 1280 and pixels.shape[0] > 2000  # the whole page, not a viewport
    assert pixels.std() > 20  # not blank
    left, top, width, height = (int(v) for v in facts["table_box"])
    table = pixels[top : top + height, left : left + width]
    assert table.size > 0 and table.std() > 15  # text in the table region
    rows_dark = (table < 128).mean(axis=1)  # text lines: dark pixels on most row bands
    assert (rows_dark > 0.005).sum() > 30


def test_export_best_writes_a_sovits_config_of_the_winner(sweep_dir, tmp_path):
    out = tmp_path / "config.json"
    done = run_cli("export-best", str(sweep_dir), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    s = summarize(sweep_dir)
    win = s.winner
    assert info["trial"] == win.number and Path(info["checkpoint"]) == win.checkpoint
    assert Path(info["checkpoint"]).is_file()
    raw = json.loads(out.read_text())
    assert set(raw) == {"train", "data", "model", "spk"}
    for section, keys in SOVITS_KEYS.items():
        assert set(raw[section]) == set(keys)  # every 4.1 key, nothing else
    assert raw["train"]["learning_rate"] == win.params["train.learning_rate"]
    assert raw["spk"] == {"spk0": 0, "spk1": 1}
    assert "train.use_gan" in info["dropped"]
    # What the file cannot carry over is said (the probe: toy-demo values went out silently).
    cautions = " | ".join(info["cautions"])
    assert "trained without the GAN" in cautions and "found on the toy data set" in cautions
    assert "not one so-vits-svc loads" in cautions
    assert "per step" not in cautions  # the preset decays per epoch, as so-vits-svc
    # The sweep validated every 5 steps; the exported run must not save a pair that often:
    # its intervals are the base preset's, not the sweep's bookkeeping values.
    assert "bookkeeping" in info["dropped"]["train.eval_interval"]
    # Without --base, the kept value is the preset's, said so (probe W: "the base's").
    assert info["dropped"]["train.eval_interval"].endswith(
        f"the {SWEEP['base']['preset']} preset's value is kept"
    )
    preset = PRESETS_RAW[SWEEP["base"]["preset"]]["train"]
    assert raw["train"]["eval_interval"] == preset["eval_interval"] != 5
    assert raw["train"]["log_interval"] == preset["log_interval"]
    from_dict(raw, source=str(out))  # and it loads as a config again


def test_export_best_onto_a_users_base_config(sweep_dir, tmp_path):
    base = tmp_path / "base.json"
    # A complete 4.1 config (a base lacking keys is refused) with a fork's own key.
    user = {section: {key: 1 for key in keys} for section, keys in SOVITS_KEYS.items()}
    user["train"].update(learning_rate=1e-4, batch_size=6, segment_size=10240, my_fork_key=1)
    user["data"].update(sampling_rate=44100, hop_length=512)
    user["model"].update(speech_encoder="vec768l12", n_speakers=1)
    user["spk"] = {"alice": 0}
    base.write_text(json.dumps(user))
    out = tmp_path / "config.json"
    done = run_cli("export-best", str(sweep_dir), "--out", str(out), "--base", str(base),
                   "--trial", str(summarize(sweep_dir).ranked[-1].key))  # fmt: skip
    assert done.returncode == 0, done.stderr
    raw = json.loads(out.read_text())
    last = summarize(sweep_dir).by_number[summarize(sweep_dir).ranked[-1].key]
    assert raw["train"]["learning_rate"] == last.params["train.learning_rate"]
    assert raw["train"]["my_fork_key"] == 1 and raw["spk"] == {"alice": 0}
    assert raw["model"] == user["model"]  # nothing searched there


def test_export_best_refuses_an_unranked_trial(sweep_dir, tmp_path):
    done = run_cli("export-best", str(sweep_dir), "--out", str(tmp_path / "c.json"),
                   "--trial", "99")  # fmt: skip
    assert done.returncode == 2 and "trial #99 is not ranked" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_serves_the_sweeps_study_on_localhost(sweep_dir):
    port = _free_port()
    proc = subprocess.Popen(cli("dashboard", str(sweep_dir), "--port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            # optuna-dashboard 0.21 answers 500 to a request without Accept-Encoding
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/studies", headers={"Accept-Encoding": "identity"}
            )
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    studies = json.load(r)["study_summaries"]
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"dashboard did not answer: {proc.stdout.read1().decode()}")
                time.sleep(0.5)
        assert [s["study_name"] for s in studies] == ["s"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
