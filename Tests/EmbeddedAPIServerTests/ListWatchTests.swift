import EmbeddedAPIServer
import Foundation
import KubeCore
import TestSupport
import Testing

@Suite struct ListWatchTests {
    @Test func listSelectorsAndPaging() async throws {
        try await withServer { _, c in
            for (n, labels) in [("a", ["tier": "web", "n": "1"]), ("b", ["tier": "db", "n": "5"]), ("c", ["tier": "web"] as [String: String])] {
                _ = try await c.post(widgets, widget(n, labels: JSON(labels)))
            }
            func names(_ query: String) async throws -> [String] {
                try await c.get("\(widgets)?\(query)").json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue } ?? []
            }
            #expect(try await names("labelSelector=tier%3Dweb") == ["a", "c"])
            #expect(try await names("labelSelector=tier!%3Dweb") == ["b"])
            #expect(try await names("labelSelector=tier%20in%20(db,%20cache)") == ["b"])
            #expect(try await names("labelSelector=tier%20notin%20(db)") == ["a", "c"])
            #expect(try await names("labelSelector=n") == ["a", "b"])
            #expect(try await names("labelSelector=!n") == ["c"])
            #expect(try await names("labelSelector=n%3E2") == ["b"])
            #expect(try await names("labelSelector=tier%3Dweb,n") == ["a"])
            #expect(try await names("fieldSelector=metadata.name%3Db") == ["b"])
            #expect(try await names("fieldSelector=metadata.name!%3Db") == ["a", "c"])
            let list = try await c.get(widgets).json
            #expect(list["kind"] == "WidgetList" && list["apiVersion"] == "demo.example.com/v1")
            #expect(list["items"]?[0]?["kind"] == "Widget")
            #expect(list[path: "metadata", "resourceVersion"]?.stringValue != nil)
            let page1 = try await c.get("\(widgets)?limit=2").json
            #expect(page1["items"]?.arrayValue?.count == 2 && page1[path: "metadata", "remainingItemCount"] == 1)
            let token = page1[path: "metadata", "continue"]?.stringValue ?? ""
            let page2 = try await c.get("\(widgets)?limit=2&continue=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
                .json
            #expect(page2["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue } == ["c"])
            #expect(page2[path: "metadata", "continue"] == nil)
            let all = try await c.get("/apis/demo.example.com/v1/widgets").json
            #expect(all["items"]?.arrayValue?.count == 3)
            let cur = Int(list[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
            let future = try await c.get("\(widgets)?resourceVersion=\(cur + 1000)")
            #expect(future.status == 504 && future.json[path: "details", "causes"]?[0]?["reason"] == "ResourceVersionTooLarge")
            let rvm = try await c.get("\(widgets)?resourceVersionMatch=NotOlderThan")
            #expect(rvm.status == 422)
        }
    }

    @Test func watchInitialStateResumeAndSelectors() async throws {
        try await withServer { server, c in
            _ = try await c.post(widgets, widget("pre", labels: ["w": "yes"]))
            let watcher = try server.makeTestClient()
            let initial = watcher.watch("\(widgets)?watch=true&resourceVersion=0")
            let listRV = try await c.get(widgets).json[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            let resumed = watcher.watch("\(widgets)?watch=1&resourceVersion=\(listRV)")
            let selected = watcher.watch("/apis/demo.example.com/v1/watch/namespaces/default/widgets?labelSelector=w%3Dyes&resourceVersion=\(listRV)")
            #expect(await eventually { server.requestCount(verb: "watch") >= 3 })  // all three watches arrived
            _ = try await c.post(widgets, widget("post"))
            _ = try await c.patch("\(widgets)/pre", ["metadata": ["labels": ["w": "no"]]])  // leaves the selector
            _ = try await c.patch("\(widgets)/post", ["metadata": ["labels": ["w": "yes"]]])  // enters the selector
            _ = try await c.delete("\(widgets)/post")
            #expect(
                eventSummary(try await collect(initial, count: 5)) == ["ADDED pre", "ADDED post", "MODIFIED pre", "MODIFIED post", "DELETED post"])
            #expect(eventSummary(try await collect(resumed, count: 4)) == ["ADDED post", "MODIFIED pre", "MODIFIED post", "DELETED post"])
            #expect(eventSummary(try await collect(selected, count: 3)) == ["DELETED pre", "ADDED post", "DELETED post"])
            await watcher.close()
        }
    }

    @Test(.timeLimit(.minutes(1))) func watchGoneTimeoutBookmarksAndSendInitialEvents() async throws {
        try await withServer(EmbeddedAPIServerConfiguration(historySize: 3)) { server, c in
            let rv = try await c.post(widgets, widget("w0")).json[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            for i in 1...5 { _ = try await c.post(widgets, widget("w\(i)")) }
            let gone = try await collect(c.watch("\(widgets)?watch=true&resourceVersion=\(rv)"), count: 2)
            #expect(gone.count == 1 && gone[0]["type"] == "ERROR")
            #expect(gone[0][path: "object", "code"] == 410 && gone[0][path: "object", "reason"] == "Expired")
            #expect(gone[0][path: "object", "message"]?.stringValue?.hasPrefix("too old resource version: \(rv) (") == true)
            // timeoutSeconds ends the stream cleanly; bookmarks carry only the resourceVersion.
            let start = Date()
            let current = server.currentResourceVersion
            let timed = try await collect(
                c.watch("\(widgets)?watch=true&resourceVersion=\(current)&timeoutSeconds=1&allowWatchBookmarks=true"), count: 100)
            #expect(Date().timeIntervalSince(start) < 10)
            #expect(timed.allSatisfy { $0["type"] == "BOOKMARK" })
            #expect(timed.first?[path: "object", "metadata"] == ["resourceVersion": .string(String(current))])
            let sie = try await c.get("\(widgets)?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
            #expect(sie.status == 422)
            #expect(
                sie.json["message"]?.stringValue?.contains("sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")
                    == true)
            // Compacting history makes any older resume point expire.
            server.compactHistory()
            _ = try await c.post(widgets, widget("late"))
            server.compactHistory()
            let after = try await collect(c.watch("\(widgets)?watch=true&resourceVersion=\(current)"), count: 2)
            #expect(after.first?[path: "object", "code"] == 410)
        }
    }

    /// Later pages of a paginated list show the collection as it was at the first page: objects
    /// created, changed or deleted meanwhile appear as they were; 410 once the history is compacted.
    @Test func paginatedListIsASnapshot() async throws {
        try await withServer { server, c in
            for n in ["a", "b", "c", "d"] { _ = try await c.post(widgets, widget(n)) }
            let page1 = try await c.get("\(widgets)?limit=2").json
            let firstRV = page1[path: "metadata", "resourceVersion"]
            let token = (page1[path: "metadata", "continue"]?.stringValue ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            _ = try await c.post(widgets, widget("e"))
            _ = try await c.delete("\(widgets)/c")
            let changed = try await c.patch("\(widgets)/d", ["spec": ["size": 9]])
            #expect(changed.status == 200)
            let page2 = try await c.get("\(widgets)?limit=5&continue=\(token)").json
            let items = page2["items"]?.arrayValue ?? []
            #expect(items.compactMap { $0[path: "metadata", "name"]?.stringValue } == ["c", "d"])
            #expect(items.last?[path: "spec", "size"] != 9)
            #expect(page2[path: "metadata", "resourceVersion"] == firstRV)
            // The live list has the changes.
            let live = try await c.get(widgets).json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue }
            #expect(live == ["a", "b", "d", "e"])
            server.compactHistory()
            let expired = try await c.get("\(widgets)?limit=5&continue=\(token)")
            #expect(expired.status == 410 && expired.json["reason"] == "Expired")
        }
    }

    @Test(.timeLimit(.minutes(2))) func slowWatcherIsClosedAndWritersNeverBlock() async throws {
        try await withServer(EmbeddedAPIServerConfiguration(watchBufferSize: 16)) { server, c in
            // A watch that is not read: TCP buffers fill, then its bounded buffer overflows.
            let stalled = try server.makeTestClient()
            let watch = try await stalled.stalledWatch("\(widgets)?watch=true&resourceVersion=0")
            #expect(await eventually { server.requestCount(verb: "watch") >= 1 })
            let big = String(repeating: "x", count: 64 * 1024)
            let start = Date()
            for i in 0..<250 {
                let r = try await c.post(widgets, ["metadata": ["name": .string("o\(i)")], "spec": ["blob": .string(big)]])
                #expect(r.status == 201)
            }
            // Writers were never held up by the stalled watcher.
            #expect(Date().timeIntervalSince(start) < 60)
            let events = try await watch.drain()
            #expect(events.count < 250)
            #expect(events.last?["type"] == "ERROR")
            #expect(events.last?[path: "object", "code"] == 410)
            await stalled.close()
        }
    }

    /// Large events to a watcher that does not read: once the kernel's socket buffers are full the
    /// connection stops taking writes and the changes stay in the group's log for this member. The
    /// event buffer here is large enough never to overflow, so what closes the watch is the stall
    /// limit (or the unsent bytes), and the log is released; writers are never held up.
    @Test(.timeLimit(.minutes(2))) func watcherThatReadsNothingIsClosed() async throws {
        var configuration = EmbeddedAPIServerConfiguration(watchBufferSize: 100_000)
        configuration.maxWatchPendingBytes = 4 * 1024 * 1024
        configuration.maxWatchStall = .milliseconds(500)
        try await withServer(configuration) { server, c in
            let stalled = try server.makeTestClient()
            let watch = try await stalled.stalledWatch("\(widgets)?watch=true&resourceVersion=0")
            #expect(await eventually { server.requestCount(verb: "watch") >= 1 })
            // Loopback socket buffers take a few MB before the connection stops taking writes.
            let big = String(repeating: "x", count: 256 * 1024)
            var i = 0
            while server.listenerStatistics.slowWatchersClosed == 0 && i < 200 {
                let r = try await c.post(widgets, ["metadata": ["name": .string("big\(i)")], "spec": ["blob": .string(big)]])
                #expect(r.status == 201)
                i += 1
                if i > 40 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(server.listenerStatistics.slowWatchersClosed == 1, "not closed after \(i) events of 256 KiB")
            // The member left its group: nothing holds the changes any more.
            #expect(await eventually { server.listenerStatistics.activeWatches == 0 })
            // The closed stream ends (cut mid-chunk: an error or a short read, never a hang).
            let events = (try? await watch.drain()) ?? []
            #expect(events.count < i)
            await stalled.close()
        }
    }
}

@Suite struct BuiltinKindTests {
    @Test func secretsStringDataImmutableAndFieldSelector() async throws {
        try await withServer(crd: false) { _, c in
            let secrets = "/api/v1/namespaces/default/secrets"
            let s = try await c.post(secrets, ["metadata": ["name": "s"], "stringData": ["pw": "hunter2"], "immutable": true])
            #expect(s.status == 201 && s.json["data"] == ["pw": "aHVudGVyMg=="] && s.json["stringData"] == nil && s.json["type"] == "Opaque")
            let change = try await c.patch("\(secrets)/s", ["data": ["pw": "eA=="]])
            #expect(
                change.status == 422
                    && change.json["message"] == "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set")
            let labels = try await c.patch("\(secrets)/s", ["metadata": ["labels": ["ok": "yes"]]])
            #expect(labels.status == 200)
            _ = try await c.post(secrets, ["metadata": ["name": "t"], "type": "kubernetes.io/tls", "data": ["tls.crt": "", "tls.key": ""]])
            let tls = try await c.get("\(secrets)?fieldSelector=type%3Dkubernetes.io/tls").json["items"]?.arrayValue ?? []
            #expect(tls.map { $0[path: "metadata", "name"] } == ["t"])
            let badB64 = try await c.post(secrets, ["metadata": ["name": "b"], "data": ["k": "%%%"]])
            #expect(badB64.status == 422)
        }
    }

    @Test func storedOnlyBuiltinsAndEvents() async throws {
        try await withServer(crd: false) { _, c in
            let paths = [
                "/api/v1/namespaces/default/serviceaccounts", "/api/v1/namespaces/default/services", "/api/v1/nodes",
                "/api/v1/namespaces/default/events",
                "/apis/apps/v1/namespaces/default/deployments", "/apis/apps/v1/namespaces/default/daemonsets",
                "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
            ]
            for p in paths {
                let r = try await c.post(p, ["metadata": ["name": "x"], "involvedObject": ["name": "obj", "kind": "Widget"]])
                #expect(r.status == 201, "\(p): \(r.text)")
            }
            let ev = try await c.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dobj,involvedObject.kind%3DWidget").json
            #expect(ev["items"]?.arrayValue?.count == 1)
            let dep = try await c.patch(
                "/apis/apps/v1/namespaces/default/deployments/x",
                ["spec": ["template": ["spec": ["containers": [["name": "a", "image": "i:1"]]]]]], type: "application/strategic-merge-patch+json")
            #expect(dep.json[path: "metadata", "generation"] == 2)
            let dep2 = try await c.patch(
                "/apis/apps/v1/namespaces/default/deployments/x",
                ["spec": ["template": ["spec": ["containers": [["name": "b", "image": "i:2"]]]]]], type: "application/strategic-merge-patch+json")
            #expect(dep2.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 2)
        }
    }

    /// Services get a cluster IP from the service CIDR, as kube-apiserver allocates them.
    @Test func serviceClusterIPAllocation() async throws {
        try await withServer(crd: false) { _, c in
            let services = "/api/v1/namespaces/default/services"
            func svc(_ name: String, ip: String? = nil) -> JSON {
                var s: JSON = ["metadata": ["name": .string(name)], "spec": ["ports": [["port": 443]]]]
                if let ip { s[path: "spec", "clusterIP"] = .string(ip) }
                return s
            }
            let a = try await c.post(services, svc("a")).json
            #expect(a[path: "spec", "clusterIP"] == "10.0.0.2" && a[path: "spec", "clusterIPs"] == ["10.0.0.2"])
            #expect(a[path: "spec", "type"] == "ClusterIP" && a[path: "spec", "ports"]?[0]?["targetPort"] == 443)
            #expect(a[path: "spec", "ports"]?[0]?["protocol"] == "TCP" && a[path: "spec", "ipFamilies"] == ["IPv4"])
            #expect(try await c.post(services, svc("b")).json[path: "spec", "clusterIP"] == "10.0.0.3")
            #expect(try await c.post(services, svc("headless", ip: "None")).json[path: "spec", "clusterIP"] == "None")
            let taken = try await c.post(services, svc("c", ip: "10.0.0.2"))
            #expect(taken.status == 422 && taken.json["message"]?.stringValue?.contains("provided IP is already allocated") == true)
            let outside = try await c.post(services, svc("d", ip: "192.168.0.1"))
            #expect(outside.status == 422 && outside.json["message"]?.stringValue?.contains("not in the valid range") == true)
            let change = try await c.patch("\(services)/a", ["spec": ["clusterIP": "10.0.0.9"]])
            #expect(change.status == 422)
            var put = a
            put[path: "spec", "clusterIP"] = nil
            put[path: "spec", "clusterIPs"] = nil
            let kept = try await c.put("\(services)/a", put)
            #expect(kept.status == 200 && kept.json[path: "spec", "clusterIP"] == "10.0.0.2")
            _ = try await c.delete("\(services)/a")
            #expect(try await c.post(services, svc("e")).json[path: "spec", "clusterIP"] == "10.0.0.2")
        }
    }

    /// core/v1 and events.k8s.io/v1 serve the same Events, each in its own form.
    @Test func eventsAreServedByBothGroups() async throws {
        try await withServer(crd: false) { _, c in
            let core = "/api/v1/namespaces/default/events"
            let events = "/apis/events.k8s.io/v1/namespaces/default/events"
            let created = try await c.post(
                core,
                [
                    "metadata": ["name": "e1"], "involvedObject": ["kind": "Network", "name": "n1"], "message": "reconciled",
                    "reason": "Reconciled", "type": "Normal", "source": ["component": "calico"], "count": 2,
                ])
            #expect(created.status == 201)
            let view = try await c.get("\(events)/e1").json
            #expect(view["apiVersion"] == "events.k8s.io/v1" && view["note"] == "reconciled" && view["message"] == nil)
            #expect(view[path: "regarding", "name"] == "n1" && view["deprecatedSource"] == ["component": "calico"] && view["deprecatedCount"] == 2)
            let second = try await c.post(
                events,
                [
                    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e2"],
                    "regarding": ["kind": "Network", "name": "n2"], "note": "failed", "reason": "Error", "type": "Warning",
                    "reportingController": "calico", "reportingInstance": "calico-1", "action": "Reconcile",
                    "eventTime": "2026-12-06T02:00:00.123456Z",
                ])
            #expect(second.status == 201, "\(second.text)")
            let coreView = try await c.get("\(core)/e2").json
            #expect(coreView["apiVersion"] == "v1" && coreView["message"] == "failed" && coreView[path: "involvedObject", "name"] == "n2")
            #expect(coreView["reportingComponent"] == "calico" && coreView["eventTime"] == "2026-12-06T02:00:00.123456Z")
            let both = try await c.get(events).json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue }
            #expect(both == ["e1", "e2"])
            let selected = try await c.get("\(events)?fieldSelector=regarding.name%3Dn2").json["items"]?.arrayValue ?? []
            #expect(selected.compactMap { $0[path: "metadata", "name"]?.stringValue } == ["e2"])
            let patched = try await c.patch("\(events)/e1", ["note": "changed"])
            #expect(patched.status == 200 && patched.json["note"] == "changed")
            #expect(try await c.get("\(core)/e1").json["message"] == "changed")
            #expect(try await c.delete("\(events)/e2").status == 200)
            #expect(try await c.get("\(core)/e2").status == 404)
        }
    }

    @Test func protobufBodiesForNamespaceConfigMapSecret() async throws {
        try await withServer(crd: false) { _, c in
            // Envelope: magic, Unknown{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw ConfigMap{1: ObjectMeta{1: name}, 2: data entry}}.
            func field(_ n: UInt8, _ bytes: [UInt8]) -> [UInt8] { [n << 3 | 2, UInt8(bytes.count)] + bytes }
            func str(_ n: UInt8, _ s: String) -> [UInt8] { field(n, Array(s.utf8)) }
            let meta = field(1, str(1, "pb"))
            let cm = meta + field(2, str(1, "key") + str(2, "value"))
            let body = [0x6b, 0x38, 0x73, 0x00] + field(1, str(1, "v1") + str(2, "ConfigMap")) + field(2, cm)
            let r = try await c.request(
                "POST", "/api/v1/namespaces/default/configmaps", body: body,
                headers: [
                    ("Content-Type", "application/vnd.kubernetes.protobuf"), ("Accept", "application/vnd.kubernetes.protobuf,application/json"),
                ])
            #expect(r.status == 201 && r.json["data"] == ["key": "value"] && r.header("Content-Type") == "application/json")
            let ns = [0x6b, 0x38, 0x73, 0x00] + field(1, str(1, "v1") + str(2, "Namespace")) + field(2, field(1, str(1, "pbns")))
            let n = try await c.request("POST", "/api/v1/namespaces", body: ns, headers: [("Content-Type", "application/vnd.kubernetes.protobuf")])
            #expect(n.status == 201 && n.json[path: "metadata", "name"] == "pbns")
            let secret =
                [0x6b, 0x38, 0x73, 0x00] + field(1, str(1, "v1") + str(2, "Secret"))
                + field(2, field(1, str(1, "pbs")) + field(2, str(1, "k") + str(2, "v")) + str(3, "Opaque"))
            let s = try await c.request(
                "POST", "/api/v1/namespaces/default/secrets", body: secret, headers: [("Content-Type", "application/vnd.kubernetes.protobuf")])
            #expect(s.status == 201 && s.json["data"] == ["k": "dg=="])
            let garbage = try await c.request(
                "POST", "/api/v1/namespaces", body: [1, 2, 3], headers: [("Content-Type", "application/vnd.kubernetes.protobuf")])
            #expect(garbage.status == 400)
        }
    }

    @Test func persistenceSurvivesRestartWithIncreasingResourceVersions() async throws {
        let dir = try TestDirectories.make("apiserver-data").path
        let config = EmbeddedAPIServerConfiguration(dataDirectory: dir)
        let (rv, uid) = try await withServer(config) { _, c in
            let w = try await c.post(widgets, widget("kept", size: 7)).json
            _ = try await c.post("/api/v1/namespaces/default/configmaps", ["metadata": ["name": "gone"]])
            _ = try await c.delete("/api/v1/namespaces/default/configmaps/gone")
            return (Int(w[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0, w[path: "metadata", "uid"])
        }
        try await withServer(crd: false, config) { server, c in
            let w = try await c.get("\(widgets)/kept")
            #expect(w.status == 200 && w.json[path: "spec", "size"] == 7 && w.json[path: "metadata", "uid"] == uid)
            #expect(try await c.get("/api/v1/namespaces/default/configmaps/gone").status == 404)
            #expect(server.currentResourceVersion > Int64(rv))
            let next = try await c.patch("\(widgets)/kept", ["spec": ["size": 8]]).json
            #expect(Int(next[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0 > rv)
        }
    }
}
