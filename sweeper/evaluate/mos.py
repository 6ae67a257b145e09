"""Predicted MOS without a reference: DistillMOS (naturalness) and DNSMOS P.835 / P.808.

- ``mos_naturalness``: DistillMOS v7 (Microsoft, weights in its wheel). Measured on the piper
  voice it is the one predictor that also punishes robotic or quantised speech (clean 4.27,
  espeak 2.56, 20 dB SNR 3.08, 0 dB 1.99).
- ``dnsmos_*``: DNSMOS (ONNX models in the ``speechmos`` wheel), a noise-suppression metric:
  BAK and OVRL fall fast with noise; it hardly separates natural from robotic speech.
Clips shorter than 9 s are tiled to 9 s (DNSMOS) and zero-padded to 7.7 s (DistillMOS), as
the models were trained; DistillMOS scores a clip longer than ``MOS_PART_S`` as equal parts
(the mean weighted by length): its memory grows with the clip, 7.5 GB for 2 minutes. Scores
are per clip, averaged. Direction: higher is better.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np

from sweeper.evaluate._base import result, unavailable
from sweeper.evaluate._cache import cached, torch_device
from sweeper.evaluate._core import MODEL_SR

MOS_PART_S = 20.0  # DistillMOS: longest part scored at once (so-vits clips are 5-15 s)
_DNSMOS_KEYS = {"dnsmos_ovrl": "ovrl_mos", "dnsmos_sig": "sig_mos", "dnsmos_bak": "bak_mos",
                "dnsmos_p808": "p808_mos"}


def _ort_session(path: Path, threads: int, cuda: bool):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if cuda and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)


def _load_dnsmos(threads: int, cuda: bool):
    from speechmos.dnsmos import DNSMOS

    root = Path(importlib.util.find_spec("speechmos").submodule_search_locations[0])
    primary = root / "dnsmos_models" / "sig_bak_ovr.onnx"
    p808 = root / "dnsmos_models" / "model_v8.onnx"
    for path in (primary, p808):
        if not path.is_file():
            raise FileNotFoundError(f"missing {path}")
    # speechmos opens its sessions with default threading; build ours (threads, CUDA) instead.
    model = DNSMOS.__new__(DNSMOS)
    model.primary_model_path = str(primary)
    model.onnx_sess = _ort_session(primary, threads, cuda)
    model.p808_onnx_sess = _ort_session(p808, threads, cuda)
    return model


def _load_distillmos(device: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    # distillmos/sqa.py imports torchaudio at the top for its CLI only; PyPI's torchaudio
    # would replace the CPU torch, so lend it a placeholder for the import and take it back.
    stub = None
    if importlib.util.find_spec("torchaudio") is None:
        stub = sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    try:
        from distillmos import ConvTransformerSQAModel
    finally:
        if stub is not None and sys.modules.get("torchaudio") is stub:
            del sys.modules["torchaudio"]
    model = ConvTransformerSQAModel(load_weights=False)
    weights = Path(sys.modules["distillmos.sqa"].DEFAULT_WEIGHTS_CHKPT)
    state = torch.load(weights, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)  # the library's own loader prints; this one is quiet
    return model.to(device).eval()


def _dnsmos(batch, metrics) -> dict:
    cuda = _onnx_cuda(batch.settings.device)
    try:
        model = cached(("dnsmos", batch.settings.threads, cuda),
                       lambda: _load_dnsmos(batch.settings.threads, cuda))
    except (FileNotFoundError, RuntimeError) as err:
        return {m.name: unavailable(m, f"cannot load DNSMOS ({err})") for m in metrics}
    # Tile short clips to exactly one 9.01 s window: speechmos doubles them past it and then
    # scores every 1 s hop of the copies (8 windows for a 2 s clip), 8x the cost, same audio.
    window = int(9.01 * 16000)
    scores = [
        model(np.resize(np.clip(x, -1.0, 1.0), max(len(x), window)), 16000, False)
        for x in batch.at_model_rate("outs")
    ]
    out = {}
    for m in metrics:
        per = [float(s[_DNSMOS_KEYS[m.name]]) for s in scores]
        out[m.name] = result(m, float(np.mean(per)), per)
    return out


def _onnx_cuda(device: str | None) -> bool:
    if device is not None:
        return device == "cuda"
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def _distillmos(batch, metric) -> dict:
    import torch

    device = torch_device(batch.settings.device)
    try:
        model = cached(("distillmos", device),
                       lambda: _load_distillmos(device, batch.settings.threads))
    except (FileNotFoundError, ImportError, KeyError, RuntimeError) as err:
        return {metric.name: unavailable(metric, f"cannot load DistillMOS ({err})")}
    per = []
    with torch.no_grad():
        for x in batch.at_model_rate("outs"):
            total = 0.0
            for part in parts(x, MODEL_SR, MOS_PART_S):
                wav = torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))
                total += len(part) * float(model(wav[None].to(device)).mean())
            per.append(total / len(x))
    return {metric.name: result(metric, float(np.mean(per)), per)}


def parts(x: np.ndarray, sr: int, longest_s: float) -> list[np.ndarray]:
    """``x`` cut into the fewest equal parts of at most ``longest_s`` seconds."""
    return np.array_split(x, max(1, math.ceil(len(x) / (longest_s * sr))))


def compute(batch, metrics) -> dict:
    out = {}
    dns = [m for m in metrics if m.name.startswith("dnsmos_")]
    if dns:
        out.update(_dnsmos(batch, dns))
    for m in metrics:
        if m.name == "mos_naturalness":
            out.update(_distillmos(batch, m))
    return out
