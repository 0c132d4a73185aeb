"""OpenAPI v2/v3 of the embedded API server through kubectl 1.37 (explain, server-side field
validation) and the official Python client (issue 16, item 2)."""
import json
from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "example"

BUILTIN_KINDS = [
    # (explain argument, kind, a field its description lists)
    (["namespace"], "Namespace", "spec"),
    (["secret"], "Secret", "stringData"),
    (["configmap"], "ConfigMap", "binaryData"),
    (["serviceaccount"], "ServiceAccount", "automountServiceAccountToken"),
    (["service.spec"], "Service", "clusterIP"),
    (["node.spec"], "Node", "podCIDRs"),
    (["event", "--api-version=v1"], "Event", "involvedObject"),
    (["event", "--api-version=events.k8s.io/v1"], "Event", "regarding"),
    (["lease.spec"], "Lease", "renewTime"),
    (["validatingwebhookconfiguration.webhooks"], "ValidatingWebhookConfiguration", "sideEffects"),
    (["mutatingwebhookconfiguration.webhooks"], "MutatingWebhookConfiguration", "reinvocationPolicy"),
    (["deployment.spec"], "Deployment", "progressDeadlineSeconds"),
    (["daemonset.spec"], "DaemonSet", "updateStrategy"),
    (["customresourcedefinition.spec"], "CustomResourceDefinition", "preserveUnknownFields"),
]


@pytest.fixture(scope="module")
def gardener_crds(apiserver):
    """The Network, Cluster and ManagedResource CRDs of the examples, applied and established."""
    for name in ["10-crd-network.yaml", "10-crd-cluster.yaml", "10-crd-managedresource.yaml"]:
        apiserver.kubectl("apply", "-f", str(EXAMPLES / name))
    apiserver.kubectl("wait", "--for=condition=established", "--timeout=30s", "crd", "--all")
    return apiserver


def raw_get(server, path, headers=None):
    """GET through the Python client; returns (status, headers, body bytes)."""
    api = server.python_client()
    method, url, hdrs, body, _ = api.param_serialize("GET", path, header_params=headers or {}, auth_settings=["BearerToken"])
    r = api.call_api(method, url, header_params=hdrs)
    return r.status, r.headers, r.read()


@pytest.mark.parametrize("args,kind,field", BUILTIN_KINDS, ids=[" ".join(a) for a, _, _ in BUILTIN_KINDS])
def test_explain_builtin_kinds(apiserver, args, kind, field):
    out = apiserver.kubectl("explain", *args).stdout
    assert "KIND:       %s" % kind in out
    assert "\n  %s\t<" % field in out


def test_explain_pod_template_tree_and_recursive(apiserver):
    k = apiserver.kubectl
    out = k("explain", "deployment.spec.template.spec.containers").stdout
    assert "FIELD: containers <[]Container>" in out
    for field in ["volumeMounts\t<[]VolumeMount>", "name\t<string> -required-", "resources\t<ResourceRequirements>"]:
        assert field in out
    out = k("explain", "daemonset.spec.template.spec.volumes.projected.sources.serviceAccountToken").stdout
    assert "expirationSeconds\t<integer>" in out
    rec = k("explain", "deployment", "--recursive").stdout
    for nested in ["containerPort\t<integer> -required-", "maxSurge\t<IntOrString>", "fieldsV1\t<FieldsV1>"]:
        assert nested in rec


def test_explain_custom_resources(gardener_crds):
    k = gardener_crds.kubectl
    out = k("explain", "networks.spec.providerConfig").stdout
    assert "KIND:       Network" in out and "GROUP:      extensions.gardener.cloud" in out
    assert "FIELD: providerConfig <Object>" in out
    out = k("explain", "networks").stdout
    assert "metadata\t<ObjectMeta>" in out
    for resource, kind in [("clusters", "Cluster"), ("managedresources", "ManagedResource")]:
        out = k("explain", resource, "--recursive").stdout
        assert "KIND:       %s" % kind in out and "spec\t<Object>" in out


