"""``~`` in the sovits section's paths and python is the user's home, as in a shell (until
2026-12-07 it was a folder named ``~`` under the sweep file's folder)."""

from __future__ import annotations

from pathlib import Path

from sweeper.config import SovitsSection


def test_tilde_is_expanded_in_checkout_python_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = str(tmp_path / "home")
    section = SovitsSection(
        checkout="~/so-vits-svc", python="~/venv/bin/python",
        pretrained_g="~/G_0.pth", pretrained_d="~/D_0.pth", val_list="~/val.txt",
    )  # fmt: skip
    assert section.checkout == f"{home}/so-vits-svc"
    assert section.python == f"{home}/venv/bin/python"
    assert section.pretrained_g == f"{home}/G_0.pth" and section.val_list == f"{home}/val.txt"
    resolved = section.resolved(tmp_path / "sweeps")
    assert resolved.checkout == str(Path(home) / "so-vits-svc")
    assert resolved.python == f"{home}/venv/bin/python"
    # Survives the trip to the trial (options) unchanged; a bare name stays for PATH.
    assert SovitsSection(**resolved.to_options()) == resolved
    assert SovitsSection(checkout="x", python="python3").python == "python3"
