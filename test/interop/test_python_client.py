"""The official Python client (kubernetes 37.x) against the embedded API server (issue 2, item 4)."""
import json

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from conftest import APIServer, WIDGET_CRD

GROUP, VERSION, PLURAL = "demo.example.com", "v1", "widgets"


def widget(name, size=1, labels=None):
    return {"apiVersion": "demo.example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "labels": labels or {}}, "spec": {"size": size}}


def test_list_then_watch_resuming_from_resource_version(widgets, namespace):
    api = client.CoreV1Api(widgets.python_client())
    api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="before"), data={"a": "1"}))
    listed = api.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in listed.items] == ["before"]
    rv = listed.metadata.resource_version
    # Changes after the list...
    api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after"), data={"b": "2"}))
    api.patch_namespaced_config_map("before", namespace, {"data": {"a": "changed"}})
    api.delete_namespaced_config_map("after", namespace)
    # ...are all seen, in order, by a watch resuming from the list's resourceVersion.
    w = watch.Watch()
    seen = []
    for event in w.stream(api.list_namespaced_config_map, namespace, resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "after"), ("MODIFIED", "before"), ("DELETED", "after")]


def test_watch_custom_objects_with_label_selector(widgets, namespace):
    co = client.CustomObjectsApi(widgets.python_client())
    w = watch.Watch()
    rv = co.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["metadata"]["resourceVersion"]
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("blue", labels={"color": "blue"}))
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("red", labels={"color": "red"}))
    names = []
    for event in w.stream(co.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
                          label_selector="color in (red)", resource_version=rv, timeout_seconds=3):
        names.append((event["type"], event["object"]["metadata"]["name"]))
        w.stop()
    assert names == [("ADDED", "red")]


def test_conflict_on_stale_update(widgets, namespace):
    co = client.CustomObjectsApi(widgets.python_client())
    created = co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("c1"))
    stale = dict(created)
    fresh = co.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "c1")
    fresh["spec"]["size"] = 2
    co.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "c1", fresh)
    stale["spec"] = {"size": 3}
    with pytest.raises(ApiException) as e:
        co.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "c1", stale)
    assert e.value.status == 409
    assert '"reason":"Conflict"' in e.value.body.replace(" ", "")
    assert "the object has been modified" in e.value.body
    # Also for core types.
    api = client.CoreV1Api(widgets.python_client())
    cm = api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"x": "1"}))
    api.patch_namespaced_config_map("cm", namespace, {"data": {"x": "2"}})
    cm.data = {"x": "3"}
    with pytest.raises(ApiException) as e:
        api.replace_namespaced_config_map("cm", namespace, cm)
    assert e.value.status == 409


def test_gone_when_resuming_a_compacted_version():
    server = APIServer(extra_args=("--history-size", "5"))
    try:
        api = client.CoreV1Api(server.python_client())
        first = api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c0")))
        old_rv = first.metadata.resource_version
        for i in range(1, 12):
            api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c%d" % i)))
        w = watch.Watch()
        with pytest.raises(ApiException) as e:
            for _ in w.stream(api.list_namespaced_config_map, "default", resource_version=old_rv, timeout_seconds=3):
                pass
        assert e.value.status == 410
        assert "too old resource version" in str(e.value)
    finally:
        server.stop()


def test_pagination_with_limit_and_continue(widgets, namespace):
    api = client.CoreV1Api(widgets.python_client())
    for i in range(7):
        api.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="s%d" % i), string_data={"k": str(i)}))
    names, token, pages = [], None, 0
    while True:
        page = api.list_namespaced_secret(namespace, limit=3, _continue=token)
        pages += 1
        names += [s.metadata.name for s in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count > 0
    assert pages == 3
    assert names == ["s%d" % i for i in range(7)]


def test_status_subresource_isolation(widgets, namespace):
    co = client.CustomObjectsApi(widgets.python_client())
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, dict(widget("st"), status={"phase": "ignored"}))
    obj = co.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "st")
    assert "status" not in obj  # status dropped on create
    # A status write changes only status.
    obj["spec"]["size"] = 100
    obj["status"] = {"phase": "Ready"}
    after = co.replace_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, "st", obj)
    assert after["spec"]["size"] == 1 and after["status"] == {"phase": "Ready"}
    # A main-resource write changes only spec (status is kept).
    after["spec"]["size"] = 2
    after["status"] = {"phase": "Overwritten?"}
    after2 = co.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "st", after)
    assert after2["spec"]["size"] == 2 and after2["status"] == {"phase": "Ready"}
    patched = co.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, "st", {"status": {"phase": "Done"}, "spec": {"size": 50}})
    assert patched["status"] == {"phase": "Done"} and patched["spec"]["size"] == 2


def test_generation_increments_only_on_spec_change(widgets, namespace):
    co = client.CustomObjectsApi(widgets.python_client())
    obj = co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("g"))
    assert obj["metadata"]["generation"] == 1
    obj = co.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "g", {"metadata": {"labels": {"x": "y"}}})
    assert obj["metadata"]["generation"] == 1
    obj = co.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, "g", {"status": {"phase": "A"}})
    assert obj["metadata"]["generation"] == 1
    rv_before = obj["metadata"]["resourceVersion"]
    obj = co.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "g", {"spec": {"size": 2}})
    assert obj["metadata"]["generation"] == 2
    assert int(obj["metadata"]["resourceVersion"]) > int(rv_before)
    # No-op patch: nothing changes, not even the resourceVersion.
    same = co.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "g", {"spec": {"size": 2}})
    assert same["metadata"]["generation"] == 2
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_errors_are_status_objects(widgets, namespace):
    co = client.CustomObjectsApi(widgets.python_client())
    with pytest.raises(ApiException) as e:
        co.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "missing")
    status = json.loads(e.value.body)
    assert e.value.status == 404 and status["kind"] == "Status" and status["reason"] == "NotFound"
    assert status["message"] == 'widgets.demo.example.com "missing" not found'
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("dup"))
    with pytest.raises(ApiException) as e:
        co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("dup"))
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as e:
        co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("Bad_Name"))
    assert e.value.status == 422 and "a lowercase RFC 1123 subdomain" in json.loads(e.value.body)["message"]
    with pytest.raises(ApiException) as e:
        co.create_namespaced_custom_object(GROUP, VERSION, "no-such-namespace", PLURAL, widget("x"))
    assert e.value.status == 404
    assert json.loads(e.value.body)["message"] == 'namespaces "no-such-namespace" not found'
