"""``sweeper summarize DIR``: rank a sweep's finished trials; table, CSV, JSON and HTML."""

from __future__ import annotations

import argparse

HELP = "rank a sweep's finished trials; write summary.csv/json and an HTML report"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument(
        "--out",
        help="folder for summary.csv, summary.json and report.html (default: DIR/summary)",
    )
    parser.add_argument(
        "--mode",
        choices=("composite", "lexicographic", "pareto"),
        help="rank this way instead of the sweep file's summary.mode",
    )
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="synthesise each ranked trial's val clips with its best checkpoint and add the "
        "sweeper.evaluate metrics as eval/* (Ray tasks; cached in DIR/summary/eval)",
    )
    parser.add_argument(
        "--metrics",
        help="with --evaluate: comma-separated sweeper.evaluate metrics (default: all)",
    )
    parser.add_argument(
        "--refresh", action="store_true", help="with --evaluate: measure again, ignore the cache"
    )
    parser.add_argument(
        "--address", help="with --evaluate: a Ray cluster to run on (default: a local Ray)"
    )
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML report")


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from sweeper.errors import InputError
    from sweeper.summarize import summarize
    from sweeper.summarize.output import table, to_csv, to_json

    alone = [f for f, on in (("--metrics", args.metrics), ("--refresh", args.refresh)) if on]
    if alone and not args.evaluate:
        raise InputError(
            f"{alone[0]} applies to --evaluate, which was not given; fix: add --evaluate"
        )
    metrics = None
    if args.metrics:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    summary = summarize(
        args.dir,
        mode=args.mode,
        evaluate=args.evaluate,
        metrics=metrics,
        address=args.address,
        refresh=args.refresh,
    )
    for note in summary.notes:
        print(note, file=sys.stderr)
    from sweeper.tune._resume import unfinished_warning

    unfinished = unfinished_warning(args.dir)  # its ranking may still change
    if unfinished is not None:
        print(f"warning: {unfinished}", file=sys.stderr)
    out = Path(args.out) if args.out else summary.data.folder / "summary"
    text = to_json(summary)
    files = {"summary.json": text + "\n", "summary.csv": to_csv(summary)}
    if not args.no_html:
        # Rendered before anything is written: a Ctrl-C while it renders leaves the earlier
        # three files as they were, not new tables beside an old report.
        from sweeper.summarize.report_html import render

        try:
            files["report.html"] = render(summary)
        except Exception:
            # A report that fails to render must not take the tables with it.
            _write(out, files, given=bool(args.out))
            earlier = (out / "report.html").exists()
            old = " (the report.html there is an earlier one)" if earlier else ""
            print(f"sweeper summarize: wrote {out / 'summary.csv'} and {out / 'summary.json'}"
                  f"; report.html was not written{old}:", file=sys.stderr)  # fmt: skip
            raise
    _write(out, files, given=bool(args.out))
    written = [out / name for name in ("report.html", "summary.csv", "summary.json")]
    written = [p for p in written if p.name in files]
    if args.json:
        print(text)
    else:
        print(table(summary))
        print("wrote: " + ", ".join(str(p) for p in written))
    return 0


def _write(out, files: dict[str, str], given: bool) -> None:
    """Write the outputs; a folder that cannot take them (a read-only sweep folder) is a
    one-line error naming it, not a traceback."""
    import os

    from sweeper.errors import InputError

    tmp = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            # Whole or not at all: a full disk or a kill mid-write keeps the earlier file.
            tmp = out / f".{name}.tmp"
            tmp.write_text(content, encoding="utf-8")
            os.replace(tmp, out / name)
    except OSError as err:
        if tmp is not None:  # a part written before a full disk: not left beside the files
            tmp.unlink(missing_ok=True)
        fix = "choose a writable folder" if given else "write it elsewhere with --out DIR"
        raise InputError(
            f"cannot write the summary to {str(out)!r} ({err.strerror or err}); fix: {fix}"
        ) from None
