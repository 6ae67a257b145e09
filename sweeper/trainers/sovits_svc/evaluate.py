"""Held-out metrics of one ``G_<step>.pth``, computed with the user's own so-vits-svc code.

so-vits-svc's train.py computes no validation loss, so the sweeper runs this file as a
separate process for each checkpoint: ``python evaluate.py --checkout DIR --config
config.json --checkpoint G_800.pth``. It puts the checkout on ``sys.path`` and imports its
``utils``, ``models``, ``data_utils`` and ``modules.mel_processing`` at run time (nothing is
copied), builds ``SynthesizerTrn`` as train.py does, and synthesises every ``val.txt`` item
at batch size 1 from its stored features with the ground-truth f0 (train.py's own
evaluation settings). It prints one JSON line:

- ``val/mel``: mean |log-mel(generated) - log-mel(reference)| over all frames and bins, times
  ``train.c_mel``: the scale of the training term ``loss/g/mel`` (``val/mel_l1`` unweighted).
- ``val/f0_rmse_cents``: RMS of 1200 log2(f0_generated / f0_reference) over frames voiced in
  both, both tracks taken with the same so-vits-svc tracker (``--f0``, default pm).
- ``val/f0_gross_error``: share of those frames more than 50 cents off.
- ``val/vuv_error``: share of frames whose voiced/unvoiced decision differs.

A separate process keeps the checkout's generic module names (``utils``, ``models``) out of
the trial process, and runs under the checkout's own interpreter. At module level this
file imports only the standard library; numpy and torch are loaded by :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SCRIPT = Path(__file__)
GROSS_CENTS = 50.0


def evaluator_argv(
    python: str,
    checkout: str,
    config: str,
    checkpoint: str,
    *,
    device: str = "cuda",
    f0: str = "pm",
) -> list[str]:
    """The command that evaluates ``checkpoint`` (a list: never a shell string)."""
    return [
        python, str(SCRIPT), "--checkout", checkout, "--config", config,
        "--checkpoint", checkpoint, "--device", device, "--f0", f0,
    ]  # fmt: skip


class EvaluationError(RuntimeError):
    """The evaluator process failed; the message quotes the end of its stderr."""


@dataclass
class Evaluation:
    """One evaluator process for one checkpoint."""

    step: int
    popen: subprocess.Popen
    stdout: Path
    stderr: Path
    _handles: list[IO[bytes]] = field(default_factory=list, repr=False)

    @classmethod
    def start(
        cls, step: int, argv: Sequence[str], env: Mapping[str, str], cwd: str, logs: Path
    ) -> Evaluation:
        logs.mkdir(parents=True, exist_ok=True)
        out_path, err_path = logs / f"eval_{step}.out", logs / f"eval_{step}.err"
        out, err = out_path.open("wb"), err_path.open("wb")
        # Under the trial's guard (_guard.py, next to this file): if the trial process is
        # killed outright, the evaluator and what it spawned go with it.
        guard = [sys.executable, str(SCRIPT.with_name("_guard.py")), str(os.getpid()), "1", "--"]
        popen = subprocess.Popen(
            [*guard, *argv],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        return cls(step, popen, out_path, err_path, [out, err])

    def result(self) -> dict[str, float] | None:
        """The metrics once the process has ended, None while it runs.

        Raises:
            EvaluationError: it exited with an error or printed no metrics.
        """
        code = self.popen.poll()
        if code is None:
            return None
        self._close()
        lines = self.stdout.read_text(errors="replace").strip().splitlines()
        if code != 0 or not lines:
            tail = self.stderr.read_text(errors="replace").strip().splitlines()[-3:]
            raise EvaluationError(
                f"the held-out evaluation of step {self.step} failed (exit code {code}): "
                f"{' | '.join(tail) or 'no output'}; fix: see {self.stderr}, or set "
                "sovits.evaluate: false"
            )
        found = json.loads(lines[-1])
        return {str(k): math.nan if v is None else float(v) for k, v in found.items()}

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        self._close()

    def _close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles.clear()


# ---- the evaluator process ---------------------------------------------------------------


def _import_checkout(checkout: str) -> dict[str, Any]:
    root = str(Path(checkout).resolve())
    if not (Path(root) / "models.py").is_file():
        raise SystemExit(f"no models.py in {root!r}; fix: point sovits.checkout at so-vits-svc")
    # Run by path, this file's folder heads sys.path; the checkout's names must win.
    sys.path[:] = [root] + [p for p in sys.path if Path(p or ".").resolve() != SCRIPT.parent]
    names = ("utils", "models", "data_utils", "modules.mel_processing")
    return {name: importlib.import_module(name) for name in names}


def _kwargs(fn: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``fn`` accepts (4.0 and 4.1 signatures differ)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(wanted)
    return {k: v for k, v in wanted.items() if k in params}


def evaluate_checkpoint(
    checkout: str, config: str, checkpoint: str, device: str = "cuda", f0: str = "pm"
) -> dict[str, float]:
    """Load ``checkpoint`` with the checkout's own classes and score every val.txt item."""
    import numpy as np
    import torch

    mods = _import_checkout(checkout)
    utils, models, data_utils = mods["utils"], mods["models"], mods["data_utils"]
    mel = mods["modules.mel_processing"]
    hps = utils.get_hparams_from_file(config)
    d = hps.data
    net_g = models.SynthesizerTrn(
        d.filter_length // 2 + 1, hps.train.segment_size // d.hop_length, **hps.model
    )
    saved = torch.load(checkpoint, map_location="cpu")["model"]
    own = net_g.state_dict()
    # As so-vits-svc's load_checkpoint: a weight whose shape differs (a base model's emb_g
    # for another n_speakers) keeps its fresh initialisation.
    usable = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    net_g.load_state_dict({**own, **usable})
    dev = torch.device(device)
    net_g = net_g.to(dev).float().eval()
    loader_kw = _kwargs(data_utils.TextAudioSpeakerLoader, {"all_in_mem": False, "vol_aug": False})
    val = data_utils.TextAudioSpeakerLoader(d.validation_files, hps, **loader_kw)
    tracker = utils.get_f0_predictor(f0, hop_length=d.hop_length, sampling_rate=d.sampling_rate)
    abs_sum, cells = 0.0, 0
    sq_cents, voiced, gross, vuv_diff, frames = 0.0, 0, 0, 0, 0
    diverged = False
    with torch.no_grad():
        for entry in val.audiopaths:
            item = val.get_audio(entry[0])
            c, f0_ref, spec, audio, spk, uv = item[:6]
            vol = item[6] if len(item) > 6 and item[6] is not None else None
            extra = {"vol": vol[None].to(dev)} if vol is not None else {}
            out = net_g.infer(
                c[None].to(dev), f0_ref[None].to(dev), uv[None].to(dev),
                g=spk[None].to(dev), **_kwargs(net_g.infer, extra),
            )  # fmt: skip
            y_hat = (out[0] if isinstance(out, tuple) else out).squeeze(1).float()
            mel_gen = mel.mel_spectrogram_torch(
                y_hat, d.filter_length, d.n_mel_channels, d.sampling_rate, d.hop_length,
                d.win_length, d.mel_fmin, d.mel_fmax,
            )[0]  # fmt: skip
            mel_ref = mel.spec_to_mel_torch(
                spec[None].to(dev), d.filter_length, d.n_mel_channels, d.sampling_rate,
                d.mel_fmin, d.mel_fmax,
            )[0]  # fmt: skip
            t = min(mel_gen.shape[-1], mel_ref.shape[-1])
            abs_sum += float(torch.sum(torch.abs(mel_gen[:, :t] - mel_ref[:, :t])))
            cells += mel_ref.shape[0] * t
            gen = y_hat[0].cpu().numpy().astype(np.float64)
            if not np.all(np.isfinite(gen)):
                diverged = True  # no pitch in NaN audio: the f0 metrics become NaN
                continue
            ref_f0, ref_uv = tracker.compute_f0_uv(audio[0].numpy().astype(np.float64))
            gen_f0, gen_uv = tracker.compute_f0_uv(gen)
            n = min(len(ref_f0), len(gen_f0))
            ref_v, gen_v = np.asarray(ref_uv[:n]) > 0.5, np.asarray(gen_uv[:n]) > 0.5
            both = ref_v & gen_v & (np.asarray(ref_f0[:n]) > 0) & (np.asarray(gen_f0[:n]) > 0)
            if both.any():
                ratio = np.asarray(gen_f0[:n])[both] / np.asarray(ref_f0[:n])[both]
                cents = 1200.0 * np.log2(ratio)
                sq_cents += float(np.sum(cents**2))
                voiced += int(both.sum())
                gross += int(np.sum(np.abs(cents) > GROSS_CENTS))
            vuv_diff += int(np.sum(ref_v != gen_v))
            frames += n
    l1 = abs_sum / cells if cells else math.nan
    if diverged:
        voiced = frames = 0
    return {
        "val/mel": l1 * float(hps.train.c_mel),
        "val/mel_l1": l1,
        "val/f0_rmse_cents": math.sqrt(sq_cents / voiced) if voiced else math.nan,
        "val/f0_gross_error": gross / voiced if voiced else math.nan,
        "val/vuv_error": vuv_diff / frames if frames else math.nan,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", required=True, help="the so-vits-svc folder")
    parser.add_argument("--config", required=True, help="the trial's config.json")
    parser.add_argument("--checkpoint", required=True, help="a G_<step>.pth")
    parser.add_argument("--device", default="cuda", help="cuda (the trial's GPU) or cpu")
    parser.add_argument("--f0", default="pm", help="so-vits-svc f0 tracker: pm, dio, harvest")
    args = parser.parse_args(argv)
    metrics = evaluate_checkpoint(
        args.checkout, args.config, args.checkpoint, args.device, args.f0
    )
    # NaN is not JSON; null marks a metric that could not be computed.
    print(json.dumps({k: (v if math.isfinite(v) else None) for k, v in metrics.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
