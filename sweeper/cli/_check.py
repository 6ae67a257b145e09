"""``sweeper check SPACE.yaml``: validate a search space as ``run`` does, without Ray."""

from __future__ import annotations

import argparse

HELP = "check a search space without running it: every error run would give, and its first draws"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("space", nargs="+", help="search space YAML file(s)")
    parser.add_argument(
        "--draws",
        type=int,
        default=3,
        metavar="N",
        help="print the searched values of the first N trials a new sweep draws (default 3)",
    )
    parser.add_argument("--name", default=None, help="as for run: the sweep folder's name")
    parser.add_argument(
        "--storage", default=None, help="as for run: the folder of sweep folders (./sweeps)"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from sweeper.errors import InputError, SweeperError

    if args.draws < 0:
        raise InputError(f"--draws must be >= 0, got {args.draws}; fix: e.g. --draws 3")
    from sweeper.config._names import MAX_NAME, is_folder_name

    if args.name is not None and not is_folder_name(args.name):  # as run refuses it
        raise InputError(
            f"--name must be a folder-safe name of at most {MAX_NAME} characters (got "
            f"{args.name!r}); fix: use letters, digits, . _ - (starting with a letter or digit)"
        )
    warned, taken, failed = False, False, []
    for i, space in enumerate(args.space):
        if i:
            print()
        if len(args.space) == 1:  # one file: main prints its error
            warned, taken = check(space, args.draws, args.name, args.storage)
            continue
        try:  # several: every file is checked, one error line for each bad one
            check(space, args.draws, args.name, args.storage)
        except SweeperError as err:
            print(f"sweeper check: error: {err}", file=sys.stderr)
            failed.append(space)
    if failed:
        print(f"{len(failed)} of {len(args.space)} files refused: {', '.join(failed)}")
        return 2
    if len(args.space) == 1 and not taken:  # (taken: its warning gives the two ways on)
        fix = "put the dataset where data.dir says (or run on a cluster whose nodes have it), "
        import shlex  # a command to paste: "my space.yaml" quoted (a probe, 2026-12-07)

        extra = f" --name {args.name}" if args.name else ""
        extra += f" --storage {shlex.quote(args.storage)}" if args.storage else ""
        print(f"next: {fix if warned else ''}`sweeper run {shlex.quote(args.space[0])}{extra}`")
    return 0


def _taken(space: str, name: str, storage: str | None, given: bool = False) -> str | None:
    """Where `sweeper run` would find a sweep already (and refuse), with the two ways on."""
    from pathlib import Path

    from sweeper.config._schema import is_folder_name
    from sweeper.tune._run import DEFAULT_STORAGE, SWEEP_FILE

    where = storage if storage is not None else DEFAULT_STORAGE
    if "://" in where or not is_folder_name(name):
        return None  # a remote store is looked at by run; a bad --name is refused by run
    folder = Path(where).expanduser() / name
    if not (folder / SWEEP_FILE).is_file():
        return None
    from sweeper.tune._lock import _who, driver_running

    at = f" --storage {storage}" if storage is not None else ""
    named = f" --name {name}" if given else ""  # the command that would be refused
    holder = driver_running(folder)
    # A live driver's sweep is not one to resume (resume is refused while it runs; a probe).
    go_on = (
        f"{_who(holder)} is running it" if holder is not None
        else f"`sweeper resume {folder}` to continue it"
    )  # fmt: skip
    return (
        f"{folder} already holds a sweep, so `sweeper run {space}{named}{at}` would be "
        f"refused; fix: {go_on}, or `sweeper run {space} --name {name}-2{at}` for a new one"
    )


def _unreachable(storage: str | None) -> str | None:
    """Why this machine cannot connect to the study's database server, or None: `run`
    connects before any trial; `check` only warns, as the sweep may start elsewhere."""
    from sweeper.errors import InputError
    from sweeper.tune.storage import reach_server

    if storage is None or "://" not in storage or storage.lower().startswith("sqlite"):
        return None
    try:
        reach_server(storage)
    except InputError as err:
        return str(err)
    return None


def _missing_python(cfg) -> str | None:
    """A sovits.python this machine lacks: every trial here would fail to launch it (the
    nodes of a cluster may have it, so a warning)."""
    import os
    import shutil
    from pathlib import Path

    python = cfg.sovits.python if cfg.sovits is not None else None
    if python is None:
        return None
    found = shutil.which(python) if "/" not in python else python
    if found is not None and Path(found).is_file() and os.access(found, os.X_OK):
        return None
    return (
        f"sovits.python {python!r} is not an executable on this machine, so every trial "
        "started here would fail to launch; fix: name the interpreter of the environment "
        "with so-vits-svc's requirements (e.g. so-vits-svc/.venv/bin/python), or null for this one"
    )


def check(
    space: str, draws: int, name: str | None = None, storage: str | None = None
) -> tuple[bool, bool]:
    """Everything `sweeper run` checks before Ray starts (the cluster's size aside), then
    what the sweep would be; (whether it warned of data this machine lacks, whether the
    sweep folder is taken)."""
    from sweeper.tune._checks import preflight
    from sweeper.tune._preview import TPE_STARTUP, describe, first_draws
    from sweeper.tune._run import DEFAULT_STORAGE
    from sweeper.tune.storage import check_storage_root

    cfg, absent, notes = preflight(space)
    check_storage_root(str(storage if storage is not None else DEFAULT_STORAGE))  # as run does
    print(f"{space}: ok (sweep {cfg.name!r})")
    for line in describe(cfg):
        print(f"  {line}")
    if absent is not None:
        print(
            f"  warning: data.dir: {absent} on this machine (`sweeper run` without --address "
            "refuses it; on a cluster every node that trains needs it)"
        )
    for note in notes:
        print(f"  note: {note}")
    python = _missing_python(cfg)
    if python is not None:
        print(f"  warning: {python}")
    unreachable = _unreachable(cfg.storage)
    if unreachable is not None:
        print(f"  warning: `sweeper run` from this machine refuses storage: {unreachable}")
    taken = _taken(space, name or cfg.name, storage, given=name is not None)
    if taken is not None:
        print(f"  warning: {taken}")
    result = (absent is not None, taken is not None)
    searched = cfg.parameters.searched
    chosen = first_draws(cfg, draws) if draws and searched else []
    if not chosen:
        return result
    if cfg.sampler.seed is None:
        whose = "a sample (no seed: the sweep draws others)"
    elif cfg.sampler.kind == "tpe" and len(chosen) > TPE_STARTUP:
        whose = f"the sweep's own for the first {TPE_STARTUP}; TPE's later draws follow results"
    else:
        whose = "the sweep's own, with its seed"
    print(f"  first {len(chosen)} trials ({whose}):")
    space = cfg.parameters
    # a conditional fixed value differs between trials too: shown where its when: holds
    fixed_when = [n for n, p in space.params.items() if p.when and n not in searched]
    for number, params in enumerate(chosen):
        shown = [f"{k}={_short(params[k])}" for k in searched if k in params]
        shown += [
            f"{n}={_short(space.params[n].value)}"
            for n in fixed_when
            if space.is_active(n, {**params, **{f: space.params[f].value for f in fixed_when}})
        ]
        print(f"    #{number}  {'  '.join(shown) or '(only fixed values)'}")
    return result


def _short(value) -> str:
    """A drawn value as status shows it: 3 significant digits, more near 1 (an lr_decay of
    0.9999 showed as 1)."""
    from sweeper.space._fields import choice_label
    from sweeper.space._space import as_yaml
    from sweeper.tune._table import show_value

    if isinstance(value, float):
        return show_value(value)
    if value is None or isinstance(value, bool):  # as the file writes them
        return as_yaml(value)
    return str(choice_label(value))
