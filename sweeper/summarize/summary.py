"""A sweep folder -> a ranked :class:`Summary` (what every output format prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sweeper.config import SweepConfig
from sweeper.config._checks_new import check_not_drawn, drawn_metrics, summary_ranked
from sweeper.config._metrics import check_scale, zero_weights
from sweeper.config._summary import SummarySettings
from sweeper.errors import InputError
from sweeper.space import FieldError, FixedParam
from sweeper.summarize.collect import SweepData, TrialRecord, collect
from sweeper.summarize.importance import importances
from sweeper.summarize.ranking import Candidate, Criteria, Ranked, oriented, rank
from sweeper.tune._table import compute

EVAL_PREFIX = "eval/"  # metrics measured by --evaluate (sweeper.evaluate names behind it)


@dataclass
class Summary:
    data: SweepData
    criteria: Criteria
    ranked: list[Ranked]  # best first
    excluded: list[tuple[TrialRecord, str]]  # trials with no place, and why
    present: list[str]  # every metric the ranked candidates have
    importance: dict[str, float] = field(default_factory=dict)  # param -> share, largest first
    importance_note: str = ""
    steps_run: int = 0  # steps the trials that ended by a rule (COMPLETE, PRUNED) ran
    steps_budget: int = 0  # ... and would have run to budget.max_steps
    not_counted: int = 0  # started trials left out of both: unfinished or failed
    notes: list[str] = field(default_factory=list)  # one line each, for stderr

    @property
    def by_number(self) -> dict[int, TrialRecord]:
        return {t.number: t for t in self.data.trials}

    @property
    def winner(self) -> TrialRecord:
        return self.by_number[self.ranked[0].key]

    @property
    def saved(self) -> float:
        return 1.0 - self.steps_run / self.steps_budget if self.steps_budget else 0.0

    def describe(self) -> str:
        """One line: how the trials are ordered."""
        c = self.criteria
        arrows = {m: ("↓" if c.directions[m] == "min" else "↑") for m in c.metrics}
        if c.mode == "composite":
            parts = [f"{c.weights.get(m, 0):g}×{m}{arrows[m]}" for m in c.metrics]
            what = f"composite of {c.normalize}-normalised " + " + ".join(parts)
        elif c.mode == "pareto":
            what = "Pareto fronts of " + ", ".join(m + arrows[m] for m in c.metrics)
            if len(c.metrics) == 1:  # one axis: each front is one value, as lexicographic
                what += " (one metric: the lexicographic order; name 2+ in summary.metrics)"
        else:
            what = "lexicographic: " + " then ".join(m + arrows[m] for m in c.metrics)
        return f"{what}; ties: fewer steps first, then trial number"


def direction(name: str, cfg: SweepConfig, settings: SummarySettings) -> str:
    """min/max of a metric: the objective's, else the evaluate registry's, else summary.modes,
    else min (the trainers' losses and errors all go down). summary.modes may not contradict
    a direction the metric already has: each trial's best step was chosen by the objective's."""
    known = None
    if name in cfg.objective.metrics:
        known, source = cfg.objective.modes[cfg.objective.metrics.index(name)], "objective.modes"
    elif name.startswith(EVAL_PREFIX):
        from sweeper.evaluate import METRICS

        metric = METRICS.get(name[len(EVAL_PREFIX) :])
        if metric is not None:
            known, source = metric.direction, "the evaluation metric's direction"
    asked = settings.modes.get(name) if settings.modes else None
    if known is not None and asked is not None and asked != known:
        raise FieldError(
            ("summary", "modes", name), f"contradicts {source} ({known})", asked,
            f"remove {name} from summary.modes",
        )
    return known or asked or "min"


def searched_params(cfg: SweepConfig) -> set[str]:
    """The parameters the space searches (not fixed)."""
    return {n for n, p in cfg.parameters.params.items() if not isinstance(p, FixedParam)}


def scaled(name: str, searched: set[str], zero: frozenset = frozenset()) -> bool:
    """``name`` is multiplied by a loss weight the space searches, or fixes to 0."""
    try:
        check_scale((), name, searched, zero)
    except FieldError:
        return True
    return False


def criteria_for(data: SweepData, present: list[str], mode: str | None = None) -> Criteria:
    """The ranking the sweep file's ``summary:`` asks for, its names checked against the
    metrics the trials have (an unknown one is a line-numbered error naming those)."""
    cfg, settings = data.cfg, data.cfg.summary
    searched = searched_params(cfg)
    zero = zero_weights(cfg.parameters.params)
    for key, name in settings.named_metrics():
        if key[0] != "modes":  # a summary: added after the run: `sweeper check` refuses it
            try:
                check_scale(("summary", *key), name, searched, zero)
            except FieldError as err:
                raise data.lines.error(err) from None
    drawn = drawn_metrics(searched)
    for key, name in summary_ranked(cfg):  # learning_rate ranked trials by the lr they drew
        try:
            check_not_drawn(key, name, drawn)
        except FieldError as err:
            raise data.lines.error(err) from None
    # A metric scaled by a searched weight, or a searched parameter as reported, is shown,
    # but never offered to rank by.
    offered = ", ".join(
        m for m in present if not scaled(m, searched, zero) and m not in drawn
    )
    for key, name in settings.named_metrics():
        if name not in present:
            hint = ""
            if name.startswith(EVAL_PREFIX):
                hint = f"run `sweeper summarize {data.folder} --evaluate` to measure it, or "
            raise data.lines.error(
                FieldError(
                    ("summary", *key),
                    "is not a metric of this sweep",
                    name,
                    f"{hint}use one of: {offered}",
                )
            )
    objective = list(cfg.objective.metrics)
    mode = mode or settings.ranking or ("pareto" if cfg.objective.multi else "lexicographic")
    if mode == "composite":
        weights = dict(settings.weights or {m: 1.0 for m in objective})
        metrics = tuple(weights)
    else:
        weights = {}
        metrics = tuple(settings.metrics or objective)
    missing = [m for m in metrics if m not in present]
    if missing:  # an objective metric no finished trial reported
        raise InputError(
            f"no ranked trial has metric {missing[0]!r}; fix: name one of {offered} "
            "in summary: of sweep.yaml"
        )
    try:
        directions = {m: direction(m, cfg, settings) for m in present}
    except FieldError as err:
        raise data.lines.error(err) from None
    return Criteria(mode, metrics, directions, weights, settings.normalize)


def override_note(settings: SummarySettings, mode: str | None, criteria: Criteria) -> str | None:
    """What a ``--mode`` leaves unused of the sweep file's ``summary:`` (its weights under
    another mode, its metrics under composite): in the file the pair is an error, on the
    command line a deliberate other view, so it is said instead of silently dropped."""
    if mode is None:
        return None
    unused = None
    if mode != "composite" and settings.weights:
        unused = f"summary.weights ({', '.join(settings.weights)})"
    elif mode == "composite" and settings.metrics:
        unused = f"summary.metrics ({', '.join(settings.metrics)})"
    if unused is None:
        return None
    return (
        f"note: --mode {mode} overrides the sweep file's summary: section; its {unused} "
        f"are not used; ranking by {', '.join(criteria.metrics)}"
    )


def _target(summary: Summary) -> dict[int, float]:
    """What importance explains: the score, the first metric, or the front."""
    c = summary.criteria
    by = summary.by_number
    if c.mode == "composite":
        return {r.key: float(r.score or 0.0) for r in summary.ranked}
    if c.mode == "pareto":
        return {r.key: float(r.front or 0) for r in summary.ranked}
    first = c.metrics[0]
    return {r.key: oriented(by[r.key].values[first], c.directions[first]) for r in summary.ranked}


def build(data: SweepData, mode: str | None = None) -> Summary:
    """Rank the trials of ``data`` (evaluation results, if any, already in their values)."""
    usable = [t for t in data.trials if t.problem is None]
    if not usable:
        states: dict[str, int] = {}
        for t in data.trials:
            key = t.rule or t.state.lower()
            states[key] = states.get(key, 0) + 1
        seen = ", ".join(f"{n} {k}" for k, n in sorted(states.items())) or "no trials"
        missing = [t for t in data.trials if t.problem is not None and "missing" in t.problem]
        if any(t.state in ("RUNNING", "WAITING") for t in data.trials) or not data.trials:
            fix = f"wait for the sweep (`sweeper status {data.folder}`) or `sweeper resume` it"
        elif missing and len(missing) == len([t for t in data.trials if t.state == "COMPLETE"]):
            # Trials that finished well but whose checkpoints are gone: not the space's fault.
            fix = (
                "the trials finished but their best checkpoints are not where they were kept: "
                "restore the trial folders (checkpoint_*/best/, run/best/), or rerun the sweep "
                "(sweepers before 2026-12-07 kept best/ by val/mel whatever the objective)"
            )
        else:  # every trial ended without a value to rank: the space, not the wait, is at fault
            fix = "look at why they stopped (`sweeper status`) and narrow the search space"
        where = str(data.folder)
        problems = [t for t in data.trials if t.problem is not None and t.state == "COMPLETE"]
        why = f"; trial #{problems[0].number}: {problems[0].problem}" if problems else ""
        raise InputError(f"{where!r} has no finished trial to rank ({seen}{why}); fix: {fix}")
    present = sorted({k for t in usable for k in t.values})
    criteria = criteria_for(data, present, mode)
    candidates = [Candidate(t.number, t.values, t.steps) for t in usable]
    ranked, dropped = rank(candidates, criteria)
    by = {t.number: t for t in data.trials}
    excluded = [(t, t.problem) for t in data.trials if t.problem is not None]
    excluded += [(by[e.key], e.reason) for e in dropped]
    if not ranked:
        raise InputError(
            f"no finished trial of {str(data.folder)!r} has every metric the ranking needs "
            f"({', '.join(criteria.metrics)}); fix: rank by metrics the trials reported"
        )
    steps_run, steps_budget, not_counted = compute(data.trials, data.cfg.budget.max_steps)
    summary = Summary(
        data,
        criteria,
        ranked,
        sorted(excluded, key=lambda e: e[0].number),
        present,
        steps_run=steps_run,
        steps_budget=steps_budget,
        not_counted=not_counted,
    )
    if (line := override_note(data.cfg.summary, mode, criteria)) is not None:
        summary.notes.append(line)
    found, note = importances(data.frozen, _target(summary))
    summary.importance = dict(sorted(found.items(), key=lambda kv: -kv[1]))
    summary.importance_note = note
    return summary


def summarize(
    sweep_dir: str | Path,
    *,
    mode: str | None = None,
    evaluate: bool = False,
    metrics: list[str] | None = None,
    address: str | None = None,
    refresh: bool = False,
) -> Summary:
    """Collect, optionally evaluate each rankable trial's best checkpoint, and rank."""
    data = collect(sweep_dir)
    if evaluate:
        from sweeper.summarize.evaluation import evaluate_trials

        evaluate_trials(data, metrics=metrics, address=address, refresh=refresh)
    else:
        from sweeper.summarize.evaluation import load_cached

        load_cached(data)  # what an earlier --evaluate measured still ranks
    return build(data, mode)
