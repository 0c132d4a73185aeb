import ArgumentParser
import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import NIOCore
import NIOPosix

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

    @Option(
        help:
            "What the watchers see during the writes: 'all' (every change, on the written collection), 'none' (a label selector no object matches: filtering cost only), 'off' (no watchers during writes)."
    )
    var watchMode: String = "all"

    @Option(
        help:
            "What is written: 'configmap' or 'widget' (a custom resource whose CRD has a structural schema: validation, pruning and defaults on every write)."
    )
    var resource: String = "configmap"

    @Option(help: "Server event-loop threads.")
    var serverThreads: Int = 2

    @Option(help: "Client I/O threads shared by all client connections.")
    var clientThreads: Int = 1

    @Option(
        help:
            "Where the request tasks run: 'loop' (on the client I/O threads: a response resumes its task without a thread hop) or 'global' (Swift's global pool)."
    )
    var clientExecutor: String = "loop"

    @Option(
        help:
            "Client of the create and update phases: 'generator' (pre-encoded requests sent from event-loop callbacks, as a load generator such as wrk does: the least client CPU on the shared cores) or 'async' (LoopbackHTTPClient, one async request at a time per connection)."
    )
    var writeClient: String = "generator"

    @Option(help: "I/O threads of their own for the watch streams (0: they share the client threads); makes their CPU visible per thread group.")
    var watchClientThreads: Int = 0

    @Option(help: "Server's spacing of watch batches per event loop at the start of a stream of changes, in milliseconds.")
    var watchBatchMs: Double = 5

    @Option(help: "Server's largest spacing of watch batches under sustained load, in milliseconds.")
    var watchBatchMaxMs: Double = 20

    func validate() throws {
        guard ["all", "none", "off"].contains(watchMode) else { throw ValidationError("--watch-mode must be all, none or off") }
        guard ["configmap", "widget"].contains(resource) else { throw ValidationError("--resource must be configmap or widget") }
        guard ["loop", "global"].contains(clientExecutor) else { throw ValidationError("--client-executor must be loop or global") }
        guard ["generator", "async"].contains(writeClient) else { throw ValidationError("--write-client must be generator or async") }
        guard count > 0, concurrency > 0, watchers >= 0, watchClientThreads >= 0 else {
            throw ValidationError("--count and --concurrency must be positive")
        }
        guard watchBatchMs >= 0, watchBatchMaxMs >= watchBatchMs, watchBatchMaxMs <= 1_000 else {
            throw ValidationError("need 0 ≤ --watch-batch-ms ≤ --watch-batch-max-ms ≤ 1000")
        }
    }

    /// A namespaced custom resource with a structural schema (types, bounds, a pattern, a list
    /// type, a default), so every write pays for validation, pruning and defaulting.
    static let widgetCRD: JSON = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.bench.example.com"],
        "spec": [
            "group": "bench.example.com", "scope": "Namespaced",
            "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
            "versions": [
                [
                    "name": "v1", "served": true, "storage": true,
                    "schema": [
                        "openAPIV3Schema": [
                            "type": "object",
                            "properties": [
                                "spec": [
                                    "type": "object", "required": ["i"],
                                    "properties": [
                                        "i": ["type": "string", "maxLength": 64, "pattern": "^[a-z0-9-]+$"],
                                        "size": ["type": "integer", "minimum": 0, "maximum": 1000],
                                        "tags": ["type": "array", "items": ["type": "string"], "x-kubernetes-list-type": "set"],
                                        "mode": ["type": "string", "enum": ["fast", "slow"], "default": "fast"],
                                    ],
                                ]
                            ],
                        ]
                    ],
                ]
            ],
        ],
    ]

    /// One line per phase: operations, rate, median and p99 latency.
    static func printPhase(_ name: String, latencies: [Double], elapsed: Double) {
        let stats = Stats(latencies)
        print(
            String(
                format: "%-7@ %6d ops in %6.2fs = %8.0f ops/s   median %@   p99 %@", name as NSString, latencies.count, elapsed,
                Double(latencies.count) / elapsed, Stats.format(stats.median) as NSString, Stats.format(stats.p99) as NSString))
    }

    func run() async throws {
        var configuration = EmbeddedAPIServerConfiguration(threads: serverThreads)
        configuration.watchBatchInterval = .nanoseconds(Int64(watchBatchMs * 1e6))
        configuration.watchBatchMaxInterval = .nanoseconds(Int64(watchBatchMaxMs * 1e6))
        let server = try await EmbeddedAPIServer.start(configuration)
        let loops = LoopbackEventLoops(threads: clientThreads)
        let clients = try (0..<concurrency).map { _ in try LoopbackHTTPClient(server: server, eventLoops: loops) }
        let widgets = resource == "widget"
        let base = widgets ? "/apis/bench.example.com/v1/namespaces/default/widgets" : "/api/v1/namespaces/default/configmaps"
        if widgets {
            let crd = try await clients[0].request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: Self.widgetCRD)
            guard crd.status == 201 else { throw ValidationError("creating the Widget CRD failed with HTTP \(crd.status): \(crd.text)") }
        }
        print(
            "embedded API server benchmark: \(count) objects, \(clients.count) connections, \(watchers) watchers (during writes: \(watchMode)), server threads \(serverThreads), client threads \(clientThreads) (writes from \(writeClient == "generator" ? "the load generator" : "async requests"); other request tasks on \(clientExecutor == "loop" ? "a client I/O thread" : "the global pool")), watch batches \(watchBatchMs)-\(watchBatchMaxMs) ms apart"
        )

        // Watchers connected during the write phases; each counts the event lines it receives.
        let watchLoops = watchClientThreads > 0 ? LoopbackEventLoops(threads: watchClientThreads) : loops
        let watchClient = try LoopbackHTTPClient(server: server, eventLoops: watchLoops)
        // Counted on the client's event loop: the bench's own reading shares the cores with the server.
        let delivered = WatchLineCounter()
        let liveWatchers = watchMode == "off" ? 0 : watchers
        let selector = watchMode == "none" ? "&labelSelector=bench%3Dnever" : ""
        let startRV = server.currentResourceVersion
        for _ in 0..<liveWatchers {
            try await watchClient.countWatchLines("\(base)?watch=true&resourceVersion=\(startRV)&timeoutSeconds=600\(selector)", into: delivered)
        }
        if liveWatchers > 0 { try await Task.sleep(for: .milliseconds(500)) }  // let the watch requests register

        let executor: (any TaskExecutor)? = clientExecutor == "loop" ? loops.makeTaskExecutor() : nil
        func phase(_ name: String, _ op: @escaping @Sendable (LoopbackHTTPClient, Int) async throws -> Int) async throws -> Double {
            let start = now()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for (ci, client) in clients.enumerated() {
                    group.addTask(executorPreference: executor) {
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
            Self.printPhase(name, latencies: latencies, elapsed: elapsed)
            return elapsed
        }

        // The write phases' requests, pre-encoded for the load generator.
        let headers = [("Host", "127.0.0.1:\(server.port)"), ("Authorization", "Bearer \(server.token)"), ("Accept", "application/json")]
        @Sendable func createBody(_ i: Int) -> JSON {
            widgets
                ? [
                    "apiVersion": "bench.example.com/v1", "kind": "Widget", "metadata": ["name": .string("cm-\(i)"), "labels": ["bench": "yes"]],
                    "spec": ["i": .string(String(i)), "size": .int(Int64(i % 100)), "tags": ["a", "b"]],
                ]
                : ["metadata": ["name": .string("cm-\(i)"), "labels": ["bench": "yes"]], "data": ["i": .string(String(i))]]
        }
        @Sendable func updateBody(_ i: Int) -> JSON {
            widgets ? ["spec": ["i": .string("updated-\(i)")]] : ["data": ["i": .string("updated-\(i)")]]
        }
        let generatorLoops = MultiThreadedEventLoopGroup(numberOfThreads: clientThreads)
        func generatorPhase(_ name: String, _ requests: [ByteBuffer]) async throws {
            let perConnection = count / concurrency
            let warmup = [HTTPLoadGenerator.encode(method: "GET", path: "/version", headers: headers)]
            let result = try await HTTPLoadGenerator.run(
                group: generatorLoops, port: server.port, caPEM: server.caCertificatePEM, serverHostname: nil, requests: requests,
                order: .each, warmupRequests: warmup, connections: concurrency, requestsPerConnection: perConnection, warmup: 2)
            guard result.failed == 0 else { throw ValidationError("\(name): \(result.failed) requests failed") }
            Self.printPhase(name, latencies: result.latencies, elapsed: result.elapsed)
        }
        var creates: [ByteBuffer] = []
        var updates: [ByteBuffer] = []
        if writeClient == "generator" {
            guard count % concurrency == 0 else { throw ValidationError("--count must be a multiple of --concurrency with --write-client generator") }
            creates = (0..<count).map { i in
                HTTPLoadGenerator.encode(
                    method: "POST", path: base, headers: headers + [("Content-Type", "application/json")], body: createBody(i).serialized())
            }
            updates = (0..<count).map { i in
                HTTPLoadGenerator.encode(
                    method: "PATCH", path: "\(base)/cm-\(i)", headers: headers + [("Content-Type", "application/merge-patch+json")],
                    body: updateBody(i).serialized())
            }
        }

        let cpuStart = ThreadCPU.snapshot()
        let writesStart = now()
        if writeClient == "generator" {
            try await generatorPhase("create", creates)
            try await generatorPhase("update", updates)
        } else {
            _ = try await phase("create") { c, i in try await c.request("POST", base, json: createBody(i)).status }
            _ = try await phase("update") { c, i in
                try await c.request("PATCH", "\(base)/cm-\(i)", json: updateBody(i), contentType: "application/merge-patch+json").status
            }
        }
        let writesEnd = now()
        print(
            String(
                format: "writes  %6d in %6.2fs = %8.0f writes/s (create + update, %d watchers connected)",
                2 * count, writesEnd - writesStart, Double(2 * count) / (writesEnd - writesStart), liveWatchers))
        // CPU is the scarce resource on a shared machine: report it per write, split by thread group.
        let cpuWrites = ThreadCPU.snapshot().since(cpuStart)
        let deliveredDuringWrites = delivered.lines
        print(ThreadCPU.describe(cpuWrites, wall: writesEnd - writesStart, writes: 2 * count))
        _ = try await phase("get") { c, i in
            try await c.request("GET", "\(base)/cm-\(i)").status
        }
        if watchMode == "all" && liveWatchers > 0 {
            // Every watcher must receive every change; report when the last one did.
            let expected = liveWatchers * 2 * count
            let deadline = now() + 120
            while delivered.lines < expected && now() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let done = now()
            print(
                String(
                    format:
                        "watch   %d of %d events delivered to %d watchers; all in %.2fs after the first write (%.2fs after the last) = %.0f events/s",
                    delivered.lines, expected, liveWatchers, done - writesStart, max(0, done - writesEnd),
                    Double(delivered.lines) / (done - writesStart)))
            let cpu = cpuWrites.seconds.values.reduce(0, +)
            print(
                String(
                    format: "cpu     %.2f µs per event delivered during the writes (%d events; write handling included); %.0f bytes per event line",
                    cpu / Double(max(1, deliveredDuringWrites)) * 1e6, deliveredDuringWrites,
                    Double(delivered.bytes) / Double(max(1, delivered.lines))))
        } else if liveWatchers > 0 {
            print("watch   \(delivered.lines) events delivered to \(liveWatchers) non-matching watchers (expected 0)")
        }
        if delivered.failures > 0 { print("watch   \(delivered.failures) watch streams failed") }

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
            if watchers > 0 {
                for await _ in started {
                    n += 1
                    if n == watchers { break }
                }
            }
            // Give the watch requests time to register (the stream yields before the request is sent).
            try await Task.sleep(for: .milliseconds(500))
            let t0 = now()
            let r = try await clients[0].request(
                "PATCH", "\(base)/cm-0", json: ["data": ["i": "watched"]], contentType: "application/merge-patch+json")
            guard r.status == 200 else { throw ValidationError("watched change failed: \(r.status)") }
            var delays: [Double] = []
            for try await t in group { delays.append(t - t0) }
            return delays
        }
        if watchers > 0 {
            let fs = Stats(fanout)
            print(
                "fan-out \(fanout.count) watchers got one change: median \(Stats.format(fs.median))  p99 \(Stats.format(fs.p99))  max \(Stats.format(fs.samples.last ?? .nan))  (setup \(String(format: "%.2fs", now() - ready)))"
            )
        }
        print(String(format: "peak RSS %.1f MiB (server and clients in one process)", Double(peakRSSBytes()) / 1_048_576))
        try? await generatorLoops.shutdownGracefully()
        await watchClient.close()
        for c in clients { await c.close() }
        try await server.shutdown()
        await loops.shutdown()
        if watchClientThreads > 0 { await watchLoops.shutdown() }
    }
}

