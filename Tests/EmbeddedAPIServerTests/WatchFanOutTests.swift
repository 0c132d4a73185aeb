import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

/// Watch delivery under a write storm: batching per event loop, one shared encoding per change,
/// watchers grouped by selector, pre-framed chunks.
@Suite struct WatchFanOutTests {
    @Test(.timeLimit(.minutes(2))) func stormReachesEveryWatcherInOrderWithItsSelector() async throws {
        // A long batch spacing so that many changes share a chunk.
        var configuration = EmbeddedAPIServerConfiguration()
        configuration.watchBatchInterval = .milliseconds(20)
        configuration.watchBatchMaxInterval = .milliseconds(80)
        try await withServer(configuration) { server, c in
            let rv = server.currentResourceVersion
            let watchClient = try server.makeTestClient()
            // Watchers with equal selectors share one evaluation per change: two groups of three.
            let all = (0..<3).map { _ in watchClient.watch("\(widgets)?watch=true&resourceVersion=\(rv)") }
            let even = (0..<3).map { _ in watchClient.watch("\(widgets)?watch=true&resourceVersion=\(rv)&labelSelector=parity%3Deven") }
            // All six watch requests have arrived (they resume from `rv`, so no change is missed).
            #expect(await eventually { server.requestCount(verb: "watch") >= 6 })

            // Writers on several connections: creates, then updates that move half of the objects
            // in and out of the selector.
            let n = 120
            try await writeConcurrently(server, count: n) { client, i in
                let parity = i % 2 == 0 ? "even" : "odd"
                let r = try await client.post(widgets, widget("w\(i)", labels: ["parity": .string(parity)]))
                #expect(r.status == 201)
            }
            try await writeConcurrently(server, count: n) { client, i in
                let flipped = i % 2 == 0 ? "odd" : "even"
                let r = try await client.patch("\(widgets)/w\(i)", ["metadata": ["labels": ["parity": .string(flipped)]]])
                #expect(r.status == 200)
            }

            for stream in all {
                let events = try await collect(stream, count: 2 * n)
                #expect(events.count == 2 * n)
                expectIncreasingVersions(events)
                #expect(events.filter { $0["type"] == "ADDED" }.count == n)
                #expect(events.filter { $0["type"] == "MODIFIED" }.count == n)
            }
            // Even objects: ADDED, then DELETED when they leave; odd ones: ADDED when they enter.
            for stream in even {
                let events = try await collect(stream, count: 2 * (n / 2) + n / 2)
                #expect(events.count == 3 * n / 2)
                expectIncreasingVersions(events)
                let summary = Set(eventSummary(events))
                for i in 0..<n {
                    if i % 2 == 0 {
                        #expect(summary.contains("ADDED w\(i)") && summary.contains("DELETED w\(i)"))
                    } else {
                        #expect(summary.contains("ADDED w\(i)"))
                    }
                }
            }
            await watchClient.close()
            _ = c
        }
    }

