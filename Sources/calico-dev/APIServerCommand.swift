import ArgumentParser
import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeRuntime

/// `apiserver` subcommand: runs the embedded Kubernetes API server until interrupted.
struct APIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Run the embedded Kubernetes API server (HTTPS on loopback, bearer-token auth).")

    @Option(name: .long, help: "TCP port; 0 picks a free port and prints it.")
    var port: Int = 0

    @Option(name: .long, help: "Bind address (loopback by default).")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("kubeconfig-out"), help: "Where to write a kubeconfig for this server.")
    var kubeconfigOut: String

    @Option(name: .customLong("data-dir"), help: "Persist state in this directory (memory only when omitted).")
    var dataDir: String?

    @Option(name: .customLong("history-size"), help: "Watch events retained for resuming; older resourceVersions get 410 Expired.")
    var historySize: Int = 10_000

    // Fault injection (docs/reliability.md): for soak runs and manual resilience checks.
    @Option(name: .customLong("fault-rate"), help: "Fraction (0-1) of eligible requests answered with an injected error.")
    var faultRate: Double = 0

    @Option(
        name: .customLong("fault-status"), parsing: .singleValue,
        help: "Injected error status (409, 410, 429, 500, 503, 504); repeat or comma-separate to rotate randomly.")
    var faultStatus: [String] = []

    @Option(name: .customLong("fault-retry-after"), help: "Retry-After seconds on injected 429/503 (429 defaults to 1).")
    var faultRetryAfter: Int?

    @Option(name: .customLong("fault-verbs"), help: "Comma-separated eligible verbs (get,list,watch,create,update,patch,delete,...); default all.")
    var faultVerbs: String?

    @Option(name: .customLong("fault-path-prefix"), help: "Only paths with this prefix are eligible.")
    var faultPathPrefix: String?

    @Flag(name: .customLong("fault-watches"), help: "Let errors and delays hit watch requests too.")
    var faultWatches = false

    @Option(name: .customLong("fault-delay-ms"), help: "Delay added to eligible responses, in milliseconds.")
    var faultDelayMs: Int = 0

    @Option(name: .customLong("fault-delay-jitter-ms"), help: "Random extra delay up to this many milliseconds.")
    var faultDelayJitterMs: Int = 0

    @Option(name: .customLong("watch-truncate-after"), help: "End every watch stream after this many events.")
    var watchTruncateAfter: Int?

    @Option(name: .customLong("watch-truncate-after-seconds"), help: "End every watch stream after this many seconds.")
    var watchTruncateAfterSeconds: Double?

    @Option(name: .customLong("compact-every-seconds"), help: "Forget the watch history this often (forces 410 and relists).")
    var compactEverySeconds: Double?

    @Option(name: .customLong("drop-connections-every-seconds"), help: "Close every client connection this often.")
    var dropConnectionsEverySeconds: Double?

    @Option(name: .customLong("restart-every-seconds"), help: "Restart the server in place (same port, state kept) this often.")
    var restartEverySeconds: Double?

    @Option(name: .customLong("restart-downtime-ms"), help: "How long each in-place restart keeps the port closed.")
    var restartDowntimeMs: Int = 0

    @Option(name: .customLong("fault-seed"), help: "Seed of the fault random generator (reproducible runs).")
    var faultSeed: UInt64 = 1

    func validate() throws {
        guard historySize > 0 else { throw ValidationError("--history-size must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...1).contains(faultRate) else { throw ValidationError("--fault-rate must be between 0 and 1") }
        let statuses = try faultStatuses()
        if faultRate > 0 && statuses.isEmpty { throw ValidationError("--fault-rate needs --fault-status") }
        guard faultDelayMs >= 0, faultDelayJitterMs >= 0, restartDowntimeMs >= 0 else { throw ValidationError("delays must not be negative") }
        if let n = watchTruncateAfter, n <= 0 { throw ValidationError("--watch-truncate-after must be positive") }
        for (flag, v) in [
            ("--watch-truncate-after-seconds", watchTruncateAfterSeconds), ("--compact-every-seconds", compactEverySeconds),
            ("--drop-connections-every-seconds", dropConnectionsEverySeconds), ("--restart-every-seconds", restartEverySeconds),
        ] {
            if let v, !(v > 0) { throw ValidationError("\(flag) must be positive") }
        }
    }

    func faultStatuses() throws -> [Int] {
        let supported: Set<Int> = [409, 410, 429, 500, 503, 504]
        return try faultStatus.flatMap { $0.split(separator: ",") }.map { part in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), supported.contains(n) else {
                throw ValidationError("--fault-status: unsupported status \"\(part)\" (supported: 409, 410, 429, 500, 503, 504)")
            }
            return n
        }
    }

    func faultPolicy() throws -> FaultPolicy {
        func seconds(_ s: Double?) -> Duration? { s.map { .milliseconds(Int64(($0 * 1000).rounded())) } }
        let verbs = faultVerbs.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }) }
        return FaultPolicy(
            errorRate: faultRate, errorStatuses: try faultStatuses(), retryAfterSeconds: faultRetryAfter,
            verbs: verbs, pathPrefix: faultPathPrefix, includeWatches: faultWatches,
            delay: .milliseconds(faultDelayMs), delayJitter: .milliseconds(faultDelayJitterMs),
            watchTruncateAfterEvents: watchTruncateAfter, watchTruncateAfter: seconds(watchTruncateAfterSeconds),
            compactHistoryEvery: seconds(compactEverySeconds), dropConnectionsEvery: seconds(dropConnectionsEverySeconds),
            seed: faultSeed)
    }

    func run() async throws {
        let policy = try faultPolicy()
        let server = try await EmbeddedAPIServer.start(
            EmbeddedAPIServerConfiguration(host: host, port: port, dataDirectory: dataDir, historySize: historySize), faultPolicy: policy)
        try server.writeKubeconfig(to: kubeconfigOut)
        let absolute = URL(fileURLWithPath: kubeconfigOut).standardizedFileURL.path
        // Machine-readable first line (tests parse it), then a usage hint for humans.
        say("embedded API server listening on \(server.baseURL) port=\(server.port)")
        say("kubeconfig written to \(absolute)")
        say("try: KUBECONFIG=\(absolute) kubectl get namespaces")
        if let dataDir { say("state persisted in \(dataDir)") }
        if policy != .none { say("fault injection: \(policy)") }
        let restarter: Task<Void, Never>? = restartEverySeconds.map { every in
            let downtime = Duration.milliseconds(restartDowntimeMs)
            return Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int64(every * 1000)))
                    if Task.isCancelled { return }
                    do {
                        try await server.restart(downtime: downtime)
                        say("restarted (fault injection), restarts=\(server.faultCounters.restarts)")
                    } catch {
                        say("restart failed: \(error)")
                        return
                    }
                }
            }
        }
        await TerminationSignals.wait()
        restarter?.cancel()
        await restarter?.value  // never shut down in the middle of a restart
        say("shutting down")
        let c = server.faultCounters
        if policy != .none || restartEverySeconds != nil {
            say(
                "faults injected: errors=\(c.errors.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")) delayed=\(c.delayedRequests) truncatedWatches=\(c.truncatedWatches) compactions=\(c.compactions) connectionDrops=\(c.connectionDrops) restarts=\(c.restarts)"
            )
        }
        try await server.shutdown()
    }
}

/// Writes a line to stdout unbuffered (the port line must reach a piped reader at once).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
