import ArgumentParser
import CalicoAPI
import CalicoManifests
import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import LocalMode
import Logging
import NetworkingCalico

/// `local` subcommand (`make local`): the embedded API server with the example shoot, and the
/// controller running in-process against it. Prints a report once the Network is reconciled,
/// then keeps running (live re-render on edits) until Ctrl-C; `--once` exits after the report.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "Run the extension locally against an embedded API server.",
        discussion: """
            Starts the embedded API server (state in <state-dir>/state, kubeconfig in <state-dir>/kubeconfig), \
            installs the CRDs from <example-dir>/10-crd-*.yaml, creates the namespace, Cluster and Network \
            from <example-dir>/20-network.yaml (idempotent on restart), and runs the controller in-process.
            """)

    @Flag(name: .long, help: "Exit 0 after the first successful reconcile (non-zero with the reason on failure).")
    var once = false

    @Option(name: .customLong("example-dir"), help: "Directory with 10-crd-*.yaml and 20-network.yaml.")
    var exampleDir: String = "example"

    @Option(name: .customLong("state-dir"), help: "Directory for the kubeconfig, the API server state and the controller log.")
    var stateDir: String = ".local"

    @Option(name: .long, help: "API server port (0 picks a free port).")
    var port: Int = 0

    @Option(name: .long, help: "Seconds to wait for the first successful reconcile.")
    var timeout: Int = 120

    @Option(name: .customLong("feature-gates"), help: "Controller feature gates, e.g. NonPrivilegedCalicoNode=true.")
    var featureGates: String = ""

    @Flag(name: .long, help: "Controller log to stderr instead of <state-dir>/controller.log.")
    var verbose = false

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Unbuffered output (progress and report appear at once, also through a pipe).
    func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    func progress(_ text: String) { say("==> \(text)") }

    func run() async throws {
        do {
            try await runLocal()
        } catch let f as Failure {
            FileHandle.standardError.write(Data("local: \(f.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    func runLocal() async throws {
        let fm = FileManager.default
        let state = URL(fileURLWithPath: stateDir).standardizedFileURL
        let kubeconfigPath = state.appendingPathComponent("kubeconfig").path
        let logPath = state.appendingPathComponent("controller.log").path
        do {
            try fm.createDirectory(at: state.appendingPathComponent("state"), withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(state.path): \(error.localizedDescription)")
        }
        var gates = FeatureGates()
        do { try gates.set(featureGates) } catch { throw Failure(description: "invalid --feature-gates: \(error.description)") }
        let crdFiles = try exampleFiles(prefix: "10-crd-")
        let networkFile = URL(fileURLWithPath: exampleDir).appendingPathComponent("20-network.yaml").path

        // Controller logs go to a file so the report stays readable.
        let logging = LoggingOptions(level: .info, format: verbose ? .text : .json)
        let sink: LogSink
        if verbose {
            sink = .standardError
        } else {
            fm.createFile(atPath: logPath, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: logPath) else {
                throw Failure(description: "cannot open \(logPath)")
            }
            sink = LogSink { bytes in handle.write(Data(bytes)) }
        }
        LoggingSystem.bootstrap { label in logging.makeHandler(label: label, sink: sink) }

        progress("starting the embedded API server (state in \(state.appendingPathComponent("state").path))")
        let server: EmbeddedAPIServer
        do {
            server = try await EmbeddedAPIServer.start(
                EmbeddedAPIServerConfiguration(port: port, dataDirectory: state.appendingPathComponent("state").path))
            try server.writeKubeconfig(to: kubeconfigPath)
        } catch {
            throw Failure(description: "cannot start the embedded API server: \(error)")
        }
        progress("API server listening on \(server.baseURL), kubeconfig \(kubeconfigPath)")

        let client: KubernetesClient
        do {
            var config = try ClientConfiguration.fromKubeconfigFile(kubeconfigPath)
            config.qps = 100
            config.burst = 130
            client = try KubernetesClient(configuration: config)
        } catch {
            try? await server.shutdown()
            throw Failure(description: "cannot create a client: \(error)")
        }

        var manager: Manager?
        var managerTask: Task<Void, any Error>?
        func cleanUp() async {
            manager?.stop()
            _ = try? await managerTask?.value
            try? await client.shutdown()
            try? await server.shutdown()
        }

        let network: (namespace: String, name: String)
        do {
            progress("installing CRDs: \(crdFiles.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))")
            for file in crdFiles { try await LocalBootstrap.apply(file: file, client: client) }
            try await LocalBootstrap.waitForCRDs(client: client)
            progress("creating the example shoot from \(networkFile)")
            network = try await LocalBootstrap.applyExample(file: networkFile, client: client)
        } catch {
            await cleanUp()
            throw Failure(description: "bootstrap failed: \(error)")
        }

        var settings = CalicoControllerSettings()
        settings.leaderElection = false
        settings.heartbeatNamespace = "default"
        // Live re-render: edits of the providerConfig (generation changes) trigger a reconcile.
        settings.ignoreOperationAnnotation = true
        settings.actuator = CalicoActuatorOptions(featureGates: gates)
        do {
            settings.actuator.imageVector = try ImageVector.fromEnvironment()
        } catch {
            await cleanUp()
            throw Failure(description: "\(error)")
        }
        let m = try await CalicoController.makeManager(client: client, settings: settings)
        manager = m
        progress("starting the controller (log: \(verbose ? "stderr" : logPath))")
        let onceMode = once
        managerTask = Task { onceMode ? try await m.run() : try await m.runUntilSignalled() }

        progress("waiting for Network \(network.namespace)/\(network.name) to be reconciled")
        let outcome = await LocalBootstrap.waitForOutcome(
            client: client, namespace: network.namespace, name: network.name, timeout: .seconds(timeout),
            failFast: once)
        switch outcome {
        case .succeeded(let obj):
            let report = await LocalBootstrap.report(
                client: client, network: obj, kubeconfigPath: kubeconfigPath, exampleDir: exampleDir)
            say(report)
        case .failed(let reason):
            await cleanUp()
            throw Failure(description: "reconcile failed: \(reason)")
        }
        if once {
            await cleanUp()
            return
        }
        progress("running; press Ctrl-C to stop")
        _ = try? await managerTask?.value
        try? await client.shutdown()
        try? await server.shutdown()
        say("stopped")
    }

    private func exampleFiles(prefix: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: exampleDir) } catch {
            throw Failure(description: "cannot read --example-dir \(exampleDir): \(error.localizedDescription)")
        }
        let files = names.filter { $0.hasPrefix(prefix) && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }.sorted()
        guard !files.isEmpty else { throw Failure(description: "no \(prefix)*.yaml files in \(exampleDir)") }
        return files.map { URL(fileURLWithPath: exampleDir).appendingPathComponent($0).path }
    }
}
