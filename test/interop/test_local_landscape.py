"""End-to-end user stories of `calico-dev local` (docs/local.md) through its three clusters, with
the pinned kubectl: the shoot owner edits the Shoot in the garden, the operator watches the
Network and ManagedResource in the seed, and the shoot shows the applied objects and Nodes."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, KUBECTL, ROOT

EXAMPLE = ROOT / "example"
NS = "shoot--foo--bar"
MR = "extension-networking-calico-config"
GC_LABEL = "resources.gardener.cloud/garbage-collectable-reference=true"


class Local:
    """A running `calico-dev local` with its own state dir."""

    def __init__(self, *args, state=None, example=EXAMPLE):
        self.state = Path(state or tempfile.mkdtemp(prefix="local-landscape-"))
        cmd = [BIN, "local", "--state-dir", str(self.state), "--example-dir", str(example), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output = []
        deadline = time.time() + 90
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "press Ctrl-C" in line:
                return
        self.proc.kill()
        raise RuntimeError("local did not start: %s %s" % ("".join(self.output), self.proc.stderr.read()))

    def kubeconfig(self, cluster):
        return str(self.state / ("%s.kubeconfig" % cluster))

    def kubectl(self, cluster, *args, check=True):
        r = subprocess.run(
            [KUBECTL, "--kubeconfig", self.kubeconfig(cluster), "--cache-dir", str(self.state / "kubecache"), *args],
            capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed: %s" % (" ".join(args), r.stderr))
        return r

    def get(self, cluster, *args):
        r = self.kubectl(cluster, "get", *args, "-o", "json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def stop(self):
        start = time.time()
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        return time.time() - start


def wait_for(what, fn, timeout=30):
    """Polls fn until it returns a truthy value (an observable state change), or fails."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def describe_failure(local):
    """The Network's status and the last log lines, for a failed assertion's message."""
    net = local.get("seed", "-n", NS, "network", "bar")
    log = (local.state / "controller.log").read_text().splitlines()[-5:] if (local.state / "controller.log").exists() else []
    return "network status: %s\nlog: %s" % (json.dumps((net or {}).get("status")), "\n".join(log))


def network_succeeded(local, generation_above=0):
    net = local.get("seed", "-n", NS, "network", "bar")
    if not net:
        return None
    st = net.get("status", {})
    op = st.get("lastOperation", {})
    gen = net["metadata"]["generation"]
    if op.get("state") == "Succeeded" and st.get("observedGeneration") == gen and gen > generation_above:
        return net
    return None


def mr_applied(local):
    mr = local.get("seed", "-n", NS, "managedresource", MR)
    if not mr:
        return None
    conds = {c["type"]: c for c in mr.get("status", {}).get("conditions", [])}
    ok = conds.get("ResourcesApplied", {}).get("status") == "True"
    return mr if ok and mr["status"].get("observedGeneration") == mr["metadata"]["generation"] else None


def patch_shoot(local, patch, check=True):
    return local.kubectl("garden", "-n", "garden-foo", "patch", "shoot", "bar", "--type", "merge", "-p", json.dumps(patch), check=check)


