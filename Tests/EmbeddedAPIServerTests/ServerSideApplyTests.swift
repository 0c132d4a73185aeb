import EmbeddedAPIServer
import Foundation
import KubeCore
import TestSupport
import Testing

private let cms = "/api/v1/namespaces/default/configmaps"
private let apply = "application/apply-patch+yaml"

/// A Gadget CRD whose schema declares list types: `spec.items` keyed by name, `spec.tags` a set,
/// `spec.order` atomic.
private let listTypesCRD = gadgetCRD(
    schema: [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object",
                "properties": [
                    "items": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": [
                            "type": "object", "required": ["name"],
                            "properties": ["name": ["type": "string"], "value": ["type": "string"]],
                        ],
                    ],
                    "tags": ["type": "array", "x-kubernetes-list-type": "set", "items": ["type": "string"]],
                    "order": ["type": "array", "items": ["type": "string"]],
                    "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                ],
            ]
        ],
    ], statusSubresource: false)

private func gadget(_ spec: JSON) -> JSON {
    ["apiVersion": "demo.example.com/v1", "kind": "Gadget", "metadata": ["name": "g"], "spec": spec]
}

private func entries(_ obj: JSON) -> [JSON] { obj[path: "metadata", "managedFields"]?.arrayValue ?? [] }

private func entry(_ obj: JSON, _ manager: String, _ operation: String) -> JSON? {
    entries(obj).first { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == operation }
}

@Suite struct ManagedFieldsTests {
    @Test func updateOperationsRecordAndMoveOwnership() async throws {
        try await withServer(crd: false) { server, c in
            let created = try await c.post(
                "\(cms)?fieldManager=creator", ["metadata": ["name": "cm", "labels": ["x": "1"]], "data": ["a": "1", "keep": "k"]])
            #expect(created.status == 201)
            let e = try #require(entry(created.json, "creator", "Update"))
            #expect(e["apiVersion"] == "v1" && e["fieldsType"] == "FieldsV1" && e["time"]?.stringValue?.hasSuffix("Z") == true)
            #expect(
                e["fieldsV1"]
                    == [
                        "f:data": [".": .emptyObject, "f:a": .emptyObject, "f:keep": .emptyObject],
                        "f:metadata": ["f:labels": [".": .emptyObject, "f:x": .emptyObject]],
                    ])
            #expect(e["subresource"] == nil)
            #expect(try await c.get("\(cms)/cm").json == created.json)

            // Another manager changes data.a and adds data.b: it takes data.a from the creator.
            let patched = try await c.patch("\(cms)/cm?fieldManager=editor", ["data": ["a": "2", "b": "3"]])
            #expect(patched.status == 200)
            #expect(entry(patched.json, "editor", "Update")?["fieldsV1"] == ["f:data": ["f:a": .emptyObject, "f:b": .emptyObject]])
            #expect(
                entry(patched.json, "creator", "Update")?["fieldsV1"]
                    == [
                        "f:data": [".": .emptyObject, "f:keep": .emptyObject], "f:metadata": ["f:labels": [".": .emptyObject, "f:x": .emptyObject]],
                    ])

            // A write that changes nothing is a no-op: same resourceVersion, same managed fields.
            let rv = server.currentResourceVersion
            let same = try await c.patch("\(cms)/cm?fieldManager=third", ["data": ["a": "2"]])
            #expect(same.json == patched.json && server.currentResourceVersion == rv)

            // Removing a field removes it from its owner; an entry left empty disappears.
            let removed = try await c.patch("\(cms)/cm?fieldManager=editor", ["data": ["a": nil, "b": nil]])
            #expect(entry(removed.json, "editor", "Update") == nil)

