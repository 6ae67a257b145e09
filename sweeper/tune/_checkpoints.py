"""Ray checkpoints a resume would restore from that are no longer on disk (deleted by hand,
a disk cleaned up, a partial copy of the folder).

Ray restored such a trial from the missing folder, failed it 3 times ("Could not recover
from checkpoint as it does not exist on storage anymore"), and it ended FAIL, unranked,
though its ``run/`` folder still held its latest G_/D_ pair and its best checkpoint. Before
Ray restores anything, each unfinished trial whose latest checkpoint is gone is pointed at
what is left: its ``run/`` folder (the trainer resumes from the newest pair there, or starts
over when there is none), else its newest checkpoint that is still there.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

RUN = "run"  # the trial's own folder, written in place (see _trainable)


def _checkpoint_path(result) -> Path | None:
    checkpoint = getattr(result, "checkpoint", None)
    return None if checkpoint is None else Path(checkpoint.path)


def _mend_trial(folder: Path, trial_id: str, metadata: str) -> tuple[str, str] | None:
    """The trial's run metadata repointed (JSON) and a note, or None when nothing is lost."""
    from ray.tune.trainable.metadata import _TrainingRunMetadata

    run_metadata = _TrainingRunMetadata.from_json_state(metadata)
    manager = run_metadata.checkpoint_manager
    latest = None if manager is None else manager.latest_checkpoint_result
    path = _checkpoint_path(latest)
    trial_dir = folder / f"trial_{trial_id}"  # the folder may have moved: not path.parent
    if path is None or (trial_dir / path.name).is_dir():
        return None
    results = manager._checkpoint_results
    kept = [r for r in results if (trial_dir / _checkpoint_path(r).name).is_dir()]
    if any((trial_dir / RUN).glob("G_*.pth")):
        kept = []  # run/ is newer than any checkpoint Ray copied from it
        then = f"goes on from its {RUN}/ folder"
    elif kept:
        then = f"goes on from {_checkpoint_path(kept[-1]).name}"
    else:
        then = "starts over (its run/ folder holds no checkpoint either)"
    manager._checkpoint_results = kept
    manager._latest_checkpoint_result = kept[-1] if kept else None
    run_metadata.invalidate_cache()
    note = f"{trial_dir / path.name} is gone (Ray's latest checkpoint of the trial): it {then}"
    return run_metadata.get_json_state(), note


def mend_checkpoints(folder: Path) -> list[str]:
    """Repoint, in Ray's newest run state, every unfinished trial whose latest checkpoint
    folder is missing; the run state as it was is kept beside it (``*.json.orig``: Ray reads
    ``experiment_state-*.json`` only). Returns notes for the user."""
    states = sorted(folder.glob("experiment_state-*.json"))
    if not states:
        return []
    data = json.loads(states[-1].read_text(encoding="utf-8"))
    notes = []
    for entry in data.get("trial_data", []):
        state = json.loads(entry[0])
        if state.get("status") == "TERMINATED":
            continue  # never restored
        mended = _mend_trial(folder, state["trial_id"], entry[1])
        if mended is not None:
            entry[1], note = mended
            notes.append(note)
    if notes:
        shutil.copy2(states[-1], states[-1].with_name(states[-1].name + ".orig"))
        states[-1].write_text(json.dumps(data), encoding="utf-8")
    return notes
