"""Checks a new sweep gets beyond what any reader of its file checks (load_sweep(new=True)):
values that make every trial fail or the ranking meaningless, refused before Ray starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sweeper.space import FieldError, FixedParam

if TYPE_CHECKING:
    from sweeper.config._schema import SweepConfig


def drawn_metrics(searched: set[str]) -> dict[str, str]:
    """Metric name -> the searched parameter a trainer reports under it (its last dotted
    part: train.learning_rate is reported as learning_rate)."""
    return {name.rsplit(".", 1)[-1]: name for name in searched}


def check_not_drawn(key: tuple, metric: str, drawn: dict[str, str]) -> None:
    """Refuse ranking by a searched parameter as the trainer reports it."""
    if metric in drawn:
        raise FieldError(
            key,
            f"is the searched parameter {drawn[metric]} as the trainer reports it: "
            "trials would rank by the value they drew, not their quality", metric,
            "rank by a held-out metric such as 'val/mel_l1'",
        )  # fmt: skip


def summary_ranked(cfg: SweepConfig) -> list[tuple[tuple, str]]:
    """The summary: metrics that order trials, with their key paths: summary.metrics and the
    weights above 0 (a weight of 0 only shows its metric; a direction ranks by nothing)."""
    summary = cfg.summary
    if summary is None:
        return []
    out = [(("summary", *key), name) for key, name in summary.named_metrics()
           if key[0] == "metrics" or (key[0] == "weights" and summary.weights[name] > 0)]
    return out  # fmt: skip


def check_ranked_by_itself(cfg: SweepConfig, searched: set[str]) -> None:
    """An objective or summary metric that is a searched parameter as reported (learning_rate
    with train.learning_rate searched ranks trials by their lr), and a pruner training metric
    that is the objective itself (overfitting is the held-out curve rising while the
    training one falls: one curve never does): both passed without comment."""
    from sweeper.config._metrics import TRAIN_METRIC

    drawn = drawn_metrics(searched)
    for i, metric in enumerate(cfg.objective.metrics):
        check_not_drawn(("objective", "metrics", i), metric, drawn)
    for key, metric in summary_ranked(cfg):
        check_not_drawn(key, metric, drawn)
    setting = None if cfg.pruner is None else cfg.pruner.train_metric
    train = TRAIN_METRIC.get(cfg.trainer) if setting == "auto" else setting
    if train is not None and train in cfg.objective.metrics:
        raise FieldError(
            ("pruner", "train_metric"),
            "is the objective itself (as auto: the trainer's own training metric), so the "
            "overfitting rule compares a curve with itself" if setting == "auto" else
            "is the objective itself, so the overfitting rule compares a curve with itself",
            setting, "set pruner.train_metric: null, or rank by a held-out metric (val/...)",
        )  # fmt: skip


def check_log_interval(cfg: SweepConfig) -> None:
    """A train.log_interval the adapter refuses at every trial's launch (fixed 0 passed
    check): below 1, as ``sweeper.trainers.sovits_svc.launch.align_eval_interval`` refuses
    it (not imported: config sits below the trainers)."""
    param = cfg.parameters.params.get("train.log_interval")
    if param is None:
        return  # the base config's: the trainer's config check names it
    if isinstance(param, FixedParam):
        values = (param.value,)
    else:  # a range's ends (listing 1..10**9 would not end)
        values = (param.low, param.high) if hasattr(param, "low") else param.values()
    for value in values or ():
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise FieldError(
                ("parameters", "train.log_interval"),
                "must be >= 1 (the launch of a trial with it refuses it)", value,
                "log every 50-200 steps, e.g. value: 50",
            )
