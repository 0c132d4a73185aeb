import ArgumentParser
import EmbeddedAPIServer
import Foundation
import KubeJSON
import Synchronization

/// `apiserver` benchmark: creates/updates/gets over HTTPS against an in-process embedded API
/// server while watchers are connected, then one change fanned out to many watchers.
struct APIServerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Embedded API server: ops/s and p99 for create/update/get with watchers connected, watch delivery, fan-out latency, peak RSS.")

    @Option(help: "Objects to create, update and get.")
    var count: Int = 10_000

    @Option(help: "Concurrent client connections.")
    var concurrency: Int = 8

    @Option(help: "Watchers connected during the writes (and watchers of the single fan-out change).")
    var watchers: Int = 100

    @Option(help: "What the watchers see during the writes: 'all' (every change, on the written collection), 'none' (a label selector no object matches: filtering cost only), 'off' (no watchers during writes).")
    var watchMode: String = "all"

    @Option(help: "Server event-loop threads.")
    var serverThreads: Int = 2

    @Option(help: "Client I/O threads shared by all client connections.")
    var clientThreads: Int = 1

    func validate() throws {
        guard ["all", "none", "off"].contains(watchMode) else { throw ValidationError("--watch-mode must be all, none or off") }
        guard count > 0, concurrency > 0, watchers >= 0 else { throw ValidationError("--count and --concurrency must be positive") }
    }

    func run() async throws {
        let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(threads: serverThreads))
        let loops = LoopbackEventLoops(threads: clientThreads)
        let clients = try (0..<concurrency).map { _ in try LoopbackHTTPClient(server: server, eventLoops: loops) }
        let base = "/api/v1/namespaces/default/configmaps"
        print("embedded API server benchmark: \(count) objects, \(clients.count) connections, \(watchers) watchers (during writes: \(watchMode)), server threads \(serverThreads), client threads \(clientThreads)")

        // Watchers connected during the write phases; each counts the event lines it receives.
        let watchClient = try LoopbackHTTPClient(server: server, eventLoops: loops)
        let delivered = Counter()
        let liveWatchers = watchMode == "off" ? 0 : watchers
        let selector = watchMode == "none" ? "&labelSelector=bench%3Dnever" : ""
        let startRV = server.currentResourceVersion
        var watchTasks: [Task<Void, Never>] = []
        for _ in 0..<liveWatchers {
            let lines = watchClient.watchLineCounts("\(base)?watch=true&resourceVersion=\(startRV)&timeoutSeconds=600\(selector)")
            watchTasks.append(Task {
                do { for try await n in lines { delivered.add(n) } } catch { print("watcher failed: \(error)") }
            })
        }
        if liveWatchers > 0 { try await Task.sleep(for: .milliseconds(500)) }  // let the watch requests register

        func phase(_ name: String, _ op: @escaping @Sendable (LoopbackHTTPClient, Int) async throws -> Int) async throws -> Double {
            let start = now()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for (ci, client) in clients.enumerated() {
                    group.addTask {
                        var local: [Double] = []
                        local.reserveCapacity(count / clients.count + 1)
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
            return elapsed
        }

        let writesStart = now()
        _ = try await phase("create") { c, i in
            try await c.request("POST", base, json: ["metadata": ["name": .string("cm-\(i)"), "labels": ["bench": "yes"]], "data": ["i": .string(String(i))]]).status
        }
        _ = try await phase("update") { c, i in
            try await c.request("PATCH", "\(base)/cm-\(i)", json: ["data": ["i": .string("updated-\(i)")]], contentType: "application/merge-patch+json").status
        }
        let writesEnd = now()
        print(String(format: "writes  %6d in %6.2fs = %8.0f writes/s (create + update, %d watchers connected)",
                     2 * count, writesEnd - writesStart, Double(2 * count) / (writesEnd - writesStart), liveWatchers))
        _ = try await phase("get") { c, i in
            try await c.request("GET", "\(base)/cm-\(i)").status
        }
        if watchMode == "all" && liveWatchers > 0 {
            // Every watcher must receive every change; report when the last one did.
            let expected = liveWatchers * 2 * count
            let deadline = now() + 120
            while delivered.value < expected && now() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let done = now()
            print(String(format: "watch   %d of %d events delivered to %d watchers; all in %.2fs after the first write (%.2fs after the last) = %.0f events/s",
                         delivered.value, expected, liveWatchers, done - writesStart, max(0, done - writesEnd),
                         Double(delivered.value) / (done - writesStart)))
        } else if liveWatchers > 0 {
            print("watch   \(delivered.value) events delivered to \(liveWatchers) non-matching watchers (expected 0)")
        }
        for t in watchTasks { t.cancel() }

        // Fan-out: many watchers from the current resourceVersion, one change, time to delivery.
        let rv = server.currentResourceVersion
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
            if watchers > 0 { for await _ in started { n += 1; if n == watchers { break } } }
            // Give the watch requests time to register (the stream yields before the request is sent).
            try await Task.sleep(for: .milliseconds(500))
            let t0 = now()
            let r = try await clients[0].request("PATCH", "\(base)/cm-0", json: ["data": ["i": "watched"]], contentType: "application/merge-patch+json")
            guard r.status == 200 else { throw ValidationError("watched change failed: \(r.status)") }
            var delays: [Double] = []
            for try await t in group { delays.append(t - t0) }
            return delays
        }
        if watchers > 0 {
            let fs = Stats(fanout)
            print("fan-out \(fanout.count) watchers got one change: median \(Stats.format(fs.median))  p99 \(Stats.format(fs.p99))  max \(Stats.format(fs.samples.last ?? .nan))  (setup \(String(format: "%.2fs", now() - ready)))")
        }
        print(String(format: "peak RSS %.1f MiB (server and clients in one process)", Double(peakRSSBytes()) / 1_048_576))
        await watchClient.close()
        for c in clients { await c.close() }
        try await server.shutdown()
        await loops.shutdown()
    }
}

/// A thread-safe counter of delivered watch events.
private final class Counter: Sendable {
    private let n = Mutex(0)
    func add(_ k: Int) { n.withLock { $0 += k } }
    var value: Int { n.withLock { $0 } }
}
