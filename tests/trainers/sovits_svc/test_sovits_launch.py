"""Pure launch spec and config patching; ports that concurrent trials never share."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from sweeper.errors import InputError
from sweeper.trainers.sovits_svc import SOVITS_KEYS, build_launch, check_keys
from sweeper.trainers.sovits_svc.launch import absolute_filelist, align_eval_interval
from sweeper.trainers.sovits_svc.ports import check_port_free, claim_port

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sovits-logs"
BASE = {
    "train": {"log_interval": 200, "eval_interval": 800, "port": "8001", "keep_ckpts": 3,
              "learning_rate": 1e-4, "betas": [0.8, 0.99]},
    "data": {"training_files": "filelists/train.txt", "validation_files": "filelists/val.txt"},
    "model": {"hidden_channels": 192},
    "spk": {"nen": 0},
}  # fmt: skip


def _launch(params=None, **kw):
    args = {
        "base": BASE, "checkout": "/opt/so vits", "run_dir": "/runs/trial 1",
        "gpu_ids": ["2"], "port": 29500, "max_steps": 8000, "environ": {"PATH": "/bin"},
        "python": "/usr/bin/python3", **kw,
    }  # fmt: skip
    return build_launch(params or {}, **args)


def test_argv_is_a_list_with_paths_kept_whole_and_no_shell():
    spec = _launch()
    assert spec.argv == (
        "/usr/bin/python3", "/opt/so vits/train.py", "-c", "/runs/trial 1/config.json",
        "-m", "44k",
    )  # fmt: skip
    assert spec.cwd == "/runs/trial 1"
    assert spec.model_dir == "/runs/trial 1/logs/44k"


def test_gpu_pinning_and_environment():
    spec = _launch(gpu_ids=["1", "3"])
    assert spec.env["CUDA_VISIBLE_DEVICES"] == "1,3"
    assert spec.env["PATH"] == "/bin" and spec.env["PYTHONUNBUFFERED"] == "1"
    with pytest.raises(InputError, match="needs CUDA; use `trainer: reference` on CPU"):
        _launch(gpu_ids=[])


def test_only_sampled_and_managed_keys_change():
    spec = _launch({"train.learning_rate": 3e-4, "train.betas": (0.5, 0.9)})
    cfg = spec.config
    assert cfg["train"]["learning_rate"] == 3e-4
    assert cfg["train"]["betas"] == [0.5, 0.9]  # tuples from the sampler become JSON lists
    assert cfg["train"]["port"] == "29500"  # a string: train.py puts it in os.environ
    assert cfg["train"]["keep_ckpts"] == 0
    assert cfg["data"]["training_files"] == "/runs/trial 1/filelists/train.txt"
    assert cfg["model"] == BASE["model"] and cfg["spk"] == BASE["spk"]
    assert BASE["train"]["learning_rate"] == 1e-4  # the base itself is untouched
    json.dumps(cfg)  # and it is plain JSON


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("train.learning_rat", "did you mean train.learning_rate"),
        ("optim.lr", "not a so-vits-svc config key"),
        ("train.port", "set by the sweeper"),
        ("train.keep_ckpts", "set by the sweeper"),
        ("data.hop_length", "fixed by the preprocessed features"),
        # --vol_aug at preprocessing sets both and writes .vol.npy (passed before 2026-12-07)
        ("model.vol_embedding", "fixed by the preprocessed features .*--vol_aug"),
        ("train.vol_aug", "fixed by the preprocessed features .*--vol_aug"),
    ],
)
def test_bad_sampled_keys_are_named(name, message):
    with pytest.raises(InputError, match=message):
        _launch({name: 1})


def test_a_key_of_the_users_own_config_is_accepted():
    check_keys(["model.my_fork_option"], {"model": {"my_fork_option": 1}})
    with pytest.raises(InputError):
        check_keys(["model.my_fork_option"], {"model": {}})


def test_key_table_covers_the_real_config_files():
    files = sorted(REAL.glob("*.config.json"))
    if not files:
        pytest.skip(f"real so-vits-svc configs not found under {REAL} (outside the repo)")
    for path in files:
        config = json.loads(path.read_text())
        for section in ("train", "data", "model"):
            assert set(config[section]) <= SOVITS_KEYS[section], path.name


def test_eval_interval_lands_on_logged_steps():
    assert _launch().eval_interval == 200  # 8000 / 40 points, a multiple of 200
    assert _launch(eval_points=None).eval_interval == 800
    assert align_eval_interval(700, 200, 8000, None) == 800
    assert align_eval_interval(800, 200, 1000, 40) == 200  # never below one log interval
    with pytest.raises(InputError, match=r"set by sovits\.eval_points"):
        _launch({"train.eval_interval": 400})
    assert _launch({"train.eval_interval": 400}, eval_points=None).eval_interval == 400


def test_an_eval_interval_off_the_log_grid_is_refused_not_rounded():
    """A fixed 12 with log_interval 5 ran as 15, recorded as 12, before 2026-12-07."""
    from sweeper.space import CategoricalParam, FixedParam, IntParam

    fixed = {"train.log_interval": FixedParam(5), "train.eval_interval": FixedParam(12)}
    with pytest.raises(InputError, match=r"train\.eval_interval 12 is not a multiple of "
                                         r"train\.log_interval 5 .*fix: use 10 or 15"):
        check_keys(fixed, BASE)  # the sweep's check, before any trial
    with pytest.raises(InputError, match=r"eval_interval 500 is not a multiple of train\.log_"):
        check_keys({"train.eval_interval": CategoricalParam((400, 500))}, BASE)
    with pytest.raises(InputError, match=r"eval_interval 300 .*as low, with step: 200"):
        check_keys({"train.eval_interval": IntParam(300, 1100, step=200)}, BASE)
    with pytest.raises(InputError, match=r"eval_interval 500 .*as low, with step: 200"):
        check_keys({"train.eval_interval": IntParam(400, 1200, step=100)}, BASE)
    check_keys({"train.eval_interval": IntParam(400, 1200, step=200)}, BASE)
    with pytest.raises(InputError, match=r"eval_interval 12 is not a multiple"):  # a trial
        _launch({"train.log_interval": 5, "train.eval_interval": 12}, eval_points=None)
    assert _launch({"train.log_interval": 5, "train.eval_interval": 15},
                   eval_points=None).config["train"]["eval_interval"] == 15  # fmt: skip


def test_absolute_filelist():
    text = "./dataset/44k/a/1.wav\n\ndataset\\44k\\b\\2.wav\n/abs/3.wav|x\n"
    assert absolute_filelist(text, "/sv") == (
        "/sv/dataset/44k/a/1.wav\n/sv/dataset/44k/b/2.wav\n/abs/3.wav|x\n"
    )


def test_ports_are_unique_across_concurrent_trials(tmp_path):
    got: list[int] = []
    both_held = threading.Barrier(8)

    def trial() -> None:
        with claim_port(lock_dir=tmp_path, low=30000, high=30016) as port:
            got.append(port)
            both_held.wait(timeout=10)  # every claim is held at the same time

    threads = [threading.Thread(target=trial) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 8
    assert not list(tmp_path.iterdir())  # released


def test_a_bound_port_is_skipped_and_reported(tmp_path):
    with socket.socket() as held:
        held.bind(("", 0))
        port = held.getsockname()[1]
        with (
            pytest.raises(InputError, match=rf"no free port found in {port}\.\.{port + 1}"),
            claim_port(lock_dir=tmp_path, low=port, high=port + 1),
        ):
            pytest.fail("claimed a port that is in use")
    with socket.socket() as held:
        held.bind(("", 0))
        port = held.getsockname()[1]
        with pytest.raises(InputError, match=rf"port {port} is in use"):
            check_port_free(port)


def test_a_stale_lock_is_taken_over(tmp_path):
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    (tmp_path / f"{port}.lock").write_text("999999999")  # a pid that cannot exist
    with claim_port(lock_dir=tmp_path, low=port, high=port + 1) as got:
        assert got == port
