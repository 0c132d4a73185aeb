"""Fixtures for the interop suite: the embedded API server started from the built calico-dev,
kubectl from the pinned venv, and the official Python client."""
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The development executable carries the embedded API server (the shipped controller does not).
BIN = os.environ.get("CALICO_DEV_BIN", str(ROOT / ".build" / "debug" / "calico-dev"))
KUBECTL = os.environ.get("KUBECTL", str(ROOT / ".venv" / "bin" / "kubectl"))

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.demo.example.com
spec:
  group: demo.example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    - name: Phase
      type: string
      jsonPath: .status.phase
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
"""


class APIServer:
    def __init__(self, extra_args=()):
        self.dir = Path(tempfile.mkdtemp(prefix="apiserver-interop-"))
        self.kubeconfig = str(self.dir / "kubeconfig")
        self.cache = str(self.dir / "kubecache")
        args = [BIN, "apiserver", "--port", "0", "--kubeconfig-out", self.kubeconfig, *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        self.port = None
        self.output = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = re.search(r"port=(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not report its port: %r %s" % (self.output, self.proc.stderr.read()))
        # Read the rest of the banner (kubeconfig path, usage hint).
        for _ in range(2):
            self.output.append(self.proc.stdout.readline())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def env(self):
        e = dict(os.environ)
        e["KUBECONFIG"] = self.kubeconfig
        e["KUBECACHEDIR"] = self.cache
        return e

    def kubectl(self, *args, input=None, check=True, timeout=60):
        r = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=self.env(), timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\nstdout: %s\nstderr: %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def apply_crd(self, crd, *apply_args, input=None):
        """`kubectl apply` with `apply_args`, then waits until the CRD named `crd` is established;
        returns the apply's result (its stderr carries the server's warnings)."""
        r = self.kubectl("apply", *apply_args, input=input)
        self.kubectl("wait", "--for=condition=established", "--timeout=30s", "crd/" + crd)
        return r

    def popen_kubectl(self, *args):
        return subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())

    def python_client(self):
        from kubernetes import client, config
        cfg = client.Configuration()
        config.load_kube_config(config_file=self.kubeconfig, client_configuration=cfg)
        return client.ApiClient(cfg)


@pytest.fixture(scope="session")
def apiserver():
    server = APIServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def widgets(apiserver):
    """The Widget CRD, applied with kubectl and established."""
    apiserver.apply_crd("widgets.demo.example.com", "-f", "-", input=WIDGET_CRD)
    return apiserver


@pytest.fixture
def namespace(apiserver):
    """A fresh namespace per test (created through the Python client)."""
    from kubernetes import client
    name = "t-" + uuid.uuid4().hex[:10]
    api = client.CoreV1Api(apiserver.python_client())
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name
