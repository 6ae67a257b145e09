"""cluster/ configs parse and use only keys their tools accept.

* Ray cluster launcher (aws.yaml, gcp.yaml): the JSON schema shipped inside the installed
  ray package (``ray/autoscaler/ray-schema.json``), then Ray's own ``prepare_config`` +
  ``validate_config`` (what ``ray up`` runs). ``node_config`` is provider-specific and free
  in that schema, so its keys are checked against the EC2 RunInstances / GCE instances.insert
  fields these files use.
* KubeRay (kuberay.yaml): the CRD schema is not shipped anywhere installable, so the keys
  are checked against KUBERAY_KEYS, a hand-written subset of the ray.io/v1 RayCluster and
  RayJob CRDs (and the core Kubernetes objects inside them), copied from their API reference.
* SLURM (slurm.sbatch): ``bash -n``, and every ``#SBATCH`` option is a real sbatch long option.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from sweeper.tune._deadline import parse_duration

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
LAUNCHER = ["aws.yaml", "gcp.yaml"]
SWEEP = re.compile(r"sweeper run search_spaces/sovits-4\.1\.yaml\s+--address auto\s+--storage ")

# EC2 RunInstances / GCE instances.insert request fields (a subset; the ones worth using).
NODE_CONFIG_KEYS = {
    "aws": {
        "InstanceType", "ImageId", "BlockDeviceMappings", "InstanceMarketOptions", "SubnetIds",
        "SecurityGroupIds", "IamInstanceProfile", "KeyName", "TagSpecifications", "Placement",
    },
    "gcp": {
        "machineType", "disks", "guestAccelerators", "scheduling", "metadata",
        "serviceAccounts", "networkInterfaces", "labels", "tags",
    },
}  # fmt: skip


def _ray_schema() -> dict:
    spec = importlib.util.find_spec("ray")
    assert spec is not None and spec.submodule_search_locations, "ray is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "autoscaler" / "ray-schema.json"
    return json.loads(path.read_text())


def _load(name: str):
    return yaml.safe_load((CLUSTER / name).read_text())


@pytest.mark.parametrize("name", LAUNCHER)
def test_launcher_config_matches_rays_schema(name):
    config = _load(name)
    jsonschema.validate(config, _ray_schema())
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(config))  # provider defaults merged, as `ray up` does
    provider = config["provider"]["type"]
    for node_type in config["available_node_types"].values():
        assert set(node_type["node_config"]) <= NODE_CONFIG_KEYS[provider], node_type


@pytest.mark.parametrize("name", LAUNCHER)
def test_launcher_config_has_gpu_workers_bounds_setup_and_token(name):
    config = _load(name)
    types = config["available_node_types"]
    assert types[config["head_node_type"]]["resources"] == {"CPU": 0}
    workers = [t for n, t in types.items() if n != config["head_node_type"]]
    assert workers and all(t["resources"]["GPU"] >= 1 for t in workers)
    for t in workers:
        assert 0 <= t["min_workers"] <= t["max_workers"] <= config["max_workers"]
    setup = " ".join(config["setup_commands"])
    assert 'pip install -e "$HOME/sovits-sweeper[cluster]"' in setup and "CHANGE" in setup
    assert config["file_mounts"] == {"~/.ray/auth_token": "~/.ray/auth_token"}
    starts = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token ray start" in c for c in starts if "ray start" in c)
    assert SWEEP.search((CLUSTER / name).read_text())


def test_schema_check_catches_a_misspelt_key():
    config = _load("aws.yaml")
    config["available_node_types"]["gpu_1x"]["max_worker"] = 4
    with pytest.raises(jsonschema.ValidationError, match="max_worker"):
        jsonschema.validate(config, _ray_schema())


# ray.io/v1 fields used in kuberay.yaml: a dict is the allowed keys of an object, a list
# wraps the allowed keys of its items, None accepts any value (labels, resource maps).
_ENV = [{"name": None, "value": None, "valueFrom": {"secretKeyRef": {"name": None, "key": None}}}]
_POD = {
    "spec": {
        "restartPolicy": None,
        "containers": [
            {
                "name": None, "image": None, "command": None, "args": None, "env": _ENV,
                "resources": {"requests": None, "limits": None},
                "volumeMounts": [{"name": None, "mountPath": None, "readOnly": None}],
            }
        ],
        "volumes": [{"name": None, "persistentVolumeClaim": {"claimName": None}}],
        "tolerations": [{"key": None, "operator": None, "effect": None, "value": None}],
        "nodeSelector": None,
    },
    "metadata": {"labels": None, "annotations": None},
}  # fmt: skip
_GROUP = {"rayStartParams": None, "template": _POD}
_RAY_CLUSTER_SPEC = {
    "rayVersion": None,
    "enableInTreeAutoscaling": None,
    "autoscalerOptions": {
        "upscalingMode": None, "idleTimeoutSeconds": None, "resources": None, "env": None,
    },
    "headGroupSpec": {**_GROUP, "serviceType": None},
    "workerGroupSpecs": [
        {**_GROUP, "groupName": None, "replicas": None, "minReplicas": None, "maxReplicas": None}
    ],
}
_META = {"name": None, "namespace": None, "labels": None}
KUBERAY_KEYS = {
    "RayCluster": {"apiVersion": None, "kind": None, "metadata": _META, "spec": _RAY_CLUSTER_SPEC},
    "RayJob": {
        "apiVersion": None, "kind": None, "metadata": _META,
        "spec": {
            "entrypoint": None, "clusterSelector": None, "rayClusterSpec": _RAY_CLUSTER_SPEC,
            "shutdownAfterJobFinishes": None, "ttlSecondsAfterFinished": None,
            "runtimeEnvYAML": None, "submissionMode": None, "activeDeadlineSeconds": None,
            "submitterPodTemplate": _POD,
        },
    },
    "PersistentVolumeClaim": {
        "apiVersion": None, "kind": None, "metadata": _META,
        "spec": {"accessModes": None, "storageClassName": None, "resources": {"requests": None}},
    },
}  # fmt: skip


def unknown_keys(value, allowed, path="") -> list[str]:
    """Paths in ``value`` that ``allowed`` (the nested whitelist) does not name."""
    if allowed is None:
        return []
    if isinstance(allowed, list):
        if not isinstance(value, list):
            return [f"{path} (expected a list)"]
        items = enumerate(value)
        return [p for i, item in items for p in unknown_keys(item, allowed[0], f"{path}[{i}]")]
    if not isinstance(value, dict):
        return [f"{path} (expected a mapping)"]
    out = []
    for key, item in value.items():
        if key not in allowed:
            out.append(f"{path}.{key}")
        else:
            out += unknown_keys(item, allowed[key], f"{path}.{key}")
    return out


def test_kuberay_manifests_use_only_crd_fields():
    docs = list(yaml.safe_load_all((CLUSTER / "kuberay.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "RayCluster", "RayJob"]
    for doc in docs:
        assert unknown_keys(doc, KUBERAY_KEYS[doc["kind"]], doc["kind"]) == []
    cluster, job = docs[1]["spec"], docs[2]["spec"]
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    for group in cluster["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["maxReplicas"]
        (container,) = group["template"]["spec"]["containers"]
        assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
        env = {e["name"]: e for e in container["env"]}
        assert env["RAY_AUTH_MODE"]["value"] == "token" and "RAY_AUTH_TOKEN" in env
    # The autoscaler sidecar presents the token too: without it no GPU pod was ever added.
    env = {e["name"]: e for e in cluster["autoscalerOptions"]["env"]}
    assert env["RAY_AUTH_MODE"]["value"] == "token" and "RAY_AUTH_TOKEN" in env
    assert job["clusterSelector"] == {"ray.io/cluster": docs[1]["metadata"]["name"]}
    assert SWEEP.search(job["entrypoint"].replace("/opt/sovits-sweeper/", ""))


def test_kuberay_whitelist_catches_a_misspelt_key():
    doc = list(yaml.safe_load_all((CLUSTER / "kuberay.yaml").read_text()))[1]
    doc["spec"]["workerGroupSpecs"][0]["maxReplica"] = 3
    assert unknown_keys(doc, KUBERAY_KEYS["RayCluster"], "RayCluster") == [
        "RayCluster.spec.workerGroupSpecs[0].maxReplica"
    ]


# sbatch long options (Slurm 23.x `man sbatch`), without the leading "--".
_SBATCH_LONG_OPTIONS = """
    account acctg-freq array batch bb bbf begin chdir cluster-constraint clusters comment
    constraint container container-id contiguous core-spec cores-per-socket cpu-freq
    cpus-per-gpu cpus-per-task deadline delay-boot dependency distribution error exclude
    exclusive export export-file extra extra-node-info get-user-env gid gpu-bind gpu-freq
    gpus gpus-per-node gpus-per-socket gpus-per-task gres gres-flags hint hold ignore-pbs
    input job-name kill-on-invalid-dep licenses mail-type mail-user mcs-label mem
    mem-bind mem-per-cpu mem-per-gpu mincpus network nice no-kill no-requeue nodefile
    nodelist nodes ntasks ntasks-per-core ntasks-per-gpu ntasks-per-node ntasks-per-socket
    open-mode output overcommit oversubscribe parsable partition power prefer priority
    profile propagate qos quiet reboot requeue reservation signal sockets-per-node spread-job
    switches test-only thread-spec threads-per-core time time-min tmp tres-per-task uid
    use-min-nodes verbose wait wait-all-nodes wckey wrap
