import EmbeddedAPIServer
import Foundation
import KubeCore
import TestSupport
import Testing

@Suite struct LifecycleTests {
    @Test func statusSubresourceAndGeneration() async throws {
        try await withServer { _, c in
            var body = widget("s")
            body["status"] = ["phase": "dropped"]
            let created = try await c.post(widgets, body)
            #expect(created.json["status"] == nil && created.json[path: "metadata", "generation"] == 1)
            let st = try await c.patch(
                "\(widgets)/s/status", ["status": ["phase": "Ready"], "spec": ["size": 9], "metadata": ["labels": ["ignored": "yes"]]])
            #expect(st.json["status"] == ["phase": "Ready"] && st.json[path: "spec", "size"] == 1)
            #expect(st.json[path: "metadata", "labels", "ignored"] == nil && st.json[path: "metadata", "generation"] == 1)
            let main = try await c.patch("\(widgets)/s", ["status": ["phase": "Hacked"], "metadata": ["labels": ["a": "b"]]])
            #expect(main.json["status"] == ["phase": "Ready"] && main.json[path: "metadata", "generation"] == 1)
            let spec = try await c.patch("\(widgets)/s", ["spec": ["size": 2]])
            #expect(spec.json[path: "metadata", "generation"] == 2)
            let getStatus = try await c.get("\(widgets)/s/status")
            #expect(getStatus.json[path: "spec", "size"] == 2)
            var putStatus = getStatus.json
            putStatus["status"] = nil
            let removed = try await c.put("\(widgets)/s/status", putStatus)
            #expect(removed.status == 200 && removed.json["status"] == nil)
        }
    }