def calico_node_env(local):
    ds = local.get("shoot", "-n", "kube-system", "daemonset", "calico-node")
    containers = ds["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for c in containers if c["name"] == "calico-node" for e in c.get("env", [])}


@pytest.fixture(scope="module")
def landscape():
    local = Local("--feature-gates", "SeamlessOverlaySwitch=true", "--nodes", "3", "--rollout-step-ms", "300")
    yield local
    if local.proc.poll() is None:
        elapsed = local.stop()
        # Ctrl-C ends local mode in under a second.
        assert elapsed < 1.0, "Ctrl-C took %.2f s" % elapsed
    shutil.rmtree(local.state, ignore_errors=True)


def test_report_and_three_clusters(landscape):
    out = "".join(landscape.output)
    for cluster in ("garden", "seed", "shoot"):
        assert landscape.kubeconfig(cluster) in out
    assert "State: new, from the example" in out
    shoot = landscape.get("garden", "-n", "garden-foo", "shoot", "bar")
    assert shoot["status"]["technicalID"] == NS
    assert shoot["status"]["lastOperation"]["state"] == "Succeeded"
    # The Cluster embeds the Shoot, the CloudProfile and the Seed.
    cluster = landscape.get("seed", "cluster", NS)
    assert cluster["spec"]["shoot"]["metadata"]["name"] == "bar"
    assert cluster["spec"]["cloudProfile"]["metadata"]["name"] == "local"
    assert cluster["spec"]["seed"]["metadata"]["name"] == "local"
    net = landscape.get("seed", "-n", NS, "network", "bar")
    assert net["spec"]["podCIDR"] == "10.244.0.0/16" and net["spec"]["serviceCIDR"] == "10.96.0.0/24"
    mr = mr_applied(landscape)
    assert mr is not None
    conds = {c["type"]: c["status"] for c in mr["status"]["conditions"]}
    assert conds["ResourcesHealthy"] == "True" and conds["ResourcesProgressing"] == "False"
    nodes = landscape.get("shoot", "nodes")["items"]
    assert len(nodes) == 3
    for node in nodes:
        na = [c for c in node["status"]["conditions"] if c["type"] == "NetworkUnavailable"][0]
        assert (na["status"], na["reason"]) == ("False", "RouteCreated")
    ds = landscape.get("shoot", "-n", "kube-system", "daemonset", "calico-node")
    assert ds["status"]["desiredNumberScheduled"] == 3 and ds["status"]["numberReady"] == 3
    # The shoot holds every object the ManagedResource lists.
    assert len(mr["status"]["resources"]) > 20
    assert landscape.get("shoot", "clusterrole", "calico-node") is not None
    # The webhook is registered in the garden.
    assert landscape.get("garden", "validatingwebhookconfiguration", "gardener-extension-admission-calico") is not None


def test_enable_overlay_rolls_out_and_collects_the_old_secret(landscape):
    before = landscape.get("seed", "-n", NS, "managedresource", MR)
    old_secret = before["spec"]["secretRefs"][0]["name"]
    gen = landscape.get("seed", "-n", NS, "network", "bar")["metadata"]["generation"]
    ds_gen = landscape.get("shoot", "-n", "kube-system", "daemonset", "calico-node")["metadata"]["generation"]
    patch_shoot(landscape, {"spec": {"networking": {"providerConfig": {"overlay": {"enabled": True}}}}})
    # While calico-node is replaced node by node the ManagedResource reports ResourcesProgressing=True.
    def progressing():
        mr = landscape.get("seed", "-n", NS, "managedresource", MR)
        return any(c["type"] == "ResourcesProgressing" and c["status"] == "True" for c in mr.get("status", {}).get("conditions", []))
    wait_for("ResourcesProgressing=True during the rollout", progressing)
    net = wait_for("the Network to reconcile the overlay", lambda: network_succeeded(landscape, gen))
    assert net["spec"]["providerConfig"]["overlay"]["enabled"] is True
    mr = wait_for("the new secret to be applied", lambda: (m := mr_applied(landscape)) and m["spec"]["secretRefs"][0]["name"] != old_secret and m)
    # calico-node changed in the shoot and was rolled out node by node to the end.
    def rolled_out():
        ds = landscape.get("shoot", "-n", "kube-system", "daemonset", "calico-node")
        st = ds["status"]
        return (ds["metadata"]["generation"] > ds_gen and st.get("observedGeneration") == ds["metadata"]["generation"]
                and st.get("updatedNumberScheduled") == 3 and st.get("numberAvailable") == 3 and ds)
    wait_for("calico-node to roll out", rolled_out)
    wait_for("ResourcesProgressing=False", lambda: (m := mr_applied(landscape)) and any(
        c["type"] == "ResourcesProgressing" and c["status"] == "False" for c in m["status"]["conditions"]))
    # The superseded secret is garbage-collected; the current one stays.
    def collected():
        names = [s["metadata"]["name"] for s in landscape.get("seed", "-n", NS, "secrets", "-l", GC_LABEL)["items"]]
        return names if old_secret not in names else None
    names = wait_for("the old secret to be garbage-collected", collected, timeout=30)
    assert mr["spec"]["secretRefs"][0]["name"] in names
    # The Shoot shows the Network's last operation; the Network has Events.
    shoot = landscape.get("garden", "-n", "garden-foo", "shoot", "bar")
    assert shoot["status"]["lastOperation"]["state"] == "Succeeded"
    events = wait_for("Events on the Network", lambda: [e for e in landscape.get("seed", "-n", NS, "events")["items"]
                                                       if e["involvedObject"]["name"] == "bar" and e["type"] == "Normal"])
    assert events[0]["involvedObject"]["kind"] == "Network"
    assert events[0]["source"]["component"] == "network-controller"
    described = landscape.kubectl("seed", "-n", NS, "describe", "network", "bar").stdout
    assert "Events:" in described and "Succeeded" in described


def test_overlay_switch_off_waits_for_routes(landscape):
    # A Kubernetes 1.36 shoot (MutatingAdmissionPolicy available) with the overlay on.
    gen = landscape.get("seed", "-n", NS, "network", "bar")["metadata"]["generation"]
    patch_shoot(landscape, {"spec": {"kubernetes": {"version": "1.36.0"}}})
    wait_for("the 1.36 Cluster to reconcile", lambda: (c := landscape.get("seed", "cluster", NS))
             and c["spec"]["shoot"]["spec"]["kubernetes"]["version"] == "1.36.0")
    # Hold the route of one node: its NetworkUnavailable condition turns True/NoRouteCreated.
    landscape.kubectl("shoot", "annotate", "node", "worker-a-1", "calico-dev/hold-route=true")
    wait_for("the route to be held", lambda: [c for c in landscape.get("shoot", "node", "worker-a-1")["status"]["conditions"]
                                              if c["type"] == "NetworkUnavailable" and c["reason"] == "NoRouteCreated"])
    patch_shoot(landscape, {"spec": {"networking": {"providerConfig": {"overlay": {"enabled": False}}}}})

    def held():
        net = landscape.get("seed", "-n", NS, "network", "bar")
        st = net.get("status", {})
        return (net["metadata"]["generation"] > gen and st.get("lastOperation", {}).get("state") == "Error"
                and "waiting for routes" in st.get("lastError", {}).get("description", "") and net)
    wait_for("the switch to be held", held)
    wait_for("the Shoot to show the error", lambda: (s := landscape.get("garden", "-n", "garden-foo", "shoot", "bar"))
             and s["status"]["lastOperation"]["state"] == "Error")
    # The controller records the hold as a Warning Event, and describe shows it.
    warning = wait_for("the Warning Event", lambda: [e for e in landscape.get("seed", "-n", NS, "events")["items"]
                                                     if e["involvedObject"]["name"] == "bar" and e["type"] == "Warning"
                                                     and "waiting for routes" in e["message"]])
    assert warning[0]["reason"] == "ReconcileError" and warning[0]["source"]["component"] == "network-controller"
    described = landscape.kubectl("seed", "-n", NS, "describe", "network", "bar").stdout
    assert "ReconcileError" in described and "network-controller" in described, described
    # The deployed calico-node still runs the overlay.
    assert calico_node_env(landscape).get("CALICO_IPV4POOL_IPIP") not in (None, "Never")
    landscape.kubectl("shoot", "annotate", "node", "worker-a-1", "calico-dev/hold-route-")
    net = wait_for("the switch to go through", lambda: network_succeeded(landscape, gen))
    assert net["spec"]["providerConfig"]["overlay"]["enabled"] is False


def test_ebpf_with_kube_proxy_disabled(landscape):
    gen = landscape.get("seed", "-n", NS, "network", "bar")["metadata"]["generation"]
    patch_shoot(landscape, {"spec": {"kubernetes": {"kubeProxy": {"enabled": False, "mode": None}},
                                     "networking": {"providerConfig": {"ebpfDataplane": {"enabled": True}}}}})
    try:
        wait_for("the eBPF Network", lambda: network_succeeded(landscape, gen))
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, describe_failure(landscape)))
    wait_for("FELIX_BPFENABLED in the shoot", lambda: mr_applied(landscape) and calico_node_env(landscape).get("FELIX_BPFENABLED") == "true")