MANIFESTS = {
    "secret": """apiVersion: v1
kind: Secret
metadata: {name: %(name)s, namespace: %(ns)s}
bogus: 1
stringData: {a: b}
""",
    "deployment": """apiVersion: apps/v1
kind: Deployment
metadata: {name: %(name)s, namespace: %(ns)s}
spec:
  bogus: true
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      containers: [{name: c, image: nginx}]
""",
}
UNKNOWN = {"secret": 'unknown field "bogus"', "deployment": 'unknown field "spec.bogus"'}


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
@pytest.mark.parametrize("verb", ["apply", "create"])
def test_default_validation_rejects_unknown_fields(apiserver, namespace, kind, verb):
    k = apiserver.kubectl
    manifest = MANIFESTS[kind] % {"name": "strict", "ns": namespace}
    r = k(verb, "-f", "-", "-v=6", input=manifest, check=False)
    assert r.returncode != 0
    assert UNKNOWN[kind] in r.stderr and "strict decoding error" in r.stderr
    # kubectl asked the server to validate (it found fieldValidation in the OpenAPI v3 document).
    assert "fieldValidation=Strict" in r.stderr
    assert k("get", kind, "strict", "-n", namespace, check=False).returncode != 0
    # With --validate=warn the field is dropped with a warning, as kube-apiserver decodes it.
    r = k(verb, "-f", "-", "--validate=warn", input=manifest)
    assert UNKNOWN[kind] in r.stderr
    stored = json.loads(k("get", kind, "strict", "-n", namespace, "-o", "json").stdout)
    assert "bogus" not in stored and "bogus" not in stored.get("spec", {})


def test_python_client_reads_v3_index_and_documents(apiserver):
    status, headers, body = raw_get(apiserver, "/openapi/v3", {"Accept": "application/json"})
    assert status == 200
    paths = json.loads(body)["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1", "apis/events.k8s.io/v1"} <= set(paths)
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    status, headers, body = raw_get(apiserver, url)
    assert status == 200
    assert headers["Cache-Control"] == "public, immutable" and headers["Etag"] == '"%s"' % url.split("hash=")[1]
    doc = json.loads(body)
    schemas = doc["components"]["schemas"]
    deploy = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deploy["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name" and containers["x-kubernetes-list-map-keys"] == ["name"]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"dryRun", "fieldManager", "fieldValidation", "force"} <= {p["name"] for p in patch["parameters"]}
    # The same document again is answered from the ETag.
    status, _, _ = raw_get(apiserver, url, {"If-None-Match": headers["Etag"]})
    assert status == 304


def test_v2_is_json_and_protobuf_is_declined(apiserver):
    status, headers, body = raw_get(apiserver, "/openapi/v2", {"Accept": "application/json"})
    assert status == 200 and headers["Etag"].startswith('"')
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    secret = doc["definitions"]["io.k8s.api.core.v1.Secret"]
    assert secret["properties"]["metadata"]["$ref"] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    # kubectl asks for protobuf only; declined, it carries on with OpenAPI v3.
    status, _, _ = raw_get(apiserver, "/openapi/v2", {"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert status == 406


def test_crd_change_changes_hash_and_stale_hash_redirects(gardener_crds):
    k = gardener_crds.kubectl
    index = json.loads(k("get", "--raw", "/openapi/v3").stdout)["paths"]
    before = index["apis/extensions.gardener.cloud/v1alpha1"]["serverRelativeURL"]
    doc = json.loads(k("get", "--raw", before).stdout)
    assert "cloud.gardener.extensions.v1alpha1.Network" in doc["components"]["schemas"]
    assert "cloud.gardener.extensions.v1alpha1.NetworkList" in doc["components"]["schemas"]
    crd = json.loads(k("get", "crd", "networks.extensions.gardener.cloud", "-o", "json").stdout)
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["addedByTest"] = {"type": "string", "description": "added by the OpenAPI test"}
    k("replace", "-f", "-", input=json.dumps(crd))
    after = json.loads(k("get", "--raw", "/openapi/v3").stdout)["paths"]["apis/extensions.gardener.cloud/v1alpha1"]["serverRelativeURL"]
    assert after != before
    # A stale hash is redirected to the current document.
    doc = json.loads(k("get", "--raw", before).stdout)
    assert "addedByTest" in doc["components"]["schemas"]["cloud.gardener.extensions.v1alpha1.Network"]["properties"]["spec"]["properties"]
    assert "addedByTest" in k("explain", "networks.spec").stdout
