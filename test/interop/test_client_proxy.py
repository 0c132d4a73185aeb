"""Our Kubernetes client through an HTTP CONNECT proxy on loopback (issue 17, item 3): the cluster's
`proxy-url`, `HTTPS_PROXY`, and `NO_PROXY` bypassing it, seen from the proxy's own log. The client
is driven by the controller binary's `plan --kubeconfig` (it reads the live Network)."""
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

CONTROLLER = os.environ.get("CONTROLLER_BIN", str(ROOT / ".build" / "debug" / "gardener-extension-networking-calico"))


class ConnectProxy:
    """A CONNECT-only proxy that records each request line."""

    def __init__(self):
        self.lines = []
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def handle(self, c):
        data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(4096)
            if not d:
                c.close()
                return
            data += d
        line = data.split(b"\r\n")[0].decode()
        self.lines.append(line)
        host, port = line.split(" ")[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=self.pipe, args=(c, upstream), daemon=True).start()
        self.pipe(upstream, c)

    def serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def close(self):
        self.srv.close()


@pytest.fixture(scope="module")
def live_network(apiserver):
    for f in ["10-crd-cluster.yaml", "10-crd-network.yaml", "10-crd-managedresource.yaml", "20-network.yaml"]:
        apiserver.kubectl("apply", "-f", str(ROOT / "example" / f))
    return apiserver


def plan(server, kubeconfig, tmp_path, env=None):
    pc = tmp_path / "pc.yaml"
    pc.write_text("apiVersion: calico.networking.extensions.gardener.cloud/v1alpha1\nkind: NetworkConfig\n"
                  "overlay:\n  enabled: false\n")
    e = {k: v for k, v in os.environ.items() if k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")}
    e.update(env or {})
    return subprocess.run([CONTROLLER, "plan", "--kubeconfig", kubeconfig, "--namespace", "shoot--foo--bar",
                           "--provider-config", str(pc)], capture_output=True, text=True, env=e, timeout=60)


def test_proxy_url_of_the_cluster(live_network, tmp_path):
    proxy = ConnectProxy()
    try:
        doc = yaml.safe_load(Path(live_network.kubeconfig).read_text())
        doc["clusters"][0]["cluster"]["proxy-url"] = "http://127.0.0.1:%d" % proxy.port
        kc = tmp_path / "kubeconfig"
        kc.write_text(yaml.safe_dump(doc))
        r = plan(live_network, str(kc), tmp_path)
        assert r.returncode in (0, 3), r.stderr
        assert proxy.lines and all(l.startswith("CONNECT 127.0.0.1:%d " % live_network.port) for l in proxy.lines), proxy.lines
    finally:
        proxy.close()


def test_https_proxy_and_no_proxy_from_the_environment(live_network, tmp_path):
    proxy = ConnectProxy()
    try:
        env = {"HTTPS_PROXY": "127.0.0.1:%d" % proxy.port}
        r = plan(live_network, live_network.kubeconfig, tmp_path, env)
        assert r.returncode in (0, 3), r.stderr
        used = len(proxy.lines)
        assert used > 0
        r = plan(live_network, live_network.kubeconfig, tmp_path, dict(env, NO_PROXY="localhost,127.0.0.0/8"))
        assert r.returncode in (0, 3), r.stderr
        assert len(proxy.lines) == used, "NO_PROXY was not honoured: %s" % proxy.lines
    finally:
        proxy.close()
