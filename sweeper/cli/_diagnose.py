"""``sweeper diagnose PATH``: judge one existing so-vits-svc run from its logs."""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from pathlib import Path

from sweeper.errors import InputError

HELP = "say, per signal, whether a so-vits-svc run has converged and which checkpoint to keep"
PLOT_NAME = "sweeper-diagnose.png"
_NO_PLACE = (
    "warning: no plot written: neither the run's folder nor the current directory is "
    "writable; pass --plot with a writable path"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        metavar="PATH",
        help="a train.log, an events.out.tfevents.* file, or a run folder such as logs/44k",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--plot",
        metavar="OUT.png",
        help=f"where to write the plot (default: {PLOT_NAME} in the run's folder; when that "
        "folder is not writable, sweeper-diagnose-FOLDER-LOG.png in the current directory, "
        "LOG being the log or event file's name without .log, or sweeper-diagnose-FOLDER.png "
        "for a folder; a default plot that cannot be written is a warning, the report is "
        "printed all the same)",
    )
    parser.add_argument("--no-plot", action="store_true", help="write no plot")
    parser.add_argument(
        "--signal",
        metavar="NAME",
        action="append",
        help="judge only this signal, e.g. loss/g/mel (repeat for more)",
    )
    parser.add_argument(
        "--budget",
        metavar="STEPS",
        type=int,
        help="the step training was meant to reach (default: judge 'training as long again')",
    )


def run(args: argparse.Namespace) -> int:
    from sweeper.diagnose import diagnose, render_text, run_path, to_dict
    from sweeper.logs import read_run

    run_log = read_run(run_path(args.path))  # a sweeper trial folder leads to its logs
    plot_path: Path | None = None
    moved = ""
    if not args.no_plot:
        plot_path, moved = plot_target(args.plot, run_log.source)
    diagnosis = diagnose(run_log, signals=args.signal, budget=args.budget)
    if args.json:
        # One JSON object names the plot it wrote, so the plot comes first here; a default
        # plot that fails becomes a warning and "plot": null, never a lost report.
        plot_path, warning = _draw(diagnosis, run_log, plot_path, args)
        data = to_dict(diagnosis)
        data["plot"] = None if plot_path is None else str(plot_path)
        print(json.dumps(data, indent=2, allow_nan=False), flush=True)
        for line in (moved if plot_path is not None else "", warning):
            if line:
                print(f"sweeper diagnose: {line}", file=sys.stderr)
        return 0
    print(render_text(diagnosis), flush=True)  # the report first: a plot failure cannot lose it
    plot_path, warning = _draw(diagnosis, run_log, plot_path, args)
    if plot_path is not None:
        print(f"Plot: {plot_path}" + (f" ({moved})" if moved else ""))
    if warning:
        print(f"sweeper diagnose: {warning}", file=sys.stderr)
    return 0


def _draw(diagnosis, run_log, plot_path: Path | None, args) -> tuple[Path | None, str]:
    """Write the plot: (where it went, or None; a warning). A --plot asked for must succeed."""
    from sweeper.diagnose import plot

    explicit = args.plot is not None
    if plot_path is None:
        return None, ("" if args.no_plot else _NO_PLACE)
    try:
        plot(diagnosis, run_log, plot_path)
    except OSError as err:
        problem = f"cannot write the plot to {plot_path}: {err.strerror or err}"
        if explicit:
            fix = "pass --plot with a writable path, or --no-plot"
            raise InputError(f"{problem}; {fix}") from None
        return None, f"warning: {problem}; no plot written (pass --plot with a writable path)"
    return plot_path, ""


def plot_target(explicit: str | None, source: Path) -> tuple[Path | None, str]:
    """Where the PNG goes, and a sentence when it could not go where it normally would.

    None when no --plot was given and neither the run's folder nor the current directory is
    writable: the report is still printed, with a warning instead of the plot.
    """
    if explicit is not None:
        path = Path(explicit)
        if path.suffix.lower() != ".png":
            raise InputError(f"--plot writes a PNG; give a name ending in .png, got {explicit}")
        if not path.parent.is_dir():  # fail before the slow replay, not after it
            raise InputError(
                f"cannot write the plot to {path}: folder {path.parent} does not exist; pass "
                "--plot with a path in an existing folder, or --no-plot"
            )
        return path, ""
    folder = source if source.is_dir() else source.parent
    if writable(folder):
        return folder / PLOT_NAME, ""
    if not writable(Path.cwd()):  # known before the slow replay: no place for a default plot
        return None, ""
    fallback = Path.cwd() / f"{Path(PLOT_NAME).stem}-{fallback_name(source)}.png"
    return fallback, f"{folder} is not writable, so the plot went to the current directory"


def fallback_name(source: Path) -> str:
    """The run's folder, then the log or event file diagnosed (``ro-train``): two read-only
    runs, or two logs in one read-only folder, keep a plot each in the current directory."""
    folder = source if source.is_dir() else source.parent
    parts = [folder.resolve().name]
    if not source.is_dir():
        parts.append(source.name.removesuffix(".log"))
    name = "-".join(part for part in parts if part)
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name) or "run"


def writable(folder: Path) -> bool:
    """Writable for us, and not marked read-only (root may write anywhere; it should not)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    marked = bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return marked and os.access(folder, os.W_OK)
