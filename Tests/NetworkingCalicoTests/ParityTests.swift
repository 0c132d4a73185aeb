import ArgumentParser
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import TestSupport
import Testing

@testable import NetworkingCalico

/// Where the Go extension's behaviour at the edges is mirrored: ComponentConfig content types and
/// kubeconfig, the leader-election namespace outside a cluster, the delete wait without a Shoot.
@Suite(.serialized)
struct ParityTests {
    /// A directory with a ComponentConfig (given `clientConnection` lines) and a kubeconfig.
    static func files(clientConnection: String) throws -> (dir: URL, config: String, kubeconfig: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let kubeconfig = dir.appendingPathComponent("kubeconfig").path
        try """
        apiVersion: v1
        kind: Config
        current-context: c
        clusters: [{name: c, cluster: {server: "https://seed.example:6443"}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        users: [{name: u, user: {token: t}}]
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("config.yaml").path
        try """
        apiVersion: calico.networking.extensions.config.gardener.cloud/v1alpha1
        kind: ControllerConfiguration
        clientConnection:
        \(clientConnection.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return (dir, config, kubeconfig)
    }

    static func settings(_ arguments: [String]) throws -> (CalicoControllerSettings, ClientConfiguration) {
        let flags = try ControllerFlags.parse(arguments)
        return try flags.settings(leaderElection: LeaderElectionFlags<CalicoLease>.parse([]), manager: ManagerFlags.parse([]), environment: [:])
    }

    @Test func jsonContentTypesAreHonouredAndProtobufIsRefusedAtStart() throws {
        let json = try Self.files(clientConnection: "acceptContentTypes: application/json\ncontentType: application/json\nqps: 7\nburst: 9")
        defer { try? FileManager.default.removeItem(at: json.dir) }
        let (_, config) = try Self.settings(["--config-file", json.config, "--kubeconfig", json.kubeconfig])
        #expect(config.qps == 7 && config.burst == 9)

        for (field, value) in [
            ("contentType", "application/vnd.kubernetes.protobuf"),
            ("acceptContentTypes", "application/vnd.kubernetes.protobuf,application/json"),
            ("contentType", "application/yaml"),
        ] {
            let other = field == "contentType" ? "acceptContentTypes: application/json" : "contentType: application/json"
            let files = try Self.files(clientConnection: "\(field): \(value)\n\(other)\nqps: 100\nburst: 130")
            defer { try? FileManager.default.removeItem(at: files.dir) }
            #expect {
                try Self.settings(["--config-file", files.config, "--kubeconfig", files.kubeconfig])
            } throws: { error in
                let text = "\(error)"
                return text.contains("clientConnection.\(field)") && text.contains("unsupported content type")
                    && (!value.contains("protobuf") || text.contains("protobuf"))
            }
        }
    }

    @Test func componentConfigKubeconfigIsHonouredAndTheFlagWins() throws {
        let files = try Self.files(clientConnection: "qps: 100\nburst: 130")
        defer { try? FileManager.default.removeItem(at: files.dir) }
        let withKubeconfig = try Self.files(clientConnection: "kubeconfig: \(files.kubeconfig)\nqps: 100\nburst: 130")
        defer { try? FileManager.default.removeItem(at: withKubeconfig.dir) }
        let (_, fromComponentConfig) = try Self.settings(["--config-file", withKubeconfig.config])
        #expect(fromComponentConfig.server.contains("seed.example:6443"))

        let other = files.dir.appendingPathComponent("other-kubeconfig").path
        try String(contentsOfFile: files.kubeconfig, encoding: .utf8).replacingOccurrences(of: "seed.example", with: "flag.example")
            .write(toFile: other, atomically: true, encoding: .utf8)
        let (_, fromFlag) = try Self.settings(["--config-file", withKubeconfig.config, "--kubeconfig", other])
        #expect(fromFlag.server.contains("flag.example"))
    }

