"""Admission webhooks called by the embedded API server, seen through kubectl and the Python
client: our own admission webhook registers itself and denies an invalid Shoot; a test webhook's
warnings reach kubectl as `Warning:` lines (see docs/local.md, "Admission webhooks")."""
import base64
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import APIServer, BIN

HERE = Path(__file__).resolve().parent
ADMISSION_BIN = os.environ.get("ADMISSION_BIN", str(Path(BIN).parent / "gardener-extension-admission-calico"))
WEBHOOK = "validator.admission-calico.extensions.gardener.cloud"

SHOOT = """\
apiVersion: core.gardener.cloud/v1beta1
kind: Shoot
metadata:
  name: {name}
  namespace: garden-dev
  labels:
    networking.extensions.gardener.cloud/calico: "true"
spec:
  region: local
  kubernetes:
    version: 1.33.2
  provider:
    type: local
    workers:
    - name: worker
      minimum: 1
      maximum: 2
  networking:
    type: calico
    pods: {pods}
    nodes: 10.250.0.0/16
    services: 100.64.0.0/13
    ipFamilies: [IPv4]
"""


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def server():
    """A server of its own: the webhooks registered here must not reach the other tests."""
    s = APIServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admission(server):
    """The real admission binary, registered against the server in url mode, and the Shoot CRD."""
    server.apply_crd("shoots.core.gardener.cloud", "-f", str(HERE.parents[1] / "example" / "local" / "10-crd-garden.yaml"))
    server.kubectl("create", "namespace", "garden-dev")
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="admission-interop-"))
    log = open(work / "admission.log", "w")
    env = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_CONFIG_NAMESPACE", "GARDEN_KUBECONFIG", "SOURCE_CLUSTER")}
    proc = subprocess.Popen(
        [ADMISSION_BIN, "--kubeconfig", server.kubeconfig, "--leader-election=false",
         "--webhook-config-server-host", "127.0.0.1", "--webhook-config-server-port", str(port),
         "--webhook-config-cert-dir", str(work / "certs"), "--webhook-config-mode", "url",
         "--webhook-config-url", "127.0.0.1:%d" % port,
         "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", "127.0.0.1:0"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            r = server.kubectl("get", "validatingwebhookconfiguration", "gardener-extension-admission-calico", check=False)
            if r.returncode == 0:
                break
            assert proc.poll() is None, (work / "admission.log").read_text()
            time.sleep(0.2)
        else:
            raise AssertionError("not registered: " + (work / "admission.log").read_text())
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_invalid_shoot_denied_by_our_webhook_and_valid_one_created(admission):
    r = admission.kubectl("apply", "-f", "-", input=SHOOT.format(name="bad", pods="nope"), check=False)
    assert r.returncode != 0
    assert ('admission webhook "%s" denied the request: ' % WEBHOOK) in r.stderr, r.stderr
    assert 'spec.networking.pods: Invalid value: "nope"' in r.stderr, r.stderr
    assert admission.kubectl("get", "shoot", "bad", "-n", "garden-dev", check=False).returncode != 0
    out = admission.kubectl("apply", "-f", "-", input=SHOOT.format(name="good", pods="100.96.0.0/11")).stdout
    assert "shoot.core.gardener.cloud/good created" in out


def test_python_client_sees_the_denial(admission):
    import yaml
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    api = client.CustomObjectsApi(admission.python_client())
    body = yaml.safe_load(SHOOT.format(name="bad-py", pods="nope"))
    with pytest.raises(ApiException) as e:
        api.create_namespaced_custom_object("core.gardener.cloud", "v1beta1", "garden-dev", "shoots", body)
    assert e.value.status == 403
    status = json.loads(e.value.body)
    assert status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert status["message"].startswith('admission webhook "%s" denied the request: ' % WEBHOOK)


class _Webhook(BaseHTTPRequestHandler):
    """Allows everything, with one warning naming the object."""

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        req = review["request"]
        answer = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                  "response": {"uid": req["uid"], "allowed": True,
                               "warnings": ["widget %s looks suspicious" % req["name"]]}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_webhook_warnings_reach_kubectl(server):
    work = Path(tempfile.mkdtemp(prefix="warning-webhook-"))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
        check=True, capture_output=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(work / "cert.pem"), str(work / "key.pem"))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        from conftest import WIDGET_CRD
        server.apply_crd("widgets.demo.example.com", "-f", "-", input=WIDGET_CRD)
        config = {
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "warn"},
            "webhooks": [{
                "name": "warn.demo.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["demo.example.com"], "apiVersions": ["*"], "resources": ["widgets"]}],
                "clientConfig": {"url": "https://127.0.0.1:%d/warn" % httpd.server_address[1],
                                 "caBundle": base64.b64encode((work / "cert.pem").read_bytes()).decode()},
            }],
        }
        server.kubectl("apply", "-f", "-", input=json.dumps(config))
        widget = {"apiVersion": "demo.example.com/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": 1}}
        r = server.kubectl("apply", "-f", "-", input=json.dumps(widget))
        assert "widget.demo.example.com/w1 created" in r.stdout
        assert "Warning: widget w1 looks suspicious" in r.stderr, r.stderr
    finally:
        server.kubectl("delete", "validatingwebhookconfiguration", "warn", "--ignore-not-found")
        httpd.shutdown()