"""
SBATCH_OPTIONS = frozenset(_SBATCH_LONG_OPTIONS.split())


def sbatch_problems(text: str) -> list[str]:
    problems = []
    for line in text.splitlines():
        if not line.startswith("#SBATCH"):
            continue
        m = re.fullmatch(r"#SBATCH --([a-z-]+)(=\S+)?\s*", line)
        if m is None:
            problems.append(f"not '#SBATCH --option[=value]': {line!r}")
        elif m.group(1) not in SBATCH_OPTIONS:
            problems.append(f"unknown sbatch option --{m.group(1)}")
    return problems


def test_slurm_script_parses_and_uses_real_sbatch_options():
    script = CLUSTER / "slurm.sbatch"
    run = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = script.read_text()
    assert sbatch_problems(text) == []
    assert "--gpus-per-node" in text and "ray start --head" in text
    assert "ray start --address" in text and "export RAY_AUTH_MODE=token" in text
    assert re.search(r"^\s*ray stop", text, re.M) is None  # would kill other jobs' Ray
    assert 'sweeper run "$SPACE" --address "$ADDRESS"' in text
    # The driver stops itself before the allocation ends, so its trials save for the resume.
    assert text.count('--time-limit "$SWEEP_TIME_LIMIT"') == 2
    limit = parse_duration(re.search(r"SWEEP_TIME_LIMIT:-([^}]+)}", text).group(1))
    hours, minutes, seconds = map(int, re.search(r"--time=(\S+)", text).group(1).split(":"))
    assert limit < hours * 3600 + minutes * 60 + seconds - 600


def test_sbatch_check_catches_a_misspelt_option():
    assert sbatch_problems("#SBATCH --gpus-per-nod=2\n#SBATCH --time=1:00:00\n") == [
        "unknown sbatch option --gpus-per-nod"
    ]