    @Test func finalizersAndDeletion() async throws {
        try await withServer { server, c in
            var body = widget("f")
            body[path: "metadata", "finalizers"] = ["demo.example.com/f"]
            let createdRV = Int(try await c.post(widgets, body).json[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 1
            // Resume from just before the create so the watch sees every event regardless of when it connects.
            let events = try server.makeTestClient().watch("\(widgets)?watch=true&fieldSelector=metadata.name%3Df&resourceVersion=\(createdRV - 1)")
            let deleting = try await c.delete("\(widgets)/f")
            #expect(deleting.status == 200 && deleting.json["kind"] == "Widget")
            #expect(deleting.json[path: "metadata", "deletionTimestamp"] != nil)
            #expect(deleting.json[path: "metadata", "deletionGracePeriodSeconds"] == 0)
            #expect(deleting.json[path: "metadata", "generation"] == 2)
            let again = try await c.delete("\(widgets)/f")
            #expect(again.json[path: "metadata", "resourceVersion"] == deleting.json[path: "metadata", "resourceVersion"])
            let add = try await c.patch("\(widgets)/f", ["metadata": ["finalizers": ["demo.example.com/f", "new.io/x"]]])
            #expect(
                add.status == 422
                    && add.json["message"]?.stringValue?.contains(
                        "no new finalizers can be added if the object is being deleted, found new finalizers []string{\"new.io/x\"}") == true
            )
            let spec = try await c.patch("\(widgets)/f", ["spec": ["size": 3]])
            #expect(spec.status == 200)
            let last = try await c.patch("\(widgets)/f", ["metadata": ["finalizers": nil]])
            #expect(last.status == 200)
            #expect(try await c.get("\(widgets)/f").status == 404)
            let seen = try await collect(events, count: 4)
            #expect(eventSummary(seen) == ["ADDED f", "MODIFIED f", "MODIFIED f", "DELETED f"])
            #expect(seen.last?[path: "object", "metadata", "deletionTimestamp"] != nil)
        }
    }

    @Test func namespacesExistTerminateAndCascade() async throws {
        try await withServer { _, c in
            let list = try await c.get("/api/v1/namespaces").json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue }
            #expect(list == ["default", "kube-node-lease", "kube-public", "kube-system"])
            let missing = try await c.post("/api/v1/namespaces/nope/configmaps", ["metadata": ["name": "x"]])
            #expect(
                missing.status == 404 && missing.json["message"] == "namespaces \"nope\" not found"
                    && missing.json[path: "details", "kind"] == "namespaces")
            let protected = try await c.delete("/api/v1/namespaces/default")
            #expect(protected.status == 403 && protected.json["message"] == "namespaces \"default\" is forbidden: this namespace may not be deleted")
            let ns = try await c.post("/api/v1/namespaces", ["metadata": ["name": "work"]]).json
            #expect(ns[path: "spec", "finalizers"] == ["kubernetes"] && ns[path: "status", "phase"] == "Active")
            #expect(ns[path: "metadata", "labels", "kubernetes.io/metadata.name"] == "work")
            _ = try await c.post("/api/v1/namespaces/work/configmaps", ["metadata": ["name": "plain"]])
            _ = try await c.post("/apis/demo.example.com/v1/namespaces/work/widgets", ["metadata": ["name": "held", "finalizers": ["x.io/y"]]])
            let del = try await c.delete("/api/v1/namespaces/work")
            #expect(del.status == 200 && del.json[path: "status", "phase"] == "Terminating")
            #expect(try await c.get("/api/v1/namespaces/work/configmaps/plain").status == 404)
            let blocked = try await c.post("/api/v1/namespaces/work/configmaps", ["metadata": ["name": "new"]])
            #expect(blocked.status == 403)
            #expect(
                blocked.json["message"]
                    == "configmaps \"new\" is forbidden: unable to create new content in namespace work because it is being terminated")
            #expect(try await c.get("/api/v1/namespaces/work").status == 200)
            _ = try await c.patch("/apis/demo.example.com/v1/namespaces/work/widgets/held", ["metadata": ["finalizers": nil]])
            #expect(try await c.get("/api/v1/namespaces/work").status == 404)
        }
    }

    @Test func crdLifecycleServesAndStopsServing() async throws {
        try await withServer { _, c in
            let crd = try await c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com").json
            let conditions = crd[path: "status", "conditions"]?.arrayValue ?? []
            #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
            #expect(conditions.contains { $0["type"] == "NamesAccepted" && $0["reason"] == "NoConflicts" })
            #expect(crd[path: "status", "storedVersions"] == ["v1"] && crd[path: "metadata", "generation"] == 1)
            _ = try await c.post(widgets, widget("w"))
            let bad = try await c.post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                [
                    "metadata": ["name": "wrong"],
                    "spec": [
                        "group": "nodot", "scope": "Namespaced", "names": ["plural": "xs", "kind": "X"],
                        "versions": [["name": "v1", "served": true, "storage": false]],
                    ],
                ])
            #expect(bad.status == 422)
            let msg = bad.json["message"]?.stringValue ?? ""
            #expect(
                msg.contains("should be a domain with at least one dot") && msg.contains("must have exactly one version marked as storage version"))
            let del = try await c.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com")
            #expect(del.status == 200)
            #expect(try await c.get(widgets).status == 404)
            let groups = try await c.get("/apis").json["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(!groups.contains("demo.example.com"))
            // Re-creating the CRD serves an empty collection: instances were removed.
            _ = try await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
            #expect(try await c.get(widgets).json["items"] == [])
        }
    }

    @Test func tableOutputWithPrinterColumns() async throws {
        try await withServer { _, c in
            _ = try await c.post(widgets, widget("t", size: 4))
            _ = try await c.patch(
                "\(widgets)/t/status", ["status": ["conditions": [["type": "Other", "status": "False"], ["type": "Ready", "status": "True"]]]])
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            let t = try await c.get(widgets, accept: accept).json
            #expect(t["kind"] == "Table")
            #expect(t["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Size", "Ready"])
            let row = t["rows"]?[0]
            #expect(row?["cells"] == ["t", 4, "True"])
            #expect(row?[path: "object", "kind"] == "PartialObjectMetadata" && row?[path: "object", "metadata", "namespace"] == "default")
            let single = try await c.get("\(widgets)/t?includeObject=Object", accept: accept).json
            #expect(single["rows"]?.arrayValue?.count == 1 && single["rows"]?[0]?[path: "object", "spec", "size"] == 4)
            let cms = try await c.get("/api/v1/namespaces", accept: accept).json
            #expect(cms["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Status", "Age"])
            #expect(try await c.get("\(widgets)?includeObject=Bogus", accept: accept).status == 400)
        }
    }
}
