"""Reference-trainer benchmarks: step speed / peak memory, and learning-curve demos.

    python benchmarks/bench_trainer.py speed --preset tiny --threads 1 2
    python benchmarks/bench_trainer.py speed --preset sovits-4.1 --device cuda --batch 6
    python benchmarks/bench_trainer.py curve --preset tiny --steps 400 --out docs/img/x.png
    python benchmarks/bench_trainer.py plot docs/img/x.json --out docs/img/x.png

``speed`` runs each thread count in a fresh process (so peak RSS is per setting), on a toy
dataset generated at the preset's sampling rate, and times full G+D steps after 2 warm-up
steps. ``curve`` trains on toy data and plots training ``loss/g/mel`` against ``val/mel``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _toy(root: Path, cfg, speakers: int, clips: int, val: int, seconds: float) -> None:
    from sweeper.data.toy import ToySpec, write_toy_dataset

    write_toy_dataset(
        root,
        ToySpec(
            n_speakers=speakers,
            clips_per_speaker=clips,
            val_per_speaker=val,
            seconds=seconds,
            sampling_rate=cfg.data.sampling_rate,
            hop_length=cfg.data.hop_length,
            seed=0,
        ),
    )


def _config(preset: str, overrides: str | None):
    from sweeper.trainers.reference.config import from_dict

    raw = json.loads(overrides) if overrides else {}
    return from_dict({"preset": preset, **raw})


def child_speed(args: argparse.Namespace) -> None:
    import resource

    import torch

    from sweeper.trainers.reference._trainer import Trainer
    from sweeper.trainers.reference.data import collate
    from sweeper.trainers.reference.models import count_parameters

    torch.set_num_threads(args.threads)
    cfg = _config(args.preset, args.overrides)
    if args.batch is not None:
        cfg.train.batch_size = args.batch
    dev = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        _toy(Path(tmp), cfg, speakers=2, clips=max(2, cfg.train.batch_size), val=1, seconds=2.0)
        tr = Trainer(cfg, Path(tmp), Path(tmp) / "run", dev)
    clips = tr.train_clips[: cfg.train.batch_size]
    batch = collate(clips, cfg.data.hop_length, cfg.train.max_crop_frames)
    times = []
    for i in range(args.steps + 2):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        tr.train_step(batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i >= 2:  # skip warm-up (allocator, first AdamW step)
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    out = {
        "preset": args.preset,
        "device": str(dev),
        "threads": args.threads,
        "batch": cfg.train.batch_size,
        "segment": cfg.train.segment_size,
        "g_params": count_parameters(tr.net_g),
        "d_params": count_parameters(tr.net_d),
        "median_step_s": med,
        "steps_per_s": 1.0 / med,
        "fp16": cfg.train.fp16_run,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }
    if dev.type == "cuda":
        out["peak_cuda_gib"] = torch.cuda.max_memory_allocated() / 2**30
    print("RESULT " + json.dumps(out), flush=True)


def speed(args: argparse.Namespace) -> None:
    rows = []
    for threads in args.threads:
        argv = [
            sys.executable,
            __file__,
            "_child",
            "--preset",
            args.preset,
            "--threads",
            str(threads),
            "--steps",
            str(args.steps),
            "--device",
            args.device,
        ]
        if args.batch is not None:
            argv += ["--batch", str(args.batch)]
        if args.overrides:
            argv += ["--overrides", args.overrides]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            sys.exit(f"benchmark child failed (threads={threads}):\n{proc.stderr[-2000:]}")
        rows.append(json.loads(lines[-1][7:]))
    print(
        "| preset | device | threads | batch | G params | D params | s/step | steps/s "
        "| peak RSS GiB | peak CUDA GiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cuda = f"{r['peak_cuda_gib']:.2f}" if "peak_cuda_gib" in r else "-"
        print(
            f"| {r['preset']} | {r['device']} | {r['threads']} | {r['batch']} | "
            f"{r['g_params'] / 1e6:.2f}M | {r['d_params'] / 1e6:.2f}M | "
            f"{r['median_step_s']:.3f} | {r['steps_per_s']:.2f} | {r['peak_rss_gib']:.2f} | "
            f"{cuda} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def curve(args: argparse.Namespace) -> None:
    import torch

    from sweeper.trainers.reference.training import train

    torch.set_num_threads(args.threads)
    cfg = _config(args.preset, args.overrides)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="curve-"))
    data, run = work / "data", work / "run"
    if not (data / "filelists").is_dir():
        _toy(data, cfg, args.speakers, args.clips, args.val, args.seconds)
    t0 = time.perf_counter()
    result = train(cfg, data, run, max_steps=args.steps)
    wall = time.perf_counter() - t0
    hist = result.history
    print(
        f"wall {wall:.1f} s for {result.step} steps\n"
        "  step  val/mel  train/mel  train_infer/mel  f0_rmse_cents  f0_gross  vuv_error"
    )
    nan = float("nan")
    for s, m in hist:
        if "val/mel" in m:
            print(
                f"  {s:4d}  {m['val/mel']:7.2f}  {m.get('train/mel', nan):9.2f}  "
                f"{m.get('train_infer/mel', nan):15.2f}  {m['val/f0_rmse_cents']:13.1f}  "
                f"{m.get('val/f0_gross_error', nan):8.3f}  {m['val/vuv_error']:9.3f}"
            )
    if args.out:
        _plot(hist, Path(args.out), args.title or f"{args.preset} on toy data", cfg.train.c_mel)
        Path(args.out).with_suffix(".json").write_text(json.dumps(hist))
        print(f"wrote {args.out}")


def _plot(hist, out: Path, title: str, c_mel: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def series(tag):
        return [(s, m[tag]) for s, m in hist if tag in m]

    fig, ax = plt.subplots(figsize=(7, 4.8))
    styles = [
        ("loss/g/mel", {"color": "0.7", "lw": 0.8}, "loss/g/mel (train, per step)"),
        ("train/mel", {"marker": "o", "color": "tab:blue"}, "train/mel (mean between evals)"),
        (
            "train_infer/mel",
            {"marker": "^", "color": "tab:green"},
            "train_infer/mel (train clips, inference path)",
        ),
        ("val/mel", {"marker": "s", "color": "tab:red"}, "val/mel (held-out, inference path)"),
    ]
    for tag, style, label in styles:
        points = series(tag)
        if points:
            ax.plot(*zip(*points, strict=True), label=label, **style)
    # The untrained step-0 value would flatten the interesting part: clip it off the scale.
    later = [v for tag, _, _ in styles for s, v in series(tag) if s > 0]
    first = series("val/mel")[:1]
    if later and first and first[0][1] > 1.5 * max(later):
        ax.set_ylim(0, 1.15 * max(later))
        ax.annotate(
            f"step 0: val/mel {first[0][1]:.1f} (off scale)",
            (0.98, 0.04),
            xycoords="axes fraction",
            ha="right",
            fontsize=8,
        )
    ax.set_xlabel("step")
    ax.set_ylabel(f"mel L1 x c_mel ({c_mel:g})")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    # Below the axes: a rising val curve sits exactly where an inside legend would go.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def replot(args: argparse.Namespace) -> None:
    hist = json.loads(Path(args.history).read_text())
    _plot(hist, Path(args.out), args.title or "", args.c_mel)
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--preset", default="tiny")
    sp.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    sp.add_argument("--steps", type=int, default=10)
    sp.add_argument("--device", default="cpu")
    sp.add_argument("--batch", type=int, default=None)
    sp.add_argument("--overrides", default=None, help="JSON merged over the preset")
    sp.add_argument("--json", default=None, help="also write the rows here")
    ch = sub.add_parser("_child")
    for name, kw in (
        ("--preset", {}),
        ("--threads", {"type": int}),
        ("--steps", {"type": int}),
        ("--device", {}),
        ("--batch", {"type": int, "default": None}),
        ("--overrides", {"default": None}),
    ):
        ch.add_argument(name, **kw)
    cv = sub.add_parser("curve")
    cv.add_argument("--preset", default="tiny")
    cv.add_argument("--overrides", default=None, help="JSON merged over the preset")
    cv.add_argument("--steps", type=int, default=400)
    cv.add_argument("--threads", type=int, default=1)
    cv.add_argument("--speakers", type=int, default=4)
    cv.add_argument("--clips", type=int, default=8, help="clips per speaker")
    cv.add_argument("--val", type=int, default=1, help="val clips per speaker")
    cv.add_argument("--seconds", type=float, default=2.0)
    cv.add_argument("--work", default=None, help="data + run directory (default: temp)")
    cv.add_argument("--out", default=None, help="PNG path (a .json with the history beside)")
    cv.add_argument("--title", default=None)
    rp = sub.add_parser("plot", help="re-plot a history JSON written by curve")
    rp.add_argument("history")
    rp.add_argument("--out", required=True)
    rp.add_argument("--title", default=None)
    rp.add_argument("--c-mel", type=float, default=45.0)
    args = parser.parse_args()
    {"speed": speed, "_child": child_speed, "curve": curve, "plot": replot}[args.cmd](args)


if __name__ == "__main__":
    main()
