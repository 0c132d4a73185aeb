"""example/: CRDs, component config, the local-mode objects and the webhook configuration."""
import ipaddress

import pytest
import yaml

from chart_helpers import CONTROLLER_CHART, EXAMPLE, render, validate

CRD_FILES = sorted(EXAMPLE.glob("10-crd-*.yaml"))


def _docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _crd(name):
    for path in CRD_FILES:
        for doc in _docs(path):
            if doc["metadata"]["name"] == name:
                return doc
    pytest.fail(f"no CRD {name} in example/")


@pytest.mark.parametrize("path", CRD_FILES, ids=lambda p: p.name)
def test_crds_are_valid_v1(path):
    docs = _docs(path)
    assert len(docs) == 1
    crd = docs[0]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    validate(crd)
    spec = crd["spec"]
    assert crd["metadata"]["name"] == f"{spec['names']['plural']}.{spec['group']}"
    assert [v["storage"] for v in spec["versions"]].count(True) == 1
    for version in spec["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert schema["type"] == "object"
        assert version["additionalPrinterColumns"][-1] == {
            "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def test_crd_set_covers_every_kind_the_controller_writes_in_the_seed():
    names = {d["metadata"]["name"] for p in CRD_FILES for d in _docs(p)}
    assert names == {"networks.extensions.gardener.cloud", "clusters.extensions.gardener.cloud",
                     "managedresources.resources.gardener.cloud", "scrapeconfigs.monitoring.coreos.com"}


def test_network_crd():
    crd = _crd("networks.extensions.gardener.cloud")
    assert crd["metadata"]["labels"] == {"gardener.cloud/deletion-protected": "true"}
    spec = crd["spec"]
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {"kind": "Network", "listKind": "NetworkList", "plural": "networks", "singular": "network"}
    (v,) = spec["versions"]
    assert v["name"] == "v1alpha1" and v["served"] and v["storage"]
    assert v["subresources"] == {"status": {}}
    assert [(c["name"], c["type"], c["jsonPath"]) for c in v["additionalPrinterColumns"]] == [
        ("Type", "string", ".spec.type"), ("Pod CIDR", "string", ".spec.podCIDR"),
        ("Service CIDR", "string", ".spec.serviceCIDR"), ("Status", "string", ".status.lastOperation.state"),
        ("Age", "date", ".metadata.creationTimestamp")]
    schema = v["schema"]["openAPIV3Schema"]
    assert schema["required"] == ["spec"]
    assert sorted(schema["properties"]["spec"]["required"]) == ["podCIDR", "serviceCIDR", "type"]
    props = schema["properties"]
    assert props["spec"]["properties"]["providerConfig"]["x-kubernetes-preserve-unknown-fields"] is True
    assert props["status"]["properties"]["providerStatus"]["x-kubernetes-preserve-unknown-fields"] is True
    assert props["status"]["properties"]["state"]["x-kubernetes-preserve-unknown-fields"] is True
    assert props["spec"]["properties"]["class"]["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": "Value is immutable"}]


def test_cluster_crd():
    spec = _crd("clusters.extensions.gardener.cloud")["spec"]
    assert spec["scope"] == "Cluster"
    assert spec["names"] == {"kind": "Cluster", "listKind": "ClusterList", "plural": "clusters", "singular": "cluster"}
    (v,) = spec["versions"]
    assert v["subresources"] == {"status": {}}
    parts = v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    for part in ("cloudProfile", "seed", "shoot"):
        assert parts[part]["x-kubernetes-preserve-unknown-fields"] is True


def test_managed_resource_crd():
    spec = _crd("managedresources.resources.gardener.cloud")["spec"]
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["shortNames"] == ["mr"]
    assert spec["names"]["listKind"] == "ManagedResourceList"
    (v,) = spec["versions"]
    assert v["subresources"] == {"status": {}}
    assert [c["name"] for c in v["additionalPrinterColumns"]] == ["Class", "Applied", "Healthy", "Progressing", "Age"]
    assert v["additionalPrinterColumns"][1]["jsonPath"] == '.status.conditions[?(@.type=="ResourcesApplied")].status'
    assert v["schema"]["openAPIV3Schema"]["properties"]["spec"]["required"] == ["secretRefs"]


def test_scrape_config_crd_accepts_what_the_controller_writes():
    spec = _crd("scrapeconfigs.monitoring.coreos.com")["spec"]
    assert spec["names"]["kind"] == "ScrapeConfig" and spec["versions"][0]["name"] == "v1alpha1"
    validate({"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "ScrapeConfig",
              "metadata": {"name": "shoot-calico-felix", "namespace": "shoot--foo--bar",
                           "labels": {"prometheus": "shoot"}},
              "spec": {"scheme": "HTTPS", "tlsConfig": {"insecureSkipVerify": True},
                       "kubernetesSDConfigs": [{"apiServer": "https://kube-apiserver", "role": "Endpoints"}]}})


def test_component_config_matches_the_chart():
    (cfg,) = _docs(EXAMPLE / "00-componentconfig.yaml")
    assert cfg == {"apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
                   "kind": "ControllerConfiguration",
                   "clientConnection": {"acceptContentTypes": "application/json",
                                        "contentType": "application/json", "qps": 100, "burst": 130},
                   "featureGates": {}}
    chart_cfg = yaml.safe_load(render(CONTROLLER_CHART).get(
        "ConfigMap", "gardener-extension-networking-calico-configmap")["data"]["config.yaml"])
    assert chart_cfg["clientConnection"] == cfg["clientConnection"]


def test_local_objects():
    docs = _docs(EXAMPLE / "20-network.yaml")
    assert [d["kind"] for d in docs] == ["Namespace", "Cluster", "Network"]
    for doc in docs:
        validate(doc)
    ns, cluster, network = docs
    assert ns["metadata"]["name"] == "shoot--foo--bar"
    assert ns["metadata"]["labels"]["shoot.gardener.cloud/provider"] == "azure"
    assert ns["metadata"]["labels"]["networking.shoot.gardener.cloud/provider"] == "calico"
    assert cluster["metadata"]["name"] == ns["metadata"]["name"] == network["metadata"]["namespace"]
    shoot = cluster["spec"]["shoot"]
    assert cluster["spec"]["cloudProfile"]["kind"] == "CloudProfile"
    assert shoot["apiVersion"] == "core.gardener.cloud/v1beta1" and shoot["kind"] == "Shoot"
    assert shoot["status"]["technicalID"] == ns["metadata"]["name"]
    assert shoot["status"]["lastOperation"]["state"] == "Succeeded"
    assert network["metadata"]["name"] == shoot["metadata"]["name"], "gardenlet names the Network like the Shoot"
    net = shoot["spec"]["networking"]
    assert net["type"] == network["spec"]["type"] == "calico"
    assert net["pods"] == network["spec"]["podCIDR"]
    assert net["services"] == network["spec"]["serviceCIDR"]
    assert net["ipFamilies"] == network["spec"]["ipFamilies"]
    assert net["providerConfig"] == network["spec"]["providerConfig"]
    pods, services = ipaddress.ip_network(net["pods"]), ipaddress.ip_network(net["services"])
    assert not pods.overlaps(services)
    assert not pods.overlaps(ipaddress.ip_network(net["nodes"]))
    pc = network["spec"]["providerConfig"]
    assert pc["apiVersion"] == "calico.networking.extensions.gardener.cloud/v1alpha1"
    assert pc["kind"] == "NetworkConfig"
    assert pc["overlay"] == {"enabled": False} and pc["snatToUpstreamDNS"] == {"enabled": True}
    assert shoot["spec"]["kubernetes"]["version"]
    assert network["metadata"]["annotations"]["gardener.cloud/operation"] == "reconcile"


def test_admission_webhook_configuration_example():
    docs = _docs(EXAMPLE / "30-admission-webhook.yaml")
    assert len(docs) == 2
    for doc in docs:
        validate(doc)
        assert doc["metadata"]["name"] == "gardener-extension-admission-calico"
        assert doc["metadata"]["labels"] == {"remediation.webhook.shoot.gardener.cloud/exclude": "true"}
        (hook,) = doc["webhooks"]
        assert hook["name"] == "validator.admission-calico.extensions.gardener.cloud"
        assert hook["rules"] == [{"apiGroups": ["core.gardener.cloud"], "apiVersions": ["*"],
                                  "operations": ["CREATE", "UPDATE"], "resources": ["shoots"]}]
        assert hook["objectSelector"] == {"matchLabels": {"networking.extensions.gardener.cloud/calico": "true"}}
        assert (hook["failurePolicy"], hook["matchPolicy"], hook["sideEffects"], hook["timeoutSeconds"]) == \
            ("Fail", "Exact", "None", 10)
        assert hook["admissionReviewVersions"] == ["v1", "v1beta1"]
        assert "namespaceSelector" not in hook
    assert docs[0]["webhooks"][0]["clientConfig"]["service"] == {
        "namespace": "garden", "name": "gardener-extension-admission-calico", "path": "/webhooks/validate", "port": 443}
    assert docs[1]["webhooks"][0]["clientConfig"] == {
        "url": "https://gardener-extension-admission-calico.garden/webhooks/validate"}
