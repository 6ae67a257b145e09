"""``sweeper export-best``: the winning trial as a so-vits-svc ``config.json`` (4.1's keys; a
so-vits-svc 4.0 ``--base`` stays a 4.0 config: _export_version.py).

Only keys so-vits-svc reads are written (``SOVITS_KEYS``, plus a user base config's own keys
for a newer fork); the reference trainer's extra keys (``use_gan``, ``posterior_layers``...)
and the sweep's ``dataset.*`` knobs are left out and listed. What the config starts from:

- ``--base CONFIG.json`` given: that file (the user's own so-vits-svc config, with its
  ``spk`` map and encoder), with the winner's parameters applied;
- else ``trainer: sovits-svc``: the sweep's ``base.config`` with the parameters applied
  (exactly what the trial trained with);
- else (reference trainer): the trial's own config (base preset + parameters), the one its
  checkpoint was trained with, filtered to so-vits-svc's keys.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweeper.errors import InputError
from sweeper.summarize._export_version import dropped_for_40, lacking_notes
from sweeper.summarize.collect import TrialRecord
from sweeper.summarize.export_base import SECTIONS, read_base
from sweeper.summarize.summary import Summary
from sweeper.trainers._dataset import split_params
from sweeper.trainers.sovits_svc.keys import PREPROCESSED, SOVITS_KEYS, known_keys
from sweeper.tune._run import SWEEP_FILE


@dataclass(frozen=True)
class Exported:
    path: Path  # the config.json written
    trial: int  # its trial number
    checkpoint: Path | None  # the trial's best G_<step>.pth
    applied: dict[str, Any]  # dotted key -> value set from the trial's parameters
    dropped: dict[str, str]  # dotted key -> why it is not in the file
    cautions: tuple[str, ...] = ()  # where the file means something else than the trial ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": str(self.path),
            "trial": self.trial,
            "checkpoint": None if self.checkpoint is None else str(self.checkpoint),
            "applied": self.applied,
            "dropped": self.dropped,
            "cautions": list(self.cautions),
        }


def _pick(summary: Summary, trial: int | None) -> TrialRecord:
    if trial is None:
        return summary.winner
    placed = [r.key for r in summary.ranked]
    if trial not in placed:
        why = next((f" ({reason})" for t, reason in summary.excluded if t.number == trial), "")
        raise InputError(
            f"trial #{trial} is not ranked in this sweep{why}; fix: one of "
            f"{', '.join(f'#{k}' for k in placed)} (see `sweeper summarize`)"
        )
    return summary.by_number[trial]


def _speakers(summary: Summary) -> dict[str, int]:
    """The reference trial's speaker map (sorted speaker folders), where the data is here."""
    from sweeper.summarize.evaluation import evaluation_job
    from sweeper.trainers.reference.config import load_config
    from sweeper.trainers.reference.data import read_filelist, speaker_map
    from sweeper.tune._trainable import toy_data

    job = evaluation_job(summary.data)
    data_dir = toy_data(job) if job.toy is not None else job.data_dir
    if data_dir is None or not Path(data_dir).is_dir():
        return {}
    cfg = load_config(job.preset if job.preset is not None else str(job.config))
    wavs = []
    for rel in (cfg.data.training_files, cfg.data.validation_files):
        wavs += read_filelist(Path(data_dir), rel)
    return speaker_map(cfg, wavs)


# Keys a sweep sets for its own sake, not hyperparameters: exporting the quick sweep's
# eval_interval 5 would make so-vits-svc save a G/D pair every 5 steps.
BOOKKEEPING = {
    f"train.{key}" for key in ("eval_interval", "log_interval", "keep_ckpts", "epochs", "port")
}
BOOKKEEPING_WHY = "sweep bookkeeping (logging, validation, files), not a hyperparameter; {}"


