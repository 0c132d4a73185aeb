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
import Synchronization

/// `local` subcommand (`make local`): a whole Gardener landscape in one process — garden, seed
/// and shoot embedded API servers, the admission webhook, gardenlet's shoot flow, the controller,
/// the resource manager and simulated shoot Nodes (docs/local.md). Prints a report once the example
/// Shoot's Network is reconciled and applied, then keeps running until Ctrl-C; `--once` exits after
/// the report.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "Run the extension locally in a garden, seed and shoot of embedded API servers.",
        discussion: """
            Starts three embedded API servers (kubeconfigs <state-dir>/garden.kubeconfig, seed.kubeconfig, \
            shoot.kubeconfig; <state-dir>/kubeconfig is the seed's), registers the admission webhook in the garden, \
            creates the example Shoot from <example-dir>/local/shoot.yaml (kept on restart unless --reset), and runs \
            gardenlet's shoot flow, the controller, the resource manager and --nodes simulated shoot Nodes in-process.
            """)

    @Flag(name: .long, help: "Exit 0 once the example is reconciled and applied to the shoot (non-zero with the reason otherwise).")
    var once = false

    @Flag(name: .long, help: "Delete the state of earlier runs and start from the example again.")
    var reset = false

    @Option(name: .customLong("example-dir"), help: "Directory with 10-crd-*.yaml and local/ (garden CRDs and shoot.yaml).")
    var exampleDir: String = "example"

    @Option(name: .customLong("state-dir"), help: "Directory for the kubeconfigs, the API servers' data and the logs.")
    var stateDir: String = ".local"

    @Option(name: .long, help: "Seed API server port (0: the port of the last run when free, else any).")
    var port: Int = 0

    @Option(name: .long, help: "Number of simulated shoot Nodes.")
    var nodes: Int = 3

    @Flag(name: .customLong("hold-routes"), help: "Start every Node annotated calico-dev/hold-route=true (no route until removed).")
    var holdRoutes = false

    @Option(name: .customLong("rollout-step-ms"), help: "Milliseconds per step of a simulated DaemonSet rollout.")
    var rolloutStepMilliseconds: Int = 100

    @Option(name: .long, help: "Seconds to wait for the first successful reconcile.")
    var timeout: Int = 120

    @Option(name: .customLong("feature-gates"), help: "Controller feature gates, e.g. SeamlessOverlaySwitch=true.")
    var featureGates: String = ""

    @Flag(name: .long, help: "Logs to stderr instead of <state-dir>/controller.log.")
    var verbose = false

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Unbuffered output (progress and report appear at once, also through a pipe).
    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func progress(_ text: String) { say("==> \(text)") }

    func run() async throws {
        do {
            try await runLocal()
        } catch let f as Failure {
            FileHandle.standardError.write(Data("local: \(f.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    func runLocal() async throws {
        let started = ContinuousClock.now
        // Signals are trapped from the start, so Ctrl-C during start-up also stops cleanly.
        let signals = await TerminationSignals()
        let layout = LandscapeLayout(root: URL(fileURLWithPath: stateDir))
        guard nodes >= 0 else { throw Failure(description: "--nodes must not be negative") }
        do {
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(layout.root.path): \(error.localizedDescription)")
        }
        let lock: StateDirectoryLock
        do { lock = try StateDirectoryLock(path: layout.lockFile) } catch { throw Failure(description: "\(error)") }
        defer { withExtendedLifetime(lock) {} }
        if reset {
            do { try layout.reset() } catch { throw Failure(description: "--reset: \(error.localizedDescription)") }
            Self.progress("--reset: removed the state of earlier runs in \(layout.root.path)")
        }

        var options = LocalLandscapeOptions()
        options.stateDirectory = stateDir
        options.exampleDirectory = exampleDir
        options.nodes = nodes
        options.holdRoutes = holdRoutes
        options.seedPort = port
        options.rolloutStep = .milliseconds(max(0, rolloutStepMilliseconds))
        do { try options.featureGates.set(featureGates) } catch { throw Failure(description: "invalid --feature-gates: \(error.description)") }

        // Logs go to a file so the report stays readable.
        let logging = LoggingOptions(level: .info, format: verbose ? .text : .json)
        let sink: LogSink
        if verbose {
            sink = .standardError
        } else {
            FileManager.default.createFile(atPath: layout.logFile, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: layout.logFile) else { throw Failure(description: "cannot open \(layout.logFile)") }
            sink = LogSink { bytes in handle.write(Data(bytes)) }
        }
        LoggingSystem.bootstrap { label in logging.makeHandler(label: label, sink: sink) }

        Self.progress("starting the landscape in \(layout.root.path) (logs: \(verbose ? "stderr" : layout.logFile))")
        let startTask = Task { try await LocalLandscape.start(options) { Self.progress($0) } }
        // One waiter for the whole run (signals can be iterated once): during start-up a signal
        // cancels the start, afterwards it stops the landscape.
        let running = Mutex<LocalLandscape?>(nil)
        let signalled = Mutex(false)
        let stopper = Task {
            guard await signals.wait() else { return }
            signalled.withLock { $0 = true }
            if let landscape = running.withLock({ $0 }) { await landscape.stop() } else { startTask.cancel() }
        }
        defer { stopper.cancel() }
        let landscape: LocalLandscape
        do {
            landscape = try await startTask.value
        } catch {
            if signalled.withLock({ $0 }) { throw Failure(description: "interrupted during start-up") }
            throw Failure(description: "start failed: \(error)")
        }
        running.withLock { $0 = landscape }
        if signalled.withLock({ $0 }) { await landscape.stop() }

        let network = landscape.network
        Self.progress("waiting for Network \(network.namespace)/\(network.name) and its ManagedResource in the shoot")
        let outcome = await landscape.waitForExample(timeout: .seconds(timeout), failFast: once) { Self.progress($0) }
        if landscape.isStopping {
            await landscape.stop()
            Self.say("stopped")
            if once { throw Failure(description: "interrupted before the example was ready") }
            return
        }
        switch outcome {
        case .ready:
            Self.say(await LocalBootstrap.landscapeReport(landscape, exampleDir: exampleDir))
            Self.progress("ready in \(Self.seconds(ContinuousClock.now - started))")
        case .failed(let reason):
            if once {
                await landscape.stop()
                throw Failure(description: "not ready: \(reason)")
            }
            Self.progress("not ready yet: \(reason); still running so you can fix it with kubectl")
            // The report follows once a fix makes the example ready.
            let exampleDir = self.exampleDir
            Task {
                guard case .ready = await landscape.waitForExample(timeout: .seconds(365 * 86_400), failFast: false, progress: { Self.progress($0) })
                else { return }
                Self.say(await LocalBootstrap.landscapeReport(landscape, exampleDir: exampleDir))
                Self.progress("ready")
            }
        }
        if once {
            await landscape.stop()
            return
        }
        Self.progress("running; press Ctrl-C to stop")
        await landscape.wait()
        await landscape.stop()
        Self.say("stopped")
    }

    static func seconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        return String(format: "%.2f s", Double(s) + Double(atto) / 1e18)
    }
}
