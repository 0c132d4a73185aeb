import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore
import LocalMode
import TestSupport
import Testing

/// Start and stop of the shipped binaries: an idle process exits at once on SIGTERM, and the
/// webhook waits out an API server that is not there yet (see docs/reliability.md).
@Suite(.serialized) struct BinaryLifecycleTests {
    /// The exit requirement for an idle process: SIGTERM to process exit.
    static let idleExitBound: Duration = .seconds(1)

    /// Sends SIGTERM and answers how long the process took to exit (nil: still running after 10 s).
    static func terminate(_ process: Process) async -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning {
            if clock.now - start > .seconds(10) { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return clock.now - start
    }

    static func log(_ url: URL) -> String { ((try? String(contentsOf: url, encoding: .utf8)) ?? "").suffix(3000).description }

    /// The controller with nothing to reconcile: leading, workers started, then SIGTERM.
    @Test func idleControllerExitsWithinOneSecondOfSIGTERM() async throws {
        try await Env.with { env in
            let dir = try BinaryTests.workDir()
            let (process, logPath) = try BinaryTests.startController(env: env, dir: dir)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let idle = await eventually(timeout: .seconds(60), interval: .milliseconds(50)) {
                let lease = try? await env.client.get(.leases, namespace: "kube-system", name: "networking-calico-leader-election")
                let held = !(lease?[path: "spec", "holderIdentity"]?.stringValue ?? "").isEmpty
                return held && Self.log(logPath).contains("Starting workers")
            }
            try #require(idle, "controller did not start: \(Self.log(logPath))")
            let elapsed = try #require(await Self.terminate(process), "still running 10 s after SIGTERM: \(Self.log(logPath))")
            #expect(process.terminationStatus == 0, "\(Self.log(logPath))")
            #expect(elapsed <= Self.idleExitBound, "exit took \(elapsed): \(Self.log(logPath))")
        }
    }

    /// The webhook, serving and registered, then SIGTERM.
    @Test func idleAdmissionExitsWithinOneSecondOfSIGTERM() async throws {
        try await Env.with { env in
            let port = try freeLoopbackPort()
            let (process, logPath, _) = try SecurityTests.startAdmission(server: env.server, port: port)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let registered = await eventually(timeout: .seconds(60), interval: .milliseconds(50)) {
                (try? await env.client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")) != nil
            }
            try #require(registered, "webhook not registered: \(Self.log(logPath))")
            let elapsed = try #require(await Self.terminate(process), "still running 10 s after SIGTERM: \(Self.log(logPath))")
            #expect(process.terminationStatus == 0, "\(Self.log(logPath))")
            #expect(elapsed <= Self.idleExitBound, "exit took \(elapsed): \(Self.log(logPath))")
        }
    }

    /// `GET path` on the plain-HTTP health server: the status code, or nil when nothing answers.
    /// Not built on `SecurityTests.plaintextExchange`: its `#require` would record a failed connect
    /// as a test issue even under `try?`, and a probe may legitimately find nothing listening yet.
    static func probe(port: Int, _ path: String) -> Int? {
        guard let fd = LoopbackSocket.connect(port: port) else { return nil }
        defer { close(fd) }
        let answer = LoopbackSocket.exchange(fd, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let statusLine = String(decoding: answer.prefix(32), as: UTF8.self).split(separator: " ")
        return statusLine.count > 1 ? Int(statusLine[1]) : nil
    }

    /// The webhook started before its API server: it stays alive (healthy, not ready) and retries
    /// with a logged error each time; once the API server listens it reads or creates its
    /// certificate Secrets and turns ready.
    @Test(.timeLimit(.minutes(3)))
    func admissionWaitsForAnUnreachableAPIServer() async throws {
        let apiPort = try freeLoopbackPort()
        let webhookPort = try freeLoopbackPort()
        let healthPort = try freeLoopbackPort()
        let token = "unreachable-at-start-token"
        let dir = try TestDirectories.make("admission-unreachable")
        // Written before the server exists, so it cannot carry the server's CA.
        let kubeconfig: JSON = [
            "apiVersion": "v1", "kind": "Config",
            "clusters": [["name": "later", "cluster": ["server": .string("https://127.0.0.1:\(apiPort)"), "insecure-skip-tls-verify": true]]],
            "users": [["name": "admin", "user": ["token": .string(token)]]],
            "contexts": [["name": "later", "context": ["cluster": "later", "user": "admin"]]],
            "current-context": "later",
        ]
        let kubeconfigPath = dir.appendingPathComponent("kubeconfig").path
        try Data(kubeconfig.yamlString().utf8).write(to: URL(fileURLWithPath: kubeconfigPath))
        // Separate files: one file opened twice would have two offsets, and the streams would
        // overwrite each other.
        let logPath = dir.appendingPathComponent("admission.log")
        let outPath = dir.appendingPathComponent("admission.out")
        FileManager.default.createFile(atPath: logPath.path, contents: nil)
        FileManager.default.createFile(atPath: outPath.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try SecurityTests.admissionBinary())
        process.arguments = [
            "--kubeconfig", kubeconfigPath, "--leader-election=false",
            "--webhook-config-server-host", "127.0.0.1", "--webhook-config-server-port", String(webhookPort),
            "--webhook-config-cert-dir", dir.appendingPathComponent("certs").path, "--webhook-config-mode", "service",
            "--webhook-config-namespace", "garden", "--health-bind-address", "127.0.0.1:\(healthPort)",
            "--metrics-bind-address", "127.0.0.1:0",
        ]
        var environment = ProcessInfo.processInfo.environment
        for name in ["WEBHOOK_CONFIG_NAMESPACE", "GARDEN_KUBECONFIG", "SOURCE_CLUSTER"] { environment[name] = nil }
        process.environment = environment
        process.standardError = try FileHandle(forWritingTo: logPath)
        process.standardOutput = try FileHandle(forWritingTo: outPath)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // Two failed attempts logged: it retries rather than giving up.
        let retried = await eventually(timeout: .seconds(60), interval: .milliseconds(100)) {
            Self.log(logPath).components(separatedBy: "could not read the webhook certificate secrets, retrying").count > 2
                || !process.isRunning
        }
        try #require(retried && process.isRunning, "no retries or exited: \(Self.log(logPath)) \(Self.log(outPath))")
        // A loaded machine may delay an answer: poll rather than trust one probe.
        let healthy = await eventually(timeout: .seconds(30), interval: .milliseconds(100)) { Self.probe(port: healthPort, "/healthz") == 200 }
        #expect(healthy, "healthz: \(String(describing: Self.probe(port: healthPort, "/healthz"))) \(Self.log(logPath))")
        var notReady: Int?
        _ = await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            notReady = Self.probe(port: healthPort, "/readyz")
            return notReady != nil
        }
        #expect(notReady != nil && notReady != 200, "readyz \(String(describing: notReady)) without an API server")
        #expect(!Self.log(logPath).contains(token), "the log holds the token")

        try await Env.with(EmbeddedAPIServerConfiguration(port: apiPort, token: token)) { env in
            _ = try await env.client.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "garden"]])
            let ready = await eventually(timeout: .seconds(60), interval: .milliseconds(100)) {
                Self.probe(port: healthPort, "/readyz") == 200 || !process.isRunning
            }
            #expect(ready && process.isRunning, "not ready after the API server came up: \(Self.log(logPath))")
            let secret = try? await env.client.get(.secrets, namespace: "garden", name: "ca-admission-calico-webhook")
            #expect(secret != nil, "certificate Secrets not created")
            let elapsed = await Self.terminate(process)
            #expect(elapsed != nil && process.terminationStatus == 0, "\(Self.log(logPath))")
        }
    }
}
