"""Controller chart `gardener-extension-networking-calico`: deployment.md §1 field by field."""
import shutil

import helm_python as helm
import pytest
import yaml

from chart_helpers import (CONTROLLER_CHART, NAMESPACE, RELEASE, container, env_map, lint, mounts,
                      render, render_error, validate_all, volumes)

NAME = "gardener-extension-networking-calico"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": RELEASE}
CONFIG_DIR = f"/etc/{NAME}/config"

IMAGE_VECTOR = """images:
- name: calico-node
  repository: registry.example.com/calico/node
  tag: v3.31.6-patched
"""

# Every combination of the spec's switches that changes the rendered objects.
VALUE_SETS = {
    "defaults": None,
    "imagevector-overwrite": {"imageVectorOverwrite": IMAGE_VECTOR},
    "image-ref": {"image": {"ref": "registry.example.com/calico-ext@sha256:" + "a" * 64}},
    "image-digest-tag": {"image": {"tag": "sha256:" + "b" * 64}},
    "resources": {"resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"memory": "512Mi"}}},
    "vpa-off": {"vpa": {"enabled": False}},
    "vpa-bounds": {"vpa": {"resourcePolicy": {"minAllowed": {"memory": "64Mi"},
                                              "maxAllowed": {"cpu": "1", "memory": "1Gi"}}}},
    "vpa-no-policy": {"vpa": {"resourcePolicy": None}},
    "no-scraping": {"metrics": {"enableScraping": False}},
    "ignore-resources": {"ignoreResources": True},
    "controllers": {"controllers": {"concurrentSyncs": 12, "heartbeat": {"renewIntervalSeconds": 60},
                                    "ignoreOperationAnnotation": True}},
    "feature-gates": {"config": {"featureGates": {"NonPrivilegedCalicoNode": True,
                                                  "SeamlessOverlaySwitch": True}}},
    "no-client-connection": {"config": {"clientConnection": None}},
    "gardener-version": {"gardener": {"version": "v1.148.4"}},
    "topology-aware-routing": {"gardener": {"seed": {"spec": {"settings": {
        "topologyAwareRouting": {"enabled": True}}}}}},
    "topology-aware-routing-off": {"gardener": {"seed": {"spec": {"settings": {
        "topologyAwareRouting": {"enabled": False}}}}}},
    "seed-without-settings": {"gardener": {"seed": {"spec": {}}}},
    "other-ports": {"usablePorts": [9090, 10250, 9091]},
    "ha": {"replicaCount": 3, "maxUnavailable": 0, "maxSurge": 1},
}


@pytest.mark.parametrize("case", sorted(VALUE_SETS))
def test_renders_valid_objects_and_lints_clean(case):
    values = VALUE_SETS[case]
    validate_all(render(CONTROLLER_CHART, values))
    lint(CONTROLLER_CHART, values)


def test_default_objects():
    r = render(CONTROLLER_CHART)
    assert r.kinds() == sorted([
        ("ClusterFilter", "calico-node"), ("ClusterParser", "calico-node-parser"),
        ("ConfigMap", f"{NAME}-configmap"), ("Deployment", NAME), ("PodDisruptionBudget", NAME),
        ("ClusterRole", NAME), ("ClusterRoleBinding", NAME), ("Role", NAME), ("RoleBinding", NAME),
        ("Service", NAME), ("ServiceAccount", NAME), ("VerticalPodAutoscaler", f"{NAME}-vpa")])
    for obj in r.docs:
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding", "ClusterFilter", "ClusterParser"):
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["kind"]


def test_chart_metadata():
    chart = yaml.safe_load((CONTROLLER_CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v1"
    assert chart["name"] == NAME
    assert chart["version"] == "0.1.0"
    assert chart["appVersion"] == "1.0"
    assert chart["description"] == "A Helm chart for the Gardener Calico Network Extension"


def test_default_deployment():
    dep = render(CONTROLLER_CHART).get("Deployment", NAME)
    assert dep["metadata"]["labels"] == {**LABELS,
                                         "high-availability-config.resources.gardener.cloud/type": "controller"}
    assert "annotations" not in dep["metadata"]
    spec = dep["spec"]
    assert spec["revisionHistoryLimit"] == 2
    assert spec["replicas"] == 1
    assert spec["selector"] == {"matchLabels": LABELS}
    assert spec["strategy"] == {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": "50%"}}
    tmpl = spec["template"]
    assert tmpl["metadata"]["labels"] == {
        "networking.gardener.cloud/to-runtime-apiserver": "allowed",
        "networking.gardener.cloud/to-dns": "allowed",
        "networking.resources.gardener.cloud/to-all-shoots-kube-apiserver-tcp-443": "allowed",
        **LABELS}
    ann = tmpl["metadata"]["annotations"]
    assert set(ann) == {"checksum/configmap-gardener-extension-networking-calico-config",
                        "prometheus.io/name", "prometheus.io/scrape", "prometheus.io/port"}
    assert len(ann["checksum/configmap-gardener-extension-networking-calico-config"]) == 64
    assert ann["prometheus.io/name"] == RELEASE
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/port"] == "8080"
    pod = tmpl["spec"]
    assert pod["priorityClassName"] == "gardener-system-900"
    assert pod["serviceAccountName"] == NAME
    assert pod["securityContext"]["runAsNonRoot"] is True

    c = container(dep)
    assert c["name"] == NAME
    assert c["image"] == "europe-docker.pkg.dev/gardener-project/public/gardener/extensions/networking-calico:latest"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["args"] == [
        "--max-concurrent-reconciles=5",
        f"--heartbeat-namespace={NAMESPACE}",
        "--heartbeat-renew-interval-seconds=30",
        "--ignore-operation-annotation=false",
        f"--config-file={CONFIG_DIR}/config.yaml",
        "--metrics-bind-address=:8080",
        "--health-bind-address=:8081",
        "--gardener-version=",
    ]
    assert "command" not in c, "the image's entrypoint is the binary; its default command is the manager"
    assert env_map(c) == {"LEADER_ELECTION_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
    assert c["livenessProbe"] == {"httpGet": {"path": "/healthz", "port": 8081, "scheme": "HTTP"},
                                  "initialDelaySeconds": 10}
    assert c["readinessProbe"] == {"httpGet": {"path": "/readyz", "port": 8081, "scheme": "HTTP"},
                                   "initialDelaySeconds": 5}
    assert "resources" not in c
    assert "ports" not in c
    assert mounts(c) == {"config": {"name": "config", "mountPath": CONFIG_DIR}}
    assert volumes(dep) == {"config": {"name": "config", "configMap": {
        "name": f"{NAME}-configmap", "defaultMode": 420}}}


@pytest.mark.parametrize("case", sorted(VALUE_SETS))
def test_container_is_locked_down(case):
    dep = render(CONTROLLER_CHART, VALUE_SETS[case]).get("Deployment", NAME)
    pod_sc = dep["spec"]["template"]["spec"]["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
    sc = container(dep)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in sc or sc["privileged"] is False
    assert not dep["spec"]["template"]["spec"].get("hostNetwork")


def test_args_follow_values():
    values = {**VALUE_SETS["controllers"], "gardener": {"version": "v1.148.4"},
              "usablePorts": [9090, 10250, 9091]}
    c = container(render(CONTROLLER_CHART, values, namespace="garden-ext").get("Deployment"))
    assert c["args"] == [
        "--max-concurrent-reconciles=12",
        "--heartbeat-namespace=garden-ext",
        "--heartbeat-renew-interval-seconds=60",
        "--ignore-operation-annotation=true",
        f"--config-file={CONFIG_DIR}/config.yaml",
        "--metrics-bind-address=:9090",
        "--health-bind-address=:9091",
        "--gardener-version=v1.148.4",
    ]
    assert c["livenessProbe"]["httpGet"]["port"] == 9091
    assert c["readinessProbe"]["httpGet"]["port"] == 9091


def test_explicit_ports_override_usable_ports():
    r = render(CONTROLLER_CHART, {"metricsPort": 18080, "healthPort": 18081})
    c = container(r.get("Deployment"))
    assert "--metrics-bind-address=:18080" in c["args"]
    assert "--health-bind-address=:18081" in c["args"]
    svc = r.get("Service")
    assert svc["spec"]["ports"] == [{"port": 18080, "protocol": "TCP", "targetPort": 18080}]


def test_image_reference_forms():
    def image(values):
        return container(render(CONTROLLER_CHART, values).get("Deployment"))["image"]

    repo = "europe-docker.pkg.dev/gardener-project/public/gardener/extensions/networking-calico"
    assert image({"image": {"tag": "v1.2.3"}}) == f"{repo}:v1.2.3"
    assert image(VALUE_SETS["image-digest-tag"]) == f"{repo}@sha256:" + "b" * 64
    ref = VALUE_SETS["image-ref"]["image"]["ref"]
    assert image({"image": {"ref": ref, "tag": "ignored"}}) == ref
    assert container(render(CONTROLLER_CHART, {"image": {"pullPolicy": "Always"}}).get(
        "Deployment"))["imagePullPolicy"] == "Always"


def test_image_vector_overwrite():
    r = render(CONTROLLER_CHART, VALUE_SETS["imagevector-overwrite"])
    cm = r.get("ConfigMap", f"{NAME}-imagevector-overwrite")
    assert cm["metadata"]["labels"] == LABELS
    assert cm["data"] == {"images_overwrite.yaml": IMAGE_VECTOR}
    dep = r.get("Deployment")
    c = container(dep)
    assert env_map(c)["IMAGEVECTOR_OVERWRITE"] == "/charts_overwrite/images_overwrite.yaml"
    assert mounts(c)["imagevector-overwrite"] == {"name": "imagevector-overwrite",
                                                  "mountPath": "/charts_overwrite/", "readOnly": True}
    assert volumes(dep)["imagevector-overwrite"] == {"name": "imagevector-overwrite", "configMap": {
        "name": f"{NAME}-imagevector-overwrite", "defaultMode": 420}}
    ann = dep["spec"]["template"]["metadata"]["annotations"]
    assert len(ann["checksum/configmap-network-imagevector-overwrite"]) == 64
    # without the overwrite nothing of it is rendered
    plain = render(CONTROLLER_CHART)
    assert plain.find("ConfigMap", f"{NAME}-imagevector-overwrite") is None
    assert "checksum/configmap-network-imagevector-overwrite" not in \
        plain.get("Deployment")["spec"]["template"]["metadata"]["annotations"]


def test_checksums_change_with_content():
    def checksums(values):
        ann = render(CONTROLLER_CHART, values).get("Deployment")["spec"]["template"]["metadata"]["annotations"]
        return {k: v for k, v in ann.items() if k.startswith("checksum/")}

    base = checksums(VALUE_SETS["imagevector-overwrite"])
    gates = checksums({**VALUE_SETS["imagevector-overwrite"], **VALUE_SETS["feature-gates"]})
    key = "checksum/configmap-gardener-extension-networking-calico-config"
    assert base[key] != gates[key]
    assert base["checksum/configmap-network-imagevector-overwrite"] == \
        gates["checksum/configmap-network-imagevector-overwrite"]
    other_vector = checksums({"imageVectorOverwrite": IMAGE_VECTOR.replace("patched", "other")})
    assert other_vector["checksum/configmap-network-imagevector-overwrite"] != \
        base["checksum/configmap-network-imagevector-overwrite"]


def test_component_config():
    cm = render(CONTROLLER_CHART).get("ConfigMap", f"{NAME}-configmap")
    assert cm["metadata"]["labels"] == LABELS
    text = cm["data"]["config.yaml"]
    assert text.startswith("---\n")
    assert yaml.safe_load(text) == {
        "apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
        "kind": "ControllerConfiguration",
        "clientConnection": {"acceptContentTypes": "application/json",
                             "contentType": "application/json", "qps": 100, "burst": 130}}

    gated = yaml.safe_load(render(CONTROLLER_CHART, VALUE_SETS["feature-gates"]).get(
        "ConfigMap", f"{NAME}-configmap")["data"]["config.yaml"])
    assert gated["featureGates"] == {"NonPrivilegedCalicoNode": True, "SeamlessOverlaySwitch": True}

    bare = yaml.safe_load(render(CONTROLLER_CHART, VALUE_SETS["no-client-connection"]).get(
        "ConfigMap", f"{NAME}-configmap")["data"]["config.yaml"])
    assert "clientConnection" not in bare


@pytest.mark.parametrize("missing", ["acceptContentTypes", "contentType", "qps", "burst"])
def test_client_connection_fields_are_required(missing):
    conn = {"acceptContentTypes": "application/json", "contentType": "application/json",
            "qps": 100, "burst": 130}
    conn.pop(missing)
    # Helm merges user values over the defaults; null removes a default key.
    error = render_error(CONTROLLER_CHART, {"config": {"clientConnection": {**conn, missing: None}}})
    assert f".Values.config.clientConnection.{missing} is required" in error


def test_scraping_and_ignore_annotations():
    dep = render(CONTROLLER_CHART, VALUE_SETS["no-scraping"]).get("Deployment")
    assert not any(k.startswith("prometheus.io/") for k in dep["spec"]["template"]["metadata"]["annotations"])
    r = render(CONTROLLER_CHART, VALUE_SETS["ignore-resources"])
    assert r.get("Deployment")["metadata"]["annotations"] == {"resources.gardener.cloud/ignore": "true"}
    assert r.get("Service")["metadata"]["annotations"]["resources.gardener.cloud/ignore"] == "true"
    assert "resources.gardener.cloud/ignore" not in render(CONTROLLER_CHART).get("Service")["metadata"]["annotations"]


def test_resources_and_replicas():
    dep = render(CONTROLLER_CHART, {**VALUE_SETS["resources"], **VALUE_SETS["ha"]}).get("Deployment")
    assert container(dep)["resources"] == VALUE_SETS["resources"]["resources"]
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def test_pdb():
    pdb = render(CONTROLLER_CHART).get("PodDisruptionBudget", NAME)
    assert pdb["metadata"]["labels"] == LABELS
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": LABELS},
                           "unhealthyPodEvictionPolicy": "AlwaysAllow"}


def test_service():
    svc = render(CONTROLLER_CHART).get("Service", NAME)
    assert svc["metadata"]["labels"] == LABELS
    assert svc["metadata"]["annotations"] == {
        "networking.resources.gardener.cloud/from-all-seed-scrape-targets-allowed-ports":
            '[{"port":8080,"protocol":"TCP"}]',
        "networking.resources.gardener.cloud/namespace-selectors":
            '[{"matchLabels":{"kubernetes.io/metadata.name":"garden"}}]',
        "networking.resources.gardener.cloud/pod-label-selector-namespace-alias": "extensions"}
    assert svc["spec"] == {"type": "ClusterIP", "selector": LABELS,
                           "ports": [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]}


def test_topology_aware_routing():
    # helm-python-sdk renders with Kubernetes v1.36 capabilities → the >= 1.34 value
    svc = render(CONTROLLER_CHART, VALUE_SETS["topology-aware-routing"]).get("Service")
    assert svc["spec"]["trafficDistribution"] == "PreferSameZone"
    for case in ("topology-aware-routing-off", "seed-without-settings", "defaults"):
        assert "trafficDistribution" not in render(CONTROLLER_CHART, VALUE_SETS[case]).get("Service")["spec"]


@pytest.mark.parametrize("version,expected", [("v1.30.4", "PreferClose"), ("v1.33.9", "PreferClose"),
                                              ("v1.34.0", "PreferSameZone"), ("v1.36.1", "PreferSameZone"),
                                              ("v1.34.0-gke.1", "PreferSameZone")])
def test_traffic_distribution_by_kubernetes_version(tmp_path, version, expected):
    """The render API cannot change the capabilities, so evaluate the helper with a given version."""
    for chart in (CONTROLLER_CHART, CONTROLLER_CHART.parent / "gardener-extension-admission-calico/charts/runtime"):
        probe = tmp_path / chart.name
        (probe / "templates").mkdir(parents=True)
        (probe / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
        shutil.copy(chart / "templates" / "_helpers.tpl", probe / "templates" / "_helpers.tpl")
        (probe / "templates" / "probe.yaml").write_text(
            f'value: {{{{ include "trafficDistribution" "{version}" }}}}\n')
        with helm.Chart.load(str(probe)) as loaded:
            out = loaded.render({})
        assert yaml.safe_load(out["probe/templates/probe.yaml"]) == {"value": expected}


def test_service_account():
    sa = render(CONTROLLER_CHART).get("ServiceAccount", NAME)
    assert sa["metadata"]["labels"] == LABELS
    assert sa["automountServiceAccountToken"] is False


def test_vpa():
    vpa = render(CONTROLLER_CHART).get("VerticalPodAutoscaler", f"{NAME}-vpa")
    assert "labels" not in vpa["metadata"]
    assert vpa["spec"] == {
        "resourcePolicy": {"containerPolicies": [{"containerName": NAME, "controlledValues": "RequestsOnly"}]},
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
        "updatePolicy": {"updateMode": "InPlaceOrRecreate"}}
    bounded = render(CONTROLLER_CHART, VALUE_SETS["vpa-bounds"]).get("VerticalPodAutoscaler")
    assert bounded["spec"]["resourcePolicy"]["containerPolicies"] == [{
        "containerName": NAME, "minAllowed": {"memory": "64Mi"},
        "maxAllowed": {"cpu": "1", "memory": "1Gi"}, "controlledValues": "RequestsOnly"}]
    assert "resourcePolicy" not in render(CONTROLLER_CHART, VALUE_SETS["vpa-no-policy"]).get(
        "VerticalPodAutoscaler")["spec"]
    assert render(CONTROLLER_CHART, VALUE_SETS["vpa-off"]).find("VerticalPodAutoscaler") is None


def test_logging_objects():
    r = render(CONTROLLER_CHART)
    labels = {"fluentbit.gardener/type": "seed", "fluentbit.gardener.cloud/type": "seed"}
    f = r.get("ClusterFilter", "calico-node")
    assert f["metadata"]["labels"] == labels
    assert f["spec"] == {"match": "kubernetes.*calico-node*calico-node*", "filters": [
        {"parser": {"keyName": "log", "parser": "calico-node-parser", "reserveData": True}}]}
    p = r.get("ClusterParser", "calico-node-parser")
    assert p["metadata"]["labels"] == labels
    assert p["spec"]["regex"]["timeKey"] == "time"
    assert p["spec"]["regex"]["timeFormat"] == "%Y-%m-%d %H:%M:%S.%L"
    # The regex must split a real calico-node log line into its parts (Ruby/Onigmo named groups
    # `(?<x>...)` are `(?P<x>...)` in Python).
    import re
    pattern = re.compile(p["spec"]["regex"]["regex"].replace("(?<", "(?P<"))
    line = "2026-01-15 10:00:00.123 [INFO][42] felix/int_dataplane.go 2030: Dataplane updates throttled"
    m = pattern.match(line)
    assert m, line
    assert m.group("time") == "2026-01-15 10:00:00.123"
    assert m.group("severity") == "INFO"
    assert m.group("pid") == "42"
    assert m.group("source") == "felix/int_dataplane.go 2030"
    assert m.group("log") == "Dataplane updates throttled"


def test_cluster_role_binding():
    crb = render(CONTROLLER_CHART, namespace="garden-ext").get("ClusterRoleBinding", NAME)
    assert crb["metadata"]["labels"] == LABELS
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": "garden-ext"}]


def _flat_rules(rules):
    return sorted((g, r, tuple(sorted(rule.get("resourceNames", []))), tuple(sorted(rule["verbs"])))
                  for rule in rules for g in rule["apiGroups"] for r in rule["resources"])


def test_cluster_role_rules_are_least_privilege():
    """The exact rules (docs/operations.md, "RBAC"); test_chart_rbac_coverage.py ties them to the code."""
    rules = render(CONTROLLER_CHART).get("ClusterRole", NAME)["rules"]
    expected = []
    def add(group, resources, verbs, names=()):
        for res in resources:
            expected.append((group, res, tuple(sorted(names)), tuple(sorted(verbs))))
    add("extensions.gardener.cloud", ["networks"], ["get", "list", "watch", "patch"])
    add("extensions.gardener.cloud", ["networks/status"], ["patch"])
    add("extensions.gardener.cloud", ["clusters"], ["get", "list", "watch"])
    add("", ["namespaces"], ["list", "watch"])
    add("resources.gardener.cloud", ["managedresources"], ["create", "get", "list", "watch"])
    add("resources.gardener.cloud", ["managedresources"], ["update", "patch", "delete"],
        ["extension-networking-calico-config"])
    add("", ["secrets"], ["create", "get", "update", "patch", "delete"])
    add("", ["configmaps"], ["create"])
    add("", ["configmaps"], ["get", "delete"], ["calico-dashboards", "calico-monitoring-config"])
    add("", ["configmaps"], ["patch"], ["calico-dashboards"])
    add("monitoring.coreos.com", ["scrapeconfigs"], ["create", "list"])
    add("monitoring.coreos.com", ["scrapeconfigs"], ["get", "patch", "delete"],
        ["shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird"])
    add("", ["events"], ["create", "patch"])
    assert _flat_rules(rules) == sorted(expected)
    # no wildcard anywhere
    for rule in rules:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]


def test_leases_only_in_the_release_namespace():
    r = render(CONTROLLER_CHART, namespace="garden-ext")
    role = r.get("Role", NAME)
    assert role["metadata"]["namespace"] == "garden-ext"
    assert role["metadata"]["labels"] == LABELS
    assert _flat_rules(role["rules"]) == sorted([
        ("coordination.k8s.io", "leases", (), ("create",)),
        ("coordination.k8s.io", "leases", ("networking-calico-leader-election",), ("get", "update")),
        ("coordination.k8s.io", "leases", ("gardener-extension-heartbeat",), ("get", "patch")),
    ])
    rb = r.get("RoleBinding", NAME)
    assert rb["metadata"]["namespace"] == "garden-ext"
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME}
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": "garden-ext"}]
