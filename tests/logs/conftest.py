"""Shared helpers: the real so-vits-svc logs, and event files written by TensorBoard itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

REAL_LOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sovits-logs"
SKWTHS = "SKwths+so-vits-svc-dodo.train.log"
CATGPT = "AustingDong+CatGPT.train.log"


@pytest.fixture
def real_log():
    """real_log(name) -> path of a real train.log; skips when the shared data is absent."""
    return _real_log


@pytest.fixture
def events():
    """events(folder, points, kind=..., name=...) -> path of an event file TensorBoard wrote."""
    return write_events


def _real_log(name: str) -> Path:
    path = (REAL_LOGS / name).resolve()
    if not path.is_file():
        pytest.skip(f"real so-vits-svc log {name} not found under {REAL_LOGS} (outside the repo)")
    return path


def write_events(
    folder: Path,
    points: Sequence[tuple[int, Mapping[str, float]]],
    *,
    kind: str = "simple",
    name: str | None = None,
) -> Path:
    """Write one event file with the real TensorBoard writer; return its path.

    kind: "simple" (simple_value, what torch writes), "float" or "double" (TF2-style scalar
    tensors with the scalars plugin), "image" (an image value beside each scalar).
    """
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.iterdir())
    writer = EventFileWriter(str(folder))
    for step, metrics in points:
        values = []
        for tag, value in metrics.items():
            if kind in ("float", "double"):
                meta = summary_pb2.SummaryMetadata(
                    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
                )
                tensor = tensor_util.make_tensor_proto(
                    value, dtype="float32" if kind == "float" else "float64"
                )
                values.append(summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta))
            else:
                values.append(summary_pb2.Summary.Value(tag=tag, simple_value=value))
            if kind == "image":
                image = summary_pb2.Summary.Image(
                    height=1, width=1, encoded_image_string=b"x" * 5000
                )
                values.append(summary_pb2.Summary.Value(tag=tag + "/img", image=image))
        summary = summary_pb2.Summary(value=values)
        writer.add_event(event_pb2.Event(wall_time=1.0e9 + step, step=step, summary=summary))
    writer.close()
    (path,) = set(folder.iterdir()) - before
    if name is not None:
        path = path.rename(folder / name)
    return path