def test_invalid_provider_config_is_denied_at_admission(landscape):
    r = patch_shoot(landscape, {"spec": {"networking": {"providerConfig": {"ipv4": {"pool": "foo"}}}}}, check=False)
    assert r.returncode != 0, "an invalid providerConfig was admitted: %s" % r.stdout
    assert "denied the request" in r.stderr and "ipv4" in r.stderr, r.stderr
    assert 'admission webhook "' in r.stderr


WARNING_CASES = [
    ("typha", {"spec": {"networking": {"providerConfig": {"typha": {}}}}}, "typha: {} disables Typha"),
    ("vpa", {"spec": {"networking": {"providerConfig": {"autoScaling": {"mode": "vpa"}}}}}, "autoScaling.mode vpa"),
    ("nodelocaldns", {"spec": {"systemComponents": {"nodeLocalDNS": {"enabled": True}}}}, "NodeLocalDNS and snatToUpstreamDNS"),
    ("ipip", {"spec": {"networking": {"providerConfig": {"ipip": "Always"}}}}, "ipip is deprecated"),
    ("ipAutodetectionMethod", {"spec": {"networking": {"providerConfig": {"ipAutodetectionMethod": "first-found"}}}},
     "ipAutodetectionMethod is deprecated"),
    ("ebpf-azure", {"spec": {"provider": {"type": "azure"}, "networking": {"providerConfig": {"ebpfDataplane": {"enabled": True}}}}},
     "eBPF on Azure"),
    ("plan", {"spec": {"networking": {"providerConfig": {"overlay": {"enabled": True}}}}}, "change:"),
]