            // Without fieldManager the manager is the User-Agent's first segment.
            let viaAgent = try await c.request(
                "PATCH", "\(cms)/cm", body: (["data": ["c": "4"]] as JSON).serialized(),
                headers: [("Content-Type", "application/merge-patch+json"), ("User-Agent", "kubectl/v1.37.0 (linux/amd64) kubernetes/abc")])
            #expect(entry(viaAgent.json, "kubectl", "Update")?["fieldsV1"] == ["f:data": ["f:c": .emptyObject]])
        }
    }

    @Test func atMostTenUpdateEntriesTheOldestMergeIntoAncientChanges() async throws {
        try await withServer(crd: false) { _, c in
            _ = try await c.post("\(cms)?fieldManager=m0", ["metadata": ["name": "cm"], "data": ["k0": "v"]])
            var last = JSON.null
            for i in 1...10 { last = try await c.patch("\(cms)/cm?fieldManager=m\(i)", ["data": ["k\(i)": "v"]]).json }
            let managers = entries(last).compactMap { $0["manager"]?.stringValue }
            #expect(managers.count == 10 && managers.contains("ancient-changes"))
            #expect(entries(last).allSatisfy { $0["operation"] == "Update" })
        }
    }

    @Test func clientsResetManagedFieldsAndStatusWritesAreSubresourceEntries() async throws {
        try await withServer { _, c in
            _ = try await c.post("\(widgets)?fieldManager=creator", widget("w"))
            // An empty list keeps them, `[{}]` clears them.
            let kept = try await c.patch("\(widgets)/w?fieldManager=x", ["metadata": ["managedFields": []]])
            #expect(entries(kept.json).count == 1)
            let cleared = try await c.patch("\(widgets)/w?fieldManager=x", ["metadata": ["managedFields": [.emptyObject]]])
            #expect(cleared.status == 200 && cleared.json[path: "metadata", "managedFields"] == nil)
            let invalid = try await c.patch(
                "\(widgets)/w?fieldManager=x",
                ["metadata": ["managedFields": [["manager": "m", "operation": "Merge", "fieldsV1": ["f:spec": .emptyObject]]]]])
            #expect(invalid.status == 422)
            #expect(
                invalid.json["message"]
                    == "Widget.demo.example.com \"w\" is invalid: metadata.managedFields[0].operation: Invalid value: \"Merge\": must be `Apply` or `Update`"
            )
            let status = try await c.patch("\(widgets)/w/status?fieldManager=ctl", ["status": ["phase": "Ready"]])
            let e = try #require(entry(status.json, "ctl", "Update"))
            #expect(e["subresource"] == "status" && e["fieldsV1"] == ["f:status": [".": .emptyObject, "f:phase": .emptyObject]])
        }
    }
}

