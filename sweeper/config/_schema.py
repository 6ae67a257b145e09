"""The sweep file as typed, frozen dataclasses; each one validates itself at construction.

Errors are :class:`~sweeper.space.FieldError` keyed relative to the object (``("gpu",)``);
:func:`~sweeper.config.load_sweep` adds the section and the file line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sweeper.config._cross import check_sovits, check_train_clips
from sweeper.config._names import check_name, is_folder_name  # noqa: F401 (tune/_run.py's)
from sweeper.config._sovits import SovitsSection
from sweeper.config._summary import SummarySettings
from sweeper.space import FieldError, Space
from sweeper.space._fields import as_bool, as_float, as_int, as_str

TRAINERS = ("reference", "sovits-svc")
SAMPLERS = ("tpe", "random", "grid")
MODES = ("min", "max")
# A fractional GPU share must be 1/n for n up to this, so that n trials fill one card.
MAX_TRIALS_PER_GPU = 16
# 1/n written to two decimals (0.33 for 1/3) still packs n trials per card.
_PACK_TOL = 0.005
# Ray's resource unit: a smaller share is refused when the trial's actor starts.
MIN_SHARE = 0.0001
# The toy set is for minutes-long sweeps: beyond these it is hours of synthesis per sweep.
MAX_TOY_SPEAKERS = 64
MAX_TOY_CLIPS = 1000  # per speaker
# Optuna's samplers (numpy's RandomState) take seeds below 2**32.
MAX_SEED = 2**32 - 1
def check_trainer(value: object) -> None:
    """A trainer's name; trainer: [reference] was an internal TypeError (a list as a key)."""
    if not isinstance(value, str):
        raise FieldError(
            ("trainer",), "must be one trainer's name", value,
            f"write one of {' | '.join(TRAINERS)}, e.g. trainer: reference",
        )  # fmt: skip
    as_str(("trainer",), value, TRAINERS)


@dataclass(frozen=True)
class Base:
    """The so-vits config every trial starts from, before the parameters are applied."""

    preset: str | None = None  # a preset of the trainer (reference: tiny, micro, sovits-4.1)
    config: str | None = None  # or a config.json / YAML file (relative to the working dir)

    def __post_init__(self) -> None:
        if (self.preset is None) == (self.config is None):
            raise FieldError(
                (),
                "needs exactly one of preset and config",
                {"preset": self.preset, "config": self.config},
                "give preset: or config:",
            )
        if self.preset is not None:
            as_str(("preset",), self.preset)
        if self.config is not None:
            as_str(("config",), self.config)


@dataclass(frozen=True)
class ToyData:
    """Generate the toy-singer set once per sweep (``sweeper data toy``); rate/hop from base."""

    speakers: int = 4  # speaker folders
    clips: int = 8  # clips per speaker, validation ones included
    val: int = 1  # held-out clips per speaker
    seconds: float = 2.0  # length of each clip
    seed: int = 0  # the set is a pure function of this seed

    def __post_init__(self) -> None:
        as_int(("speakers",), self.speakers, minimum=1)
        as_int(("clips",), self.clips, minimum=2)
        for name, most in (("speakers", MAX_TOY_SPEAKERS), ("clips", MAX_TOY_CLIPS)):
            if getattr(self, name) > most:  # 100000 clips passed check: hours of writing
                raise FieldError(
                    (name,), f"is more than the toy set's maximum, {most}", getattr(self, name),
                    f"use at most {most} (a larger set is real data: data.dir)",
                )  # fmt: skip
        as_int(("val",), self.val, minimum=1)
        if self.val >= self.clips:
            raise FieldError(("val",), f"must be < clips={self.clips}", self.val, "keep 1+ clip")
        object.__setattr__(self, "seconds", as_float(("seconds",), self.seconds))
        if self.seconds < 0.1:
            raise FieldError(("seconds",), "is too short", self.seconds, "use 0.1 s or more")
        if self.seconds > 60.0:  # the toy writer's MAX_SECONDS: every trial failed on it
            raise FieldError(("seconds",), "is too long", self.seconds, "use 60 s or less")
        as_int(("seed",), self.seed, minimum=0)

    @property
    def train_clips(self) -> int:
        """Training clips in the generated set."""
        return self.speakers * (self.clips - self.val)


