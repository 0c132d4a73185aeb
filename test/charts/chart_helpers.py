"""Shared helpers of the chart tests (imported by the test_chart_*.py modules).

Charts are rendered offline with the PyPI package `helm-python-sdk` (import name `helm_python`,
Helm v4 Go SDK through a C ABI; no helm binary, no cluster). `Chart.render` renders with Helm's
default capabilities (Kubernetes v1.36 for helm-python-sdk 0.2.2). Rendered objects are validated
with PyPI `kubernetes-validate` (its bundled JSON schemas, strict mode: unknown fields fail) for
built-in kinds; custom kinds are validated against the CRDs in example/ or against the small
structural schemas below, and their metadata against the Kubernetes ObjectMeta schema.
"""
from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
EXAMPLE = ROOT / "example"
CONTROLLER_CHART = CHARTS / "gardener-extension-networking-calico"
ADMISSION_CHARTS = CHARTS / "gardener-extension-admission-calico" / "charts"
RUNTIME_CHART = ADMISSION_CHARTS / "runtime"
APPLICATION_CHART = ADMISSION_CHARTS / "application"
ALL_CHARTS = [CONTROLLER_CHART, RUNTIME_CHART, APPLICATION_CHART]

# Kubernetes version whose schemas validate the rendered objects (seeds and runtime clusters run
# recent versions; trafficDistribution needs >= 1.31).
K8S_VERSION = "1.36"
RELEASE = "networking-calico"
NAMESPACE = "extension-networking-calico"


