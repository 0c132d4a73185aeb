import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeClient
import KubeCore
import LocalMode
import TestSupport
import Testing

@testable import NetworkingCalico

/// Tests through the built executable (the README commands).
@Suite(.serialized) struct BinaryTests {
    /// The production controller: `CALICO_BIN`, else the executable next to the test bundle.
    static func binary() throws -> String { try executable("gardener-extension-networking-calico", override: "CALICO_BIN") }

    /// The development executable (`local`, `apiserver`): `CALICO_DEV_BIN`, else the one next to the test bundle.
    static func devBinary() throws -> String { try executable("calico-dev", override: "CALICO_DEV_BIN") }

    /// `override` from the environment, else the executable `name` next to the test bundle (same build directory).
    static func executable(_ name: String, override: String) throws -> String {
        if let path = ProcessInfo.processInfo.environment[override], !path.isEmpty { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let fallback = SharedFixtures.packageRoot.appendingPathComponent(".build/debug/\(name)").path
        try #require(FileManager.default.isExecutableFile(atPath: fallback), "\(name) not found; set \(override)")
        return fallback
    }

    /// A temp working directory with a copy of `example/` (the README runs from the repo root).
    static func workDir() throws -> URL {
        let dir = try TestDirectories.make("calico-local")
        try FileManager.default.copyItem(at: Env.exampleDir, to: dir.appendingPathComponent("example"))
        return dir
    }

    /// Runs the production binary, or with `dev` the development executable, to completion.
    static func run(_ args: [String], dev: Bool = false, in dir: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestTools.run(try dev ? devBinary() : binary(), args, in: dir)
    }

    @Test func localOnceReconcilesTheExampleAndIsIdempotent() throws {
        let dir = try Self.workDir()
        let first = try Self.run(["local", "--once"], dev: true, in: dir)
        #expect(first.status == 0, "stdout: \(first.stdout)\nstderr: \(first.stderr)")
        #expect(first.stdout.contains("Network shoot--foo--bar/bar"))
        #expect(first.stdout.contains("Create Succeeded 100%"))
        #expect(first.stdout.contains("NetworkStatus"))
        #expect(first.stdout.contains("ManagedResource shoot--foo--bar/extension-networking-calico-config"))
        #expect(first.stdout.contains("DaemonSet"))
        #expect(first.stdout.contains("kubectl"))
        for name in ["kubeconfig", "garden.kubeconfig", "seed.kubeconfig", "shoot.kubeconfig"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".local/\(name)").path))
        }
        #expect(first.stdout.contains("ResourcesApplied      True"))

        // Restart on the persisted state: idempotent, reconciled again.
        let second = try Self.run(["local", "--once"], dev: true, in: dir)
        #expect(second.status == 0, "stdout: \(second.stdout)\nstderr: \(second.stderr)")
        #expect(second.stdout.contains("Reconcile Succeeded 100%"))
    }

    @Test func localOnceFailsWithTheReason() throws {
        let dir = try Self.workDir()
        let file = dir.appendingPathComponent("example/local/shoot.yaml")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "      overlay:\n        enabled: false\n      snatToUpstreamDNS", with: "      backend: carrier-pigeon\n      snatToUpstreamDNS")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try Self.run(["local", "--once", "--timeout", "60"], dev: true, in: dir)
        #expect(result.status != 0)
        // Denied by the admission webhook (once the embedded server calls it) or the Network's error.
        #expect(result.stderr.contains("providerConfig.backend"), "stderr: \(result.stderr)")
    }

    /// The shipped controller carries no development subcommands; `calico-dev` has them.
    @Test func developmentSubcommandsLiveInCalicoDev() throws {
        let dir = try Self.workDir()
        let production = try Self.run(["--help"], in: dir)
        #expect(production.status == 0)
        #expect(production.stdout.contains("render") && production.stdout.contains("validate"))
        #expect(!production.stdout.contains("apiserver") && !production.stdout.contains("local"), "\(production.stdout)")
        let dev = try Self.run(["--help"], dev: true, in: dir)
        #expect(dev.status == 0)
        #expect(dev.stdout.contains("apiserver") && dev.stdout.contains("local"), "\(dev.stdout)")
    }

    @Test func controllerRejectsBadFlags() throws {
        let dir = try Self.workDir()
        let r1 = try Self.run(["--config-file", "example/00-componentconfig.yaml", "--log-level", "loud"], in: dir)
        #expect(r1.status != 0)
        #expect(r1.stderr.contains("invalid --log-level: loud"))
        let r2 = try Self.run(
            ["--config-file", "example/00-componentconfig.yaml", "--heartbeat-renew-interval-seconds", "0"], in: dir)
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("--heartbeat-renew-interval-seconds must be greater than 0"))
        let r3 = try Self.run(
            ["--config-file", "example/00-componentconfig.yaml", "--controllers", "bogus", "--kubeconfig", "/nonexistent"], in: dir)
        #expect(r3.status != 0)
        #expect(r3.stderr.contains("cannot enable unknown controller \"bogus\""), "\(r3.stderr)")
    }

    /// The production binary against an API server: reconciles, then SIGTERM stops it gracefully.
    @Test func controllerBinaryReconcilesAndStopsOnSIGTERM() async throws {
        try await Env.with { env in
            let dir = try Self.workDir()
            try await env.createExample()
            let (process, logPath) = try Self.startController(env: env, dir: dir)
            defer { if process.isRunning { process.terminate() } }
            let obj = try await env.waitReconciled(timeout: .seconds(60))
            #expect(obj[path: "status", "providerStatus", "kind"] == "NetworkStatus")
            kill(process.processIdentifier, SIGTERM)
            let exited = try await Self.waitForExit(process, timeout: .seconds(20))
            #expect(exited, "still running 20 s after SIGTERM")
            if exited { #expect(process.terminationStatus == 0) }
            let log = try String(contentsOf: logPath, encoding: .utf8)
            #expect(log.contains("Starting networking-calico"))
            // The lease was released on graceful shutdown.
            let lease = try await env.client.get(.leases, namespace: "kube-system", name: "networking-calico-leader-election")
            #expect((lease[path: "spec", "holderIdentity"]?.stringValue ?? "").isEmpty)
        }
    }

    /// `step`'s result; when it fails, the end of the second controller's `log` is recorded first
    /// (the test's own error rarely says why the process got stuck).
    @discardableResult
    static func showingSecondLog<T>(_ log: URL, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch {
            Issue.record("second controller log: \((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")")
            throw error
        }
    }

    /// Starts the production binary against `env`'s server (leader election in kube-system);
    /// stdout and stderr go to the returned log file.
    static func startController(env: Env, dir: URL, extraArguments: [String] = []) throws -> (Process, URL) {
        let kubeconfig = try env.server.writeTemporaryKubeconfig()
        let logPath = dir.appendingPathComponent("controller-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: logPath.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments =
            [
                "--kubeconfig", kubeconfig, "--config-file", "example/00-componentconfig.yaml",
                "--leader-election-namespace", "kube-system", "--heartbeat-namespace", "kube-system",
                "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", "127.0.0.1:0",
            ] + extraArguments
        process.currentDirectoryURL = dir
        let log = try FileHandle(forWritingTo: logPath)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        return (process, logPath)
    }

    /// Waits (bounded) for `process` to exit after a signal; answers whether it did.
    static func waitForExit(_ process: Process, timeout: Duration = .seconds(30)) async throws -> Bool {
        await eventually(timeout: timeout, interval: .milliseconds(100)) { !process.isRunning }
    }

    /// SIGTERM while a delete is waiting for the ManagedResource: the process exits cleanly, the
    /// Network keeps its finalizer (nothing half-removed), and a restarted controller finishes
    /// the deletion once the shoot side lets go.
    @Test func sigtermDuringDeleteThenRestartFinishesTheWork() async throws {
        try await Env.with { env in
            let dir = try Self.workDir()
            try await env.createExample()
            let (first, firstLog) = try Self.startController(env: env, dir: dir)
            defer { if first.isRunning { first.terminate() } }
            _ = try await env.waitReconciled(timeout: .seconds(60))
            // A stuck shoot-side deletion: the delete waits (up to 2 minutes) for the MR to go.
            try await env.holdManagedResource()
            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            try await env.waitForNetwork(timeout: .seconds(30), "Delete Processing") {
                $0?[path: "status", "lastOperation", "type"] == "Delete" && $0?[path: "status", "lastOperation", "state"] == "Processing"
            }
            // The controller has deleted the ManagedResource and now waits for it to go.
            #expect(
                await eventually {
                    let mr = try? await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
                    return mr?[path: "metadata", "deletionTimestamp"] != nil
                })
            kill(first.processIdentifier, SIGTERM)
            // Well within the 30 s graceful period: the waiting delete is cancelled after the drain period.
            let exited = try await Self.waitForExit(first, timeout: .seconds(15))
            let firstOutput = (try? String(contentsOf: firstLog, encoding: .utf8)) ?? ""
            #expect(exited, "still running 15 s after SIGTERM: \(firstOutput.suffix(2000))")
            if exited { #expect(first.terminationStatus == 0, "\(firstOutput.suffix(2000))") }
            // Mid-operation state is consistent: still deleting, finalizer kept, MR marked for deletion.
            let network = try #require(try await env.network())
            #expect(network[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            let mr = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            #expect(mr[path: "metadata", "deletionTimestamp"] != nil)

            // The shoot side lets go; a new process repairs the rest.
            try await env.releaseManagedResource()
            let (second, secondLog) = try Self.startController(env: env, dir: dir)
            defer { if second.isRunning { second.terminate() } }
            try await Self.showingSecondLog(secondLog) {
                try await env.waitForNetwork(timeout: .seconds(60), "Network gone after restart") { $0 == nil }
            }
            await #expect(throws: KubeError.self) {
                _ = try await env.client.get(.configMaps, namespace: Env.namespace, name: "calico-dashboards")
            }
            kill(second.processIdentifier, SIGTERM)
            #expect(try await Self.waitForExit(second))
        }
    }

    /// SIGTERM while many reconciles are in flight (responses slowed down): clean exit within
    /// the drain period, and a restarted controller brings every Network to `Succeeded` with
    /// exactly the rendered content — whatever the first process left half-done.
    @Test func sigtermMidReconcileThenRestartRepairs() async throws {
        try await Env.with { env in
            let dir = try Self.workDir()
            let fleet = Fleet(env: env, prefix: "sigterm", count: 30)
            env.server.faultPolicy = FaultPolicy(verbs: ["get", "create", "update", "patch"], delay: .milliseconds(60))
            let (first, firstLog) = try Self.startController(env: env, dir: dir, extraArguments: ["--leader-election=false"])
            defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
            try await fleet.create()
            _ = try await fleet.waitUntilAll(timeout: .seconds(120), "started") { i, obj in
                i >= 2 || (obj.map(LocalBootstrap.isReconciled) ?? false)
            }
            kill(first.processIdentifier, SIGTERM)
            let exited = try await Self.waitForExit(first, timeout: .seconds(15))
            let output = (try? String(contentsOf: firstLog, encoding: .utf8)) ?? ""
            #expect(exited, "still running 15 s after SIGTERM: \(output.suffix(2000))")
            if exited { #expect(first.terminationStatus == 0, "\(output.suffix(2000))") }
            let halfway = try await fleet.networks().values.filter(LocalBootstrap.isReconciled).count
            #expect(halfway < fleet.count, "everything finished before SIGTERM; the test proves nothing")
            env.server.clearFaults()

            let (second, secondLog) = try Self.startController(env: env, dir: dir, extraArguments: ["--leader-election=false"])
            defer { if second.isRunning { second.terminate() } }
            let done = try await Self.showingSecondLog(secondLog) { try await fleet.allSucceeded(timeout: .seconds(120)) }
            try await fleet.expectRenderedContent(done)
            kill(second.processIdentifier, SIGTERM)
            #expect(try await Self.waitForExit(second))
        }
    }
}
