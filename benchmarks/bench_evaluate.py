"""Evaluation cost on CPU: model load, per clip and per trial, by metric family; and the
damage table (every metric at each controlled damage level).

    python benchmarks/bench_evaluate.py cost --clips 6 --threads 1
    python benchmarks/bench_evaluate.py damage

``cost`` speaks ``--clips`` sentences with piper (16 kHz, 2-3 s each), adds 20 dB noise as
the "output", then times each family three ways: first call (imports + model load + JIT),
then warm per-clip and per-trial (all clips) medians over ``--repeats``. Timings are wall
clock on a shared machine: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "evaluate"))


def _speech(n: int):
    from sweeper.data.speech import SENTENCES, load_voice, speak

    voice = load_voice()
    texts = list(SENTENCES[:n])
    return [speak(voice, t, 16000) for t in texts], texts


def cost(args) -> None:
    from damage_audio import add_noise

    from sweeper.evaluate import METRICS, Settings, evaluate

    refs, texts = _speech(args.clips)
    outs = [add_noise(x, 20, seed=i) for i, x in enumerate(refs)]
    secs = sum(len(x) for x in refs) / 16000
    settings = Settings(threads=args.threads, device="cpu")
    families = {}
    for m in METRICS.values():
        key = m.name if m.name == "mos_naturalness" else m.family
        families.setdefault(key, []).append(m.name)
    print(f"{len(refs)} clips, {secs:.1f} s of audio, {args.threads} thread(s)")
    print(f"{'family':<18}{'first call s':>13}{'per clip s':>12}{'per trial s':>13}  status")
    total_clip = total_trial = 0.0
    for family, names in families.items():
        t0 = time.perf_counter()
        first = evaluate(refs[:1], outs[:1], 16000, names, transcripts=texts[:1],
                         settings=settings)
        load = time.perf_counter() - t0
        status = ",".join(sorted({r.status for r in first.values()}))
        per_clip, per_trial = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            evaluate(refs[:1], outs[:1], 16000, names, transcripts=texts[:1], settings=settings)
            per_clip.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            evaluate(refs, outs, 16000, names, transcripts=texts, settings=settings)
            per_trial.append(time.perf_counter() - t0)
        clip, trial = statistics.median(per_clip), statistics.median(per_trial)
        total_clip, total_trial = total_clip + clip, total_trial + trial
        print(f"{family:<18}{load:>13.2f}{clip:>12.3f}{trial:>13.3f}  {status}")
    print(f"{'all metrics':<18}{'':>13}{total_clip:>12.3f}{total_trial:>13.3f}"
          f"  ({total_trial / len(refs):.2f} s per clip within a trial)")


def damage(args) -> None:
    import numpy as np
    from damage_audio import SENTENCES, SR, add_noise, pitch_shift

    from sweeper.data.speech import load_voice, speak
    from sweeper.data.toy import ToySpec, _speaker, synth_clip
    from sweeper.evaluate import METRICS, Settings, evaluate

    settings = Settings(threads=args.threads, device="cpu")
    voice = load_voice()
    speech = [speak(voice, t, SR) for t in SENTENCES]
    rows = {"clean": evaluate(speech, speech, SR, transcripts=SENTENCES, settings=settings)}
    for snr in (30, 20, 10, 0):
        outs = [add_noise(x, snr, seed=i) for i, x in enumerate(speech)]
        rows[f"noise {snr} dB"] = evaluate(speech, outs, SR, transcripts=SENTENCES,
                                           settings=settings)
    for k in (1, 2, 4):
        outs = [pitch_shift(x, SR, k) for x in speech]
        rows[f"speech +{k} st"] = evaluate(speech, outs, SR, transcripts=SENTENCES,
                                           settings=settings)
    other = [speak(voice, t, SR, scale=2 ** (7 / 12)) for t in SENTENCES]
    # That voice speaks 6 % faster; a conversion keeps its ref's length, and the frame-by-frame
    # metrics are skipped beyond 2 % (since 2026-12-06): cut or pad it to the ref's.
    pairs = zip(other, speech, strict=True)
    other = [np.pad(o, (0, max(0, len(s) - len(o))))[: len(s)] for o, s in pairs]
    rows["another voice"] = evaluate(speech, other, SR, transcripts=SENTENCES, settings=settings)
    spec = ToySpec(seconds=2.0, hop_length=160, seed=5)
    rng = np.random.default_rng(spec.seed)
    clips = [synth_clip(spec, _speaker(rng, k), rng) for k in range(2)]
    audio, f0 = [a for a, _ in clips], [t.astype(float) for _, t in clips]
    pitch = ["f0_rmse_cents", "f0_gross_error", "vuv_error", "mel_l1", "mcd_db"]
    for k in (0, 1, 2, 4):
        outs = audio if k == 0 else [pitch_shift(a, SR, k) for a in audio]
        rows[f"singer +{k} st"] = evaluate(audio, outs, SR, pitch, ref_f0=f0, settings=settings)
    names = list(METRICS)
    print("| condition | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| direction, unit | " + " | ".join(
        f"{METRICS[n].direction} {METRICS[n].unit}" for n in names) + " |")
    for label, res in rows.items():
        cells = [f"{res[n].value:.3g}" if n in res and res[n].ok else
                 (res[n].status if n in res else "") for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cost", help="load / per-clip / per-trial seconds by family")
    c.add_argument("--clips", type=int, default=6)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--repeats", type=int, default=3)
    d = sub.add_parser("damage", help="markdown table of every metric under damage")
    d.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cost(args) if args.cmd == "cost" else damage(args)


if __name__ == "__main__":
    main()
