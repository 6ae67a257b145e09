"""``sweeper summarize``: rank a sweep's finished trials, explain them, report them.

    >>> from sweeper.summarize import summarize  # doctest: +SKIP
    >>> s = summarize("sweeps/quick")             # doctest: +SKIP
    >>> s.winner.number, s.winner.checkpoint      # doctest: +SKIP

Pure ranking lives in ``ranking``; reading a sweep folder in ``collect``; ``--evaluate`` in
``evaluation``; outputs in ``output`` (table, CSV, JSON) and ``report_html``; the
so-vits-svc ``config.json`` of the winner in ``export``.
"""

from sweeper.summarize.summary import Summary, build, summarize

__all__ = ["Summary", "build", "summarize"]
