"""``sweeper data toy DIR`` / ``sweeper data speech DIR``: write a deterministic dataset in
so-vits-svc's layout (toy: synthetic singers with true f0; speech: piper TTS with transcripts)."""

from __future__ import annotations

import argparse

from sweeper.cli._args import seed_arg

HELP = "make data: toy (synthetic multi-speaker singing) or speech (piper TTS, transcripts)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="KIND", required=True)
    toy = sub.add_parser("toy", help="write dataset/<sr>/<speaker>/*.wav and filelists/")
    toy.add_argument("dir", help="output dataset root")
    toy.add_argument("--speakers", type=int, default=4, help="number of speakers (default 4)")
    toy.add_argument("--clips", type=int, default=8, help="clips per speaker (default 8)")
    toy.add_argument("--val", type=int, default=1, help="val clips per speaker (default 1)")
    toy.add_argument("--seconds", type=float, default=2.0, help="clip length (default 2.0)")
    toy.add_argument("--sr", type=int, default=16000, help="sampling rate (default 16000)")
    toy.add_argument("--hop", type=int, default=320, help="frame hop of the true f0 (default 320)")
    toy.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    speech = sub.add_parser(
        "speech", help="write piper-tts speech: dataset/<sr>/<speaker>/*.wav, transcripts.txt"
    )
    speech.add_argument("dir", help="output dataset root")
    speech.add_argument("--speakers", type=int, default=3, help="number of speakers (default 3)")
    speech.add_argument("--clips", type=int, default=6, help="clips per speaker (default 6)")
    speech.add_argument("--val", type=int, default=1, help="val clips per speaker (default 1)")
    speech.add_argument("--sr", type=int, default=16000, help="sampling rate (default 16000)")
    speech.add_argument("--pace", type=float, default=1.0, help="piper length scale (default 1)")
    speech.add_argument("--seed", type=seed_arg, default=0, help="sentence draw seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sweeper.errors import InputError

    root = Path(args.dir)
    if root.exists() and any(root.iterdir()):
        raise InputError(
            f"{args.dir!r} is not empty; fix: give a new or empty directory (one an "
            "interrupted `sweeper data` left holds a partial set: delete it and run again)"
        )
    if args.data_command == "speech":
        return _speech(args, root)
    from sweeper.data.toy import ToySpec, write_toy_dataset

    spec = ToySpec(
        n_speakers=args.speakers,
        clips_per_speaker=args.clips,
        val_per_speaker=args.val,
        seconds=args.seconds,
        sampling_rate=args.sr,
        hop_length=args.hop,
        seed=args.seed,
    )
    lists = write_toy_dataset(root, spec)
    print(f"wrote {len(lists['train'])} train and {len(lists['val'])} val clips to {root}")
    return 0


def _speech(args: argparse.Namespace, root) -> int:
    from sweeper.data.speech import SpeechSpec, write_speech_dataset

    spec = SpeechSpec(
        n_speakers=args.speakers,
        clips_per_speaker=args.clips,
        val_per_speaker=args.val,
        sampling_rate=args.sr,
        length_scale=args.pace,
        seed=args.seed,
    )
    lists = write_speech_dataset(root, spec)
    print(
        f"wrote {len(lists['train'])} train and {len(lists['val'])} val clips "
        f"with transcripts.txt to {root}"
    )
    return 0
