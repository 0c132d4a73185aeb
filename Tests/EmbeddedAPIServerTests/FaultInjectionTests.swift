import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

/// Fault-injection mode (issue 9): every fault kind, asserted over real HTTPS.
@Suite struct FaultInjectionTests {
    @Test(.timeLimit(.minutes(1))) func injectedErrorsCarryStatusBodiesAndRetryAfter() async throws {
        try await withServer { server, c in
            _ = try await c.post(widgets, widget("x"))
            let expected: [Int: String] = [409: "Conflict", 410: "Expired", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"]
            for (status, reason) in expected.sorted(by: { $0.key < $1.key }) {
                server.faultPolicy = FaultPolicy(errorRate: 1, errorStatuses: [status], retryAfterSeconds: status == 503 ? 2 : nil, verbs: ["get"])
                let r = try await c.get("\(widgets)/x")
                #expect(r.status == status, "\(status): \(r.text)")
                #expect(r.json["kind"] == "Status" && r.json["status"] == "Failure")
                #expect(r.json["reason"]?.stringValue == reason && r.json["code"] == .int(Int64(status)))
                #expect(r.header("Content-Type") == "application/json")
                switch status {
                case 409:
                    #expect(r.json[path: "details", "name"] == "x" && r.json[path: "details", "kind"] == "widgets")
                    #expect(r.json[path: "details", "group"] == "demo.example.com")
                    #expect(r.json["message"]?.stringValue?.hasPrefix("Operation cannot be fulfilled on widgets.demo.example.com \"x\"") == true)
                case 429:
                    // 429 always tells the client when to come back.
                    #expect(r.header("Retry-After") == "1" && r.json[path: "details", "retryAfterSeconds"] == 1)
                case 503:
                    #expect(r.header("Retry-After") == "2" && r.json[path: "details", "retryAfterSeconds"] == 2)
                default:
                    #expect(r.header("Retry-After") == nil)
                }
                // Other verbs are not eligible.
                let list = try await c.get(widgets)
                #expect(list.status == 200)
            }
            let counters = server.faultCounters
            #expect(counters.errors == [409: 1, 410: 1, 429: 1, 500: 1, 503: 1] && counters.totalErrors == 5)
            #expect(counters.eligibleRequests == 5)
            server.clearFaults()
            #expect(try await c.get("\(widgets)/x").status == 200)
            server.resetFaultCounters()
            #expect(server.faultCounters == FaultCounters())
        }
    }

    @Test(.timeLimit(.minutes(1))) func fractionIsSeededAndReproducible() async throws {
        try await withServer(crd: false) { server, c in
            func run() async throws -> [Int] {
                server.faultPolicy = FaultPolicy(errorRate: 0.3, errorStatuses: [500, 503], seed: 42)
                server.resetFaultCounters()
                var failed: [Int] = []
                for i in 0..<200 where try await c.get("/api/v1/namespaces/default").status != 200 { failed.append(i) }
                return failed
            }
            let first = try await run()
            let counters = server.faultCounters
            let second = try await run()
            #expect(first == second, "same seed, same request order → same faults")
            #expect((30...90).contains(first.count), "30% of 200 requests, got \(first.count)")
            #expect(counters.eligibleRequests == 200 && counters.totalErrors == first.count)
            #expect((counters.errors[500] ?? 0) > 0 && (counters.errors[503] ?? 0) > 0, "both statuses rotate: \(counters.errors)")
            server.faultPolicy = FaultPolicy(errorRate: 0.3, errorStatuses: [500], seed: 7)
            var third: [Int] = []
            for i in 0..<200 where try await c.get("/api/v1/namespaces/default").status != 200 { third.append(i) }
            #expect(third != first, "another seed gives another sequence")
        }
    }

    @Test(.timeLimit(.minutes(1))) func pathPrefixAndWatchesOnlyWhenAsked() async throws {
        try await withServer { server, c in
            _ = try await c.post(widgets, widget("w"))
            let rv = server.currentResourceVersion
            server.faultPolicy = FaultPolicy(errorRate: 1, errorStatuses: [410], pathPrefix: widgets)
            #expect(try await c.get("/api/v1/namespaces").status == 200)
            #expect(try await c.get(widgets).status == 410)
            #expect(try await c.get("/healthz").status == 200)
            // Watches are exempt by default: this one streams normally.
            _ = try await c.get("/api/v1/namespaces")
            let watcher = try server.makeTestClient()
            defer { Task { await watcher.close() } }
            let normal = watcher.watch("\(widgets)?watch=true&resourceVersion=\(rv - 1)&timeoutSeconds=1")
            #expect(eventSummary(try await collect(normal, count: 10)) == ["ADDED w"])
            // Asked for: a watch gets the real server's shape of 410, a 200 stream with one ERROR event.
            server.updateFaultPolicy { $0.includeWatches = true }
            let gone = try await collect(watcher.watch("\(widgets)?watch=true&resourceVersion=\(rv)"), count: 10)
            #expect(gone.count == 1 && gone.first?["type"] == "ERROR")
            #expect(gone.first?[path: "object", "code"] == 410 && gone.first?[path: "object", "reason"] == "Expired")
            server.faultPolicy = FaultPolicy(errorRate: 1, errorStatuses: [503], verbs: ["watch"])
            let refused = watcher.watch("\(widgets)?watch=true")
            await #expect(throws: (any Error).self) { _ = try await collect(refused, count: 1) }
            #expect(server.faultCounters.errors == [410: 2, 503: 1])
        }
    }

    @Test(.timeLimit(.minutes(1))) func delaysAreAsynchronous() async throws {
        try await withServer(crd: false) { server, c in
            server.faultPolicy = FaultPolicy(verbs: ["get"], delay: .milliseconds(150))
            let t0 = ContinuousClock.now
            #expect(try await c.get("/api/v1/namespaces/default").status == 200)
            #expect(ContinuousClock.now - t0 >= .milliseconds(150))
            // 8 concurrent delayed requests on 8 connections overlap: the server's 2 event-loop
            // threads are never put to sleep (serially this would take ≥ 4 s).
            server.faultPolicy = FaultPolicy(verbs: ["get"], delay: .milliseconds(500), delayJitter: .milliseconds(10))
            let clients = try (0..<8).map { _ in try server.makeTestClient() }
            defer { for cl in clients { Task { await cl.close() } } }
            let t1 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Int.self) { group in
                for cl in clients { group.addTask { try await cl.get("/api/v1/namespaces/default").status } }
                for try await status in group { #expect(status == 200) }
            }
            let elapsed = ContinuousClock.now - t1
            #expect(elapsed >= .milliseconds(500) && elapsed < .milliseconds(3000), "\(elapsed)")
            let counters = server.faultCounters
            #expect(counters.delayedRequests == 9 && counters.totalDelayMilliseconds >= 150 + 8 * 500)
            #expect(counters.totalErrors == 0)
        }
    }

    @Test(.timeLimit(.minutes(1))) func watchTruncatedAfterEventsAndAfterTime() async throws {
        try await withServer { server, c in
            let rv = server.currentResourceVersion
            for i in 0..<5 { _ = try await c.post(widgets, widget("t\(i)")) }
            server.faultPolicy = FaultPolicy(watchTruncateAfterEvents: 3)
            // History events count: the stream ends cleanly after exactly 3.
            let resumed = try await collect(c.watch("\(widgets)?watch=true&resourceVersion=\(rv)"), count: 100)
            #expect(eventSummary(resumed) == ["ADDED t0", "ADDED t1", "ADDED t2"])
            // Live events count too; bookmarks do not.
            let now = server.currentResourceVersion
            let watcher = try server.makeTestClient()
            defer { Task { await watcher.close() } }
            let live = watcher.watch("\(widgets)?watch=true&resourceVersion=\(now)&allowWatchBookmarks=true")
            // The watch request has arrived (it resumes from `now`, so later writes reach it either way).
            #expect(await eventually { server.requestLog.contains { $0.verb == "watch" && $0.query.contains("allowWatchBookmarks=true") } })
            for i in 0..<4 { _ = try await c.patch("\(widgets)/t\(i)", ["spec": ["size": 9]]) }
            let seen = try await collect(live, count: 100)
            #expect(seen.filter { $0["type"] == "MODIFIED" }.count == 3 && seen.last?["type"] == "MODIFIED")
            #expect(server.faultCounters.truncatedWatches == 2)
            // Time-based truncation ends an idle watch long before its timeout.
            server.faultPolicy = FaultPolicy(watchTruncateAfter: .milliseconds(300))
            let start = ContinuousClock.now
            let idle = try await collect(
                c.watch("\(widgets)?watch=true&resourceVersion=\(server.currentResourceVersion)&timeoutSeconds=60"), count: 100)
            #expect(idle.isEmpty && ContinuousClock.now - start < .seconds(10))
            #expect(server.faultCounters.truncatedWatches == 3)
        }
    }

    @Test(.timeLimit(.minutes(1))) func periodicCompactionAndConnectionDrops() async throws {
        try await withServer { server, c in
            let rv = try await c.post(widgets, widget("p")).json[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            _ = try await c.post(widgets, widget("q"))
            server.faultPolicy = FaultPolicy(compactHistoryEvery: .milliseconds(50), dropConnectionsEvery: .milliseconds(50))
            _ = await eventually { server.faultCounters.compactions >= 2 && server.faultCounters.connectionDrops >= 2 }
            // Periodic tasks stop with the policy: once the old ones have ended, nothing compacts.
            await server.replaceFaultPolicy(.none)
            let after = server.faultCounters.compactions
            #expect(after >= 2 && server.faultCounters.connectionDrops >= 2)
            let gone = try await collect(c.watch("\(widgets)?watch=true&resourceVersion=\(rv)"), count: 5)
            #expect(gone.first?["type"] == "ERROR" && gone.first?[path: "object", "code"] == 410)
            for name in ["r", "s", "t"] { _ = try await c.post(widgets, widget(name)) }
            #expect(server.faultCounters.compactions == after)
        }
    }

    @Test(.timeLimit(.minutes(1))) func restartKeepsStatePortAndIncreasingResourceVersions() async throws {
        let dir = try TestDirectories.make("apiserver-restart").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withServer(EmbeddedAPIServerConfiguration(dataDirectory: dir)) { server, c in
            let port = server.port
            let created = try await c.post(widgets, widget("keep", size: 3)).json
            let rvBefore = Int64(created[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
            let watcher = try server.makeTestClient()
            defer { Task { await watcher.close() } }
            // Reading the first event proves the watch is established before the restart.
            var open = watcher.watch("\(widgets)?watch=true&resourceVersion=\(rvBefore - 1)").makeAsyncIterator()
            #expect(try await open.next()?["type"] == "ADDED")
            var rvs: [Int64] = [rvBefore]
            for round in 1...3 {
                try await server.restart(downtime: .milliseconds(50))
                #expect(server.port == port)
                // The same client reconnects to the same port with the same token and CA.
                let got = try await c.get("\(widgets)/keep")
                #expect(got.status == 200 && got.json[path: "spec", "size"] == 3)
                #expect(got.json[path: "metadata", "uid"] == created[path: "metadata", "uid"])
                let crd = try await c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.demo.example.com")
                #expect(crd.status == 200)
                let next = try await c.post(widgets, widget("after\(round)")).json
                rvs.append(Int64(next[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0)
            }
            #expect(rvs == rvs.sorted() && Set(rvs).count == rvs.count, "resourceVersions strictly increase: \(rvs)")
            // Open watches ended with the restart; resuming from before it needs a relist (410).
            // The open watch was ended cleanly by the restart (graceful termination).
            #expect(try await open.next() == nil)
            let gone = try await collect(c.watch("\(widgets)?watch=true&resourceVersion=\(rvBefore)"), count: 5)
            #expect(gone.first?[path: "object", "code"] == 410)
            #expect(server.faultCounters.restarts == 3)
            let names = try await c.get(widgets).json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue }
            #expect(names == ["after1", "after2", "after3", "keep"])
        }
        // The state on disk is complete too: a brand-new server on the same directory sees it.
        try await withServer(crd: false, EmbeddedAPIServerConfiguration(dataDirectory: dir)) { _, c in
            let status = try await c.get("\(widgets)/after3").status
            #expect(status == 200)
        }
    }

    @Test(.timeLimit(.minutes(1))) func restartWithoutDataDirectoryKeepsMemoryState() async throws {
        try await withServer { server, c in
            _ = try await c.post(widgets, widget("m"))
            let before = server.currentResourceVersion
            try await server.restart()
            #expect(try await c.get("\(widgets)/m").status == 200)
            let rv = Int64(try await c.post(widgets, widget("n")).json[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
            #expect(rv > before)
        }
    }
}