@dataclass
class Rendered:
    """The objects of one chart rendering, in template order."""

    docs: list[dict[str, Any]]
    files: dict[str, str] = field(default_factory=dict)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]

    def get(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [d for d in self.all(kind) if name is None or d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected exactly one {kind} {name or ''}, got {len(found)}: " \
                                f"{[(d['kind'], d['metadata']['name']) for d in self.docs]}"
        return found[0]

    def find(self, kind: str, name: str | None = None) -> dict[str, Any] | None:
        found = [d for d in self.all(kind) if name is None or d["metadata"]["name"] == name]
        return found[0] if found else None

    def kinds(self) -> list[tuple[str, str]]:
        return sorted((d["kind"], d["metadata"]["name"]) for d in self.docs)


def parse_manifests(files: dict[str, str]) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(files):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(files[path]):
            if doc:
                docs.append(doc)
    return docs


_CACHE: dict[tuple[str, str, str, str], dict[str, str]] = {}


def render(chart: Path, values: dict[str, Any] | None = None, *, name: str = RELEASE,
           namespace: str = NAMESPACE) -> Rendered:
    """Renders `chart` offline (like `helm template`); results are cached per input."""
    key = (str(chart), json.dumps(values, sort_keys=True), name, namespace)
    if key not in _CACHE:
        with helm.Chart.load(str(chart)) as loaded:
            _CACHE[key] = loaded.render(copy.deepcopy(values) if values else None, name=name,
                                        namespace=namespace)
    files = _CACHE[key]
    return Rendered(parse_manifests(files), dict(files))


def render_error(chart: Path, values: dict[str, Any] | None, **kwargs: Any) -> str:
    """Renders expecting failure; returns the error text."""
    with pytest.raises(helm.HelmError) as info:
        render(chart, values, **kwargs)
    return str(info.value)


def lint(chart: Path, values: dict[str, Any] | None = None) -> None:
    """`helm lint --strict` must report nothing (no info, no warning, no error)."""
    report = helm.lint(str(chart), copy.deepcopy(values) if values else None, strict=True,
                       namespace=NAMESPACE, kube_version="v1.33.0")
    assert report["errors"] == [], report
    assert report["messages"] == [], report


# ---- validation -------------------------------------------------------------------------------

def _strict(schema: Any) -> Any:
    """CRD openAPIV3Schema → JSON schema that rejects fields the API server would prune."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()
               if not k.startswith("x-kubernetes-")}
        if schema.get("type") == "object" and "properties" in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields") \
                and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        if "format" in out and out["format"] in ("int32", "int64", "date-time"):
            out.pop("format")
        return out
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    return schema


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas = {}
    for path in sorted(EXAMPLE.glob("10-crd-*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd:
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schemas[(api_version, spec["names"]["kind"])] = schema
    return schemas


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [],
            "additionalProperties": False}


_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_TOP = {"apiVersion": _STRING, "kind": _STRING, "metadata": {"type": "object"}}

# Minimal structural schemas of kinds that neither Kubernetes nor our example CRDs describe.
EXTRA_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"): _object({**_TOP, "spec": _object({
        "targetRef": _object({"apiVersion": _STRING, "kind": _STRING, "name": _STRING},
                             ["kind", "name"]),
        "updatePolicy": _object({"updateMode": {"enum": ["Off", "Initial", "Recreate", "Auto",
                                                          "InPlaceOrRecreate"]},
                                 "minReplicas": {"type": "integer"}}),
        "resourcePolicy": _object({"containerPolicies": {"type": "array", "items": _object({
            "containerName": _STRING,
            "mode": {"enum": ["Auto", "Off"]},
            "minAllowed": _STRING_MAP, "maxAllowed": _STRING_MAP,
            "controlledResources": {"type": "array", "items": _STRING},
            "controlledValues": {"enum": ["RequestsAndLimits", "RequestsOnly"]}})}}),
    }, ["targetRef"])}, ["spec"]),
    ("fluentbit.fluent.io/v1alpha2", "ClusterFilter"): _object({**_TOP, "spec": _object({
        "match": _STRING, "matchRegex": _STRING, "logLevel": _STRING,
        "filters": {"type": "array", "items": {"type": "object"}}})}, ["spec"]),
    ("fluentbit.fluent.io/v1alpha2", "ClusterParser"): _object({**_TOP, "spec": _object({
        "regex": _object({"regex": _STRING, "timeKey": _STRING, "timeFormat": _STRING,
                          "timeKeep": {"type": "boolean"}, "types": _STRING}, ["regex"])})},
        ["spec"]),
    ("core.gardener.cloud/v1", "ControllerDeployment"): _object({**_TOP, "helm": _object({
        "rawChart": _STRING, "values": {"type": "object"},
        "ociRepository": {"type": "object"}})}, ["helm"]),
    ("core.gardener.cloud/v1beta1", "ControllerRegistration"): _object({**_TOP, "spec": _object({
        "deployment": _object({"deploymentRefs": {"type": "array", "items": _object(
            {"name": _STRING}, ["name"])}, "policy": _STRING, "seedSelector": {"type": "object"}}),
        "resources": {"type": "array", "items": _object({
            "kind": _STRING, "type": _STRING, "primary": {"type": "boolean"},
            "globallyEnabled": {"type": "boolean"}, "reconcileTimeout": _STRING,
            "lifecycle": {"type": "object"}, "workerlessSupported": {"type": "boolean"},
            "autoEnable": {"type": "array"}, "clusterCompatibility": {"type": "array"}},
            ["kind", "type"])}})}, ["spec"]),
}

CUSTOM_SCHEMAS = {**_crd_schemas(), **EXTRA_SCHEMAS}


def validate(obj: dict[str, Any]) -> None:
    """Fails the test when `obj` is not a valid Kubernetes object of its kind."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    where = f"{key[1]} {obj.get('metadata', {}).get('name')}"
    if key in CUSTOM_SCHEMAS:
        try:
            jsonschema.validate(obj, CUSTOM_SCHEMAS[key])
        except jsonschema.ValidationError as err:
            pytest.fail(f"{where}: {'.'.join(map(str, err.absolute_path))}: {err.message}")
        # metadata is ObjectMeta for every kind: validate it through a kind that has nothing else
        meta_probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]}
        obj_to_check = meta_probe
    else:
        obj_to_check = obj
    try:
        kubernetes_validate.validate(obj_to_check, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        pytest.fail(f"{where}: {'.'.join(map(str, err.path))}: {err.message}")
    except kubernetes_validate.SchemaNotFoundError as err:
        pytest.fail(f"{where}: no schema known for this kind: {err.message}")


def validate_all(rendered: Rendered) -> None:
    assert rendered.docs, "chart rendered no objects"
    for obj in rendered.docs:
        validate(obj)


# ---- small accessors --------------------------------------------------------------------------

def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_map(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env") or []}


def volumes(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes") or []}


def mounts(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in c.get("volumeMounts") or []}


def secret_data(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
