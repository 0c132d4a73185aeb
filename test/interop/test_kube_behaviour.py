"""Behaviour of kube-apiserver that clients see beyond storage: list pagination snapshots and
Service cluster IPs, through kubectl and the official Python client (issue 16, item 6)."""
import json

from kubernetes import client
from kubernetes.client.rest import ApiException


def test_paginated_list_is_a_snapshot_python_client(apiserver, namespace):
    api = client.CoreV1Api(apiserver.python_client())
    for name in ["a", "b", "c", "d"]:
        api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"v": "1"}))
    first = api.list_namespaced_config_map(namespace, limit=2)
    assert [c.metadata.name for c in first.items] == ["a", "b"]
    token = first.metadata._continue
    assert token
    # Changes after the first page do not show in the later ones.
    api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="e"), data={"v": "1"}))
    api.delete_namespaced_config_map("c", namespace)
    api.patch_namespaced_config_map("d", namespace, {"data": {"v": "2"}})
    rest = api.list_namespaced_config_map(namespace, limit=10, _continue=token)
    assert [c.metadata.name for c in rest.items] == ["c", "d"]
    assert rest.items[1].data == {"v": "1"}
    assert rest.metadata.resource_version == first.metadata.resource_version
    live = api.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in live.items] == ["a", "b", "d", "e"]


def test_kubectl_chunked_get_lists_everything(apiserver, namespace):
    for i in range(7):
        apiserver.kubectl("create", "configmap", "cm%d" % i, "-n", namespace, "--from-literal=k=v")
    out = apiserver.kubectl("get", "configmaps", "-n", namespace, "--chunk-size=2", "-o", "name").stdout.split()
    assert out == ["configmap/cm%d" % i for i in range(7)]


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  ports:
  - port: 80
    targetPort: 8080
"""


def test_service_gets_a_cluster_ip_kubectl_and_python(apiserver, namespace):
    apiserver.kubectl("apply", "-n", namespace, "-f", "-", input=SERVICE % "web")
    ip = apiserver.kubectl("get", "service", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
    assert ip.startswith("10.0.") and ip != "10.0.0.1"
    wide = apiserver.kubectl("get", "service", "web", "-n", namespace).stdout
    assert ip in wide
    api = client.CoreV1Api(apiserver.python_client())
    headless = api.create_namespaced_service(
        namespace, client.V1Service(metadata=client.V1ObjectMeta(name="headless"),
                                    spec=client.V1ServiceSpec(cluster_ip="None", ports=[client.V1ServicePort(port=53)])))
    assert headless.spec.cluster_ip == "None"
    try:
        api.create_namespaced_service(
            namespace, client.V1Service(metadata=client.V1ObjectMeta(name="dup"),
                                        spec=client.V1ServiceSpec(cluster_ip=ip, ports=[client.V1ServicePort(port=80)])))
        raise AssertionError("a taken cluster IP was accepted")
    except ApiException as e:
        assert e.status == 422
        assert "provided IP is already allocated" in json.loads(e.body)["message"]
    # Re-applying the manifest (no clusterIP in it) keeps the address.
    apiserver.kubectl("apply", "-n", namespace, "-f", "-", input=SERVICE % "web")
    again = apiserver.kubectl("get", "service", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
    assert again == ip


def test_events_are_served_by_both_groups(apiserver, namespace):
    api_client = apiserver.python_client()
    core = client.CoreV1Api(api_client)
    events = client.EventsV1Api(api_client)
    core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="from-core"), involved_object=client.V1ObjectReference(kind="Network", name="bar"),
        message="reconciled", reason="Reconciled", type="Normal",
        # The client's events.k8s.io model requires eventTime, which core clients need not set.
        event_time="2026-12-06T01:59:00.000001Z", reporting_component="calico", reporting_instance="calico-0", action="Reconcile"))
    events.create_namespaced_event(namespace, client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="from-events"), regarding=client.V1ObjectReference(kind="Network", name="bar"),
        note="failed", reason="Error", type="Warning", reporting_controller="calico", reporting_instance="calico-0",
        action="Reconcile", event_time="2026-12-06T02:00:00.123456Z"))
    listed = events.list_namespaced_event(namespace)
    assert {e.metadata.name: e.note for e in listed.items} == {"from-core": "reconciled", "from-events": "failed"}
    assert core.read_namespaced_event("from-events", namespace).message == "failed"
    out = apiserver.kubectl("get", "events.events.k8s.io", "-n", namespace, "-o", "jsonpath={.items[*].note}").stdout
    assert out.split() == ["reconciled", "failed"]
    described = apiserver.kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=bar").stdout
    assert "from-events" not in described or "failed" in described
    assert "Reconciled" in described and "Error" in described


def test_kubectl_create_service_sends_protobuf(apiserver, namespace):
    apiserver.kubectl("create", "service", "clusterip", "web", "--tcp=80:8080", "-n", namespace)
    apiserver.kubectl("create", "service", "clusterip", "dns", "--clusterip=None", "--tcp=53:53", "-n", namespace)
    apiserver.kubectl("create", "service", "externalname", "ext", "--external-name=example.com", "-n", namespace)
    svc = json.loads(apiserver.kubectl("get", "service", "web", "-n", namespace, "-o", "json").stdout)
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == 8080
    assert svc["spec"]["selector"] == {"app": "web"} and svc["spec"]["clusterIP"].startswith("10.0.")
    dns = json.loads(apiserver.kubectl("get", "service", "dns", "-n", namespace, "-o", "json").stdout)
    assert dns["spec"]["clusterIP"] == "None"
    ext = json.loads(apiserver.kubectl("get", "service", "ext", "-n", namespace, "-o", "json").stdout)
    assert ext["spec"]["type"] == "ExternalName" and ext["spec"]["externalName"] == "example.com"
    assert "clusterIP" not in ext["spec"]
