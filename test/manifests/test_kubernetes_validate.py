"""Validates the rendered shoot manifests against the Kubernetes OpenAPI schemas.

Runs the built binary's `render` (env CALICO_BIN, default .build/debug/gardener-extension-networking-calico)
for every golden case plus extra scenarios, and checks every non-CRD object with kubernetes-validate
in strict mode for the shoot's Kubernetes version. Kinds without a schema in kubernetes-validate
(Calico's IPPool and the VPA CRD kind VerticalPodAutoscaler) are the only ones skipped.
"""
import copy
import os
import pathlib
import subprocess

import pytest
import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
GOLDEN = SHARED / "golden"
BIN = os.environ.get("CALICO_BIN", str(ROOT / ".build/debug/gardener-extension-networking-calico"))

# Kinds that kubernetes-validate has no schema for (custom resources).
NO_SCHEMA_KINDS = {"IPPool", "VerticalPodAutoscaler"}


def golden_cases():
    if not GOLDEN.is_dir():
        raise RuntimeError(f"shared golden directory missing at {GOLDEN} (set SHARED_DIR)")
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.yaml").exists())


def render(network_path, cluster_path, gates=""):
    args = [BIN, "render", "--network", str(network_path), "--cluster", str(cluster_path)]
    if gates:
        args += ["--feature-gates", gates]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"render failed: {proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def k8s_version(cluster_path):
    cluster = yaml.safe_load(pathlib.Path(cluster_path).read_text())
    return cluster["spec"]["shoot"]["spec"]["kubernetes"]["version"]


def validate_all(objects, version):
    checked, skipped = 0, set()
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition":
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
            checked += 1
        except SchemaNotFoundError:
            assert obj["kind"] in NO_SCHEMA_KINDS, f"no schema for {obj['apiVersion']} {obj['kind']}"
            skipped.add(obj["kind"])
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {path}: {e.message}")
    assert checked > 15
    return skipped


@pytest.mark.parametrize("case", golden_cases())
def test_golden_case_validates(case):
    d = GOLDEN / case
    objects = render(d / "network.yaml", d / "cluster.yaml")
    validate_all(objects, k8s_version(d / "cluster.yaml"))


EXTRA = {
    # name: (provider config, feature gates)
    "non-privileged-bird-exporter": ({"birdExporter": {"enabled": True}}, "NonPrivilegedCalicoNode=true"),
    "bird-exporter-wireguard": ({"birdExporter": {"enabled": True}, "wireguardEncryption": True, "vethMTU": "1400"}, ""),
    "overlay-off-non-privileged": ({"overlay": {"enabled": False}}, "NonPrivilegedCalicoNode=true"),
    "no-typha-static": ({"typha": {"enabled": False}, "autoScaling": {"mode": "static"}}, ""),
    "multus-no-plugins-slp": ({"multus": {"enabled": True}, "serviceLoopPrevention": "Drop"}, ""),
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra_scenarios_validate(name, tmp_path):
    config, gates = EXTRA[name]
    base = GOLDEN / "ipv4-default"
    network = yaml.safe_load((base / "network.yaml").read_text())
    network["spec"]["providerConfig"] = dict(
        {"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig"}, **copy.deepcopy(config))
    path = tmp_path / "network.yaml"
    path.write_text(yaml.safe_dump(network))
    objects = render(path, base / "cluster.yaml", gates)
    validate_all(objects, k8s_version(base / "cluster.yaml"))
