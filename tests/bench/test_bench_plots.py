"""``--plot``: each method drawn where its scores put it, on a PNG that decodes."""

from __future__ import annotations

import json

import matplotlib.image
import pytest

from sweeper.bench.plots import (
    DETECTOR_PANELS,
    PRUNER_PANELS,
    detector_points,
    pruner_points,
)
from sweeper.cli import main


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "small.npz"
    assert main(["bench", "curves", str(path), "--n", "24", "--seed", "5", "--points", "80"]) == 0
    return path


def _png_shape(path) -> tuple[int, ...]:
    return matplotlib.image.imread(str(path)).shape


def test_detector_plot_places_each_method_at_its_scores(small, tmp_path, capsys):
    out = tmp_path / "det.png"
    argv = ["bench", "detector", str(small), "--json", "--methods", "sweeper,keras,mk"]
    assert main([*argv, "--plot", str(out)]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # stdout stays pure JSON; the file is named on stderr
    assert f"wrote {out}" in captured.err
    height, width, _ = _png_shape(out)
    assert width > 2 * height > 600  # two panels side by side

    from sweeper.bench import curves, detector

    _, results = detector.run(curves.load(small), [detector.METHODS[n] for n in doc["methods"]])
    for panel in DETECTOR_PANELS:
        points = {p.name: (p.x, p.y) for p in detector_points(results, panel)}
        for name, row in doc["methods"].items():
            assert points[name] == (row[panel.x], row[panel.y])


def test_pruner_plot_uses_medians_with_their_ranges(small, tmp_path, capsys):
    out = tmp_path / "pr.png"
    argv = ["bench", "pruner", str(small), "--methods", "none,median", "--orders", "2"]
    assert main([*argv, "--plot", str(out)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"wrote {out}")
    assert _png_shape(out)[1] > 600

    from sweeper.bench import curves, pruner

    methods = [pruner.METHODS["none"], pruner.METHODS["median"]]
    _, results = pruner.run(curves.load(small), methods, n_orders=2, concurrency=4, seed=0)
    for panel in PRUNER_PANELS:
        points = {p.name: p for p in pruner_points(results, panel)}
        for r in results:
            median, low, high = r.summary(panel.y)
            p = points[r.method.name]
            assert (p.y, *p.y_range) == (median, low, high)
            assert p.x == r.summary(panel.x)[0]
    assert points["none"].x == 1.0  # no pruning: every point reported


def test_an_unwritable_plot_path_is_one_line(small, tmp_path, capsys):
    out = tmp_path / "missing-folder" / "det.png"
    argv = ["bench", "detector", str(small), "--methods", "keras", "--plot", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()  # before the replay: no progress line either
    assert "\n" not in err and "cannot write the plot to" in err and "fix:" in err
