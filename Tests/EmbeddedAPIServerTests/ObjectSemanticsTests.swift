import EmbeddedAPIServer
import Foundation
import KubeCore
import TestSupport
import Testing

@Suite struct ObjectSemanticsTests {
    @Test func createGetUpdateDeleteWithServerMetadata() async throws {
        try await withServer { _, c in
            let created = try await c.post(widgets, widget("a"))
            #expect(created.status == 201)
            let meta = created.json["metadata"] ?? .null
            #expect(meta["uid"]?.stringValue?.count == 36)
            #expect(meta["creationTimestamp"]?.stringValue?.hasSuffix("Z") == true)
            #expect(meta["generation"] == 1 && meta["namespace"] == "default")
            let rv1 = Int(meta["resourceVersion"]?.stringValue ?? "") ?? 0
            let got = try await c.get("\(widgets)/a")
            #expect(got.status == 200 && got.json == created.json)
            var updated = created.json
            updated[path: "spec", "size"] = 2
            updated[path: "metadata", "creationTimestamp"] = "2000-01-01T00:00:00Z"  // ignored
            let put = try await c.put("\(widgets)/a", updated)
            #expect(put.status == 200)
            #expect(Int(put.json[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0 > rv1)
            #expect(put.json[path: "metadata", "creationTimestamp"] == meta["creationTimestamp"])
            #expect(put.json[path: "metadata", "generation"] == 2)
            let del = try await c.delete("\(widgets)/a")
            #expect(del.status == 200 && del.json["status"] == "Success" && del.json[path: "details", "uid"] == meta["uid"])
            let gone = try await c.get("\(widgets)/a")
            #expect(gone.status == 404 && gone.json["message"] == "widgets.demo.example.com \"a\" not found")
            #expect(gone.json[path: "details", "kind"] == "widgets" && gone.json[path: "details", "group"] == "demo.example.com")
        }
    }