    @Test func leaderElectionNamespaceIsRequiredOutsideACluster() async throws {
        #expect(throws: LeaderElectionNamespace.NotFound.self) {
            try LeaderElectionNamespace.resolve("", inClusterNamespaceFile: "/nonexistent/namespace")
        }
        #expect(try LeaderElectionNamespace.resolve("garden", inClusterNamespaceFile: "/nonexistent/namespace") == "garden")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ns-\(UUID().uuidString)").path
        try "extension-networking-calico-x1".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try LeaderElectionNamespace.resolve("", inClusterNamespaceFile: file) == "extension-networking-calico-x1")

        // The manager refuses to start, with controller-runtime's words (this machine is no pod).
        guard !FileManager.default.fileExists(atPath: LeaderElectionNamespace.inClusterNamespacePath) else { return }
        let client = try KubernetesClient(configuration: ClientConfiguration(server: "https://127.0.0.1:1"))
        defer { Task { try? await client.shutdown() } }
        var settings = CalicoControllerSettings()
        settings.leaderElection = true
        settings.leaderElectionNamespace = ""
        settings.heartbeatNamespace = "garden"
        await #expect {
            _ = try await CalicoController.makeManager(client: client, settings: settings)
        } throws: { error in
            "\(error)"
                == "could not instantiate manager: unable to find leader election namespace: not running in-cluster, please specify LeaderElectionNamespace"
        }
    }

    @Test func deleteWaitsForTheManagedResourceWhenTheClusterHasNoShoot() async throws {
        try await Env.with { env in
            try await env.createExample()
            let (manager, task) = try await env.startManager(deleteWait: .seconds(1))
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            try await env.holdManagedResource()
            // The Cluster loses its Shoot (as for a Cluster written without one).
            var cluster = try await env.client.get(.clusters, namespace: nil, name: Env.namespace)
            cluster[path: "spec", "shoot"] = [:]
            _ = try await env.client.update(.clusters, namespace: nil, cluster)

            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            let obj = try #require(
                try await env.waitForNetwork("delete waits and reports the ManagedResource") {
                    $0?[path: "status", "lastOperation", "type"]?.stringValue == "Delete"
                        && $0?[path: "status", "lastOperation", "state"]?.stringValue == "Error"
                })
            #expect(obj[path: "status", "lastOperation", "description"]?.stringValue?.contains("still exists") == true)
            #expect(obj[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            try await env.releaseManagedResource()
            try await env.annotateUnlessGone("reconcile")
            // Asked of the server directly: gone means NotFound.
            let gone = await eventually(timeout: .seconds(60)) {
                do {
                    _ = try await env.client.get(.networks, namespace: Env.namespace, name: Env.name)
                    return false
                } catch let e as KubeError where e.isNotFound {
                    return true
                } catch {
                    return false
                }
            }
            #expect(gone, "the Network was not deleted after its ManagedResource went away")
        }
    }

    /// Runs `executable` with `arguments` and the test's environment minus `LEADER_ELECTION_NAMESPACE`.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestTools.run(executable, arguments, unsetting: ["LEADER_ELECTION_NAMESPACE"])
    }

    @Test func bothBinariesPrintTheStampedVersionAsVerflagDoes() throws {
        let version = try String(contentsOf: SharedFixtures.packageRoot.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard ProcessInfo.processInfo.environment["EFFECTIVE_VERSION"].map({ $0.isEmpty || $0 == version }) ?? true else { return }
        let binaries = [
            try BinaryTests.binary(),
            try BinaryTests.executable("gardener-extension-admission-calico", override: "ADMISSION_BIN"),
        ]
        for binary in binaries {
            let line = try Self.run(binary, ["--version"])
            #expect(line.status == 0)
            #expect(line.stdout == "gardener-extension \(version)\n", "\(binary)")
            let raw = try Self.run(binary, ["--version=raw"])
            #expect(raw.status == 0)
            #expect(raw.stdout.hasPrefix("version.Info{Major:\"1\", Minor:\""), "\(raw.stdout)")
            #expect(raw.stdout.contains("GitVersion:\"\(version)\", GitCommit:\""))
            #expect(raw.stdout.contains("Compiler:\"swiftc\", Platform:\"linux/") || raw.stdout.contains("Platform:\"darwin/"))
            let bad = try Self.run(binary, ["--version=maybe"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("invalid argument \"maybe\" for \"--version\" flag"))
        }
    }

    @Test func binariesRefuseToStartWithoutLeaderElectionNamespace() throws {
        guard !FileManager.default.fileExists(atPath: LeaderElectionNamespace.inClusterNamespacePath) else { return }
        let files = try Self.files(clientConnection: "qps: 100\nburst: 130")
        defer { try? FileManager.default.removeItem(at: files.dir) }
        let message =
            "could not instantiate manager: unable to find leader election namespace: not running in-cluster, please specify LeaderElectionNamespace"
        let controller = try Self.run(try BinaryTests.binary(), ["--config-file", files.config, "--kubeconfig", files.kubeconfig])
        #expect(controller.status != 0)
        #expect(controller.stderr.contains(message), "\(controller.stderr)")
        // The webhook, too (it elects a leader in the cluster of its kubeconfig).
        let webhook = try Self.run(
            try BinaryTests.executable("gardener-extension-admission-calico", override: "ADMISSION_BIN"),
            [
                "--kubeconfig", files.kubeconfig, "--webhook-config-cert-dir", files.dir.appendingPathComponent("certs").path,
                "--webhook-config-server-port", "0", "--metrics-bind-address", "0", "--health-bind-address", "0",
            ])
        #expect(webhook.status != 0)
        #expect(webhook.stderr.contains(message), "\(webhook.stderr)")
    }
}