def build_config(
    summary: Summary, rec: TrialRecord, base: Path | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, Any] | None, list[str]]:
    """``(config, applied, dropped, the base config read, notes on the base)`` for ``rec``."""
    cfg = summary.data.cfg
    params, knobs = split_params(rec.params)
    dropped = {f"dataset.{k}": "a sweep knob (a data subset), not a config key" for k in knobs}
    # Onto the user's own --base only what the sweep searched is carried: a fixed value is
    # a choice for the sweep's runs (quick.yaml's lr_decay 1.0 and p_dropout 0.0), not a
    # finding, and would silently replace the base's (lr_decay 0.999875 became 0.999).
    fixed = fixed_params(cfg) if base is not None else set()
    if base is None and cfg.trainer == "sovits-svc" and cfg.base.config is not None:
        from sweeper.summarize.evaluation import evaluation_job

        base = Path(str(evaluation_job(summary.data).config))
    base_raw, notes = None, []
    if base is not None:
        raw, notes = read_base(base)
        base_raw = json.loads(json.dumps(raw))  # what the user's file had, before the params
        known = known_keys(raw)
    else:
        from sweeper.trainers.reference.config import load_config

        source = cfg.base.preset if cfg.base.preset is not None else cfg.base.config
        full = load_config(str(source)).to_dict()
        raw = {s: {k: v for k, v in full[s].items() if k in SOVITS_KEYS[s]} for s in SECTIONS}
        raw["spk"] = dict(full.get("spk") or {}) or _speakers(summary)
        known = dict(SOVITS_KEYS)
    if base is not None:
        kept = "the base's value is kept"
    else:
        kept = f"the {source} preset's value is kept" if cfg.base.preset else f"{source}'s is kept"
    applied: dict[str, Any] = {}
    for name, value in params.items():
        section, _, key = name.partition(".")
        if name in BOOKKEEPING:
            dropped[name] = BOOKKEEPING_WHY.format(kept)
        elif name in fixed:
            dropped[name] = FIXED_WHY
        elif base is not None and name in PREPROCESSED:
            # so-vits-svc's preprocessing wrote the features (and spk map) for the base's
            # values: the winner's would break the data (n_speakers 2 under a 3-speaker map).
            dropped[name] = "fixed by the data your base config was preprocessed with; kept"
        elif name == "train.segment_size" and base is not None:
            raw["train"][key] = applied[name] = _segment_for(raw, value, _trial_hop(summary, rec))
        elif base is not None and dropped_for_40(name, base_raw) is not None:
            dropped[name] = str(dropped_for_40(name, base_raw))
        elif section in known and key in known[section]:
            raw.setdefault(section, {})[key] = value
            applied[name] = value
        else:
            dropped[name] = "not a so-vits-svc 4.1 key (the reference trainer's own)"
    if base is None:
        for section in SECTIONS:  # the reference config's extra keys never reach the file
            extra = set(raw[section]) - set(known[section])
            for key in sorted(extra):
                raw[section].pop(key)
    return raw, applied, dropped, base_raw, notes


FIXED_WHY = "fixed in the sweep (not searched): your base's value is kept"


def fixed_params(cfg) -> set[str]:
    """The space's fixed parameters (conditional ones included)."""
    from sweeper.space import FixedParam

    return {n for n, p in cfg.parameters.params.items() if isinstance(p, FixedParam)}


def _trial_hop(summary: Summary, rec: TrialRecord) -> int:
    """The hop length the trial trained with (its base config, or its own parameter)."""
    params, _ = split_params(rec.params)
    if "data.hop_length" in params:
        return int(params["data.hop_length"])
    cfg = summary.data.cfg
    if cfg.trainer == "sovits-svc" and cfg.base.config is not None:
        return int(read_base(Path(cfg.base.config))[0]["data"]["hop_length"])
    from sweeper.trainers.reference.config import load_config

    source = cfg.base.preset if cfg.base.preset is not None else str(cfg.base.config)
    return int(load_config(source).data.hop_length)


