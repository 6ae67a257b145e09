"""``sweeper train CONFIG --data DIR --out DIR``: one reference-trainer run with a progress bar."""

from __future__ import annotations

import argparse
import math
import sys

HELP = "train one so-vits-style model with the reference trainer (CPU or GPU)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="preset (tiny, micro, sovits-4.1), config.json or YAML")
    parser.add_argument("--data", required=True, help="dataset root holding filelists/")
    parser.add_argument("--out", required=True, help="run directory (resumes if it has G_*.pth)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after N steps")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from sweeper.errors import InputError

    if args.max_steps is not None and args.max_steps < 0:
        raise InputError(f"--max-steps must be >= 0, got {args.max_steps!r}; fix: 0 or more")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be >= 1, got {args.threads!r}; fix: 1 or more")
    import torch

    from sweeper.trainers.reference.config import load_config
    from sweeper.trainers.reference.training import train

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    result = train(
        cfg,
        args.data,
        args.out,
        max_steps=args.max_steps,
        progress=not args.no_progress,
        device=args.device,
        notes_to_stderr=True,  # the data line and resume notes, with or without the bar
    )
    if result.best_step is not None:
        best = f"best val/mel {result.best_val_mel:.4f} at step {result.best_step}"
    elif result.step == 0:  # --max-steps 0: only the untrained model was validated
        best = "no training step ran, so no best checkpoint"
    elif any(step == 0 for step, _ in result.history):  # only the untrained model's
        best = "no finite val/mel after step 0 (the untrained model)"
    else:
        best = "no finite val/mel at any step"
    if not result.history:  # resumed at its end: nothing trained, nothing validated
        at_end = args.max_steps is not None and result.step >= args.max_steps
        why = "already at --max-steps" if at_end else "train.epochs already reached"
        more = "a larger --max-steps" if at_end else "more train.epochs in the config"
        print(
            f"step {result.step}: {why}, nothing to train; {best}; checkpoints in "
            f"{result.run_dir} (to train on: {more})"
        )
        return 0
    val = result.last_val.get("val/mel", float("nan"))
    print(f"step {result.step}: val/mel {val:.4f}; {best}; checkpoints in {result.run_dir}")
    if not math.isfinite(val):
        # Not a tool error, but the run blew up: scripts should see it.
        print(
            f"training diverged (see {result.run_dir}/train.log); fix: a lower "
            "train.learning_rate in a fresh --out (a resume takes the newest checkpoint's "
            "optimizer and learning rate), or check the data",
            file=sys.stderr,
        )
        return 1
    untrained = next((m.get("val/mel") for step, m in result.history if step == 0), None)
    if untrained is not None and result.best_step is not None and result.best_val_mel >= untrained:
        # A collapse (a dead model, the same val/mel at every validation) passed as a
        # success. Exit 0 all the same: the run did what was asked, and a very short
        # healthy run can be above step 0 too; the line says what to do.
        print(
            f"val/mel never got below its step-0 value {untrained:.4f} (the untrained model): "
            f"training made the model worse, and best/ holds that (step {result.best_step}); "
            f"fix: a lower train.learning_rate (this run: {cfg.train.learning_rate:g}; e.g. "
            "a tenth of it), or more steps if this was a short try",
            file=sys.stderr,
        )
    return 0
