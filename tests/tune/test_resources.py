"""Which per-trial requests the nodes of a cluster can hold (``check_resources``' core)."""

from __future__ import annotations

import pytest

from sweeper.tune._ray import resource_problem

HEAD_0_CPU = {"CPU": 0.0, "memory": 1e9}  # the shipped AWS/GCP/KubeRay heads take no trial
CPU_NODE = {"CPU": 8.0}
GPU_NODE = {"CPU": 1.0, "GPU": 1.0, "accel": 2.0}


@pytest.mark.parametrize(
    ("nodes", "cpu", "gpu", "key", "says"),
    [
        ([CPU_NODE], 4, 0, None, None),
        ([CPU_NODE, GPU_NODE], 1, 1, None, None),
        ([CPU_NODE, GPU_NODE], 1, 0.5, None, None),
        ([CPU_NODE], 16, 0, ("resources", "cpu"), "fix: set resources.cpu <= 8"),
        # A 0-CPU head alone: "set resources.cpu <= 0" was a fix the schema refuses.
        ([HEAD_0_CPU], 1, 0, ("resources", "cpu"), "has 0 CPUs; fix: add nodes with CPUs"),
        ([], 1, 0, ("resources", "cpu"), "fix: add nodes with CPUs"),
        ([CPU_NODE], 1, 1, ("resources", "gpu"), "no node has a GPU"),
        # The most CPUs on one node, the GPU on another: it passed, and the trials waited
        # forever with nothing printed (a probe, 2026-12-08).
        ([CPU_NODE, GPU_NODE], 2, 1, ("resources",), "no node of this Ray cluster has both"),
    ],
)
def test_a_request_one_node_cannot_hold_is_named_with_its_key_and_fix(nodes, cpu, gpu, key, says):
    problem = resource_problem(nodes, cpu, gpu, "reference")
    if key is None:
        assert problem is None
        return
    assert problem is not None and problem[0] == key
    asked, found, fix = problem[1:]
    assert says in f"{asked}, but {found}; fix: {fix}", problem  # as check_resources says it


def test_a_gpu_request_for_so_vits_svc_is_not_told_to_drop_the_gpu():
    problem = resource_problem([CPU_NODE], 1, 1, "sovits-svc")
    assert problem is not None and "train.py needs CUDA" in problem[3]
    assert "resources.gpu: 0" not in problem[3]
