"""Server-side apply, managedFields and dryRun through kubectl and the official Python client (issue 16, item 3)."""
import json

import pytest

CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {ns}
data:
{data}
"""


def cm(name, ns, **data):
    return CM.format(name=name, ns=ns, data="".join('  %s: "%s"\n' % kv for kv in data.items()))


def get_json(k, *args):
    return json.loads(k("get", *args, "-o", "json", "--show-managed-fields").stdout)


def current_rv(k, ns):
    """The server's current resourceVersion (a list's resourceVersion)."""
    return json.loads(k("get", "configmaps", "-n", ns, "-o", "json").stdout)["metadata"]["resourceVersion"]


def test_apply_server_side_owns_fields_and_removes_dropped_ones(apiserver, namespace):
    k = apiserver.kubectl
    out = k("apply", "--server-side", "-f", "-", input=cm("ssa", namespace, a="1", b="2")).stdout
    assert "configmap/ssa serverside-applied" in out
    obj = get_json(k, "cm", "ssa", "-n", namespace)
    [entry] = obj["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl" and entry["operation"] == "Apply" and entry["apiVersion"] == "v1"
    assert entry["fieldsType"] == "FieldsV1" and entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    # Applied again without b: the manager no longer applies it, so it is removed.
    k("apply", "--server-side", "-f", "-", input=cm("ssa", namespace, a="1"))
    obj = get_json(k, "cm", "ssa", "-n", namespace)
    assert obj["data"] == {"a": "1"}
    assert obj["metadata"]["managedFields"][0]["fieldsV1"] == {"f:data": {"f:a": {}}}
    # Other writers get Update entries under their manager names.
    k("label", "cm", "ssa", "-n", namespace, "team=x")
    obj = get_json(k, "cm", "ssa", "-n", namespace)
    managers = {(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]}
    assert managers == {("kubectl", "Apply"), ("kubectl-label", "Update")}


def test_conflict_names_manager_and_field_and_force_conflicts_wins(apiserver, namespace):
    k = apiserver.kubectl
    k("apply", "-f", "-", input=cm("c", namespace, foo="1"))
    r = k("apply", "--server-side", "--field-manager=mine", "-f", "-", input=cm("c", namespace, foo="2"), check=False)
    assert r.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.foo' in r.stderr
    assert get_json(k, "cm", "c", "-n", namespace)["data"] == {"foo": "1"}
    k("apply", "--server-side", "--field-manager=mine", "--force-conflicts", "-f", "-", input=cm("c", namespace, foo="2"))
    obj = get_json(k, "cm", "c", "-n", namespace)
    assert obj["data"] == {"foo": "2"}
    mine = [e for e in obj["metadata"]["managedFields"] if e["manager"] == "mine"]
    assert mine and mine[0]["fieldsV1"] == {"f:data": {"f:foo": {}}}


def test_diff_server_side_shows_changes_without_storing(apiserver, namespace):
    k = apiserver.kubectl
    k("apply", "--server-side", "-f", "-", input=cm("d", namespace, a="1", b="2"))
    rv = current_rv(k, namespace)
    r = k("diff", "--server-side", "-f", "-", input=cm("d", namespace, a="9"), check=False)
    assert r.returncode == 1, r.stderr
    assert '-  a: "1"' in r.stdout and '+  a: "9"' in r.stdout and '-  b: "2"' in r.stdout
    r = k("diff", "--server-side", "-f", "-", input=cm("d", namespace, a="1", b="2"), check=False)
    assert r.returncode == 0 and r.stdout == ""
    assert current_rv(k, namespace) == rv
    assert get_json(k, "cm", "d", "-n", namespace)["data"] == {"a": "1", "b": "2"}


def test_dry_run_server_on_create_apply_patch_delete_stores_nothing(apiserver, namespace):
    k = apiserver.kubectl
    k("apply", "-f", "-", input=cm("keep", namespace, a="1"))
    k("patch", "cm", "keep", "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":["demo.io/hold"]}}')
    before = get_json(k, "cm", "keep", "-n", namespace)
    rv = current_rv(k, namespace)
    out = k("create", "configmap", "new", "-n", namespace, "--from-literal=x=1", "--dry-run=server", "-o", "json").stdout
    created = json.loads(out)
    assert created["metadata"]["uid"] and created["metadata"]["creationTimestamp"] and "resourceVersion" not in created["metadata"]
    assert "configmap/new serverside-applied (server dry run)" in k(
        "apply", "--server-side", "--dry-run=server", "-f", "-", input=cm("new", namespace, x="1")).stdout
    assert "(server dry run)" in k("apply", "--server-side", "--dry-run=server", "-f", "-", input=cm("keep", namespace, a="2")).stdout
    assert "(server dry run)" in k("apply", "--dry-run=server", "-f", "-", input=cm("keep", namespace, a="3")).stdout
    patched = json.loads(k("patch", "cm", "keep", "-n", namespace, "--type=merge", "-p", '{"data":{"a":"4"}}', "--dry-run=server",
                           "-o", "json").stdout)
    assert patched["data"] == {"a": "4"}
    assert 'configmap "keep" deleted from %s namespace (server dry run)' % namespace in k("delete", "cm", "keep", "-n", namespace, "--dry-run=server").stdout
    assert "(server dry run)" in k("delete", "configmaps", "--all", "-n", namespace, "--dry-run=server").stdout
    assert current_rv(k, namespace) == rv
    assert get_json(k, "cm", "keep", "-n", namespace) == before
    assert k("get", "cm", "new", "-n", namespace, check=False).returncode != 0


def test_python_client_apply_conflict_force_and_dry_run(apiserver, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    api = client.CoreV1Api(apiserver.python_client())
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"k": "v1"}}
    obj = api.patch_namespaced_config_map("py", namespace, body, field_manager="py-a", _content_type="application/apply-patch+yaml")
    assert obj.data == {"k": "v1"}
    [entry] = obj.metadata.managed_fields
    assert entry.manager == "py-a" and entry.operation == "Apply" and entry.fields_v1 == {"f:data": {"f:k": {}}}
    body["data"] = {"k": "v2"}
    with pytest.raises(ApiException) as e:
        api.patch_namespaced_config_map("py", namespace, body, field_manager="py-b", _content_type="application/apply-patch+yaml")
    assert e.value.status == 409
    assert json.loads(e.value.body)["message"] == 'Apply failed with 1 conflict: conflict with "py-a": .data.k'
    obj = api.patch_namespaced_config_map("py", namespace, body, field_manager="py-b", force=True,
                                          _content_type="application/apply-patch+yaml")
    assert obj.data == {"k": "v2"} and [m.manager for m in obj.metadata.managed_fields] == ["py-b"]
    # Without fieldManager an update is recorded under the User-Agent's first segment.
    obj = api.patch_namespaced_config_map("py", namespace, {"data": {"other": "x"}})
    assert ("OpenAPI-Generator", "Update") in [(m.manager, m.operation) for m in obj.metadata.managed_fields]
    # dry_run="All": answered, not stored.
    dry = api.create_namespaced_config_map(namespace, {"metadata": {"name": "py-dry"}}, dry_run="All")
    assert dry.metadata.uid and dry.metadata.resource_version is None
    api.patch_namespaced_config_map("py", namespace, {"metadata": {"finalizers": ["demo.io/hold"]}})
    rv = api.read_namespaced_config_map("py", namespace).metadata.resource_version
    # A dry-run delete of an object with finalizers answers it with a deletionTimestamp, and changes nothing.
    deleted = api.delete_namespaced_config_map("py", namespace, dry_run="All")
    assert deleted["metadata"]["deletionTimestamp"]
    api.patch_namespaced_config_map("py", namespace, {"data": {"k": "dry"}}, dry_run="All")
    assert api.read_namespaced_config_map("py", namespace).metadata.resource_version == rv
    assert api.list_namespaced_config_map(namespace).metadata.resource_version == rv
    with pytest.raises(ApiException) as e:
        api.read_namespaced_config_map("py-dry", namespace)
    assert e.value.status == 404
    api.patch_namespaced_config_map("py", namespace, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as e:
        api.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}}, dry_run="Some")
    assert e.value.status == 422 and 'supported values: "All"' in json.loads(e.value.body)["message"]


GIZMO_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.ssa.example.com
spec:
  group: ssa.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              hosts:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
"""

