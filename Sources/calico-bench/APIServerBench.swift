import ArgumentParser
import EmbeddedAPIServer
import Foundation
import KubeJSON

/// `apiserver` benchmark: creates/updates/gets over HTTPS against an in-process embedded API
/// server, then one change fanned out to many watchers.
struct APIServerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Embedded API server: ops/s and p99 for create/update/get, watch fan-out latency, peak RSS.")

    @Option(help: "Objects to create, update and get.")
    var count: Int = 10_000

    @Option(help: "Concurrent client connections.")
    var concurrency: Int = 8

    @Option(help: "Watchers of the single change.")
    var watchers: Int = 100

    func run() async throws {
        let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration())
        let clients = try (0..<max(1, concurrency)).map { _ in try LoopbackHTTPClient(server: server) }
        let base = "/api/v1/namespaces/default/configmaps"
        print("embedded API server benchmark: \(count) objects, \(clients.count) connections, \(watchers) watchers")

        func phase(_ name: String, _ op: @escaping @Sendable (LoopbackHTTPClient, Int) async throws -> Int) async throws {
            let start = now()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for (ci, client) in clients.enumerated() {
                    group.addTask {
                        var local: [Double] = []
                        var i = ci
                        while i < count {
                            let t0 = now()
                            let status = try await op(client, i)
                            guard (200..<300).contains(status) else { throw ValidationError("\(name) #\(i) failed with HTTP \(status)") }
                            local.append(now() - t0)
                            i += clients.count
                        }
                        return local
                    }
                }
                var all: [Double] = []
                for try await l in group { all += l }
                return all
            }
            let elapsed = now() - start
            let stats = Stats(latencies)
            print(String(format: "%-7@ %6d ops in %6.2fs = %8.0f ops/s   median %@   p99 %@", name as NSString, latencies.count, elapsed,
                         Double(latencies.count) / elapsed, Stats.format(stats.median) as NSString, Stats.format(stats.p99) as NSString))
        }

        try await phase("create") { c, i in
            try await c.request("POST", base, json: ["metadata": ["name": .string("cm-\(i)"), "labels": ["bench": "yes"]], "data": ["i": .string(String(i))]]).status
        }
        try await phase("update") { c, i in
            try await c.request("PATCH", "\(base)/cm-\(i)", json: ["data": ["i": .string("updated-\(i)")]], contentType: "application/merge-patch+json").status
        }
        try await phase("get") { c, i in
            try await c.request("GET", "\(base)/cm-\(i)").status
        }

        // Fan-out: many watchers from the current resourceVersion, one change, time to delivery.
        let rv = server.currentResourceVersion
        let watchClient = try LoopbackHTTPClient(server: server)
        let ready = now()
        let fanout = try await withThrowingTaskGroup(of: Double.self) { group in
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            for _ in 0..<watchers {
                group.addTask {
                    let stream = watchClient.watch("\(base)?watch=true&resourceVersion=\(rv)&allowWatchBookmarks=true&timeoutSeconds=60")
                    startedContinuation.yield()
                    for try await event in stream where event["type"]?.stringValue == "MODIFIED" {
                        return now()
                    }
                    throw ValidationError("watch ended without the change")
                }
            }
            var n = 0
            for await _ in started { n += 1; if n == watchers { break } }
            // Give the watch requests time to register (the stream yields before the request is sent).
            try await Task.sleep(for: .milliseconds(500))
            let t0 = now()
            let r = try await clients[0].request("PATCH", "\(base)/cm-0", json: ["data": ["i": "watched"]], contentType: "application/merge-patch+json")
            guard r.status == 200 else { throw ValidationError("watched change failed: \(r.status)") }
            var delays: [Double] = []
            for try await t in group { delays.append(t - t0) }
            return delays
        }
        let fs = Stats(fanout)
        print("watch   \(fanout.count) watchers got the change: median \(Stats.format(fs.median))  p99 \(Stats.format(fs.p99))  max \(Stats.format(fs.samples.last ?? .nan))  (setup \(String(format: "%.2fs", now() - ready)))")
        print(String(format: "peak RSS %.1f MiB (server and clients in one process)", Double(peakRSSBytes()) / 1_048_576))
        await watchClient.close()
        for c in clients { await c.close() }
        try await server.shutdown()
    }
}
