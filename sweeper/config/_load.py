"""``load_sweep(path)``: a sweep YAML file -> :class:`SweepConfig`, strictly.

Unknown keys, missing keys, wrong types, bad ranges and impossible resource requests are
all one-line :class:`~sweeper.errors.InputError` s with the file and line of the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from sweeper.config._checks_new import check_log_interval, check_ranked_by_itself
from sweeper.config._metrics import (
    check_gan,
    check_metric,
    check_scale,
    gan_off_reason,
    zero_weights,
)
from sweeper.config._schema import (
    Base,
    Budget,
    DataSpec,
    Objective,
    PrunerSettings,
    Resources,
    Sampler,
    SweepConfig,
    ToyData,
    check_trainer,
)
from sweeper.config._sovits import SovitsSection
from sweeper.config._summary import SummarySettings
from sweeper.config._yaml import Lines, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.space import CategoricalParam, FieldError, FixedParam, Space, space_from_dict
from sweeper.space._fields import as_mapping, check_known

T = TypeVar("T")

_SECTIONS = (
    "name",
    "trainer",
    "base",
    "data",
    "objective",
    "budget",
    "resources",
    "parameters",
    "sampler",
    "pruner",
    "storage",
    "sovits",
    "summary",
)
_REQUIRED = ("name", "trainer", "base", "data", "objective", "budget", "parameters")


def _required(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def _section(cls: type[T], key: str, raw: Any, **extra: Any) -> T:
    """Build dataclass ``cls`` from the mapping ``raw`` found under ``key``."""
    try:
        raw = as_mapping((), raw)
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        check_known((), raw, names)
        for name in _required(cls):
            if name not in raw and name not in extra:
                raise FieldError((), f"needs {name}", sorted(raw), f"add {name}: ...")
        return cls(**{**raw, **extra})
    except FieldError as err:
        raise err.within(key) from None


def _base(raw: Any) -> Base:
    base = _section(Base, "base", raw)
    # Paths are relative to the working directory, like data.dir and storage.
    if base.config is not None and not Path(base.config).is_file():
        raise FieldError(
            ("base", "config"), "is not a file", base.config, "give the path to a config.json"
        )
    if base.config is not None and Path(base.config).suffix in (".yaml", ".yml"):
        try:
            other = load_yaml_with_lines(base.config)[0]
        except InputError:
            other = None  # its own error comes when the trainer reads it
        if isinstance(other, Mapping) and {"parameters", "objective"} <= set(other):
            raise FieldError(
                ("base", "config"), "is a sweep file, not a so-vits config", base.config,
                "name a config.json or YAML with train/data/model, or use base: {preset: ...}",
            )
    return base


def _data(raw: Any) -> DataSpec:
    raw = dict(as_mapping(("data",), raw))
    extra = {}
    if "toy" in raw:
        toy = raw.pop("toy")
        try:
            extra["toy"] = _section(ToyData, "toy", {} if toy is None else toy)
        except FieldError as err:
            raise err.within("data") from None
    return _section(DataSpec, "data", raw, **extra)


def _sovits(raw: Any, data: DataSpec) -> SovitsSection:
    section = _section(SovitsSection, "sovits", raw)
    checkout = Path(section.checkout)
    if not (checkout / "train.py").is_file():
        raise FieldError(
            ("sovits", "checkout"),
            "has no train.py",
            section.checkout,
            "point it at your so-vits-svc folder (the one holding train.py)",
        )
    files = {"pretrained_g": section.pretrained_g, "pretrained_d": section.pretrained_d}
    for name in ("train_list", "val_list"):
        given = getattr(section, name)
        if given is not None:
            files[name] = given
        elif data.dir is not None:  # (toy data is refused with sovits-svc by the schema)
            default = Path(data.dir) / "filelists" / f"{name[:-5]}.txt"
            if not default.is_file():
                raise FieldError(
                    ("data", "dir"),
                    f"has no filelists/{default.name} (the default sovits.{name})",
                    data.dir,
                    f"run preprocess_flist_config.py there, or set sovits.{name}",
                )
    for name, path in files.items():
        if path is not None and not Path(path).is_file():
            how = (
                "give the path to a filelist, or run preprocess_flist_config.py"
                if name.endswith("_list")
                else "give the path to a so-vits-svc base model (.pth)"
            )
            raise FieldError(("sovits", name), "is not a file", path, how)
    return section


def _build(data: Any, lines: Lines) -> SweepConfig:
    if not isinstance(data, Mapping):
        raise FieldError(
            (), "must be a mapping of sections (name:, trainer:, base:, ...)",
            type(data).__name__, "start from search_spaces/quick.yaml",
        )
    top = data
    check_known((), top, _SECTIONS)
    for name in _REQUIRED:
        if name not in top:
            raise FieldError((name,), "is required", None, f"add a top-level {name}: section")
    data_spec = _data(top["data"])
    param_lines = {
        str(name): lines.where(("parameters", name))
        for name in (top["parameters"] if isinstance(top["parameters"], Mapping) else {})
    }
    try:
        space: Space = space_from_dict(top["parameters"], param_lines)
    except FieldError as err:
        raise err.within("parameters") from None
    pruner = top.get("pruner", {})
    if pruner is False or isinstance(pruner, str):  # pruner: false / none / off
        raise FieldError(
            ("pruner",), "must be a mapping of settings, or null", pruner,
            "pruner: null turns it off (pruner: {} keeps the defaults)",
        )
    if isinstance(top.get("sampler"), str):  # sampler: tpe
        raise FieldError(
            ("sampler",), "must be a mapping", top["sampler"],
            f"sampler: {{kind: {top['sampler']}}}",
        )
    kwargs: dict[str, Any] = {
        "name": top["name"],
        "trainer": top["trainer"],
        "base": _base(top["base"]),
        "data": data_spec,
        "objective": _section(Objective, "objective", top["objective"]),
        "budget": _section(Budget, "budget", top["budget"]),
        "resources": _section(Resources, "resources", top.get("resources", {})),
        "parameters": space,
        "sampler": _section(Sampler, "sampler", top.get("sampler", {})),
        "pruner": None if pruner is None else _section(PrunerSettings, "pruner", pruner),
        "storage": top.get("storage"),
    }
    check_trainer(kwargs["trainer"])  # (before its names are looked up by it)
    for i, metric in enumerate(kwargs["objective"].metrics):
        check_metric(("objective", "metrics", i), metric, kwargs["trainer"])
    train_metric = None if kwargs["pruner"] is None else kwargs["pruner"].train_metric
    if train_metric not in (None, "auto"):
        check_metric(("pruner", "train_metric"), train_metric, kwargs["trainer"])
    if top.get("summary") is not None:
        kwargs["summary"] = _section(SummarySettings, "summary", top["summary"])
        for key, name in kwargs["summary"].named_metrics():
            if not name.startswith("eval/"):  # --evaluate's names are checked by summarize
                check_metric(("summary", *key), name, kwargs["trainer"])
    if top.get("sovits") is not None:
        kwargs["sovits"] = _sovits(top["sovits"], data_spec)
    return SweepConfig(**kwargs)


def _check_new(cfg: SweepConfig) -> None:
    """What a new sweep is refused for, beyond what any reader checks: checks added after
    sweeps were run with such files, so those folders still open (status, resume...)."""
    space = cfg.parameters
    for name, param in space.params.items():
        if isinstance(param, CategoricalParam):
            try:
                param.check_labels()
            except FieldError as err:
                raise err.within("parameters", name) from None
    searched = {n for n, p in space.params.items() if not isinstance(p, FixedParam)}
    zero = zero_weights(space.params)  # a weight fixed to 0: what it multiplies is 0
    gan_off = gan_off_reason(space.params.get("train.use_gan"))
    for i, metric in enumerate(cfg.objective.metrics):
        check_scale(("objective", "metrics", i), metric, searched, zero)
        check_gan(("objective", "metrics", i), metric, gan_off)
    if cfg.pruner is not None and cfg.pruner.train_metric not in (None, "auto"):
        check_gan(("pruner", "train_metric"), cfg.pruner.train_metric, gan_off)
    check_ranked_by_itself(cfg, searched)
    if cfg.summary is not None:
        try:
            cfg.summary.check_modes(cfg.objective.metrics, cfg.objective.modes)
        except FieldError as err:
            raise err.within("summary") from None
        for key, name in cfg.summary.named_metrics():
            if key[0] != "modes":  # a direction ranks by nothing
                check_scale(("summary", *key), name, searched, zero)
    if cfg.trainer == "sovits-svc":
        _check_sovits_new(cfg)


def _check_sovits_new(cfg: SweepConfig) -> None:
    """What every sovits-svc trial would fail on, refused before the first one starts (the
    trials refused it, one after the other, while `sweeper check` said ok)."""
    if cfg.data.toy is not None:  # without data.dir the schema refuses it at every load
        raise FieldError(
            ("data", "toy"),
            "cannot feed sovits-svc (its train.py needs preprocessed features)",
            "toy",
            "remove data.toy; data.dir alone names the folder the filelists' wav paths start from",
        )
    check_log_interval(cfg)
    param = cfg.parameters.params.get("train.eval_interval")
    if param is not None and cfg.sovits is not None and cfg.sovits.eval_points is not None:
        value = param.value if isinstance(param, FixedParam) else param.values()
        if value is None:  # a continuous float: its range
            value = f"{param.low}..{param.high}"
        raise FieldError(
            ("parameters", "train.eval_interval"),
            f"is set by sovits.eval_points ({cfg.sovits.eval_points} per trial)",
            list(value) if isinstance(value, tuple) else value,
            "remove it, or set sovits.eval_points: null to use it",
        )


# Keys holding a path, relative to the directory the sweep runs in.
_PATH_KEYS = (
    ("base", "config"), ("data", "dir"), ("storage",), ("sovits", "checkout"),
    ("sovits", "pretrained_g"), ("sovits", "pretrained_d"), ("sovits", "train_list"),
    ("sovits", "val_list"),
)  # fmt: skip


def _rooted(top: Any, root: Path) -> Any:
    """``top`` with its relative paths made absolute under ``root``; anything malformed is
    left for the checks to name."""
    if not isinstance(top, Mapping):
        return top
    top = dict(top)
    for key in _PATH_KEYS:
        parent = top if len(key) == 1 else top.get(key[0])
        value = parent.get(key[-1]) if isinstance(parent, Mapping) else None
        if key == ("storage",) and isinstance(value, str) and value.startswith("sqlite:///"):
            file = value[len("sqlite:///") :]  # sqlite:///relative.db is relative to the cwd
            if file != ":memory:" and not Path(file).expanduser().is_absolute():
                top[key[0]] = f"sqlite:///{root / file}"
            continue
        if not isinstance(value, str) or "://" in value or Path(value).expanduser().is_absolute():
            continue
        rooted = str(root / value)
        top[key[0]] = rooted if len(key) == 1 else {**parent, key[1]: rooted}
    return top


def load_sweep(path: str | Path, new: bool = False, root: str | Path | None = None) -> SweepConfig:
    """Read and validate a sweep file (``search_spaces/*.yaml``); ``new``: for a sweep about
    to start, with the checks that only a new sweep gets; ``root``: the directory its
    relative paths are relative to (a sweep folder's recorded working directory; default:
    the current one).

    Example:
        >>> cfg = load_sweep("search_spaces/quick.yaml")  # doctest: +SKIP
        >>> cfg.budget.concurrency, cfg.resources.cpu  # doctest: +SKIP
        (2, 1.0)
    """
    data, lines = load_yaml_with_lines(path)
    if data is None:
        raise InputError(
            f"{lines.path}:1: the file is empty (got None); "
            "fix: start from search_spaces/quick.yaml"
        )
    if root is not None:
        data = _rooted(data, Path(root))
    try:
        cfg = _build(data, lines)
        if new:
            _check_new(cfg)
        return cfg
    except FieldError as err:
        raise lines.error(err) from None
