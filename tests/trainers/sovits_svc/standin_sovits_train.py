"""STAND-IN for so-vits-svc's train.py (the real one needs CUDA): same CLI, files and resume.

``python train.py -c config.json -m 44k`` in a fake checkout (see standin_checkout/). Like
the real one it writes ``./logs/<m>/`` relative to its working directory: a copy of the
config, ``train.log`` in the 4.1 format, TensorBoard scalars, ``G_<step>.pth`` /
``D_<step>.pth`` every eval_interval (with keep_ckpts), resumes from the latest pair with
global_step = D's step + 1, binds ``train.port`` and refuses to run without a GPU. Training
happens in a forked worker, as under mp.spawn; with STANDIN_IGNORE_TERM=1 that worker
ignores SIGTERM, so only SIGKILL ends it. The worker appends its pid to ``<m>/pids``.
Other knobs: STANDIN_RESUME_40=1 resumes as so-vits-svc 4.0 does (at the start of the saved
epoch, saving that epoch's checkpoints again, retrained: other weights); STANDIN_OOM=1 dies
as a CUDA out-of-memory under mp.spawn does; STANDIN_SAVE_STALL_S stalls halfway through
writing each D_<step>.pth (a slow disk); STANDIN_KEEP=N deletes all but the newest N pairs
whatever keep_ckpts says (an edited train.py); STANDIN_QUIT=1 exits 0 at once;
STANDIN_HANG=1 hangs before its first line; STANDIN_NO_LOG=1 writes no train.log;
STANDIN_NAN_STEPS=10,15 logs NaN losses at those steps (fp16 overflow steps).

The one weight of the stand-in model (models.SynthesizerTrn.amplitude) is set to
0.3 * step / STANDIN_BEST_STEP: the synthesised sine matches the 0.3-amplitude val data at
that step and is worse before and after it.
"""

import argparse
import glob
import io
import json
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import time

import models
import torch
from torch.utils.tensorboard import SummaryWriter


def _log(path, name, message):
    if os.environ.get("STANDIN_NO_LOG") == "1":
        return  # a train.py that logs elsewhere (a fork, an edited logger)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ",000"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp}\t{name}\tINFO\t{message}\n")


def _latest(model_dir, prefix):
    paths = glob.glob(os.path.join(model_dir, f"{prefix}_*.pth"))
    return max(paths, key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]), default=None)


