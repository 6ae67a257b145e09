"""``sweeper dashboard DIR``: optuna-dashboard over the sweep's study, on this machine only."""

from __future__ import annotations

import argparse

HELP = "serve optuna-dashboard over a sweep's study (127.0.0.1 by default)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: the study is not shown to the network)",
    )
    parser.add_argument("--browser", action="store_true", help="also open it in a web browser")


def run(args: argparse.Namespace) -> int:
    from sweeper.errors import InputError
    from sweeper.summarize.collect import dashboard_storage

    try:
        from optuna_dashboard import run_server
    except ImportError:
        raise InputError(
            "optuna-dashboard is not installed (got no module optuna_dashboard); fix: "
            "pip install 'sovits-sweeper[dashboard]'"
        ) from None
    storage, name = dashboard_storage(args.dir)
    url = f"http://{args.host}:{args.port}/dashboard/"
    print(f"optuna-dashboard for study {name!r}: {url} (Ctrl-C to stop)", flush=True)
    if args.browser:
        import webbrowser

        webbrowser.open(url)
    run_server(storage, host=args.host, port=args.port)
    return 0
