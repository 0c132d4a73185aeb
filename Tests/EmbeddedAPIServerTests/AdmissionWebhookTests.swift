import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import Synchronization
import TestSupport
import Testing

/// Admission webhooks called by the embedded server (see docs/local.md, "Admission webhooks").
@Suite struct AdmissionWebhookTests {
    static let validating = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
    static let mutating = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"

    /// A webhook entry calling `hook` by URL; `extra` overrides fields.
    static func entry(_ name: String, _ hook: TestAdmissionWebhook, path: String = "/validate", extra: JSONObject = [:]) -> JSON {
        var w: JSONObject = [
            "name": .string(name),
            "rules": [
                ["operations": ["CREATE", "UPDATE", "DELETE"], "apiGroups": ["demo.example.com"], "apiVersions": ["v1"], "resources": ["widgets"]]
            ],
            "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5,
            "clientConfig": ["url": .string("https://127.0.0.1:\(hook.port)\(path)"), "caBundle": .string(hook.caBundle)],
        ]
        for (k, v) in extra { w[k] = v }
        return .object(w)
    }

    static func register(_ client: LoopbackHTTPClient, mutating: Bool = false, name: String = "test", _ webhooks: [JSON]) async throws {
        let kind = mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration"
        let body: JSON = [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": .string(kind), "metadata": ["name": .string(name)], "webhooks": .array(webhooks),
        ]
        let r = try await client.post(mutating ? Self.mutating : Self.validating, body)
        try #require(r.status == 201, "\(r.text)")
    }

    static func allow(_ request: JSON) async -> JSON { ["allowed": true] }

    /// Allowed unless spec.size > 5; a denial carries the webhook's code and message.
    static func sizeLimit(_ request: JSON) async -> JSON {
        let size = request[path: "object", "spec", "size"]?.intValue ?? 0
        if size > 5 {
            return ["allowed": false, "status": ["code": 403, "reason": "Forbidden", "message": .string("size \(size) is above 5")]]
        }
        return ["allowed": true]
    }