GIZMO = """\
apiVersion: ssa.example.com/v1
kind: Gizmo
metadata:
  name: g
  namespace: {ns}
spec:
{spec}
"""


def test_custom_resource_lists_merge_by_list_type_through_kubectl(apiserver, namespace):
    k = apiserver.kubectl
    apiserver.apply_crd("gizmos.ssa.example.com", "--server-side", "-f", "-", input=GIZMO_CRD)
    k("apply", "--server-side", "--field-manager=a", "-f", "-",
      input=GIZMO.format(ns=namespace, spec="  ports: [{name: http, port: 80}]\n  hosts: [a.example]"))
    k("apply", "--server-side", "--field-manager=b", "-f", "-",
      input=GIZMO.format(ns=namespace, spec="  ports: [{name: metrics, port: 9090}]\n  hosts: [b.example]"))
    obj = get_json(k, "gizmo", "g", "-n", namespace)
    assert obj["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]
    assert obj["spec"]["hosts"] == ["a.example", "b.example"]
    a = [e for e in obj["metadata"]["managedFields"] if e["manager"] == "a"][0]
    assert a["fieldsV1"]["f:spec"]["f:ports"] == {'k:{"name":"http"}': {".": {}, "f:name": {}, "f:port": {}}}
    assert a["fieldsV1"]["f:spec"]["f:hosts"] == {'v:"a.example"': {}}
    r = k("apply", "--server-side", "--field-manager=b", "-f", "-",
          input=GIZMO.format(ns=namespace, spec="  ports: [{name: http, port: 8080}]"), check=False)
    assert r.returncode != 0 and 'conflict with "a": .spec.ports[name="http"].port' in r.stderr
    # a stops applying its port: only b's is left.
    k("apply", "--server-side", "--field-manager=a", "-f", "-", input=GIZMO.format(ns=namespace, spec="  hosts: [a.example]"))
    obj = get_json(k, "gizmo", "g", "-n", namespace)
    assert obj["spec"]["ports"] == [{"name": "metrics", "port": 9090}]
    k("delete", "crd", "gizmos.ssa.example.com", "--wait=false")