/// CPU time of this process's threads, grouped by thread name (NIO loops are named
/// `NIO-ELT-<group>-#<n>`: the server's group is created first, then the clients').
private struct ThreadCPU {
    var seconds: [String: Double] = [:]

    static func snapshot() -> ThreadCPU {
        var out = ThreadCPU()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for tid in tids {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            // Fields after the name: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { continue }
            let group = name.hasPrefix("NIO-ELT-") ? String(name.prefix { $0 != "#" }) : "other"
            out.seconds[group, default: 0] += (u + s) / ticks
        }
        return out
    }

    /// CPU used since `earlier` (threads that ended in between are not counted).
    func since(_ earlier: ThreadCPU) -> ThreadCPU {
        var d = ThreadCPU()
        for (k, v) in seconds { d.seconds[k] = v - (earlier.seconds[k] ?? 0) }
        return d
    }

    static func describe(_ d: ThreadCPU, wall: Double, writes: Int) -> String {
        let total = d.seconds.values.reduce(0, +)
        let parts = d.seconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.2fs", $0.key as NSString, $0.value) }.joined(separator: ", ")
        return String(
            format: "cpu     %.2fs during the writes (%.2f cores; %@) = %.1f µs per write", total, total / wall, parts as NSString,
            total / Double(writes) * 1e6)
    }
}
