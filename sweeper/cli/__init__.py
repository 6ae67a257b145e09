"""``sweeper`` command line: ``main(argv) -> int`` over a registry of subcommands.

Each subcommand lives in its own module under ``sweeper.cli`` exposing ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Modules keep their heavy imports inside ``run``
so ``sweeper --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence

from sweeper.errors import SweeperError

INTERRUPTED = 130  # the exit code of a Ctrl-C, as shells give it (128 + SIGINT)

# name -> module; order is the order of ``sweeper --help``.
COMMANDS: dict[str, str] = {
    "run": "sweeper.cli._run",
    "check": "sweeper.cli._check",
    "resume": "sweeper.cli._resume",
    "status": "sweeper.cli._status",
    "summarize": "sweeper.cli._summarize",
    "export-best": "sweeper.cli._export",
    "clean": "sweeper.cli._clean",
    "dashboard": "sweeper.cli._dashboard",
    "diagnose": "sweeper.cli._diagnose",
    "bench": "sweeper.cli._bench",
    "train": "sweeper.cli._train",
    "data": "sweeper.cli._data",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeper",
        description="Hyperparameter sweeps for so-vits-svc that know when a run has converged.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(command_parser)
        command_parser.set_defaults(_run=module.run)
        _debug_anywhere(command_parser)
    return parser


def _debug_anywhere(parser: argparse.ArgumentParser) -> None:
    """Accept --debug after the subcommand too (`sweeper run x.yaml --debug` was an argparse
    error): hidden, and without a default that would hide the top-level one."""
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _debug_anywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code (0 ok, 1 failure, 2 bad input)."""
    try:
        parser = build_parser()  # imports every command's module: a Ctrl-C may land here
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return _interrupted("sweeper")
    if args.command is None:
        parser.print_help()
        return 2
    if args.debug:  # the Ray Tune tracebacks the sweep layer otherwise keeps off the terminal
        logging.getLogger("sweeper").setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _one_line(args.command)
            return int(args._run(args))
    except SweeperError as err:
        if args.debug:
            raise
        print(f"sweeper {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `sweeper ... | head`: the reader left; not an error, and nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as stop:
        # A command may say where it stopped (sweeper train: the step and its checkpoint).
        return _interrupted(f"sweeper {args.command}", *stop.args[:1])
    except Exception as err:
        if args.debug:
            raise
        # Ray wraps errors of its callbacks with their traceback (TuneError): the last line
        # is the error itself.
        lines = [line for line in str(err).splitlines() if line.strip()]
        print(
            f"sweeper {args.command}: internal error: {type(err).__name__}: "
            f"{lines[-1].strip() if lines else ''} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


def _interrupted(who: str, where: object = None) -> int:
    print(f"{who}: interrupted" + ("" if where is None else f" {where}"), file=sys.stderr)
    return INTERRUPTED


def _one_line(command: str):
    """Warnings as the CLI's other notes are: one line, no source line (--debug keeps them)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"sweeper {command}: warning: {message}", file=sys.stderr)

    return show


def entry_point() -> None:
    # A terminal or file in a legacy code page (Windows' cp1252 or gbk for `> report.txt`)
    # cannot hold every character a report quotes (a log line's U+FFFD, a path): write a "?"
    # for one, as a console does, not an "internal error" (a probe, 2026-12-07).
    stdout = sys.stdout
    if getattr(stdout, "errors", None) == "strict" and hasattr(stdout, "reconfigure"):
        stdout.reconfigure(errors="replace")
    code = main()
    if code == INTERRUPTED:
        # The process ends: a second Ctrl-C would break Ray's own shutdown at exit (an
        # atexit traceback, and Ray's agents left running; a probe). (Not in main(): tests
        # and other callers keep their Ctrl-C.)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
