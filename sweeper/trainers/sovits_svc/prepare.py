"""Fill a trial folder before train.py starts: config.json, filelists, base models.

The only functions here that touch the disk besides the process control; everything they
write comes from :class:`~sweeper.trainers.sovits_svc.launch.LaunchSpec`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sweeper.config._sovits import SovitsSection
from sweeper.errors import InputError
from sweeper.trainers.sovits_svc.launch import LaunchSpec, absolute_filelist

SHOWN_MISSING = 3


@dataclass(frozen=True)
class Sources:
    """The user's files one trial reads (absolute paths)."""

    train_list: Path  # filelists/train.txt as preprocess_flist_config.py wrote it
    val_list: Path
    root: Path  # relative wav paths in the lists start here (data.dir)
    pretrained_g: Path | None = None
    pretrained_d: Path | None = None


def resolve_sources(settings: SovitsSection, data_dir: str) -> Sources:
    """Where the lists and base models are; each must exist.

    Raises:
        InputError: a list or a base model is missing.
    """
    root = Path(data_dir).resolve()
    found = {
        "train_list": Path(settings.train_list or root / "filelists" / "train.txt"),
        "val_list": Path(settings.val_list or root / "filelists" / "val.txt"),
    }
    for name in ("pretrained_g", "pretrained_d"):
        value = getattr(settings, name)
        if value is not None:
            found[name] = Path(value)
    for name, path in found.items():
        if not path.is_file():
            raise InputError(
                f"dataset file missing: sovits.{name} {str(path)!r} is not a file; fix: give "
                "the right path (filelists come from preprocess_flist_config.py)"
            )
    return Sources(root=root, **{k: v.resolve() for k, v in found.items()})


def prepare_trial(launch: LaunchSpec, sources: Sources) -> None:
    """Write config.json and the absolute filelists; seed a new model dir with G_0/D_0.

    Raises:
        InputError: a filelist is empty or names a wav that does not exist.
    """
    model_dir = Path(launch.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    for source, target in ((sources.train_list, launch.train_list),
                           (sources.val_list, launch.val_list)):  # fmt: skip
        text, problem = read_list(source, sources.root)
        if problem is not None:
            raise InputError(problem)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text, encoding="utf-8")
    Path(launch.config_path).write_text(json.dumps(launch.config, indent=2), encoding="utf-8")
    base_g, base_d = sources.pretrained_g, sources.pretrained_d
    if base_g is not None and base_d is not None and not any(model_dir.glob("G_*.pth")):
        # Copies, not links: train.py saves G_0.pth whenever it starts without a
        # checkpoint, and through a link that would overwrite the user's base model.
        shutil.copyfile(base_g, model_dir / "G_0.pth")
        shutil.copyfile(base_d, model_dir / "D_0.pth")


def read_list(source: Path, root: Path) -> tuple[str, str | None]:
    """A filelist's text with its wav paths made absolute against ``root``, and why it cannot
    train (:func:`wavs_problem`), for a trial and for ``sweeper check``/``run`` alike."""
    text = absolute_filelist(source.read_text(encoding="utf-8"), root)
    return text, wavs_problem(source, text)


def wavs_problem(source: Path, text: str) -> str | None:
    """Why the filelist ``source`` (its text made absolute) cannot train: it lists no wav,
    or wavs that do not exist (one line, with the fix); None when every wav is there.
    ``sweeper check`` and ``run`` ask it too, before any trial starts."""
    paths = [line.split("|", 1)[0] for line in text.splitlines()]
    if not paths:
        return f"dataset file {source} lists no wav files; fix: rerun preprocessing"
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        shown = ", ".join(repr(p) for p in missing[:SHOWN_MISSING])
        return (
            f"dataset file missing: {len(missing)} of {len(paths)} wavs listed in {source} do "
            f"not exist (e.g. {shown}); fix: set data.dir to the folder their relative paths "
            "start from (usually the so-vits-svc checkout)"
        )
    return None