    /// Members of one group share its log and its pre-framed chunks: watchers that join while
    /// changes stream in, and one that also gets bookmarks, each see exactly the changes after
    /// their resourceVersion, in order, with every bookmark between the changes it follows.
    @Test(.timeLimit(.minutes(2))) func groupMembersJoiningMidStormSeeExactlyTheirChanges() async throws {
        var configuration = EmbeddedAPIServerConfiguration()
        configuration.watchBatchInterval = .milliseconds(10)
        configuration.watchBatchMaxInterval = .milliseconds(40)
        // Bookmarks queued while the member still has changes to take.
        configuration.watchBookmarkInterval = .milliseconds(7)
        try await withServer(configuration) { server, c in
            let n = 400
            let startRV = server.currentResourceVersion
            let watchClient = try server.makeTestClient()
            var streams: [(rv: Int64, stream: AsyncThrowingStream<JSON, Error>)] = (0..<4).map { _ in
                (startRV, watchClient.watch("\(widgets)?watch=true&resourceVersion=\(startRV)"))
            }
            let watching = await eventually { server.requestCount(verb: "watch") >= 4 }
            #expect(watching)
            let writers = Task {
                try await writeConcurrently(server, count: n) { client, i in
                    let r = try await client.post(widgets, widget("g\(i)"))
                    #expect(r.status == 201)
                }
            }
            // Joiners: same selectors (same group), each from the version it read while writes run.
            var bookmarked: (rv: Int64, stream: AsyncThrowingStream<JSON, Error>)?
            for k in 0..<3 {
                // Join only after more writes landed, so each joiner starts mid-storm.
                let before = server.currentResourceVersion
                let progressed: () async -> Bool = { server.currentResourceVersion > before }
                _ = await eventually(interval: .milliseconds(5), progressed)
                let rv = server.currentResourceVersion
                if k == 1 {
                    bookmarked = (rv, watchClient.watch("\(widgets)?watch=true&resourceVersion=\(rv)&allowWatchBookmarks=true"))
                } else {
                    streams.append((rv, watchClient.watch("\(widgets)?watch=true&resourceVersion=\(rv)")))
                }
            }
            try await writers.value
            let endRV = server.currentResourceVersion
            for (rv, stream) in streams {
                let expected = Int(endRV - rv)
                let events = try await collect(stream, count: expected)
                #expect(events.count == expected)
                expectIncreasingVersions(events)
                if let first = events.first {
                    #expect(first[path: "object", "metadata", "resourceVersion"]?.stringValue == String(rv + 1))
                }
            }
            if let (rv, stream) = bookmarked {
                // Bookmarks, queued while changes were being logged, stand between them.
                var changes = 0
                var bookmarks = 0
                var last = rv
                for try await e in stream {
                    let version = Int64(e[path: "object", "metadata", "resourceVersion"]?.stringValue ?? "") ?? -1
                    if e["type"] == "BOOKMARK" {
                        #expect(version >= last, "bookmark \(version) after change \(last)")
                        bookmarks += 1
                    } else {
                        #expect(version > last, "change \(version) after \(last)")
                        changes += 1
                    }
                    last = max(last, version)
                    if changes == Int(endRV - rv) { break }
                }
                #expect(changes == Int(endRV - rv))
                #expect(bookmarks > 1)
            }
            await watchClient.close()
            _ = c
        }
    }

    @Test(.timeLimit(.minutes(1))) func lineCounterCountsEveryEvent() async throws {
        try await withServer { server, c in
            let rv = server.currentResourceVersion
            let counter = WatchLineCounter()
            let watchClient = try server.makeTestClient()
            for _ in 0..<3 { try await watchClient.countWatchLines("\(widgets)?watch=true&resourceVersion=\(rv)", into: counter) }
            // A watch the server refuses (bad resourceVersion) counts as failed, not as lines.
            try await watchClient.countWatchLines("\(widgets)?watch=true&resourceVersion=x", into: counter)
            for i in 0..<50 {
                let r = try await c.post(widgets, widget("c\(i)"))
                #expect(r.status == 201)
            }
            _ = await eventually { counter.lines >= 150 }
            #expect(counter.lines == 150)
            #expect(counter.bytes > 150 * 100)
            _ = await eventually { counter.failures >= 1 }
            #expect(counter.failures == 1)
            await watchClient.close()
        }
    }
}

/// `write(client, i)` for every i below `count`, from `connections` clients side by side
/// (client k takes k, k + connections, ...).
private func writeConcurrently(
    _ server: EmbeddedAPIServer, connections: Int = 4, count: Int,
    _ write: @escaping @Sendable (LoopbackHTTPClient, Int) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for k in 0..<connections {
            let client = try server.makeTestClient()
            group.addTask {
                defer { Task { await client.close() } }
                for i in stride(from: k, to: count, by: connections) { try await write(client, i) }
            }
        }
        try await group.waitForAll()
    }
}

/// Every event's resourceVersion is larger than the one before.
private func expectIncreasingVersions(_ events: [JSON]) {
    var last: Int64 = 0
    for e in events {
        let rv = Int64(e[path: "object", "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
        #expect(rv > last, "resourceVersion \(rv) after \(last)")
        last = rv
    }
}
