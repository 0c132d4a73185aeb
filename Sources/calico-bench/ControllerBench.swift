import ArgumentParser
import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeClient
import KubeCore
import LocalMode
import NetworkingCalico
import Synchronization

/// `controller` benchmark: the production controller binary as a child process against an
/// in-process embedded API server. Measures the time until N Networks created at once are all
/// `Succeeded`, reconcile-time percentiles from the controller's own histogram, the controller's
/// RSS idle and loaded, and — in a steady phase with one Network changed per second — its CPU
/// share and that unchanged Networks cause no writes.
struct ControllerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Controller: N Networks at once until all Succeeded, steady-state CPU, RSS (child process).")

    @Option(help: "Networks (each with its namespace and Cluster).")
    var networks: Int = 1000

    @Option(help: "Concurrent creating clients.")
    var concurrency: Int = 16

    @Option(help: "Seconds of the steady phase (one Network changed per second).")
    var steadySeconds: Int = 30

    @Option(help: "--max-concurrent-reconciles of the controller.")
    var workers: Int = 5

    @Option(
        help:
            "Client QPS of the controller (component config clientConnection.qps; the example's 100 would make the client's rate limit the whole measurement)."
    )
    var qps: Int = 5000

    @Option(help: "Client burst of the controller.")
    var burst: Int = 10000

    @Flag(help: "Inject faults in the steady phase (5% of requests 429/500/503, watches cut every 60 s, history compacted every 120 s): the soak.")
    var faults = false

    @Option(help: "Print RSS and CPU of the controller every N seconds of the steady phase (0 = never).")
    var sampleEvery: Int = 0

    @Option(
        help:
            "Controller executable (default: next to calico-bench), e.g. the static build .build-static/release/gardener-extension-networking-calico (make static-controller)."
    )
    var controller: String?

    @Flag(help: "Print where the idle RSS is: /proc/<pid>/smaps by kind (binary code, data, libraries, heap, stacks) and the largest mappings.")
    var smaps = false

    @Option(help: "Directory with 00-componentconfig.yaml, 10-crd-*.yaml and 20-network.yaml.")
    var exampleDir: String = "example"

    func run() async throws {
        let binary = try controller ?? Self.siblingExecutable("gardener-extension-networking-calico")
        let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calico-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let kubeconfigPath = dir.appendingPathComponent("kubeconfig").path
        try server.kubeconfig().write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        var clientConfig = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
        clientConfig.qps = 0
        let client = try KubernetesClient(configuration: clientConfig)

        for file in try FileManager.default.contentsOfDirectory(atPath: exampleDir).sorted()
        where file.hasPrefix("10-crd-") && file.hasSuffix(".yaml") {
            try await LocalBootstrap.apply(file: "\(exampleDir)/\(file)", client: client)
        }
        try await LocalBootstrap.waitForCRDs(client: client)
        let (namespaceTemplate, clusterTemplate, networkTemplate) = try Self.templates(exampleDir: exampleDir)

        let componentConfigPath = dir.appendingPathComponent("componentconfig.yaml").path
        try """
        apiVersion: calico.networking.extensions.config.gardener.cloud/v1alpha1
        kind: ControllerConfiguration
        clientConnection:
          acceptContentTypes: application/json
          contentType: application/json
          qps: \(qps)
          burst: \(burst)
        featureGates: {}

        """.write(toFile: componentConfigPath, atomically: true, encoding: .utf8)
        let metricsPort = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--kubeconfig", kubeconfigPath, "--config-file", componentConfigPath,
            "--leader-election=false", "--heartbeat-namespace", "default",
            "--max-concurrent-reconciles", String(workers), "--log-level", "error",
            "--metrics-bind-address", "127.0.0.1:\(metricsPort)", "--health-bind-address", "127.0.0.1:0",
        ]
        process.standardOutput = FileHandle.nullDevice
        let stderrPath = dir.appendingPathComponent("controller.log").path
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let pid = process.processIdentifier
        let metricsURL = "http://127.0.0.1:\(metricsPort)/metrics"
        try await Self.waitForMetrics(metricsURL)
        try await Task.sleep(for: .seconds(2))
        let idleRSS = Self.rss(pid: pid)

        print("controller benchmark: \(networks) Networks, \(workers) workers, controller pid \(pid)")
        print(
            String(
                format: "idle RSS            %.1f MiB (anonymous %.1f MiB)", Double(idleRSS.current) / 1_048_576,
                Double(idleRSS.anonymous) / 1_048_576))
        if smaps, let memory = ProcessMemory(pid: pid) { print(memory.report(pid: pid)) }

        // Watch first, so no transition is missed.
        let succeeded = Mutex(Set<String>())
        let total = networks
        let watchTask = Task {
            let stream = client.watchResuming(.networks, namespace: nil)
            do {
                for try await event in stream {
                    guard LocalBootstrap.isReconciled(event.object),
                        let ns = event.object[path: "metadata", "namespace"]?.stringValue
                    else { continue }
                    _ = succeeded.withLock { $0.insert(ns) }
                }
            } catch {}
        }
        defer { watchTask.cancel() }

        server.resetRequestLog()
        let cpuBefore = Self.cpuSeconds(pid: pid)
        let t0 = now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<max(1, concurrency) {
                group.addTask {
                    var i = worker
                    while i < total {
                        let ns = Self.namespaceName(i)
                        _ = try await client.create(.namespaces, namespace: nil, Self.renamed(namespaceTemplate, ns))
                        _ = try await client.create(.clusters, namespace: nil, Self.renamed(clusterTemplate, ns))
                        _ = try await client.create(.networks, namespace: ns, Self.renamed(networkTemplate, ns))
                        i += max(1, concurrency)
                    }
                }
            }
            try await group.waitForAll()
        }
        let created = now() - t0
        let deadline = now() + 120
        while succeeded.withLock({ $0.count }) < total, now() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let allSucceeded = now() - t0
        let doneCount = succeeded.withLock { $0.count }
        let cpuBurst = Self.cpuSeconds(pid: pid) - cpuBefore
        guard doneCount == total else {
            throw ValidationError("only \(doneCount)/\(total) Networks Succeeded after 120 s (controller log: \(stderrPath))")
        }
        let loadedRSS = Self.rss(pid: pid)
        let requests = server.requestLog
        let creates = 3 * total
        let controllerRequests = requests.count - creates
        print(
            String(
                format: "requests            %d by the controller (%.1f per Network; %d watch/list)", controllerRequests,
                Double(controllerRequests) / Double(total), requests.filter { $0.verb == "watch" || $0.verb == "list" }.count))
        var byKind: [String: Int] = [:]
        for r in requests {
            let parts = r.path.split(separator: "/")
            // verb + resource (+ subresource): the element after the namespace name, or the last collection.
            var resource = parts.last.map(String.init) ?? ""
            if let i = parts.firstIndex(of: "namespaces"), i + 2 < parts.count {
                resource = String(parts[i + 2])
            } else if parts.count >= 2, ["api", "apis"].contains(parts[0]) {
                resource = String(parts[parts.count >= 4 && parts[0] == "apis" ? 3 : 2])
            }
            if r.path.hasSuffix("/status") { resource += "/status" }
            byKind["\(r.verb) \(resource)", default: 0] += 1
        }
        let breakdown = byKind.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        print("  by verb/resource  \(breakdown)")
        let histogram = try await Self.reconcileHistogram(metricsURL)
        print(String(format: "created             %d Namespaces+Clusters+Networks in %.2fs", total, created))
        print(String(format: "all Succeeded after %.2fs (from the first create)   controller CPU %.2fs", allSucceeded, cpuBurst))
        print(
            "reconcile time      count \(histogram.count)  median ≤ \(histogram.percentileBound(0.5))  p99 ≤ \(histogram.percentileBound(0.99))  (bucket upper bounds)"
        )
        print(
            String(
                format: "loaded RSS          %.1f MiB (peak %.1f MiB, anonymous %.1f MiB)", Double(loadedRSS.current) / 1_048_576,
                Double(loadedRSS.peak) / 1_048_576, Double(loadedRSS.anonymous) / 1_048_576))

        // Steady phase: one Network changed per second (providerConfig + gardenlet's annotation).
        guard steadySeconds > 0 else { return }
        // Let the burst's last watch events and status writes settle before measuring.
        try await Task.sleep(for: .seconds(5))
        server.resetRequestLog()
        if faults {
            server.faultPolicy = FaultPolicy(
                errorRate: 0.05, errorStatuses: [429, 500, 503], retryAfterSeconds: 1,
                watchTruncateAfter: .seconds(60), compactHistoryEvery: .seconds(120), seed: 42)
            // Truncation applies to watches started from now on: end the current ones.
            server.closeAllWatches()
        }
        var changed = Set<String>()
        var samples: [(second: Int, rss: Int)] = []
        var sampleCPU = Self.cpuSeconds(pid: pid)
        var sampleTime = now()
        let steadyCPU0 = Self.cpuSeconds(pid: pid)
        let steadyHistogram0 = try await Self.reconcileHistogram(metricsURL)
        let steady0 = now()
        for second in 0..<steadySeconds {
            if sampleEvery > 0, second % sampleEvery == 0 {
                let rss = Self.rss(pid: pid).current
                let cpu = Self.cpuSeconds(pid: pid)
                let t = now()
                samples.append((second, rss))
                print(
                    String(
                        format: "  t=%5ds  RSS %6.1f MiB  CPU %5.2f%%  Succeeded %d/%d", second, Double(rss) / 1_048_576,
                        (cpu - sampleCPU) / max(t - sampleTime, 0.001) * 100, succeeded.withLock { $0.count }, total))
                sampleCPU = cpu
                sampleTime = t
            }
            let ns = Self.namespaceName((second * 7919) % total)
            changed.insert(ns)
            let mtu = second % 2 == 0 ? "1430" : "1420"
            // The bench's own writes face the injected faults too: retry them.
            for attempt in 1...20 {
                do {
                    _ = try await client.patch(
                        .networks, namespace: ns, name: Self.networkName,
                        [
                            "metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]],
                            "spec": ["providerConfig": ["vethMTU": .string(mtu)]],
                        ], type: .merge)
                    break
                } catch  where attempt < 20 {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let next = steady0 + Double(second + 1)
            let wait = next - now()
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        }
        try await Task.sleep(for: .seconds(1))
        let steadyWall = now() - steady0
        let steadyCPU = Self.cpuSeconds(pid: pid) - steadyCPU0
        let writes = server.requestLog.filter { ["create", "update", "patch", "delete"].contains($0.verb) }
        let foreign = writes.filter { w in
            guard let ns = Self.namespace(inPath: w.path), ns.hasPrefix("shoot--bench--") else { return false }
            return !changed.contains(ns)
        }
        print(
            String(
                format: "steady state        %ds, %d Networks changed: controller CPU %.2f%% of a core, %d writes, %d to unchanged Networks",
                steadySeconds, changed.count, steadyCPU / steadyWall * 100, writes.count, foreign.count))
        // One reconcile at a time on an otherwise idle controller: the work of one Network
        // without the burst's queueing for CPU and API server.
        let steadyHistogram = try await Self.reconcileHistogram(metricsURL).minus(steadyHistogram0)
        print(
            "steady reconciles   count \(steadyHistogram.count)  median ≤ \(steadyHistogram.percentileBound(0.5))  p99 ≤ \(steadyHistogram.percentileBound(0.99))  (bucket upper bounds)"
        )
        let steadyRSS = Self.rss(pid: pid)
        print(
            String(format: "RSS after steady    %.1f MiB (peak %.1f MiB)", Double(steadyRSS.current) / 1_048_576, Double(steadyRSS.peak) / 1_048_576))
        if faults {
            let counters = server.faultCounters
            server.clearFaults()
            print(
                "faults injected     \(counters.totalErrors) errors (\(counters.errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))), \(counters.truncatedWatches) watches cut, \(counters.compactions) compactions"
            )
            // No Network may be stuck: every changed one must end Succeeded for its last change.
            let settle = now() + 180
            var pending = changed
            while !pending.isEmpty && now() < settle {
                for ns in pending {
                    if let obj = try? await client.get(.networks, namespace: ns, name: Self.networkName),
                        LocalBootstrap.isReconciled(obj), obj[path: "status", "observedGeneration"] == obj[path: "metadata", "generation"]
                    {
                        pending.remove(ns)
                    }
                }
                if !pending.isEmpty { try await Task.sleep(for: .seconds(1)) }
            }
            print(pending.isEmpty ? "stuck Networks      none" : "stuck Networks      \(pending.count): \(pending.sorted().prefix(5))")
        }
        if samples.count >= 3 {
            // Growth from the sample after warm-up to the last one.
            let first = samples[1].rss
            let last = samples[samples.count - 1].rss
            print(
                String(
                    format: "RSS growth          %+.1f%% (t=%ds %.1f MiB → t=%ds %.1f MiB)", Double(last - first) / Double(first) * 100,
                    samples[1].second, Double(first) / 1_048_576, samples[samples.count - 1].second, Double(last) / 1_048_576))
        }

        process.interrupt()
        kill(pid, SIGTERM)
        process.waitUntilExit()
        try await client.shutdown()
        try await server.shutdown()
    }

    static let networkName = "bar"

    static func namespaceName(_ i: Int) -> String { "shoot--bench--s\(i)" }

    /// Namespace, Cluster and Network of the example, to be renamed per shoot.
    static func templates(exampleDir: String) throws -> (JSON, JSON, JSON) {
        let text = try String(contentsOfFile: "\(exampleDir)/20-network.yaml", encoding: .utf8)
        let docs = try JSON.parseYAMLDocuments(text)
        func find(_ kind: String) throws -> JSON {
            guard let doc = docs.first(where: { $0["kind"]?.stringValue == kind }) else {
                throw ValidationError("\(exampleDir)/20-network.yaml has no \(kind)")
            }
            return doc
        }
        return (try find("Namespace"), try find("Cluster"), try find("Network"))
    }

    /// The template for shoot namespace `ns`: the Namespace and Cluster are named `ns`, the Network lives in it.
    static func renamed(_ template: JSON, _ ns: String) -> JSON {
        var obj = template
        switch obj["kind"]?.stringValue {
        case "Namespace", "Cluster":
            obj[path: "metadata", "name"] = .string(ns)
        default:
            obj[path: "metadata", "namespace"] = .string(ns)
            obj[path: "metadata", "name"] = .string(networkName)
        }
        return obj
    }

    static func namespace(inPath path: String) -> String? {
        guard let range = path.range(of: "/namespaces/") else { return nil }
        return path[range.upperBound...].split(separator: "/").first.map(String.init)
    }

    static func siblingExecutable(_ name: String) throws -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0], relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let candidate = me.deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw ValidationError("\(candidate) not found: build it (swift build -c release --product \(name)) or pass --controller")
        }
        return candidate
    }

    /// Resident set size now and at peak, and the anonymous part now (bytes) from /proc. The rest
    /// of RSS is file-backed: pages of the binary and the shared Swift libraries, shared between
    /// processes and reclaimable.
    static func rss(pid: Int32) -> (current: Int, peak: Int, anonymous: Int) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0, 0) }
        func value(_ key: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(key) {
                return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
            }
            return 0
        }
        return (value("VmRSS:"), value("VmHWM:"), value("RssAnon:"))
    }

    /// User + system CPU seconds of `pid` (fields 14 and 15 of /proc/pid/stat).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Plain HTTP/1.0 GET of `http://127.0.0.1:<port>/<path>` (the controller's metrics endpoint)
    /// over a socket: no URLSession, so nothing here needs FoundationNetworking (and libcurl).
    static func fetch(_ url: String) async throws -> String {
        guard let rest = url.split(separator: "//").last, let slash = rest.firstIndex(of: "/"),
            let port = rest[..<slash].split(separator: ":").last.flatMap({ UInt16($0) })
        else { throw ValidationError("bad URL \(url)") }
        let path = String(rest[slash...])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("cannot connect to \(url)") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard text.hasPrefix("HTTP/1."), text.split(separator: " ").dropFirst().first == "200",
            let body = text.range(of: "\r\n\r\n")
        else { throw ValidationError("GET \(url) failed: \(text.prefix(80))") }
        return String(text[body.upperBound...])
    }

    static func waitForMetrics(_ url: String) async throws {
        let deadline = now() + 30
        while now() < deadline {
            if (try? await fetch(url)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("controller metrics endpoint \(url) did not come up in 30 s")
    }

    /// The `network` controller's `controller_runtime_reconcile_time_seconds` histogram.
    struct Histogram {
        var buckets: [(le: Double, count: Double)] = []
        var count: Double = 0

        /// Upper bound of the bucket holding the `q` quantile (Prometheus buckets are coarse).
        func percentileBound(_ q: Double) -> String {
            let rank = q * count
            for b in buckets.sorted(by: { $0.le < $1.le }) where b.count >= rank {
                return b.le.isInfinite ? "+Inf" : String(format: "%gms", b.le * 1000)
            }
            return "?"
        }

        /// The observations between `earlier` and this scrape of the same histogram.
        func minus(_ earlier: Histogram) -> Histogram {
            var d = Histogram()
            d.count = count - earlier.count
            d.buckets = buckets.map { b in (b.le, b.count - (earlier.buckets.first { $0.le == b.le }?.count ?? 0)) }
            return d
        }
    }

    static func reconcileHistogram(_ url: String) async throws -> Histogram {
        var h = Histogram()
        for line in try await fetch(url).split(separator: "\n")
        where line.hasPrefix("controller_runtime_reconcile_time_seconds") && line.contains("controller=\"network\"") {
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            if line.hasPrefix("controller_runtime_reconcile_time_seconds_bucket"), let r = line.range(of: "le=\"") {
                let le = line[r.upperBound...].prefix { $0 != "\"" }
                h.buckets.append((le == "+Inf" ? .infinity : Double(le) ?? .nan, value))
            } else if line.hasPrefix("controller_runtime_reconcile_time_seconds_count") {
                h.count = value
            }
        }
        return h
    }
}