@dataclass(frozen=True)
class DataSpec:
    """Where the training data comes from."""

    dir: str | None = None  # dataset root with filelists/train.txt and val.txt
    toy: ToyData | None = None  # or generate the toy set (into dir, if given)

    def __post_init__(self) -> None:
        if self.dir is None and self.toy is None:
            raise FieldError((), "needs dir or toy", {}, "give dir: PATH or toy: {}")
        if self.dir is not None:
            as_str(("dir",), self.dir)


@dataclass(frozen=True)
class Objective:
    """What the sweep optimises; several metrics make it multi-objective (Pareto front)."""

    metrics: tuple[str, ...]  # reported metric names, e.g. ("val/mel",)
    modes: tuple[str, ...]  # "min" or "max", one per metric

    def __post_init__(self) -> None:
        metrics = (self.metrics,) if isinstance(self.metrics, str) else self.metrics
        modes = (self.modes,) if isinstance(self.modes, str) else self.modes
        if not isinstance(metrics, list | tuple) or not metrics:
            raise FieldError(("metrics",), "must list 1+ metric", metrics, "e.g. [val/mel]")
        if not isinstance(modes, list | tuple):
            raise FieldError(("modes",), "must list one mode per metric", modes, "e.g. [min]")
        for i, metric in enumerate(metrics):
            as_str(("metrics", i), metric)
        for i, mode in enumerate(modes):
            as_str(("modes", i), mode, MODES)
        if len(set(metrics)) != len(metrics):
            raise FieldError(("metrics",), "repeats a metric", list(metrics), "list each once")
        if len(modes) != len(metrics):
            raise FieldError(
                ("modes",),
                f"must have one entry per metric ({len(metrics)})",
                list(modes),
                "give as many modes as metrics",
            )
        object.__setattr__(self, "metrics", tuple(metrics))
        object.__setattr__(self, "modes", tuple(modes))

    @property
    def multi(self) -> bool:
        return len(self.metrics) > 1


@dataclass(frozen=True)
class Budget:
    """How much training the sweep may spend."""

    max_steps: int  # training steps per trial (the last step; the detector's horizon)
    num_trials: int  # trials in the whole sweep
    concurrency: int = 1  # trials running at once (also capped by the resources)

    def __post_init__(self) -> None:
        as_int(("max_steps",), self.max_steps, minimum=1)
        as_int(("num_trials",), self.num_trials, minimum=1)
        as_int(("concurrency",), self.concurrency, minimum=1)


@dataclass(frozen=True)
class Resources:
    """What one trial reserves. A fractional GPU share is 1/n: n trials pack onto one card."""

    cpu: float = 1.0  # CPU cores (fractions allowed; Ray sets OMP_NUM_THREADS from it)
    gpu: float = 0.0  # GPUs: 0, 1/n (0.5, 0.25, 0.33 = 1/3) or a whole number

    def __post_init__(self) -> None:
        cpu = as_float(("cpu",), self.cpu)
        if cpu < MIN_SHARE:  # Ray refused 1e-09 only as its actor started: trials left RUNNING
            raise FieldError(
                ("cpu",), f"must be >= {MIN_SHARE} (Ray counts cores in steps of {MIN_SHARE})",
                self.cpu, "reserve at least 0.5 cores",
            )  # fmt: skip
        gpu = as_float(("gpu",), self.gpu)
        if gpu < 0:
            raise FieldError(("gpu",), "must be >= 0", self.gpu, "use 0 for CPU-only trials")
        if 0 < gpu < 1:
            n = round(1 / gpu)
            if n > MAX_TRIALS_PER_GPU or abs(gpu - 1 / n) >= _PACK_TOL:
                raise FieldError(
                    ("gpu",),
                    "does not pack: a share below 1 must be 1/n so n trials fill one card",
                    self.gpu,
                    f"use 0.5, 0.25, 0.2 or 0.33 (1/n, n <= {MAX_TRIALS_PER_GPU})",
                )
            gpu = 1 / n
        elif gpu > 1 and not gpu.is_integer():
            raise FieldError(
                ("gpu",),
                "above 1 must be a whole number of cards",
                self.gpu,
                f"use {int(gpu)} or {int(gpu) + 1}",
            )
        object.__setattr__(self, "cpu", cpu)
        object.__setattr__(self, "gpu", gpu)

    @property
    def trials_per_gpu(self) -> int:
        """How many trials share one card (1 for whole cards, 0 for CPU-only)."""
        if self.gpu == 0:
            return 0
        return round(1 / self.gpu) if self.gpu < 1 else 1