    @Test func denialCarriesTheWebhookMessageAndTheReviewDescribesTheRequest() async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.sizeLimit)
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            try await Self.register(client, [Self.entry("size.demo.example.com", hook)])
            let denied = try await client.post(widgets, widget("big", size: 9))
            #expect(denied.status == 403)
            #expect(denied.json["message"]?.stringValue == "admission webhook \"size.demo.example.com\" denied the request: size 9 is above 5")
            #expect(denied.json["reason"]?.stringValue == "Forbidden")
            #expect(try await client.get("\(widgets)/big").status == 404)
            let created = try await client.post("\(widgets)?fieldManager=tester", widget("small", size: 2))
            #expect(created.status == 201, "\(created.text)")
            let review = try #require(hook.requests.last)
            #expect(review["operation"]?.stringValue == "CREATE")
            #expect(review["kind"] == ["group": "demo.example.com", "version": "v1", "kind": "Widget"])
            #expect(review["resource"] == ["group": "demo.example.com", "version": "v1", "resource": "widgets"])
            #expect(review["requestResource"] == review["resource"])
            #expect(review["name"]?.stringValue == "small")
            #expect(review["namespace"]?.stringValue == "default")
            #expect(review[path: "userInfo", "username"]?.stringValue == "embedded-admin")
            #expect(review[path: "object", "spec", "size"]?.intValue == 2)
            #expect(review["oldObject"]?.isNull == true)
            #expect(review["dryRun"]?.boolValue == false)
            #expect(review["options"] == ["apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions", "fieldManager": "tester"])
            #expect((review["uid"]?.stringValue ?? "").count == 36)
        }
    }

    @Test func updatesAndDeletesCarryTheOldObject() async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.sizeLimit)
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            #expect(try await client.post(widgets, widget("w", size: 1)).status == 201)
            try await Self.register(client, [Self.entry("size.demo.example.com", hook)])
            let denied = try await client.patch("\(widgets)/w", ["spec": ["size": 7]])
            #expect(denied.status == 403)
            #expect(try await client.get("\(widgets)/w").json[path: "spec", "size"]?.intValue == 1)
            let patched = try await client.patch("\(widgets)/w", ["spec": ["size": 3]])
            #expect(patched.status == 200)
            #expect(patched.json[path: "spec", "size"]?.intValue == 3)
            let update = try #require(hook.requests.last)
            #expect(update["operation"]?.stringValue == "UPDATE")
            #expect(update[path: "oldObject", "spec", "size"]?.intValue == 1)
            #expect(update[path: "object", "spec", "size"]?.intValue == 3)
            #expect(update[path: "options", "kind"]?.stringValue == "UpdateOptions")
            #expect(try await client.delete("\(widgets)/w").status == 200)
            let delete = try #require(hook.requests.last)
            #expect(delete["operation"]?.stringValue == "DELETE")
            #expect(delete["object"]?.isNull == true)
            #expect(delete[path: "oldObject", "spec", "size"]?.intValue == 3)
            #expect(delete[path: "options", "kind"]?.stringValue == "DeleteOptions")
        }
    }

    /// Each rule form: whether a create, an update of the main resource and a status update call the webhook.
    @Test(
        arguments: [
            (["operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets"]], "create"),
            (["operations": ["UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets"]], "update"),
            (["operations": ["*"], "apiGroups": ["other.example.com"], "apiVersions": ["*"], "resources": ["*"]], ""),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]], "create update"),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]], "create update status"),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets/status"]], "status"),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/status"]], "status"),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets/*"]], "create update status"),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["gadgets"]], ""),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets"], "scope": "Cluster"], ""),
            (["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["widgets"], "scope": "Namespaced"], "create update"),
            (["operations": ["*"], "apiGroups": ["demo.example.com"], "apiVersions": ["v9"], "resources": ["widgets"]], ""),
        ] as [(JSON, String)])
    func rules(rule: JSON, expected: String) async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.allow)
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            try await Self.register(client, [Self.entry("rules.demo.example.com", hook, extra: ["rules": [rule]])])
            var called: [String] = []
            var seen = 0
            func note(_ what: String) {
                if hook.requests.count > seen { called.append(what) }
                seen = hook.requests.count
            }
            #expect(try await client.post(widgets, widget("w")).status == 201)
            note("create")
            #expect(try await client.patch("\(widgets)/w", ["spec": ["size": 2]]).status == 200)
            note("update")
            #expect(try await client.patch("\(widgets)/w/status", ["status": ["phase": "Ready"]]).status == 200)
            note("status")
            #expect(called.joined(separator: " ") == expected)
            if expected.contains("status") { #expect(hook.requests.last?["subResource"]?.stringValue == "status") }
        }
    }

    /// matchPolicy with a resource served in two versions: a rule for v2 covers a v1 request only when Equivalent.
    @Test(arguments: ["Equivalent", "Exact"])
    func matchPolicy(policy: String) async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.allow)
        defer { Task { await hook.stop() } }
        try await withServer(crd: false) { _, client in
            var crd = widgetCRD
            var v2 = try #require(crd[path: "spec", "versions"]?.arrayValue?.first)
            v2["name"] = "v2"
            v2["storage"] = false
            crd[path: "spec", "versions"] = .array((crd[path: "spec", "versions"]?.arrayValue ?? []) + [v2])
            let r = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
            try #require(r.status == 201, "\(r.text)")
            let rule: JSON = ["operations": ["CREATE"], "apiGroups": ["demo.example.com"], "apiVersions": ["v2"], "resources": ["widgets"]]
            try await Self.register(client, [Self.entry("policy.demo.example.com", hook, extra: ["rules": [rule], "matchPolicy": .string(policy)])])
            #expect(try await client.post(widgets, widget("w")).status == 201)
            #expect(hook.requests.count == (policy == "Equivalent" ? 1 : 0))
        }
    }

    @Test func namespaceAndObjectSelectors() async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.allow)
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            #expect(try await client.post("/api/v1/namespaces", ["metadata": ["name": "watched", "labels": ["admit": "yes"]]]).status == 201)
            try await Self.register(
                client,
                [
                    Self.entry(
                        "selectors.demo.example.com", hook,
                        extra: [
                            "namespaceSelector": ["matchExpressions": [["key": "admit", "operator": "In", "values": ["yes"]]]],
                            "objectSelector": ["matchLabels": ["check": "true"]],
                        ])
                ])
            let watched = "/apis/demo.example.com/v1/namespaces/watched/widgets"
            #expect(try await client.post(widgets, widget("a", labels: ["check": "true"])).status == 201)
            #expect(hook.requests.isEmpty, "namespace default does not match")
            #expect(try await client.post(watched, widget("b")).status == 201)
            #expect(hook.requests.isEmpty, "object without the label does not match")
            #expect(try await client.post(watched, widget("c", labels: ["check": "true"])).status == 201)
            #expect(hook.requests.count == 1)
            // Removing the label still matches: the old object carries it.
            #expect(try await client.patch("\(watched)/c", ["metadata": ["labels": ["check": nil]]]).status == 200)
            #expect(hook.requests.count == 2)
            #expect(try await client.patch("\(watched)/c", ["spec": ["size": 4]]).status == 200)
            #expect(hook.requests.count == 2)
        }
    }

    @Test func failurePolicyOnAnUnreachableWebhook() async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.allow)
        let port = hook.port
        await hook.stop()
        try await withServer { _, client in
            try await Self.register(client, name: "fail", [Self.entry("fail.demo.example.com", hook)])
            let failed = try await client.post(widgets, widget("w"))
            #expect(failed.status == 500)
            let message = failed.json["message"]?.stringValue ?? ""
            #expect(
                message.hasPrefix(
                    "Internal error occurred: failed calling webhook \"fail.demo.example.com\": failed to call webhook: Post \"https://127.0.0.1:\(port)/validate?timeout=5s\": "
                ), "\(message)")
            #expect(failed.json["reason"]?.stringValue == "InternalError")
            #expect(try await client.delete("\(Self.validating)/fail").status == 200)
            try await Self.register(client, name: "ignore", [Self.entry("ignore.demo.example.com", hook, extra: ["failurePolicy": "Ignore"])])
            #expect(try await client.post(widgets, widget("w")).status == 201)
        }
    }

    @Test func timeoutSeconds() async throws {
        let hook = try await TestAdmissionWebhook.start { _ in
            try? await Task.sleep(for: .seconds(4))
            return ["allowed": true]
        }
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            try await Self.register(client, [Self.entry("slow.demo.example.com", hook, extra: ["timeoutSeconds": 1])])
            let clock = ContinuousClock()
            let start = clock.now
            let failed = try await client.post(widgets, widget("w"))
            #expect(clock.now - start < .seconds(3))
            #expect(failed.status == 500)
            #expect(failed.json["message"]?.stringValue?.hasSuffix("timeout=1s\": context deadline exceeded") == true, "\(failed.text)")
        }
    }

    @Test func caBundleAndServiceReferences() async throws {
        let hook = try await TestAdmissionWebhook.start(names: ["127.0.0.1", "webhook.test.svc"], handler: Self.allow)
        defer { Task { await hook.stop() } }
        let other = try await TestAdmissionWebhook.start(handler: Self.allow)
        defer { Task { await other.stop() } }
        try await withServer { _, client in
            // A service reference is the local host at the service port, verified as <svc>.<ns>.svc.
            let service: JSON = [
                "service": ["namespace": "test", "name": "webhook", "path": "/admit", "port": .int(Int64(hook.port))],
                "caBundle": .string(hook.caBundle),
            ]
            try await Self.register(client, name: "svc", [Self.entry("svc.demo.example.com", hook, extra: ["clientConfig": service])])
            #expect(try await client.post(widgets, widget("a")).status == 201)
            #expect(hook.requests.count == 1)
            #expect(try await client.delete("\(Self.validating)/svc").status == 200)
            // The wrong CA: the certificate is not trusted.
            var wrongCA = service
            wrongCA["caBundle"] = .string(other.caBundle)
            try await Self.register(client, name: "ca", [Self.entry("ca.demo.example.com", hook, extra: ["clientConfig": wrongCA])])
            let untrusted = try await client.post(widgets, widget("b"))
            #expect(untrusted.status == 500)
            #expect(untrusted.json["message"]?.stringValue?.contains("Post \"https://webhook.test.svc:\(hook.port)/admit?timeout=5s\"") == true)
            #expect(try await client.delete("\(Self.validating)/ca").status == 200)
            // The right CA but a name the certificate does not carry.
            var wrongName = service
            wrongName["service"] = ["namespace": "other", "name": "webhook", "path": "/admit", "port": .int(Int64(hook.port))]
            try await Self.register(client, name: "name", [Self.entry("name.demo.example.com", hook, extra: ["clientConfig": wrongName])])
            let misnamed = try await client.post(widgets, widget("c"))
            #expect(misnamed.status == 500)
            #expect(misnamed.json["message"]?.stringValue?.hasSuffix("not webhook.other.svc") == true, "\(misnamed.text)")
            #expect(hook.requests.count == 1)
        }
    }

    @Test func dryRunAndSideEffects() async throws {
        let hook = try await TestAdmissionWebhook.start(handler: Self.allow)
        defer { Task { await hook.stop() } }
        try await withServer { server, client in
            try await Self.register(client, name: "unknown", [Self.entry("unknown.demo.example.com", hook, extra: ["sideEffects": "Unknown"])])
            let rejected = try await client.post("\(widgets)?dryRun=All", widget("w"))
            #expect(rejected.status == 400)
            #expect(rejected.json["message"]?.stringValue == "admission webhook \"unknown.demo.example.com\" does not support dry run")
            #expect(hook.requests.isEmpty)
            #expect(try await client.delete("\(Self.validating)/unknown").status == 200)
            try await Self.register(client, name: "dry", [Self.entry("dry.demo.example.com", hook, extra: ["sideEffects": "NoneOnDryRun"])])
            server.resetRequestLog()
            let dry = try await client.post("\(widgets)?dryRun=All", widget("w"))
            #expect(dry.status == 201, "\(dry.text)")
            #expect(hook.requests.last?["dryRun"]?.boolValue == true)
            #expect(hook.requests.last?[path: "options", "dryRun"] == ["All"])
            #expect(try await client.get("\(widgets)/w").status == 404)
        }
    }

    @Test func mutationWarningsAndOrder() async throws {
        let mutator = try await TestAdmissionWebhook.start { request in
            let patch: JSON = [
                ["op": "add", "path": "/metadata/labels/mutated", "value": "yes"], ["op": "replace", "path": "/spec/size", "value": 4],
            ]
            return [
                "allowed": true, "patchType": "JSONPatch", "patch": .string(Base64.encode(patch.serialized())),
                "warnings": ["mutated by the test"],
            ]
        }
        defer { Task { await mutator.stop() } }
        let validator = try await TestAdmissionWebhook.start { request in
            ["allowed": true, "warnings": .array([.string("validator saw size \(request[path: "object", "spec", "size"]?.intValue ?? -1)")])]
        }
        defer { Task { await validator.stop() } }
        try await withServer { _, client in
            try await Self.register(client, mutating: true, [Self.entry("mutate.demo.example.com", mutator)])
            try await Self.register(client, [Self.entry("validate.demo.example.com", validator)])
            let created = try await client.post(widgets, widget("w", size: 1, labels: ["a": "b"]))
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json[path: "metadata", "labels"] == ["a": "b", "mutated": "yes"])
            #expect(created.json[path: "spec", "size"]?.intValue == 4)
            let seen = try #require(mutator.requests.first)
            #expect(seen[path: "object", "metadata", "uid"] == nil, "a new object has no uid yet when mutating webhooks see it")
            #expect(validator.requests.first?[path: "object", "metadata", "uid"]?.stringValue?.isEmpty == false)
            let warnings = created.headers.filter { $0.0.lowercased() == "warning" }.map(\.1)
            #expect(warnings == ["299 - \"mutated by the test\"", "299 - \"validator saw size 4\""])
            #expect(try await client.get("\(widgets)/w").json[path: "spec", "size"]?.intValue == 4)
            // Mutation on update too; the mutating webhook sees the old object.
            let updated = try await client.patch("\(widgets)/w", ["spec": ["size": 2]])
            #expect(updated.json[path: "spec", "size"]?.intValue == 4)
            #expect(mutator.requests.last?[path: "oldObject", "spec", "size"]?.intValue == 4)
        }
    }

    @Test func deleteCollectionAdmitsEachDeletion() async throws {
        let hook = try await TestAdmissionWebhook.start { request in
            if request[path: "oldObject", "metadata", "labels", "keep"] != nil {
                return ["allowed": false, "status": ["message": .string("\(request["name"]?.stringValue ?? "") is kept")]]
            }
            return ["allowed": true]
        }
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            #expect(try await client.post(widgets, widget("a")).status == 201)
            #expect(try await client.post(widgets, widget("b")).status == 201)
            #expect(try await client.post(widgets, widget("k", labels: ["keep": "yes"])).status == 201)
            try await Self.register(client, [Self.entry("keep.demo.example.com", hook)])
            let some = try await client.delete("\(widgets)?labelSelector=!keep")
            #expect(some.status == 200, "\(some.text)")
            #expect(some.json["items"]?.arrayValue?.count == 2)
            #expect(hook.requests.map { $0["operation"]?.stringValue ?? "" } == ["DELETE", "DELETE"])
            let all = try await client.delete(widgets)
            #expect(all.status == 400)
            #expect(all.json["message"]?.stringValue == "admission webhook \"keep.demo.example.com\" denied the request: k is kept")
            #expect(try await client.get("\(widgets)/k").status == 200)
        }
    }

    /// A change committed while a webhook is deciding: the admitted write runs again on the new
    /// object instead of overwriting the change.
    @Test func aConcurrentChangeRestartsAdmission() async throws {
        final class Race: Sendable {
            let client = Mutex<LoopbackHTTPClient?>(nil)
            let done = Mutex(false)
        }
        let race = Race()
        let hook = try await TestAdmissionWebhook.start { request in
            guard request[path: "object", "spec", "size"]?.intValue == 2, !race.done.withLock({ $0 }) else { return ["allowed": true] }
            race.done.withLock { $0 = true }
            if let client = race.client.withLock({ $0 }) {
                _ = try? await client.patch("\(widgets)/w", ["metadata": ["labels": ["raced": "yes"]]])
            }
            return ["allowed": true]
        }
        defer { Task { await hook.stop() } }
        try await withServer { server, client in
            let other = try server.makeTestClient()
            defer { Task { await other.close() } }
            race.client.withLock { $0 = other }
            #expect(try await client.post(widgets, widget("w")).status == 201)
            try await Self.register(client, [Self.entry("race.demo.example.com", hook)])
            let patched = try await client.patch("\(widgets)/w", ["spec": ["size": 2]])
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json[path: "spec", "size"]?.intValue == 2)
            #expect(patched.json[path: "metadata", "labels", "raced"]?.stringValue == "yes")
            // The racing patch, the first pass and the second pass.
            #expect(hook.requests.count == 3)
        }
    }

    @Test func webhookConfigurationsAreNotAdmittedAndOtherWritesStaySynchronous() async throws {
        let hook = try await TestAdmissionWebhook.start { _ in ["allowed": false] }
        defer { Task { await hook.stop() } }
        try await withServer { _, client in
            let everything: JSON = ["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]]
            try await Self.register(client, [Self.entry("deny.demo.example.com", hook, extra: ["rules": [everything]])])
            let denied = try await client.post(widgets, widget("w"))
            #expect(denied.status == 400)
            #expect(denied.json["message"]?.stringValue == "admission webhook \"deny.demo.example.com\" denied the request without explanation")
            // The configuration itself can still be changed and removed.
            #expect(try await client.patch("\(Self.validating)/test", ["metadata": ["labels": ["x": "y"]]]).status == 200)
            #expect(try await client.delete("\(Self.validating)/test").status == 200)
            let calls = hook.requests.count
            #expect(try await client.post(widgets, widget("w")).status == 201)
            #expect(hook.requests.count == calls)
        }
    }
}