@pytest.mark.parametrize("name,patch,text", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_each_admission_warning_reaches_kubectl(landscape, name, patch, text):
    # A server-side dry run is admitted like a write (the webhook has no side effects) and
    # changes nothing, so every case starts from the example Shoot.
    r = landscape.kubectl("garden", "-n", "garden-foo", "patch", "shoot", "bar", "--type", "merge", "--dry-run=server",
                          "-p", json.dumps(patch), check=False)
    assert r.returncode == 0, r.stderr
    assert "Warning:" in r.stderr and text in r.stderr, r.stderr


def test_admission_warnings_reach_kubectl(landscape):
    # typha: {} disables Typha without saying so: allowed, with a warning kubectl prints.
    r = patch_shoot(landscape, {"spec": {"networking": {"providerConfig": {"typha": {}}}}}, check=False)
    assert r.returncode == 0, r.stderr
    assert "Warning:" in r.stderr and "yph" in r.stderr, r.stderr
    patch_shoot(landscape, {"spec": {"networking": {"providerConfig": {"typha": None}}}})


def test_deleting_the_shoot_removes_everything(landscape):
    mr = landscape.get("seed", "-n", NS, "managedresource", MR)
    secrets = [s["name"] for s in mr["spec"]["secretRefs"]]
    assert landscape.get("shoot", "-n", "kube-system", "daemonset", "calico-node") is not None
    landscape.kubectl("garden", "-n", "garden-foo", "delete", "shoot", "bar", "--wait=false")
    wait_for("the Shoot to be gone", lambda: landscape.kubectl("garden", "-n", "garden-foo", "get", "shoot", "bar", check=False).returncode != 0)
    assert landscape.get("seed", "-n", NS, "network", "bar") is None
    assert landscape.get("seed", "-n", NS, "managedresource", MR) is None
    for name in secrets:
        assert landscape.get("seed", "-n", NS, "secret", name) is None
    assert landscape.get("seed", "cluster", NS) is None
    # The shoot's objects went with the ManagedResource.
    assert landscape.get("shoot", "-n", "kube-system", "daemonset", "calico-node") is None
    assert landscape.get("shoot", "clusterrole", "calico-node") is None


def test_once_lock_reset_and_failure():
    state = Path(tempfile.mkdtemp(prefix="local-once-"))
    try:
        first = subprocess.run([BIN, "local", "--once", "--state-dir", str(state), "--example-dir", str(EXAMPLE)],
                               capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        assert "State: new, from the example" in first.stdout and "ready in" in first.stdout
        kubeconfigs = {c: (state / ("%s.kubeconfig" % c)).read_text() for c in ("garden", "seed", "shoot")}
        again = subprocess.run([BIN, "local", "--once", "--state-dir", str(state), "--example-dir", str(EXAMPLE)],
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "State: kept from the last run" in again.stdout
        # The ports were free again: every kubeconfig is still valid unchanged.
        for cluster, text in kubeconfigs.items():
            assert (state / ("%s.kubeconfig" % cluster)).read_text() == text
        # --reset starts from the example again; --hold-routes starts the new Nodes without routes.
        holder = Local("--reset", "--nodes", "2", "--hold-routes", state=state)
        try:
            assert "State: new, from the example" in "".join(holder.output)
            nodes = holder.get("shoot", "nodes")["items"]
            assert len(nodes) == 2
            for node in nodes:
                na = [c for c in node["status"]["conditions"] if c["type"] == "NetworkUnavailable"][0]
                assert (na["status"], na["reason"]) == ("True", "NoRouteCreated")
            # A running instance holds the state dir: a second one names it and exits non-zero.
            second = subprocess.run([BIN, "local", "--once", "--state-dir", str(state)], capture_output=True, text=True, timeout=60)
            assert second.returncode != 0
            assert "is in use by process %d" % holder.proc.pid in second.stderr
            # keepObjects: deleting the Shoot (and so the ManagedResource) leaves the shoot's objects.
            holder.kubectl("seed", "-n", NS, "patch", "managedresource", MR, "--type", "merge", "-p", '{"spec":{"keepObjects":true}}')
            holder.kubectl("garden", "-n", "garden-foo", "delete", "shoot", "bar", "--wait=false")
            wait_for("the Shoot to be gone", lambda: holder.kubectl("garden", "-n", "garden-foo", "get", "shoot", "bar", check=False).returncode != 0)
            assert holder.get("seed", "-n", NS, "managedresource", MR) is None
            assert holder.get("shoot", "-n", "kube-system", "daemonset", "calico-node") is not None
        finally:
            holder.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_once_fails_with_the_reason():
    example = Path(tempfile.mkdtemp(prefix="local-example-"))
    state = Path(tempfile.mkdtemp(prefix="local-fail-"))
    try:
        shutil.copytree(EXAMPLE, example, dirs_exist_ok=True)
        shoot = example / "local" / "shoot.yaml"
        shoot.write_text(shoot.read_text().replace("kubeProxy:\n      enabled: true", "kubeProxy:\n      enabled: false"))
        r = subprocess.run([BIN, "local", "--once", "--state-dir", str(state), "--example-dir", str(example)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode != 0
        # Denied by the webhook (once the server calls it) or the Network's error.
        assert "kube-proxy" in r.stderr or "kubeProxy" in r.stderr, r.stderr
    finally:
        shutil.rmtree(example, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