def _save(obj, path, stall):
    stall_s = float(os.environ.get("STANDIN_SAVE_STALL_S", "0"))
    if not (stall and stall_s > 0):
        torch.save(obj, path)
        return
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    with open(path, "wb") as handle:  # half, a stall (a slow disk), the rest
        handle.write(data[: len(data) // 2])
        handle.flush()
        time.sleep(stall_s)
        handle.write(data[len(data) // 2 :])


def _oom():
    sys.stderr.write(
        "Traceback (most recent call last):\n"
        '  File "train.py", line 239, in train_and_evaluate\n'
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.53 GiB. GPU 0 has a "
        "total capacity of 23.65 GiB of which 1.02 GiB is free.\n"
        "/usr/lib/python3.10/multiprocessing/resource_tracker.py:224: UserWarning: "
        "resource_tracker: There appear to be 12 leaked semaphore objects to clean up at "
        "shutdown\n  warnings.warn('resource_tracker: There appear to be %d '\n"
    )
    sys.stderr.flush()
    os._exit(1)


def _train(hps, model_dir, name):
    if os.environ.get("STANDIN_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(os.path.join(model_dir, "pids"), "a") as handle:
        handle.write(f"{os.getpid()}\n")
    t = hps["train"]
    log = os.path.join(model_dir, "train.log")
    step_s = float(os.environ.get("STANDIN_STEP_S", "0.02"))
    best = float(os.environ.get("STANDIN_BEST_STEP", "20"))
    _log(log, name, str(hps))
    net_g = models.SynthesizerTrn(0, 0, **hps["model"])
    epoch, step = 1, 0
    steps_per_epoch = 7
    resumed_40 = os.environ.get("STANDIN_RESUME_40") == "1"
    retrained = 0.0
    latest_d = _latest(model_dir, "D")
    if latest_d is not None:
        state = torch.load(_latest(model_dir, "G"), map_location="cpu")
        net_g.load_state_dict(state["model"])
        epoch = state["iteration"]
        step = int(latest_d.rsplit("_", 1)[1].split(".")[0]) + 1
        if resumed_40:
            step = (epoch - 1) * steps_per_epoch
        _log(log, name, f"Loaded checkpoint '{_latest(model_dir, 'G')}' (iteration {epoch})")
        retrained = 0.2 if resumed_40 else 0.0
    writer = SummaryWriter(log_dir=model_dir)
    while epoch <= t["epochs"]:
        for batch in range(steps_per_epoch):
            time.sleep(step_s)
            lr = t["learning_rate"] * t["lr_decay"] ** (epoch - 1)
            if step % t["log_interval"] == 0:
                mel = 15.0 + 30.0 / (1.0 + step / 10.0)
                losses = [2.0, 2.5, 9.0, mel, 1.0]
                if str(step) in os.environ.get("STANDIN_NAN_STEPS", "").split(","):
                    losses = [float("nan")] * 5
                _log(log, name, f"Train Epoch: {epoch} [{100.0 * batch / steps_per_epoch:.0f}%]")
                _log(log, name, f"Losses: {losses}, step: {step}, lr: {lr}, "
                                f"reference_loss: {sum(losses)}")
                scalars = {"loss/g/total": sum(losses[1:]) + 0.1, "loss/d/total": losses[0],
                           "learning_rate": lr, "grad_norm_g": 50.0, "grad_norm_d": 10.0,
                           "loss/g/fm": losses[2], "loss/g/mel": losses[3], "loss/g/kl": losses[4],
                           "loss/g/lf0": 0.1}
                for tag, value in scalars.items():
                    writer.add_scalar(tag, value, step)
                writer.flush()  # the real writer flushes by queue size and time
            if step % t["eval_interval"] == 0:
                if os.environ.get("STANDIN_OOM") == "1" and step > 0:
                    _oom()
                with torch.no_grad():
                    net_g.amplitude.fill_(0.3 * step / best + retrained)
                for prefix, model in (("G", net_g.state_dict()), ("D", {"w": torch.zeros(2)})):
                    path = os.path.join(model_dir, f"{prefix}_{step}.pth")
                    _log(log, name, f"Saving model and optimizer state at iteration {epoch} "
                                    f"to {path}")
                    _save({"model": model, "iteration": epoch, "optimizer": None,
                           "learning_rate": t["learning_rate"]}, path, stall=prefix == "D")
                keep = int(os.environ.get("STANDIN_KEEP", t.get("keep_ckpts", 0)))
                if keep > 0:
                    for prefix in ("G", "D"):
                        paths = sorted(glob.glob(os.path.join(model_dir, f"{prefix}_*.pth")),
                                       key=os.path.getmtime)
                        paths = [p for p in paths if not p.endswith("_0.pth")]
                        for old in paths[:-keep]:
                            _log(log, name, f".. Free up space by deleting ckpt {old}")
                            os.remove(old)
            step += 1
        _log(log, name, f"====> Epoch: {epoch}, cost 0.10 s")
        epoch += 1
    writer.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-m", "--model", required=True)
    args = parser.parse_args()
    if not os.environ.get("CUDA_VISIBLE_DEVICES"):
        print("AssertionError: CPU training is not allowed.", file=sys.stderr)
        return 1
    if os.environ.get("STANDIN_QUIT") == "1":
        return 0  # a train.py that trains nothing and says nothing
    while os.environ.get("STANDIN_HANG") == "1":
        time.sleep(1)  # a rendezvous that never completes
    with open(args.config, encoding="utf-8") as handle:
        hps = json.load(handle)
    model_dir = os.path.join("./logs", args.model)
    os.makedirs(model_dir, exist_ok=True)
    shutil.copyfile(args.config, os.path.join(model_dir, "config.json"))
    store = socket.socket()  # what torch.distributed's store does with MASTER_PORT
    try:
        store.bind(("", int(hps["train"]["port"])))
    except OSError as err:
        print(f"RuntimeError: The server socket has failed to listen: {err} "
              "(errno: 98 - Address already in use).", file=sys.stderr)
        return 1
    worker = multiprocessing.get_context("fork").Process(
        target=_train, args=(hps, model_dir, os.path.basename(model_dir))
    )
    worker.start()
    worker.join()
    return worker.exitcode


if __name__ == "__main__":
    sys.exit(main())
