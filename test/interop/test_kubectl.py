"""kubectl from the pinned venv against the embedded API server (issue 2, item 4)."""
import datetime
import json
import time

WIDGET = """\
apiVersion: demo.example.com/v1
kind: Widget
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: demo
spec:
  size: {size}
  color: {color}
"""


def test_version_and_api_resources(apiserver):
    out = apiserver.kubectl("version", "-o", "json").stdout
    server = json.loads(out)["serverVersion"]
    assert server["major"] == "1" and server["minor"] == "33"
    res = apiserver.kubectl("api-resources").stdout
    assert "configmaps" in res and "leases" in res and "customresourcedefinitions" in res


def test_apply_crd_then_custom_resources_and_reapply(widgets, namespace):
    k = widgets.kubectl
    out = k("apply", "-f", "-", input=WIDGET.format(name="w1", ns=namespace, size=3, color="red")).stdout
    assert "widget.demo.example.com/w1 created" in out
    # Re-apply unchanged: nothing to do.
    out = k("apply", "-f", "-", input=WIDGET.format(name="w1", ns=namespace, size=3, color="red")).stdout
    assert "widget.demo.example.com/w1 unchanged" in out
    # Re-apply a changed file: client-side apply computes a merge patch.
    out = k("apply", "-f", "-", input=WIDGET.format(name="w1", ns=namespace, size=5, color="blue")).stdout
    assert "widget.demo.example.com/w1 configured" in out
    obj = json.loads(k("get", "widget", "w1", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"] == {"size": 5, "color": "blue"}
    assert obj["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]


def test_get_output_formats_and_printer_columns(widgets, namespace):
    k = widgets.kubectl
    k("apply", "-f", "-", input=WIDGET.format(name="w2", ns=namespace, size=7, color="green"))
    k("patch", "widget", "w2", "-n", namespace, "--subresource", "status", "--type", "merge", "-p", '{"status":{"phase":"Ready"}}')
    y = k("get", "widget", "w2", "-n", namespace, "-o", "yaml").stdout
    assert "kind: Widget" in y and "size: 7" in y and "color: green" in y
    j = json.loads(k("get", "widgets", "-n", namespace, "-o", "json").stdout)
    assert j["kind"] == "List" and [i["metadata"].get("name") for i in j["items"]] == ["w2"], j
    jp = k("get", "widget", "w2", "-n", namespace, "-o", "jsonpath={.spec.color}/{.status.phase}").stdout
    assert jp == "green/Ready"
    table = k("get", "widgets", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "PHASE", "AGE"]
    assert table[1].split()[:3] == ["w2", "7", "Ready"]
    # Short name and fully qualified name resolve too.
    assert "w2" in k("get", "wd", "-n", namespace, "-o", "name").stdout
    assert "widget.demo.example.com/w2" in k("get", "widgets.demo.example.com", "-n", namespace, "-o", "name").stdout


def test_get_watch_receives_added_modified_deleted(widgets, namespace):
    k = widgets.kubectl
    proc = widgets.popen_kubectl("get", "widgets", "-n", namespace, "-w", "--output-watch-events")
    try:
        time.sleep(2)
        k("apply", "-f", "-", input=WIDGET.format(name="w3", ns=namespace, size=1, color="red"))
        time.sleep(0.5)
        k("patch", "widget", "w3", "-n", namespace, "--type", "merge", "-p", '{"spec":{"size":2}}')
        time.sleep(0.5)
        k("delete", "widget", "w3", "-n", namespace)
        time.sleep(1.5)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    events = [line.split()[0] for line in out.splitlines() if line.strip() and not line.startswith("EVENT")]
    assert events[:3] == ["ADDED", "MODIFIED", "DELETED"], (out, err)


def test_patch_merge_json_and_status(widgets, namespace):
    k = widgets.kubectl
    k("apply", "-f", "-", input=WIDGET.format(name="w4", ns=namespace, size=1, color="red"))
    out = k("patch", "widget", "w4", "-n", namespace, "--type", "merge", "-p", '{"spec":{"color":"black"}}').stdout
    assert "widget.demo.example.com/w4 patched" in out
    k("patch", "widget", "w4", "-n", namespace, "--type", "json", "-p", '[{"op":"replace","path":"/spec/size","value":9}]')
    k("patch", "widget", "w4", "-n", namespace, "--subresource", "status", "--type", "merge", "-p", '{"status":{"phase":"Done"}}')
    obj = json.loads(k("get", "widget", "w4", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"] == {"size": 9, "color": "black"}
    assert obj["status"] == {"phase": "Done"}
    assert obj["metadata"]["generation"] == 3  # two spec changes, status write does not count
    # Strategic merge (kubectl's default) is rejected for custom resources.
    r = k("patch", "widget", "w4", "-n", namespace, "-p", '{"spec":{"size":1}}', check=False)
    assert r.returncode != 0
    assert "application/strategic-merge-patch+json is not supported" in r.stderr
    # A JSON patch that does not apply is a 422.
    r = k("patch", "widget", "w4", "-n", namespace, "--type", "json", "-p", '[{"op":"test","path":"/spec/size","value":1}]', check=False)
    assert r.returncode != 0 and "the server rejected our request due to an error in our request" in r.stderr


def test_delete_without_and_with_finalizers(widgets, namespace):
    k = widgets.kubectl
    k("apply", "-f", "-", input=WIDGET.format(name="plain", ns=namespace, size=1, color="red"))
    out = k("delete", "widget", "plain", "-n", namespace, "--wait").stdout
    assert 'widget.demo.example.com "plain" deleted' in out
    r = k("get", "widget", "plain", "-n", namespace, check=False)
    assert r.returncode != 0 and 'widgets.demo.example.com "plain" not found' in r.stderr

    k("apply", "-f", "-", input=WIDGET.format(name="held", ns=namespace, size=1, color="red"))
    k("patch", "widget", "held", "-n", namespace, "--type", "merge", "-p", '{"metadata":{"finalizers":["demo.example.com/hold"]}}')
    out = k("delete", "widget", "held", "-n", namespace, "--wait=false").stdout
    assert 'widget.demo.example.com "held" deleted' in out
    obj = json.loads(k("get", "widget", "held", "-n", namespace, "-o", "json").stdout)
    assert obj["metadata"]["deletionTimestamp"]
    assert obj["metadata"]["finalizers"] == ["demo.example.com/hold"]
    # delete --wait blocks until the finalizer goes away.
    waiter = widgets.popen_kubectl("delete", "widget", "held", "-n", namespace, "--wait", "--timeout=30s")
    time.sleep(2)
    assert waiter.poll() is None, "delete --wait returned while the finalizer was pending"
    k("patch", "widget", "held", "-n", namespace, "--type", "json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    r = k("get", "widget", "held", "-n", namespace, check=False)
    assert "not found" in r.stderr


def test_wait_for_jsonpath(widgets, namespace):
    k = widgets.kubectl
    k("apply", "-f", "-", input=WIDGET.format(name="w5", ns=namespace, size=1, color="red"))
    waiter = widgets.popen_kubectl("wait", "widget/w5", "-n", namespace, "--for=jsonpath={.status.phase}=Ready", "--timeout=30s")
    time.sleep(1.5)
    k("patch", "widget", "w5", "-n", namespace, "--subresource", "status", "--type", "merge", "-p", '{"status":{"phase":"Ready"}}')
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err
    assert "widget.demo.example.com/w5 condition met" in out


def test_create_namespace_label_annotate(apiserver):
    k = apiserver.kubectl
    out = k("create", "namespace", "kubectl-made").stdout  # protobuf request body
    assert "namespace/kubectl-made created" in out
    assert "namespace/kubectl-made labeled" in k("label", "namespace", "kubectl-made", "team=net").stdout
    assert "namespace/kubectl-made annotated" in k("annotate", "namespace", "kubectl-made", "owner=calico").stdout
    ns = json.loads(k("get", "namespace", "kubectl-made", "-o", "json").stdout)
    assert ns["metadata"]["labels"]["team"] == "net"
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "kubectl-made"
    assert ns["metadata"]["annotations"]["owner"] == "calico"
    assert ns["status"]["phase"] == "Active"
    table = k("get", "namespaces").stdout
    assert "kubectl-made" in table and "default" in table and "kube-system" in table


def test_create_configmap_and_secret_generators(apiserver, namespace):
    k = apiserver.kubectl
    assert "configmap/cfg created" in k("create", "configmap", "cfg", "-n", namespace, "--from-literal=a=1", "--from-literal=b=two").stdout
    assert "secret/sec created" in k("create", "secret", "generic", "sec", "-n", namespace, "--from-literal=password=s3cret").stdout
    cm = json.loads(k("get", "configmap", "cfg", "-n", namespace, "-o", "json").stdout)
    assert cm["data"] == {"a": "1", "b": "two"}
    pw = k("get", "secret", "sec", "-n", namespace, "-o", "jsonpath={.data.password}").stdout
    import base64
    assert base64.b64decode(pw) == b"s3cret"
    # Client-side apply of a built-in uses a strategic merge patch.
    cm_yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: %s\ndata:\n  k: v1\n" % namespace
    assert "configmap/applied created" in k("apply", "-f", "-", input=cm_yaml).stdout
    assert "configmap/applied configured" in k("apply", "-f", "-", input=cm_yaml.replace("k: v1", "k: v2")).stdout
    assert k("get", "cm", "applied", "-n", namespace, "-o", "jsonpath={.data.k}").stdout == "v2"


def test_unknown_resource_type(apiserver):
    r = apiserver.kubectl("get", "foobars", check=False)
    assert r.returncode != 0
    assert 'the server doesn\'t have a resource type "foobars"' in r.stderr


def test_not_found_and_missing_namespace(widgets):
    r = widgets.kubectl("get", "configmap", "nope", "-n", "default", check=False)
    assert 'configmaps "nope" not found' in r.stderr
    r = widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="x", ns="no-such-ns", size=1, color="red"), check=False)
    assert r.returncode != 0 and 'namespaces "no-such-ns" not found' in r.stderr


def test_get_events_prints_kubes_event_table(apiserver, namespace):
    k = apiserver.kubectl
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "bar.1", "namespace": namespace},
             "involvedObject": {"apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Network", "name": "bar",
                                "namespace": namespace},
             "type": "Warning", "reason": "ReconcileError", "message": "Error reconciling Network: boom\n",
             "source": {"component": "network-controller", "host": "node-1"}, "count": 3,
             "firstTimestamp": now, "lastTimestamp": now}
    k("create", "-f", "-", input=json.dumps(event))
    # As kube prints it: no NAME column first, the object as kind/name, the message trimmed.
    lines = k("get", "events", "-n", namespace).stdout.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], lines
    assert lines[1].split()[1:] == ["Warning", "ReconcileError", "network/bar", "Error", "reconciling", "Network:", "boom"], lines
    wide = k("get", "events", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST", "SEEN",
                               "COUNT", "NAME"], wide
    assert "network-controller, node-1" in wide[1] and wide[1].split()[-2:] == ["3", "bar.1"], wide
    # The events.k8s.io view prints the same table.
    assert k("get", "events.v1.events.k8s.io", "-n", namespace).stdout.splitlines()[1].split()[1:4] == [
        "Warning", "ReconcileError", "network/bar"]
