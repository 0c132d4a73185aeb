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