@dataclass(frozen=True)
class Sampler:
    """How Optuna picks the next trial's parameters."""

    kind: str = "tpe"  # tpe (Bayesian), random, or grid (every combination once)
    seed: int | None = None  # fixed seed = reproducible suggestions; null = random

    def __post_init__(self) -> None:
        as_str(("kind",), self.kind, SAMPLERS)
        if self.seed is not None and as_int(("seed",), self.seed, minimum=0) > MAX_SEED:
            raise FieldError(
                ("seed",), f"must be <= {MAX_SEED} (2**32 - 1, the samplers' largest)",
                self.seed, f"use a seed below 2**32, e.g. {self.seed % 2**32}",
            )  # fmt: skip


@dataclass(frozen=True)
class PrunerSettings:
    """The convergence detector that stops trials early (converged, overfitting, diverged)."""

    epsilon: float = 0.015  # converged = less than this relative improvement is left
    alpha: float = 0.05  # accepted chance of stopping a trial that would still improve
    n_warmup_steps: int = 0  # no pruner stop before this step (a divergence stops at any)
    catch_up: bool = True  # also stop a trial whose best hope is behind the best trial
    # Training metric beside the objective (overfitting = held-out up while this improves);
    # "auto": the trainer's own (train/mel for reference, loss/g/mel for sovits-svc); null: none.
    train_metric: str | None = "auto"

    def __post_init__(self) -> None:
        eps = as_float(("epsilon",), self.epsilon)
        if not 0 < eps < 1:
            raise FieldError(("epsilon",), "must be in (0, 1)", self.epsilon, "e.g. 0.015")
        alpha = as_float(("alpha",), self.alpha)
        if not 0 < alpha < 0.5:
            raise FieldError(("alpha",), "must be in (0, 0.5)", self.alpha, "e.g. 0.05")
        object.__setattr__(self, "epsilon", eps)
        object.__setattr__(self, "alpha", alpha)
        as_int(("n_warmup_steps",), self.n_warmup_steps, minimum=0)
        as_bool(("catch_up",), self.catch_up)
        if self.train_metric is not None and (
            not isinstance(self.train_metric, str) or not self.train_metric
        ):
            raise FieldError(
                ("train_metric",),
                "must be a metric name the trainer reports",
                self.train_metric,
                "auto (the trainer's own), train/mel, loss/g/mel, or null",
            )


@dataclass(frozen=True)
class SweepConfig:
    """One sweep: what to train, on what, how to search, with what budget and resources."""

    name: str  # sweep name; results go to a folder of this name
    trainer: str  # which trainer runs a trial: reference or sovits-svc
    base: Base  # the so-vits config every trial starts from
    data: DataSpec  # the training data
    objective: Objective  # metric(s) and direction(s)
    budget: Budget  # steps per trial, trials, concurrency
    resources: Resources  # per trial
    parameters: Space  # what varies between trials
    sampler: Sampler = field(default_factory=Sampler)  # how parameters are suggested
    pruner: PrunerSettings | None = field(default_factory=PrunerSettings)  # null = no stops
    storage: str | None = None  # Optuna journal file or RDB URL to resume from; null = memory
    sovits: SovitsSection | None = None  # trainer: sovits-svc only: the checkout and its files
    summary: SummarySettings = field(default_factory=SummarySettings)  # summarize's ranking

    def __post_init__(self) -> None:
        check_name(self.name)
        check_trainer(self.trainer)
        if self.storage is not None:
            as_str(("storage",), self.storage)
        if self.trainer == "sovits-svc" and self.resources.gpu == 0:
            raise FieldError(
                ("resources", "gpu"),
                "must be > 0 for sovits-svc (its train.py refuses to train on CPU)",
                self.resources.gpu,
                "reserve gpu: 1 (or a share such as 0.5)",
            )
        check_sovits(self)
        pruner, steps = self.pruner, self.budget.max_steps
        if pruner is not None and pruner.n_warmup_steps >= steps:
            raise FieldError(
                ("pruner", "n_warmup_steps"),
                f"must be < budget.max_steps={steps}, or the pruner never stops a trial",
                pruner.n_warmup_steps,
                "lower it, or set pruner: null to turn stopping off",
            )
        check_train_clips(self)
        if self.sampler.kind == "grid":
            try:
                size = len(self.parameters.grid())
            except FieldError as err:
                raise err.within("parameters") from None
            if self.budget.num_trials > size:
                raise FieldError(
                    ("budget", "num_trials"),
                    f"exceeds the {size} points of the grid (extra trials would repeat them)",
                    self.budget.num_trials,
                    f"set num_trials: {size}",
                )