def _segment_for(raw: dict[str, Any], segment: Any, trial_hop: int) -> Any:
    """The winner's segment_size in the base's samples: the same number of frames (so-vits-svc
    slices segment_size // hop_length frames and segment_size samples, which must agree)."""
    hop = raw["data"].get("hop_length")
    if not isinstance(hop, int) or hop <= 0 or hop == trial_hop or not isinstance(segment, int):
        return segment
    return max(1, round(segment / trial_hop)) * hop


def check_config(raw: dict[str, Any], base: dict[str, Any] | None = None) -> None:
    """Every key so-vits-svc knows (or the user's base has), every 4.1 key present, and the
    values so-vits-svc's train.py needs to agree with each other."""
    known = known_keys(base or {})
    for section in SECTIONS:
        have = raw.get(section)
        if not isinstance(have, dict):
            raise InputError(f"exported config lacks section {section!r}; fix: report a bug")
        unknown = sorted(set(have) - set(known[section]))
        missing = sorted(set(SOVITS_KEYS[section]) - set(have)) if base is None else []
        if unknown or missing:
            raise InputError(
                f"exported {section} keys do not match so-vits-svc 4.1 (unknown {unknown}, "
                f"missing {missing}); fix: give --base with a complete config.json"
            )
    segment, hop = raw["train"].get("segment_size"), raw["data"].get("hop_length")
    if isinstance(segment, int) and isinstance(hop, int) and hop > 0 and segment % hop:
        raise InputError(
            f"train.segment_size {segment} is not a multiple of data.hop_length {hop}: "
            "so-vits-svc's train.py would compare clips of different lengths; fix: set "
            f"segment_size to a multiple of {hop} in --base, or export with --trial N"
        )
    speakers, n_speakers = raw.get("spk"), raw["model"].get("n_speakers")
    if isinstance(speakers, dict) and isinstance(n_speakers, int) and n_speakers < len(speakers):
        raise InputError(
            f"model.n_speakers {n_speakers} is below the {len(speakers)} speakers of spk: "
            "so-vits-svc would index past its speaker table; fix: n_speakers >= "
            f"{len(speakers)} in --base"
        )
    if isinstance(speakers, dict) and isinstance(n_speakers, int):
        outside = {k: v for k, v in speakers.items() if not 0 <= v < n_speakers}
        if outside:
            name, sid = next(iter(outside.items()))
            raise InputError(
                f"spk {name!r}: {sid} is outside 0..{n_speakers - 1}, the rows of so-vits-svc's "
                f"speaker table (model.n_speakers {n_speakers}): train.py would fail at its "
                f"first batch; fix: number spk from 0 in --base, or raise model.n_speakers"
            )


def export_best(
    summary: Summary, out: str | Path, *, base: str | Path | None = None, trial: int | None = None
) -> Exported:
    """Write the chosen trial's so-vits-svc config to ``out``."""
    rec = _pick(summary, trial)
    raw, applied, dropped, base_raw, base_notes = build_config(
        summary, rec, None if base is None else Path(base)
    )
    check_config(raw, base_raw)
    path = Path(out)
    _check_out(path, summary, None if base is None else Path(base))
    _write_atomic(path, json.dumps(raw, indent=2) + "\n")
    notes = cautions(summary, rec, base is not None, applied) + tuple(base_notes)
    segment = rec.params.get("train.segment_size")
    if "train.segment_size" in applied and applied["train.segment_size"] != segment:
        notes += (
            f"train.segment_size {segment} is written as {applied['train.segment_size']}: the "
            "same number of frames at your base's hop_length (the winner's samples would not "
            "match its frames there)",
        )
    if base_raw is not None:  # a 4.0 base is told only what 4.0's train.py reads
        notes += lacking_notes(raw, base_raw)
    return Exported(path, rec.number, rec.checkpoint, applied, dropped, notes)


