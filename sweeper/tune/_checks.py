"""Checks before a sweep starts or resumes: what the trainer would refuse, Ray's run state."""

from __future__ import annotations

import json
from pathlib import Path

from sweeper.config import SweepConfig, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.tune._check_data import check_data_dir, check_data_fits


def check_keys(cfg: SweepConfig) -> None:
    """Parameters the trainer does not know, and values it would refuse: before Ray starts."""
    from sweeper.space import check_keys as space_keys
    from sweeper.space._space import DATASET_KNOBS

    if cfg.trainer == "reference":
        from dataclasses import fields

        from sweeper.space import FloatParam
        from sweeper.trainers.reference.sweep import _SECTIONS as SECTIONS
        from sweeper.trainers.reference.sweep import known_keys
        from sweeper.tune._check_values import check_trainer_values

        space_keys(cfg.parameters, known_keys() | set(DATASET_KNOBS))
        ints = {f"{s}.{f.name}" for s, c in SECTIONS.items() for f in fields(c) if f.type == "int"}
        for name, param in cfg.parameters.params.items():  # (the trainer said "write 4")
            if isinstance(param, FloatParam) and name in ints:
                raise InputError(
                    f"{cfg.parameters.where(name)}: parameters[{name}] is type float, but "
                    f"{name} takes whole numbers (got type: float); fix: type: int"
                )
        check_trainer_values(cfg)
    elif cfg.trainer == "sovits-svc" and cfg.base.config is not None:
        # A bad key fails here, before any GPU time is spent (each trial checks it again).
        from sweeper.trainers.sovits_svc import check_keys as sovits_keys

        base = json.loads(Path(cfg.base.config).read_text(encoding="utf-8"))
        try:
            sovits_keys(cfg.parameters.params, base)
        except InputError as err:  # its error names the parameter, not the file and line
            name = next((n for n in cfg.parameters.params if f" {n} " in f" {err} "), None)
            if name is None:
                raise
            raise InputError(f"{cfg.parameters.where(name)}: {err}") from None


def _extreme(cfg: SweepConfig, name: str, base: object, pick) -> object:
    """The value of ``name`` that matters most (``pick``: min or max), else the base's."""
    spec = cfg.parameters.params.get(name)
    if spec is None:
        return base
    values = spec.values() if not hasattr(spec, "low") else (spec.low, spec.high)
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return pick(numbers) if numbers else base