@Suite struct ServerSideApplyTests {
    @Test func conflictsForceAndRemovalOfFieldsNoLongerApplied() async throws {
        try await withServer(crd: false) { _, c in
            _ = try await c.post("\(cms)?fieldManager=kubectl-client-side-apply", ["metadata": ["name": "cm"], "data": ["foo": "1"]])
            let cfg: (JSON) -> JSON = { data in ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"], "data": data] }
            let noManager = try await c.patch("\(cms)/cm", cfg(["foo": "2"]), type: apply)
            #expect(noManager.status == 422)
            let conflict = try await c.patch("\(cms)/cm?fieldManager=mine", cfg(["foo": "2", "bar": "b"]), type: apply)
            #expect(conflict.status == 409 && conflict.json["reason"] == "Conflict")
            #expect(conflict.json["message"] == "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.foo")
            #expect(
                conflict.json[path: "details", "causes"]
                    == [["type": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using v1", "field": ".data.foo"]])
            // The same value is no conflict: both own it.
            let shared = try await c.patch("\(cms)/cm?fieldManager=mine", cfg(["foo": "1", "bar": "b"]), type: apply)
            #expect(shared.status == 200)
            #expect(entry(shared.json, "mine", "Apply")?["fieldsV1"] == ["f:data": ["f:bar": .emptyObject, "f:foo": .emptyObject]])
            #expect(entry(shared.json, "mine", "Apply")?["apiVersion"] == "v1")
            // force takes the field.
            let forced = try await c.patch("\(cms)/cm?fieldManager=mine&force=true", cfg(["foo": "2", "bar": "b"]), type: apply)
            #expect(forced.status == 200 && forced.json[path: "data", "foo"] == "2")
            // It keeps data itself (it created the map), as a leaf.
            #expect(entry(forced.json, "kubectl-client-side-apply", "Update")?["fieldsV1"] == ["f:data": .emptyObject])
            // A field the manager no longer applies is removed; one another manager also owns stays.
            _ = try await c.patch("\(cms)/cm?fieldManager=other", cfg(["bar": "b"]), type: apply)
            let dropped = try await c.patch("\(cms)/cm?fieldManager=mine", cfg([:]), type: apply)
            #expect(dropped.status == 200 && dropped.json["data"] == ["bar": "b"])
            let two = try await c.patch("\(cms)/cm?fieldManager=a", cfg(["x": "1", "y": "2"]), type: apply)
            let three = try await c.patch("\(cms)/cm?fieldManager=b", cfg(["x": "3", "y": "4"]), type: apply)
            #expect(two.status == 200 && three.status == 409)
            #expect(
                three.json["message"]
                    == "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y")
            let badManaged = try await c.patch(
                "\(cms)/cm?fieldManager=a", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm", "managedFields": [.emptyObject]]],
                type: apply)
            #expect(badManaged.status == 400 && badManaged.json["message"] == "metadata.managedFields must be nil")
            let wrongType = try await c.patch("\(cms)/cm?fieldManager=a", ["apiVersion": "apps/v1", "kind": "ConfigMap"], type: apply)
            #expect(wrongType.status == 400 && wrongType.json["message"] == "invalid object type: apps/v1, Kind=ConfigMap")
            let noType = try await c.patch("\(cms)/cm?fieldManager=a", ["data": ["x": "1"]], type: apply)
            #expect(noType.status == 400 && noType.json["message"] == "invalid object type: /, Kind=")
            // A resourceVersion in the configuration is a precondition.
            let stale = try await c.patch(
                "\(cms)/cm?fieldManager=a",
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm", "resourceVersion": "1"], "data": ["x": "1"]], type: apply)
            #expect(stale.status == 409 && stale.json["reason"] == "Conflict")
        }
    }

    @Test func listsMergeByTheirSchemaListType() async throws {
        try await withServer(crd: false) { _, c in
            #expect(try await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", listTypesCRD).status == 201)
            let a = try await c.patch(
                "\(gadgets)/g?fieldManager=a",
                gadget(["items": [["name": "one", "value": "1"]], "tags": ["x"], "order": ["p"], "labels": ["l1": "v"]]), type: apply)
            #expect(a.status == 201)
            #expect(
                entry(a.json, "a", "Apply")?["fieldsV1"]
                    == [
                        "f:spec": [
                            "f:items": ["k:{\"name\":\"one\"}": [".": .emptyObject, "f:name": .emptyObject, "f:value": .emptyObject]],
                            "f:labels": ["f:l1": .emptyObject], "f:order": .emptyObject, "f:tags": ["v:\"x\"": .emptyObject],
                        ]
                    ])
            let b = try await c.patch(
                "\(gadgets)/g?fieldManager=b", gadget(["items": [["name": "two", "value": "2"]], "tags": ["y"], "labels": ["l2": "w"]]),
                type: apply)
            #expect(b.status == 200)
            #expect(b.json[path: "spec", "items"] == [["name": "one", "value": "1"], ["name": "two", "value": "2"]])
            #expect(b.json[path: "spec", "tags"] == ["x", "y"] && b.json[path: "spec", "labels"] == ["l1": "v", "l2": "w"])
            // An atomic list is one field: another value conflicts.
            let atomic = try await c.patch("\(gadgets)/g?fieldManager=b", gadget(["order": ["q"]]), type: apply)
            #expect(atomic.status == 409 && atomic.json["message"]?.stringValue?.hasSuffix("conflict with \"a\": .spec.order") == true)
            let keyed = try await c.patch("\(gadgets)/g?fieldManager=b", gadget(["items": [["name": "one", "value": "9"]]]), type: apply)
            #expect(keyed.json["message"] == "Apply failed with 1 conflict: conflict with \"a\": .spec.items[name=\"one\"].value")
            // a stops applying its item and tag: they go, b's stay.
            let dropped = try await c.patch("\(gadgets)/g?fieldManager=a", gadget(["order": ["p"]]), type: apply)
            #expect(dropped.json[path: "spec", "items"] == [["name": "two", "value": "2"]])
            #expect(dropped.json[path: "spec", "tags"] == ["y"] && dropped.json[path: "spec", "labels"] == ["l2": "w"])
        }
    }

    @Test func builtinListsMergeByStrategicKeys() async throws {
        try await withServer(crd: false) { _, c in
            let deploys = "/apis/apps/v1/namespaces/default/deployments"
            func deployment(_ containers: JSON) -> JSON {
                [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
                    "spec": [
                        "selector": ["matchLabels": ["app": "d"]],
                        "template": ["metadata": ["labels": ["app": "d"]], "spec": ["containers": containers]],
                    ],
                ]
            }
            let a = try await c.patch("\(deploys)/d?fieldManager=a", deployment([["name": "main", "image": "nginx"]]), type: apply)
            #expect(a.status == 201, "\(a.text)")
            #expect(a.json[path: "metadata", "generation"] == 1)
            let fields = try #require(entry(a.json, "a", "Apply")?["fieldsV1"])
            #expect(fields[path: "f:spec", "f:selector"] == .emptyObject)
            #expect(
                fields[path: "f:spec", "f:template", "f:spec", "f:containers"]
                    == ["k:{\"name\":\"main\"}": [".": .emptyObject, "f:image": .emptyObject, "f:name": .emptyObject]])
            let b = try await c.patch(
                "\(deploys)/d?fieldManager=b",
                [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
                    "spec": ["template": ["spec": ["containers": [["name": "side", "image": "busybox"]]]]],
                ],
                type: apply)
            #expect(b.status == 200)
            #expect(b.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["main", "side"])
            #expect(b.json[path: "metadata", "generation"] == 2)
        }
    }

    @Test func dryRunOnEveryWriteVerbStoresNothing() async throws {
        try await withServer(crd: false) { server, c in
            _ = try await c.post(cms, ["metadata": ["name": "real", "finalizers": ["demo.io/hold"]], "data": ["a": "1"]])
            let stored = try await c.get("\(cms)/real").json
            let rv = server.currentResourceVersion

            let created = try await c.post("\(cms)?dryRun=All&fieldManager=m", ["metadata": ["name": "dry"], "data": ["a": "1"]])
            #expect(created.status == 201 && created.json[path: "metadata", "uid"]?.stringValue?.count == 36)
            #expect(created.json[path: "metadata", "creationTimestamp"] != nil && created.json[path: "metadata", "resourceVersion"] == nil)
            #expect(entry(created.json, "m", "Update") != nil)
            var changed = stored
            changed[path: "data", "a"] = "2"
            let put = try await c.put("\(cms)/real?dryRun=All", changed)
            #expect(put.status == 200 && put.json[path: "data", "a"] == "2")
            let patched = try await c.patch("\(cms)/real?dryRun=All", ["data": ["a": "3"]])
            #expect(patched.status == 200 && patched.json[path: "data", "a"] == "3")
            let applied = try await c.patch(
                "\(cms)/real?dryRun=All&fieldManager=m&force=true",
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "real"], "data": ["a": "4"]], type: apply)
            #expect(applied.status == 200 && applied.json[path: "data", "a"] == "4" && entry(applied.json, "m", "Apply") != nil)
            let applyCreate = try await c.patch(
                "\(cms)/new?dryRun=All&fieldManager=m", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "new"]], type: apply)
            #expect(applyCreate.status == 201)
            let deleted = try await c.delete("\(cms)/real?dryRun=All")
            #expect(deleted.status == 200 && deleted.json[path: "metadata", "deletionTimestamp"] != nil)
            let collection = try await c.delete("\(cms)?dryRun=All")
            #expect(collection.status == 200 && collection.json["items"]?.arrayValue?.count == 1)
            let namespace = try await c.delete("/api/v1/namespaces/kube-node-lease?dryRun=All")
            #expect(namespace.json[path: "status", "phase"] == "Terminating" && namespace.json[path: "metadata", "deletionTimestamp"] != nil)
            let bad = try await c.patch("\(cms)/real?dryRun=Some", ["data": ["a": "5"]])
            #expect(bad.status == 422)
            #expect(
                bad.json["message"] == "PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\"")

            #expect(server.currentResourceVersion == rv)
            #expect(try await c.get("\(cms)/real").json == stored)
            #expect(try await c.get("\(cms)/dry").status == 404)
            #expect(try await c.get("\(cms)/new").status == 404)
            // No watch event either: from the resourceVersion before, the first event is the next real write.
            _ = try await c.post(cms, ["metadata": ["name": "marker"]])
            let events = try await collect(c.watch("\(cms)?watch=true&resourceVersion=\(rv)"), count: 1)
            #expect(eventSummary(events) == ["ADDED marker"])
        }
    }
}