    @Test func conflictsAndPreconditions() async throws {
        try await withServer { _, c in
            let created = try await c.post(widgets, widget("a")).json
            let dup = try await c.post(widgets, widget("a"))
            #expect(dup.status == 409 && dup.json["reason"] == "AlreadyExists")
            var stale = created
            #expect(try await c.patch("\(widgets)/a", ["spec": ["size": 5]]).status == 200)
            stale[path: "spec", "size"] = 9
            let conflict = try await c.put("\(widgets)/a", stale)
            #expect(conflict.status == 409 && conflict.json["reason"] == "Conflict")
            #expect(
                conflict.json["message"]?.stringValue?.hasPrefix(
                    "Operation cannot be fulfilled on widgets.demo.example.com \"a\": the object has been modified") == true)
            var noRV = stale
            noRV[path: "metadata", "resourceVersion"] = nil
            let missing = try await c.put("\(widgets)/a", noRV)
            #expect(missing.status == 422)
            #expect(
                missing.json["message"]
                    == "Widget.demo.example.com \"a\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update")
            let patchConflict = try await c.patch(
                "\(widgets)/a", ["metadata": ["resourceVersion": created["metadata"]?["resourceVersion"] ?? ""], "spec": ["size": 1]])
            #expect(patchConflict.status == 409)
            let uidPre = try await c.delete("\(widgets)/a", ["preconditions": ["uid": "nope"]])
            #expect(
                uidPre.status == 409 && uidPre.json["message"]?.stringValue?.contains("the UID in the precondition (nope) does not match") == true)
            let rvPre = try await c.delete("\(widgets)/a", ["preconditions": ["resourceVersion": "1"]])
            #expect(rvPre.status == 409 && rvPre.json["message"]?.stringValue?.contains("the ResourceVersion in the precondition (1)") == true)
            let nameMismatch = try await c.put("\(widgets)/b", created)
            #expect(nameMismatch.status == 400 && nameMismatch.json["message"] == "the name of the object (a) does not match the name on the URL (b)")
            // ConfigMaps allow unconditional updates.
            let cms = "/api/v1/namespaces/default/configmaps"
            _ = try await c.post(cms, ["metadata": ["name": "cm"], "data": ["a": "1"]])
            let uncond = try await c.put("\(cms)/cm", ["metadata": ["name": "cm"], "data": ["a": "2"]])
            #expect(uncond.status == 200 && uncond.json[path: "data", "a"] == "2")
        }
    }

    @Test func concurrentUpdatesWithSameResourceVersionHaveOneWinner() async throws {
        try await withServer(crd: false) { server, _ in
            let leases = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
            let setup = try server.makeTestClient()
            // Lease: PUT creates (201), PUT without resourceVersion is invalid.
            let created = try await setup.put(
                "\(leases)/leader", ["metadata": ["name": "leader"], "spec": ["holderIdentity": "a", "leaseDurationSeconds": 15]])
            #expect(created.status == 201)
            let noRV = try await setup.put("\(leases)/leader", ["metadata": ["name": "leader"], "spec": ["holderIdentity": "x"]])
            #expect(noRV.status == 422)
            let base = created.json
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let c = try server.makeTestClient()
                        var mine = base
                        mine[path: "spec", "holderIdentity"] = .string("candidate-\(i)")
                        mine[path: "spec", "renewTime"] = "2025-01-31T12:00:00.5Z"
                        let s = try await c.put("\(leases)/leader", mine).status
                        await c.close()
                        return s
                    }
                }
                var all: [Int] = []
                for try await s in group { all.append(s) }
                return all
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 7)
            let final = try await setup.get("\(leases)/leader").json
            #expect(final[path: "spec", "renewTime"] == "2025-01-31T12:00:00.500000Z")
            await setup.close()
        }
    }

    @Test func leaseMicroTimeKeepsEveryMicrosecondThroughAMergePatch() async throws {
        try await withServer(crd: false) { _, c in
            let leases = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
            let created = try await c.post(leases, ["metadata": ["name": "exact"], "spec": ["holderIdentity": "a"]])
            #expect(created.status == 201)
            let patched = try await c.patch(
                "\(leases)/exact", ["spec": ["renewTime": "2026-01-02T03:04:09.654321Z", "acquireTime": "2026-01-02T03:04:05.000001Z"]])
            #expect(patched.status == 200)
            let read = try await c.get("\(leases)/exact").json
            #expect(read[path: "spec", "renewTime"] == "2026-01-02T03:04:09.654321Z")
            #expect(read[path: "spec", "acquireTime"] == "2026-01-02T03:04:05.000001Z")
        }
    }

    @Test func namesAndGenerateName() async throws {
        try await withServer { _, c in
            let g = try await c.post(widgets, ["metadata": ["generateName": "gen-"], "spec": .emptyObject])
            #expect(g.status == 201)
            let name = g.json[path: "metadata", "name"]?.stringValue ?? ""
            #expect(name.hasPrefix("gen-") && name.count == 9)
            #expect(name.dropFirst(4).allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
            let long = try await c.post(widgets, widget(String(repeating: "a", count: 254)))
            #expect(long.status == 422 && long.json["message"]?.stringValue?.contains("must be no more than 253 characters") == true)
            let dots = try await c.post("/api/v1/namespaces", ["metadata": ["name": "a.b"]])
            #expect(dots.status == 422 && dots.json["message"]?.stringValue?.contains("a lowercase RFC 1123 label must consist of") == true)
            let badLabel = try await c.post(widgets, widget("l", labels: ["bad key!": "v"]))
            #expect(badLabel.status == 422 && badLabel.json[path: "details", "causes"]?[0]?["field"] == "metadata.labels")
        }
    }

    @Test func dryRunPersistsNothing() async throws {
        try await withServer { server, c in
            let rv = server.currentResourceVersion
            let created = try await c.post("\(widgets)?dryRun=All", widget("dry"))
            #expect(created.status == 201 && created.json[path: "metadata", "uid"] != nil)
            #expect(created.json[path: "metadata", "resourceVersion"] == nil)
            #expect(try await c.get("\(widgets)/dry").status == 404)
            _ = try await c.post(widgets, widget("real"))
            let patched = try await c.patch("\(widgets)/real?dryRun=All", ["spec": ["size": 99]])
            #expect(patched.status == 200 && patched.json[path: "spec", "size"] == 99)
            #expect(try await c.get("\(widgets)/real").json[path: "spec", "size"] == 1)
            #expect(try await c.delete("\(widgets)/real?dryRun=All").status == 200)
            #expect(try await c.get("\(widgets)/real").status == 200)
            #expect(server.currentResourceVersion == rv + 1)
            let bad = try await c.post("\(widgets)?dryRun=Some", widget("x"))
            #expect(bad.status == 422 && bad.json["message"]?.stringValue?.contains("supported values: \"All\"") == true)
        }
    }
}

