import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore
import LocalMode
import TestSupport
import Testing

@testable import NetworkingCalico

/// Security checks of issue 9: plaintext is refused, and no token, key or secret data reaches
/// the logs of either binary at the most verbose level.
@Suite(.serialized) struct SecurityTests {
    /// Sends a plaintext HTTP request to a TLS port; answers whatever came back (bounded wait).
    static func plaintextExchange(port: Int, request: String) throws -> [UInt8] {
        let fd = try #require(LoopbackSocket.connect(port: port), "cannot connect to 127.0.0.1:\(port)")
        defer { close(fd) }
        return LoopbackSocket.exchange(fd, request)
    }

    /// A TLS server answers a plaintext request with a TLS alert or by closing — never with HTTP content.
    static func expectRefused(_ answer: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = String(decoding: answer, as: UTF8.self)
        #expect(
            !text.hasPrefix("HTTP/1.1 2") && !text.hasPrefix("HTTP/1.0 2"), "\(what) answered plaintext: \(text.prefix(200))",
            sourceLocation: sourceLocation)
        #expect(!text.contains("\"kind\""), "\(what) leaked API content over plaintext", sourceLocation: sourceLocation)
        // TLS record type 21 = alert (what NIOSSL sends on a non-TLS hello), else nothing.
        #expect(
            answer.isEmpty || answer[0] == 21 || text.hasPrefix("HTTP/1.1 400"), "\(what): unexpected answer \(answer.prefix(16))",
            sourceLocation: sourceLocation)
    }

    @Test func embeddedAPIServerRefusesPlaintext() async throws {
        try await withTestAPIServer { server in
            let answer = try Self.plaintextExchange(port: server.port, request: "GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            Self.expectRefused(answer, "embedded API server")
        }
    }

    @Test func webhookRefusesPlaintext() async throws {
        try await withTestAPIServer { server in
            let port = try freeLoopbackPort()
            let (process, log, certDir) = try Self.startAdmission(server: server, port: port)
            defer { if process.isRunning { process.terminate() } }
            try await Self.waitForFile(certDir.appendingPathComponent("tls.crt").path, process: process, log: log)
            try await Self.waitForListening(port: port)
            let body = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1"}}"#
            let answer = try Self.plaintextExchange(
                port: port,
                request:
                    "POST /webhooks/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            Self.expectRefused(answer, "admission webhook")
        }
    }

    /// The controller at debug level through create, change, invalid input and delete, then the
    /// admission binary through certificate generation and registration: their logs hold no
    /// bearer token, no private key and no secret data.
    @Test func logsHoldNoTokensKeysOrSecretData() async throws {
        try await Env.with { env in
            let dir = try BinaryTests.workDir()
            try await env.createExample()
            let (process, logPath) = try BinaryTests.startController(env: env, dir: dir, extraArguments: ["--log-level", "debug"])
            defer { if process.isRunning { process.terminate() } }

            let reconciled = try await env.waitReconciled(timeout: .seconds(60))
            let (_, secret, _) = try await env.managedResourceConfig()
            let secretData = try #require(secret[path: "data", "config.yaml"]?.stringValue)
            _ = try await env.client.patch(
                .networks, namespace: Env.namespace, name: Env.name,
                ["metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]], "spec": ["providerConfig": ["backend": "carrier-pigeon"]]],
                type: .merge)
            try await env.waitForNetwork(timeout: .seconds(60), "Error") { $0?[path: "status", "lastOperation", "state"] == "Error" }
            _ = try await env.client.patch(
                .networks, namespace: Env.namespace, name: Env.name,
                ["metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]], "spec": ["providerConfig": ["backend": "bird"]]],
                type: .merge)
            _ = try await env.waitReconciled("fixed", timeout: .seconds(60))
            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            try await env.waitForNetwork(timeout: .seconds(60), "Network gone") { $0 == nil }
            kill(process.processIdentifier, SIGTERM)
            _ = try await BinaryTests.waitForExit(process, timeout: .seconds(20))

            let controllerLog = try String(contentsOf: logPath, encoding: .utf8)
            #expect(controllerLog.contains("\"level\":\"debug\"") || controllerLog.contains("debug"), "debug logging was not on")
            #expect(reconciled[path: "status", "lastOperation"] != nil)
            Self.expectClean(controllerLog, "controller", secrets: [env.server.token, String(secretData.prefix(48))])

            // The admission binary: generates a CA and serving key, registers the webhook.
            let port = try freeLoopbackPort()
            let (admission, admissionLog, certDir) = try Self.startAdmission(server: env.server, port: port)
            defer { if admission.isRunning { admission.terminate() } }
            try await Self.waitForFile(certDir.appendingPathComponent("tls.key").path, process: admission, log: admissionLog)
            let vwc = await poll(interval: .milliseconds(200)) {
                try? await env.client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
            }
            #expect(vwc != nil, "webhook configuration not registered: \((try? String(contentsOf: admissionLog, encoding: .utf8)) ?? "")")
            kill(admission.processIdentifier, SIGTERM)
            _ = try await BinaryTests.waitForExit(admission, timeout: .seconds(20))
            let keyPEM = try String(contentsOf: certDir.appendingPathComponent("tls.key"), encoding: .utf8)
            let keyLine = try #require(keyPEM.split(separator: "\n").dropFirst().first.map(String.init))
            Self.expectClean(try String(contentsOf: admissionLog, encoding: .utf8), "admission", secrets: [env.server.token, keyLine])
        }
    }

    static func expectClean(_ log: String, _ what: String, secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!log.isEmpty, "\(what) wrote no log", sourceLocation: sourceLocation)
        #expect(!log.contains("PRIVATE KEY"), "\(what) log holds a private key", sourceLocation: sourceLocation)
        #expect(!log.localizedCaseInsensitiveContains("bearer "), "\(what) log holds an Authorization header", sourceLocation: sourceLocation)
        for secret in secrets where !secret.isEmpty {
            #expect(!log.contains(secret), "\(what) log holds secret material (\(secret.prefix(6))…)", sourceLocation: sourceLocation)
        }
    }

    static func admissionBinary() throws -> String {
        let controller = URL(fileURLWithPath: try BinaryTests.binary())
        let path = controller.deletingLastPathComponent().appendingPathComponent("gardener-extension-admission-calico").path
        try #require(FileManager.default.isExecutableFile(atPath: path), "admission binary not built next to \(controller.path)")
        return path
    }

    static func startAdmission(server: EmbeddedAPIServer, port: Int) throws -> (Process, URL, URL) {
        let dir = try TestDirectories.make("admission")
        let certDir = dir.appendingPathComponent("certs")
        let logPath = dir.appendingPathComponent("admission.log")
        FileManager.default.createFile(atPath: logPath.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try admissionBinary())
        process.arguments = [
            "--kubeconfig", try server.writeTemporaryKubeconfig(), "--leader-election=false",
            "--webhook-config-server-host", "127.0.0.1", "--webhook-config-server-port", String(port),
            "--webhook-config-cert-dir", certDir.path, "--webhook-config-mode", "url",
            "--webhook-config-url", "127.0.0.1:\(port)",
            "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", "127.0.0.1:0", "--log-level", "debug",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["WEBHOOK_CONFIG_NAMESPACE"] = nil
        environment["GARDEN_KUBECONFIG"] = nil
        environment["SOURCE_CLUSTER"] = nil
        process.environment = environment
        process.standardError = try FileHandle(forWritingTo: logPath)
        process.standardOutput = try FileHandle(forWritingTo: logPath)
        try process.run()
        return (process, logPath, certDir)
    }

    static func waitForFile(_ path: String, process: Process, log: URL) async throws {
        let written = await eventually(interval: .milliseconds(100)) {
            FileManager.default.fileExists(atPath: path) || !process.isRunning
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try #require(
            FileManager.default.fileExists(atPath: path), "\(path) not written (running: \(process.isRunning), waited: \(written)): \(output)")
    }

    static func waitForListening(port: Int) async throws {
        let listening = await eventually(interval: .milliseconds(100)) {
            guard let fd = LoopbackSocket.connect(port: port) else { return false }
            close(fd)
            return true
        }
        if !listening { Issue.record("nothing listens on \(port)") }
    }
}