def _check_out(path: Path, summary: Summary, base: Path | None) -> None:
    """Refuse an --out that would destroy something: the base config itself, a file of the
    sweep folder (its journal, a checkpoint; a probe overwrote both), anything not JSON."""
    target = path.expanduser().resolve()
    folder = summary.data.folder
    if base is not None and target == base.expanduser().resolve():
        raise InputError(
            f"--out {str(path)!r} is the --base file; fix: write the new config elsewhere "
            "(your base stays as it is)"
        )
    # This sweep's folder or any other one (a probe overwrote another sweep's sweep.json):
    # only its summary/ is ours to write.
    folders = [folder.resolve()] if isinstance(folder, Path) else []
    folders += [d for d in target.parents if (d / SWEEP_FILE).is_file()]
    for sweep in folders:
        if target.is_relative_to(sweep) and not target.is_relative_to(sweep / "summary"):
            raise InputError(
                f"--out {str(path)!r} is inside the sweep folder {str(sweep)!r}; fix: a path "
                f"outside it, or under {str(sweep / 'summary')!r}"
            )
    if target.is_dir():
        raise InputError(f"--out {str(path)!r} is a folder; fix: name the config.json to write")
    if target.is_file():
        try:
            json.loads(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise InputError(
                f"--out {str(path)!r} exists and is not a JSON config; fix: another path, or "
                "remove that file first"
            ) from None


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, renamed over ``path``: a stop
    midway never leaves a half-written config."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.is_file() else 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as err:
        raise InputError(
            f"cannot write --out {str(path)!r} ({err.strerror or err}); fix: a file path in "
            "a writable folder"
        ) from err


def cautions(
    summary: Summary, rec: TrialRecord, base_given: bool = True, applied: dict | None = None
) -> tuple[str, ...]:
    """What so-vits-svc will do differently from what the reference trainer's winner did:
    the exported keys keep their names but not always their meaning. ``applied``: what was
    carried onto a --base (a value the base kept needs no word)."""
    cfg = summary.data.cfg
    if cfg.trainer != "reference":
        return ()  # a sovits-svc trial trained with exactly this file
    from sweeper.trainers.reference.config import load_config

    params, _ = split_params(rec.params)
    source = cfg.base.preset if cfg.base.preset is not None else str(cfg.base.config)
    full = load_config(source).to_dict()
    train = full["train"]
    train.update({k.partition(".")[2]: v for k, v in params.items() if k.startswith("train.")})
    out = []
    if not base_given:  # the proxy's sizes and front end: so-vits-svc cannot train with them
        data, model = full["data"], full["model"]
        out.append(
            f"without --base this file is the reference trainer's proxy config "
            f"({data.get('sampling_rate')} Hz, ssl_dim {model.get('ssl_dim')}, speech_encoder "
            f"{model.get('speech_encoder')!r}): so-vits-svc 4.1 cannot train with it; to get a "
            "trainable file pass your so-vits-svc config.json as --base (the searched "
            "hyperparameters are carried onto it)"
        )
    decay_written = not base_given or applied is None or "train.lr_decay" in applied
    if decay_written and train.get("lr_decay_unit") == "step" and train.get("lr_decay") != 1.0:
        out.append(
            f"the winner decayed its learning rate per step (train.lr_decay "
            f"{train.get('lr_decay')} with lr_decay_unit: step); so-vits-svc applies lr_decay "
            "once per epoch: raise it to the power of your steps per epoch"
        )
    if train.get("use_gan") is False:
        out.append(
            "the winner trained without the GAN (train.use_gan: false); so-vits-svc always "
            "trains with it, so its learning rate and loss weights may not carry over"
        )
    out.append(
        "the best checkpoint is the reference trainer's model (torch's own attention layers), "
        "not one so-vits-svc loads: train so-vits-svc itself with "
        + ("this config.json" if base_given else "the config.json written with --base")
    )
    if cfg.data.toy is not None:
        out.append(
            f"found on the toy data set with the {source!r} config: a demonstration, not "
            "settings for a real voice; sweep search_spaces/sovits-4.1.yaml or sovits-svc.yaml "
            "on your data for those"
        )
    return tuple(out)
