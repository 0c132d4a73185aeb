import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

/// With a data dir the CA, serving certificate and token survive a restart of the whole server
/// process, so kubeconfigs written before it stay valid (see docs/local.md).
@Suite(.serialized) struct CredentialPersistenceTests {
    static let namespaces = "/api/v1/namespaces"

    /// Starts a server on `port`, retrying briefly while the previous one's port is released.
    static func start(_ configuration: EmbeddedAPIServerConfiguration) async throws -> EmbeddedAPIServer {
        for _ in 0..<49 {
            if let server = try? await EmbeddedAPIServer.start(configuration) { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await EmbeddedAPIServer.start(configuration)
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test(.timeLimit(.minutes(1))) func oldCredentialsAreAcceptedAfterARestart() async throws {
        let dir = try TestDirectories.make("apiserver-certs").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(dataDirectory: dir))
        let (port, ca, token) = (first.port, first.caCertificatePEM, first.token)
        // Connects lazily per request: the same client object is used against the new process.
        let client = try first.makeTestClient()
        defer { Task { await client.close() } }
        #expect(try await client.get(Self.namespaces).status == 200)
        try await first.shutdown()

        let second = try await Self.start(EmbeddedAPIServerConfiguration(port: port, dataDirectory: dir))
        do {
            #expect(second.caCertificatePEM == ca)
            #expect(second.token == token)
            let got = try await client.get(Self.namespaces)
            #expect(got.status == 200, "\(got.text)")
            // The kubeconfig carries the stored CA.
            let stored = try String(contentsOfFile: dir + "/pki/ca.crt", encoding: .utf8)
            #expect(stored == ca)
            #expect(second.kubeconfig().contains(Data(stored.utf8).base64EncodedString()))
            for file in ["pki/ca.crt", "pki/ca.key", "pki/server.crt", "pki/server.key", "token"] {
                #expect(try Self.mode(dir + "/" + file) == 0o600, "\(file)")
            }
            #expect(try Self.mode(dir + "/pki") == 0o700)
        } catch {
            try? await second.shutdown()
            throw error
        }
        try await second.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func aMissingServingCertificateIsReissuedFromTheSameCA() async throws {
        let dir = try TestDirectories.make("apiserver-certs").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(dataDirectory: dir))
        let (ca, token) = (first.caCertificatePEM, first.token)
        let oldServing = try String(contentsOfFile: dir + "/pki/server.crt", encoding: .utf8)
        try await first.shutdown()
        try FileManager.default.removeItem(atPath: dir + "/pki/server.key")

        try await withTestAPIServer(EmbeddedAPIServerConfiguration(dataDirectory: dir)) { second in
            let newServing = try String(contentsOfFile: dir + "/pki/server.crt", encoding: .utf8)
            #expect(newServing != oldServing)
            let client = try LoopbackHTTPClient(port: second.port, caPEM: ca, token: token)
            defer { Task { await client.close() } }
            #expect(try await client.get(Self.namespaces).status == 200)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aConfiguredTokenWinsAndIsStored() async throws {
        let dir = try TestDirectories.make("apiserver-certs").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generated = try await withTestAPIServer(EmbeddedAPIServerConfiguration(dataDirectory: dir)) { $0.token }
        let configured = try await withTestAPIServer(EmbeddedAPIServerConfiguration(dataDirectory: dir, token: "configured-token")) { $0.token }
        #expect(generated != "configured-token" && configured == "configured-token")
        let kept = try await withTestAPIServer(EmbeddedAPIServerConfiguration(dataDirectory: dir)) { $0.token }
        #expect(kept == "configured-token")
    }

    @Test(.timeLimit(.minutes(1))) func aDamagedCAKeyFailsTheStartNamingTheFile() async throws {
        let dir = try TestDirectories.make("apiserver-certs").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withTestAPIServer(EmbeddedAPIServerConfiguration(dataDirectory: dir)) { _ in }
        let key = dir + "/pki/ca.key"
        let caBefore = try String(contentsOfFile: dir + "/pki/ca.crt", encoding: .utf8)
        try Data("-----BEGIN EC PRIVATE KEY-----\ngarbage\n-----END EC PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: key))
        do {
            let server = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(dataDirectory: dir))
            try await server.shutdown()
            Issue.record("a damaged ca.key must fail the start")
        } catch {
            let message = "\(error)"
            #expect(message.contains(key), "\(message)")
            #expect(message.contains("delete \(dir)/pki"), "\(message)")
        }
        // Nothing was replaced: the clients' CA is still the one on disk.
        #expect(try String(contentsOfFile: dir + "/pki/ca.crt", encoding: .utf8) == caBefore)
    }

    @Test(.timeLimit(.minutes(2))) func theApiserverCommandWritesKubeconfigsThatStayValid() async throws {
        let dir = try TestDirectories.make("apiserver-certs-cli").appendingPathComponent("data").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try DurabilityTests.startChild(dataDir: dir)
        let old = try await first.client()
        defer { Task { await old.close() } }
        #expect(try await old.get(Self.namespaces).status == 200)
        let oldKubeconfig = try JSON.parseYAML(try String(contentsOfFile: first.kubeconfig, encoding: .utf8))
        first.kill()

        let second = try DurabilityTests.startChild(dataDir: dir)
        defer { second.kill() }
        let fresh = try await second.client()
        defer { Task { await fresh.close() } }
        #expect(try await fresh.get(Self.namespaces).status == 200)
        let newKubeconfig = try JSON.parseYAML(try String(contentsOfFile: second.kubeconfig, encoding: .utf8))
        let caData = { (doc: JSON) in doc["clusters"]?.arrayValue?.first?[path: "cluster", "certificate-authority-data"]?.stringValue }
        let token = { (doc: JSON) in doc["users"]?.arrayValue?.first?[path: "user", "token"]?.stringValue }
        let stored = try String(contentsOfFile: dir + "/pki/ca.crt", encoding: .utf8)
        #expect(caData(newKubeconfig) == Data(stored.utf8).base64EncodedString())
        #expect(caData(oldKubeconfig) == caData(newKubeconfig))
        #expect(token(oldKubeconfig) == token(newKubeconfig))
        // The old CA and token, pointed at the new process's port, are accepted.
        let caPEM = try #require(caData(oldKubeconfig).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) })
        let server = newKubeconfig["clusters"]?.arrayValue?.first?[path: "cluster", "server"]?.stringValue
        let port = try #require(server?.split(separator: ":").last.flatMap { Int($0) })
        let oldCredentials = try LoopbackHTTPClient(port: port, caPEM: caPEM, token: token(oldKubeconfig))
        defer { Task { await oldCredentials.close() } }
        #expect(try await oldCredentials.get(Self.namespaces).status == 200)
    }
}