@Suite struct PatchTests {
    @Test func mergeJSONAndStrategicPatches() async throws {
        try await withServer { _, c in
            _ = try await c.post(
                widgets, ["metadata": ["name": "p", "annotations": ["keep": "1", "drop": "2"]], "spec": ["size": 1, "list": [1, 2]]])
            let merged = try await c.patch("\(widgets)/p", ["metadata": ["annotations": ["drop": nil]], "spec": ["list": [3]]])
            #expect(merged.json[path: "metadata", "annotations"] == ["keep": "1"])
            #expect(merged.json[path: "spec", "list"] == [3])
            let jp = try await c.patch(
                "\(widgets)/p",
                [
                    ["op": "add", "path": "/spec/list/-", "value": 4], ["op": "test", "path": "/spec/size", "value": 1],
                    ["op": "copy", "from": "/spec/size", "path": "/spec/copy"], ["op": "move", "from": "/spec/copy", "path": "/spec/moved"],
                ],
                type: "application/json-patch+json")
            #expect(jp.status == 200 && jp.json[path: "spec", "list"] == [3, 4] && jp.json[path: "spec", "moved"] == 1)
            let failing = try await c.patch("\(widgets)/p", [["op": "remove", "path": "/spec/missing"]], type: "application/json-patch+json")
            #expect(failing.status == 422 && failing.json["message"] == "the server rejected our request due to an error in our request")
            let notArray = try await c.patch("\(widgets)/p", ["op": "add"], type: "application/json-patch+json")
            #expect(notArray.status == 400)
            let smp = try await c.patch("\(widgets)/p", ["spec": ["size": 2]], type: "application/strategic-merge-patch+json")
            #expect(smp.status == 415)
            #expect(
                smp.json["message"]
                    == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            )
            // Strategic merge on built-ins: finalizers merge, directives are applied and stripped.
            let cms = "/api/v1/namespaces/default/configmaps"
            _ = try await c.post(
                cms, ["metadata": ["name": "s", "finalizers": ["a.io/x"], "labels": ["l1": "1", "l2": "2"]], "data": ["a": "1", "b": "2"]])
            let s1 = try await c.patch(
                "\(cms)/s",
                [
                    "metadata": ["finalizers": ["b.io/y"], "$setElementOrder/finalizers": ["a.io/x", "b.io/y"], "labels": ["l2": nil]],
                    "data": ["c": "3"],
                ],
                type: "application/strategic-merge-patch+json")
            #expect(s1.status == 200)
            #expect(s1.json[path: "metadata", "finalizers"] == ["a.io/x", "b.io/y"])
            #expect(s1.json[path: "metadata", "labels"] == ["l1": "1"])
            #expect(s1.json[path: "data"] == ["a": "1", "b": "2", "c": "3"])
            let s2 = try await c.patch(
                "\(cms)/s", ["metadata": ["$deleteFromPrimitiveList/finalizers": ["a.io/x", "b.io/y"]], "data": ["$patch": "replace", "z": "9"]],
                type: "application/strategic-merge-patch+json")
            #expect(s2.json[path: "metadata", "finalizers"] == nil || s2.json[path: "metadata", "finalizers"] == [])
            #expect(s2.json["data"] == ["z": "9"])
            #expect(!s2.text.contains("$patch") && !s2.text.contains("$setElementOrder"))
        }
    }

    @Test func serverSideApplyMinimal() async throws {
        try await withServer { _, c in
            let apply = "application/apply-patch+yaml"
            let noManager = try await c.patch("\(widgets)/ssa", widget("ssa"), type: apply)
            #expect(noManager.status == 422)
            let created = try await c.patch("\(widgets)/ssa?fieldManager=test", widget("ssa", size: 3), type: apply)
            #expect(created.status == 201 && created.json[path: "spec", "size"] == 3)
            let updated = try await c.patch(
                "\(widgets)/ssa?fieldManager=test&force=true",
                ["apiVersion": "demo.example.com/v1", "kind": "Widget", "metadata": ["name": "ssa"], "spec": ["color": "red"]], type: apply)
            // The manager no longer applies spec.size: it is removed.
            #expect(updated.status == 200 && updated.json["spec"] == ["color": "red"])
            let force = try await c.patch("\(widgets)/ssa?force=true", ["spec": ["size": 1]])
            #expect(force.status == 422)
        }
    }
}
