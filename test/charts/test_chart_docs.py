"""The operator documentation keeps up with the charts: every values key is documented, links work."""
import re

import pytest
import yaml

from chart_helpers import APPLICATION_CHART, CONTROLLER_CHART, ROOT, RUNTIME_CHART

DOCS = ROOT / "docs"
DOC_FILES = ["usage.md", "operations.md", "deployment.md", "overlay.md", "local.md"]


def _leaf_keys(values, prefix=""):
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _leaf_keys(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


@pytest.mark.parametrize("chart", [CONTROLLER_CHART, RUNTIME_CHART, APPLICATION_CHART], ids=lambda c: c.name)
def test_every_values_key_is_documented(chart):
    text = (DOCS / "deployment.md").read_text()
    values = yaml.safe_load((chart / "values.yaml").read_text())
    missing = []
    for key in _leaf_keys(values):
        last = key.rsplit(".", 1)[-1]
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        # documented either fully spelt out or in a grouped form like `parent.{a,b}` / `parent.a` / `a`
        if key in text or (parent and re.search(re.escape(parent) + r"\.\{[^}]*\b" + re.escape(last) + r"\b", text)):
            continue
        missing.append(key)
    assert not missing, f"values keys of {chart.name} not described in docs/deployment.md: {missing}"


def test_spec_only_keys_are_documented_too():
    text = (DOCS / "deployment.md").read_text()
    for key in ("image.ref", "imageVectorOverwrite", "vpa.resourcePolicy.minAllowed",
                "gardener.seed.spec.settings.topologyAwareRouting.enabled", "projectedKubeconfig",
                "gardener.virtualCluster.namespace", "gardener.runtimeCluster.priorityClassName",
                "global.virtualGarden.user.name", "global.serviceAccountTokenVolumeProjection",
                "global.kubeconfig", "tokenFile: /var/run/secrets/projected/serviceaccount/token"):
        assert key in text, key


@pytest.mark.parametrize("name", DOC_FILES)
def test_docs_exist_and_relative_links_resolve(name):
    path = DOCS / name
    text = path.read_text()
    assert text.startswith("# "), f"{name} has no title"
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert (path.parent / target).resolve().exists(), f"{name}: broken link {target}"


def test_usage_covers_every_network_config_field():
    text = (DOCS / "usage.md").read_text()
    for field in ("backend", "ipam", "ipv4", "ipv6", "typha", "vethMTU", "ebpfDataplane", "overlay",
                  "createPodRoutes", "snatToUpstreamDNS", "autoScaling", "vxlan", "ipip", "ipAutodetectionMethod",
                  "wireguardEncryption", "birdExporter", "multus", "installCNIPlugins", "serviceLoopPrevention",
                  "sourceNATEnabled", "autoDetectionMethod", "bpfDataIfacePattern"):
        assert f"`{field}" in text or f"{field}:" in text, field
    for topic in ("## NodeLocalDNS", "Azure accelerated networking", "kube-proxy", "cluster-proportional"):
        assert topic in text, topic


def test_operations_covers_feature_gates_and_the_rbac_rule():
    text = (DOCS / "operations.md").read_text()
    for needle in ("NonPrivilegedCalicoNode", "SeamlessOverlaySwitch", "ControllerConfiguration", "/metrics",
                   "test_chart_rbac_coverage.py", "CONTROLLER_UNSEEN", "CONTROLLER_NAMES",
                   "static let"):
        assert needle in text, needle