def check_toy(cfg: SweepConfig, space_file: str | Path) -> None:
    """Values that contradict the toy set, which is made from the base config: each trial
    failed on them, one after the other (n_speakers below its speakers, another sampling
    rate), or ended before its budget (too few epochs; the sweeper does not lift them)."""
    toy = cfg.data.toy
    if cfg.trainer != "reference" or toy is None:
        return
    if cfg.data.dir is not None:  # the toy set goes there: never over a user's dataset
        from sweeper.tune._trainable import refuse_foreign_data

        try:
            refuse_foreign_data(Path(cfg.data.dir).expanduser())
        except InputError as err:
            at = load_yaml_with_lines(space_file)[1].where(("data", "dir"))
            raise InputError(f"{at}: {err}") from None
    from sweeper.trainers.reference.config import load_config

    base = load_config(cfg.base.preset or str(cfg.base.config))

    def where(name: str | None, key: tuple) -> str:
        """file:line of the parameter, else of the key the fix names."""
        if name in cfg.parameters.params:
            return cfg.parameters.where(name)
        return load_yaml_with_lines(space_file)[1].where(key)

    n_spk = _extreme(cfg, "model.n_speakers", base.model.n_speakers, min)
    if isinstance(n_spk, int) and n_spk < toy.speakers:
        at = where("model.n_speakers", ("data", "toy", "speakers"))
        whose = "parameters[model.n_speakers] takes"  # else the base's (no such parameter)
        if "model.n_speakers" not in cfg.parameters.params:
            whose = f"the base {'preset' if cfg.base.preset else 'config'}'s model.n_speakers is"
        raise InputError(
            f"{at}: {whose} {n_spk}, below the toy set's "
            f"{toy.speakers} speakers (got {n_spk}); fix: "
            f"lower data.toy.speakers to {n_spk} or fewer, or keep model.n_speakers >= "
            f"{toy.speakers} (a fixed value under parameters)"
        )
    rate = cfg.parameters.params.get("data.sampling_rate")
    if rate is not None:
        # a range (low < high) always holds another rate; listing 8000..10**9 would not end
        values = (rate.low, rate.high) if hasattr(rate, "low") else rate.values()
        other = [v for v in values if v != base.data.sampling_rate]
        if other:
            got = other[0]
            raise InputError(
                f"{where('data.sampling_rate', ())}: parameters[data.sampling_rate] differs from "
                f"the toy set's rate, {base.data.sampling_rate} Hz (the base config's) (got "
                f"{got!r}); fix: remove data.sampling_rate (or use data.dir with data at that "
                "rate)"
            )
    clips = toy.train_clips
    clips = min(clips, int(_extreme(cfg, "dataset.train_clips", clips, min)))
    batch = int(_extreme(cfg, "train.batch_size", base.train.batch_size, max))
    epochs = int(_extreme(cfg, "train.epochs", base.train.epochs, min))
    per_epoch = -(-clips // max(1, batch))  # the last partial batch is kept
    steps = cfg.budget.max_steps
    if epochs * per_epoch < steps:
        at = where("train.epochs", ("budget", "max_steps"))
        raise InputError(
            f"{at}: train.epochs {epochs} x {per_epoch} steps per epoch ({clips} training "
            f"clips, batch_size {batch}) stops a trial "
            f"before budget.max_steps (got {epochs * per_epoch} < {steps}); fix: train.epochs "
            f">= {-(-steps // per_epoch)}, or lower budget.max_steps"
        )


def few_points_note(cfg: SweepConfig) -> str | None:
    """A pruner that can never judge: too few held-out evaluations per trial for the
    detector's plateau (20) and overfitting (40) tests. Only a divergence stops a trial then."""
    import inspect

    from sweeper.detect._overfit import OverfitDetector
    from sweeper.detect._plateau import PlateauDetector
    from sweeper.space import FixedParam

    if cfg.pruner is None:
        return None
    plateau = inspect.signature(PlateauDetector).parameters["min_points"].default
    overfit = inspect.signature(OverfitDetector).parameters["min_points"].default
    steps = cfg.budget.max_steps
    if cfg.trainer == "sovits-svc":
        found = _sovits_interval(cfg)
        if found is None:
            return None
        interval, log_interval = found
        points = steps // interval
        where = (
            f"budget.max_steps {steps} / checkpoints every {interval} steps, sovits.eval_points "
            f"{cfg.sovits.eval_points if cfg.sovits is not None else None} on multiples of "
            f"train.log_interval {log_interval}"
        )
        fix = f"sovits.eval_points: {overfit} with a train.log_interval of at most "
        fix += f"{max(1, steps // overfit)}"
    else:
        spec = cfg.parameters.params.get("train.eval_interval")
        if spec is not None and not isinstance(spec, FixedParam):
            return None  # searched: some trials may have enough
        if spec is not None:
            interval = int(spec.value)
        else:
            from sweeper.trainers.reference.config import load_config

            interval = load_config(cfg.base.preset or str(cfg.base.config)).train.eval_interval
        points = -(-steps // max(1, interval))  # the trainer validates at the last step too
        where = f"budget.max_steps {steps} / train.eval_interval {interval}"
        fix = f"a fixed train.eval_interval of at most {max(1, steps // overfit)}"
        if steps < overfit:  # even every step is too few: only more steps help
            fix = f"budget.max_steps of at least {overfit} with train.eval_interval 1"
    if points is None or points >= overfit:
        return None
    judged = "a plateau only" if points >= plateau else "neither a plateau nor overfitting"
    return (
        f"{points} held-out evaluation{'s' if points != 1 else ''} per trial ({where}): "
        f"the detector needs {plateau} to "
        f"judge a plateau and {overfit} to judge overfitting, so it can judge {judged}; fix: "
        f"{fix}"
    )


def _sovits_interval(cfg: SweepConfig) -> tuple[int, int] | None:
    """(steps between checkpoints, log interval) of a sovits-svc sweep's trials, as the
    adapter will set them; None where a searched parameter decides."""
    from sweeper.space import FixedParam
    from sweeper.trainers.sovits_svc.launch import align_eval_interval

    train: dict = {}
    if cfg.base.config is not None:
        try:
            raw = json.loads(Path(cfg.base.config).read_text(encoding="utf-8"))
            train = raw.get("train", {}) if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            train = {}
    values = {}
    for key, default in (("log_interval", 200), ("eval_interval", 800)):
        spec = cfg.parameters.params.get(f"train.{key}")
        if spec is not None and not isinstance(spec, FixedParam):
            return None
        value = spec.value if spec is not None else train.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return None  # the adapter refuses it, with its own message
        values[key] = value
    points = cfg.sovits.eval_points if cfg.sovits is not None else None
    log_interval = values["log_interval"]
    steps = cfg.budget.max_steps
    return align_eval_interval(values["eval_interval"], log_interval, steps, points), log_interval


def check_run_state(folder: Path) -> None:
    """Ray's run state must be readable: without it Ray prints a traceback and starts the
    trials over, beyond ``num_trials`` (a 13th trial of 12 ran)."""
    states = sorted(folder.glob("experiment_state-*.json"))
    try:
        json.loads(states[-1].read_text(encoding="utf-8")) if states else None
    except (OSError, ValueError):
        states = []
    if not states:
        raise InputError(
            f"{str(folder)!r} has no readable Ray run state (experiment_state-*.json missing or "
            "damaged), so resume would start the trials over; fix: restore that file, or keep "
            "the finished trials as they are (status, summarize and export-best read them) "
            "and `sweeper run` its sweep.yaml as a new sweep (--name NAME-2)"
        )


def missing_data(cfg: SweepConfig) -> str | None:
    """What of a sweep's ``data.dir`` this machine lacks: its filelists or the wavs they list
    (None when all is there, or for toy data). Without it every trial fails, one after the
    other; a sovits-svc sweep's trials did so until 2026-12-08 (a probe)."""
    if cfg.trainer == "sovits-svc":
        return _missing_sovits_data(cfg)
    if cfg.trainer != "reference" or cfg.data.dir is None or cfg.data.toy is not None:
        return None  # (toy data with a dir is generated into it by the first trial)
    from sweeper.errors import InputError
    from sweeper.space import FixedParam
    from sweeper.trainers.reference.config import load_config
    from sweeper.trainers.reference.data import read_filelist

    data = load_config(cfg.base.preset or str(cfg.base.config)).data
    root = Path(cfg.data.dir).expanduser()
    for key in ("training_files", "validation_files"):
        spec = cfg.parameters.params.get(f"data.{key}")
        if spec is not None and not isinstance(spec, FixedParam):
            continue  # searched: each trial checks its own
        rel = str(spec.value) if spec is not None else getattr(data, key)
        try:
            wavs = read_filelist(root, rel)
        except InputError as err:
            return str(err).split("; fix:")[0]
        absent = [w for w in wavs if not w.is_file()]
        if absent:
            return (
                f"{len(absent)} of the {len(wavs)} wavs in {str(root / rel)!r} are missing "
                f"(first: {str(absent[0])!r})"
            )
    return None


def _missing_sovits_data(cfg: SweepConfig) -> str | None:
    """The sovits-svc trials' own check (their filelists, base models, listed wavs), asked
    before any starts; the text up to its fix (the caller gives one)."""
    if cfg.sovits is None or cfg.data.dir is None:
        return None
    from sweeper.trainers.sovits_svc.prepare import read_list, resolve_sources

    try:
        sources = resolve_sources(cfg.sovits, str(Path(cfg.data.dir).expanduser()))
        for source in (sources.train_list, sources.val_list):
            problem = read_list(source, sources.root)[1]
            if problem is not None:
                return problem.split("; fix:")[0]
    except InputError as err:
        return str(err).split("; fix:")[0]
    except (OSError, UnicodeDecodeError) as err:
        return f"cannot read a filelist ({err})"
    return None


def _check_base(cfg: SweepConfig, space_file: str | Path) -> None:
    """The base preset or config must load; its error gets the sweep file's line (it named
    only the preset, or the base file, as if that were the file being checked)."""
    key = ("base", "preset" if cfg.base.preset is not None else "config")
    try:
        if cfg.trainer == "reference":
            from sweeper.trainers.reference.config import load_config

            load_config(cfg.base.preset or str(cfg.base.config))
        elif cfg.base.config is not None:
            json.loads(Path(cfg.base.config).read_text(encoding="utf-8"))
    except (InputError, OSError, ValueError) as err:
        where = load_yaml_with_lines(space_file)[1].where(key)
        text = str(err)
        if isinstance(err, ValueError) and not isinstance(err, InputError):
            # json's own words gave no fix (a probe, 2026-12-08).
            text = (
                f"{cfg.base.config} is not valid JSON ({err}); fix: correct it there (a "
                "trailing comma or a comment?), or take the checkout's configs/config.json"
            )
        elif isinstance(err, OSError):
            text = f"cannot read {cfg.base.config} ({err.strerror}); fix: check the path"
        raise InputError(f"{where}: {'.'.join(key)}: {text}") from None


def preflight(space_file: str | Path) -> tuple[SweepConfig, str | None, list[str]]:
    """What `sweeper run` checks of a new sweep before Ray starts, and `sweeper check` too:
    (the config, what of data.dir this machine lacks or None, notes: few evaluations, a
    parameter that changes nothing). Raises InputError on anything the trainer or the schema
    would refuse."""
    from sweeper.config import load_sweep

    cfg = load_sweep(space_file, new=True)
    _check_base(cfg, space_file)
    check_data_dir(cfg, space_file)
    check_keys(cfg)
    check_toy(cfg, space_file)
    check_data_fits(cfg, space_file)
    if cfg.storage is not None:
        from sweeper.tune.storage import check_study_storage

        try:
            check_study_storage(cfg.storage)
        except InputError as err:
            at = load_yaml_with_lines(space_file)[1].where(("storage",))
            raise InputError(f"{at}: {err}") from None
    notes = [few_points_note(cfg), idle_on_cpu_note(cfg)]
    return cfg, missing_data(cfg), [note for note in notes if note is not None]


def idle_on_cpu_note(cfg: SweepConfig) -> str | None:
    """A searched half-precision setting on CPU-only trials: autocast is CUDA-only, so its
    values train alike (a probe, 2026-12-07: fp16_run true and false gave one val/mel, and
    only each trial's own run notes said so)."""
    from sweeper.space import FixedParam

    if cfg.trainer != "reference" or cfg.resources.gpu > 0:
        return None
    idle = [
        name for name in ("train.fp16_run", "train.half_type")
        if name in cfg.parameters.params
        and not isinstance(cfg.parameters.params[name], FixedParam)
    ]  # fmt: skip
    if not idle:
        return None
    return (
        f"parameters[{idle[0]}] is searched, but with resources.gpu: 0 every trial trains in "
        "float32 (autocast is used on CUDA only), so its values train alike; fix it, or give "
        "the trials a GPU"
    )
