import ArgumentParser
import EmbeddedAPIServer
import Foundation

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

    func validate() throws {
        guard historySize > 0 else { throw ValidationError("--history-size must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(host: host, port: port, dataDirectory: dataDir, historySize: historySize))
        try server.writeKubeconfig(to: kubeconfigOut)
        let absolute = URL(fileURLWithPath: kubeconfigOut).standardizedFileURL.path
        // Machine-readable first line (tests parse it), then a usage hint for humans.
        say("embedded API server listening on \(server.baseURL) port=\(server.port)")
        say("kubeconfig written to \(absolute)")
        say("try: KUBECONFIG=\(absolute) kubectl get namespaces")
        if let dataDir { say("state persisted in \(dataDir)") }
        await waitForTermination()
        say("shutting down")
        try await server.shutdown()
    }
}

/// Writes a line to stdout unbuffered (the port line must reach a piped reader at once).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Suspends until SIGINT or SIGTERM.
private func waitForTermination() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let queue = DispatchQueue(label: "signals")
        let once = SignalOnce(continuation)
        for sig in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { once.fire() }
            source.resume()
            once.keep(source)
        }
    }
}

/// Resumes a continuation once and keeps the signal sources alive.
private final class SignalOnce: @unchecked Sendable {
    // Only touched on the serial "signals" queue (fire) or before any signal can arrive (keep).
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [DispatchSourceSignal] = []
    init(_ c: CheckedContinuation<Void, Never>) { continuation = c }
    func keep(_ s: DispatchSourceSignal) { sources.append(s) }
    func fire() {
        continuation?.resume()
        continuation = nil
    }
}
