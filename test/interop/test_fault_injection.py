"""Fault-injection flags of `apiserver` (issue 9) as seen by the official Python client and kubectl."""
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from conftest import APIServer


@pytest.fixture
def faulty():
    # Every configmap create in "default" fails with 503 + Retry-After.
    server = APIServer(["--fault-rate", "1", "--fault-status", "503", "--fault-retry-after", "3",
                        "--fault-verbs", "create", "--fault-path-prefix", "/api/v1/namespaces/default/configmaps"])
    yield server
    server.stop()


def test_injected_503_reaches_python_client_with_retry_after(faulty):
    api = client.CoreV1Api(faulty.python_client())
    with pytest.raises(ApiException) as err:
        api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert err.value.status == 503
    assert err.value.headers.get("Retry-After") == "3"
    assert '"reason":"ServiceUnavailable"' in err.value.body
    # Other verbs and paths are untouched.
    api.create_namespaced_config_map("kube-system", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert api.read_namespaced_config_map("x", "kube-system").metadata.name == "x"


@pytest.fixture
def truncating():
    # Every watch ends after 2 events.
    server = APIServer(["--watch-truncate-after", "2"])
    yield server
    server.stop()


def test_truncated_watch_ends_after_two_events(truncating):
    api = client.CoreV1Api(truncating.python_client())
    for n in ("a", "b", "c"):
        api.create_namespaced_config_map("kube-public", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n)))
    start = time.time()
    seen = [e["object"].metadata.name for e in
            watch.Watch().stream(api.list_namespaced_config_map, "kube-public", timeout_seconds=30, _request_timeout=30)]
    # The stream ended by itself (truncated), long before its 30 s timeout.
    assert seen == ["a", "b"]
    assert time.time() - start < 20


def test_kubectl_survives_in_place_restarts(tmp_path):
    server = APIServer(["--data-dir", str(tmp_path / "data"), "--restart-every-seconds", "1", "--restart-downtime-ms", "100"])
    try:
        server.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\n")
        time.sleep(2.5)  # at least two restarts
        out = server.kubectl("get", "configmap", "kept", "-n", "default", "-o", "jsonpath={.metadata.name}").stdout
        assert out == "kept"
    finally:
        server.stop()
    assert any("restarts=" in line for line in server.proc.stdout.read().splitlines())
