import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeRuntime
import Logging
import NetworkingCalico

/// Version reported by `--version` and at start.
let extensionVersion = ImageVector.defaultExtensionVersion

/// `controller` subcommand (the default): the networking-calico controller manager
/// (flags in docs/operations.md). Runs until SIGTERM/SIGINT, then stops gracefully.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller", abstract: "Run the networking-calico controller manager (default).")

    @Option(name: .long, help: "Path to a kubeconfig (in-cluster configuration when empty).")
    var kubeconfig: String = ""
    @Option(name: .long, help: "API server URL override.")
    var master: String = ""
    @Option(name: .customLong("leader-election"), help: "Leader election on/off.")
    var leaderElection: Bool = true
    @Option(name: .customLong("leader-election-id"), help: "Lease name for leader election.")
    var leaderElectionID: String = "networking-calico-leader-election"
    @Option(name: .customLong("leader-election-namespace"), help: "Lease namespace (default: env LEADER_ELECTION_NAMESPACE).")
    var leaderElectionNamespace: String?
    @Option(name: .customLong("webhook-config-server-host"), help: "Unused by this binary.")
    var webhookConfigServerHost: String = ""
    @Option(name: .customLong("webhook-config-server-port"), help: "Unused by this binary.")
    var webhookConfigServerPort: Int = 0
    @Option(name: .customLong("webhook-config-cert-dir"), help: "Unused by this binary.")
    var webhookConfigCertDir: String = ""
    @Option(name: .customLong("metrics-bind-address"), help: "Prometheus metrics endpoint (0 disables).")
    var metricsBindAddress: String = ":8080"
    @Option(name: .customLong("health-bind-address"), help: "/healthz and /readyz endpoint (0 disables).")
    var healthBindAddress: String = ":8081"
    @Option(name: .customLong("log-level"), help: "info, debug or error.")
    var logLevel: String = "info"
    @Option(name: .customLong("log-format"), help: "json or text.")
    var logFormat: String = "json"
    @Option(name: .customLong("max-concurrent-reconciles"), help: "Network controller workers.")
    var maxConcurrentReconciles: Int = 5
    @Option(name: .customLong("healthcheck-max-concurrent-reconciles"), help: "Parsed but unused.")
    var healthcheckMaxConcurrentReconciles: Int = 5
    @Option(name: .customLong("heartbeat-namespace"), help: "Heartbeat lease namespace (default: env LEADER_ELECTION_NAMESPACE).")
    var heartbeatNamespace: String?
    @Option(name: .customLong("heartbeat-renew-interval-seconds"), help: "Heartbeat renew interval.")
    var heartbeatRenewIntervalSeconds: Int = 30
    @Option(name: .customLong("config-file"), help: "ControllerConfiguration file (required).")
    var configFile: String = ""
    @Option(name: .long, parsing: .singleValue, help: "Controllers to enable (comma separated): heartbeat.")
    var controllers: [String] = []
    @Option(name: .customLong("disable-controllers"), parsing: .singleValue, help: "Controllers to disable.")
    var disableControllers: [String] = []
    @Option(name: .customLong("ignore-operation-annotation"), help: "React on generation changes instead of the operation annotation.")
    var ignoreOperationAnnotation: Bool = false
    @Option(name: .customLong("gardener-version"), help: "Version of gardenlet (informational).")
    var gardenerVersion: String = ""
    @Option(name: .customLong("self-hosted-shoot-cluster"), help: "Informational.")
    var selfHostedShootCluster: Bool = false
    @Option(name: .customLong("extension-classes"), parsing: .singleValue, help: "Informational.")
    var extensionClasses: [String] = []
    @Flag(name: .long, help: "Print the version and exit.")
    var version = false

    /// Comma-separated slice flags (`--controllers a,b`) as pflag does.
    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    func run() async throws {
        if version {
            print("networking-calico-controller-manager \(extensionVersion)")
            return
        }
        let env = ProcessInfo.processInfo.environment
        let logging: LoggingOptions
        do { logging = try LoggingOptions.parse(level: logLevel, format: logFormat) } catch {
            throw ValidationError(error.description)
        }
        logging.bootstrap()
        var logger = Logger(label: "networking-calico")
        logger.logLevel = logging.level
        logger.info("Starting networking-calico", metadata: ["version": "\(extensionVersion)"])

        let setup: (CalicoControllerSettings, KubernetesClient)
        do {
            setup = try makeSettingsAndClient(environment: env)
        } catch let e as ValidationError {
            throw e
        } catch {
            logger.error("Startup failed", metadata: ["error": "\(error)"])
            throw ValidationError("\(error)")
        }
        let (settings, client) = setup
        let manager = try await CalicoController.makeManager(client: client, settings: settings, logger: logger)
        do {
            try await manager.runUntilSignalled()
        } catch {
            logger.error("Manager stopped with error", metadata: ["error": "\(error)"])
            try? await client.shutdown()
            throw ExitCode(1)
        }
        try? await client.shutdown()
    }

    /// Flags + env + component config → settings and the seed client.
    func makeSettingsAndClient(environment env: [String: String]) throws -> (CalicoControllerSettings, KubernetesClient) {
        guard heartbeatRenewIntervalSeconds > 0 else {
            throw ValidationError("--heartbeat-renew-interval-seconds must be greater than 0")
        }
        let componentConfig = try ControllerConfiguration.load(path: configFile)
        var settings = CalicoControllerSettings()
        settings.leaderElection = leaderElection
        settings.leaderElectionID = leaderElectionID
        settings.leaderElectionNamespace = leaderElectionNamespace ?? env["LEADER_ELECTION_NAMESPACE"] ?? ""
        settings.metricsBindAddress = try BindAddress.parse(metricsBindAddress)
        settings.healthBindAddress = try BindAddress.parse(healthBindAddress)
        settings.maxConcurrentReconciles = maxConcurrentReconciles
        settings.heartbeatNamespace = heartbeatNamespace ?? env["LEADER_ELECTION_NAMESPACE"] ?? ""
        settings.heartbeatRenewIntervalSeconds = heartbeatRenewIntervalSeconds
        settings.heartbeatEnabled = try CalicoController.heartbeatEnabled(
            controllers: controllers.isEmpty ? nil : Self.split(controllers), disabled: Self.split(disableControllers))
        settings.ignoreOperationAnnotation = ignoreOperationAnnotation
        settings.actuator = CalicoActuatorOptions(
            featureGates: try componentConfig.featureGateSet(), imageVector: try ImageVector.fromEnvironment(env),
            useExternalShootClient: env["GARDENER_SHOOT_CLIENT"] == "external")

        var config = try ClientConfiguration.load(
            kubeconfigPath: kubeconfig.isEmpty ? nil : kubeconfig, masterURL: master.isEmpty ? nil : master,
            environment: env)
        if let cc = componentConfig.clientConnection {
            if cc.qps != 0 { config.qps = cc.qps }
            if cc.burst != 0 { config.burst = cc.burst }
        }
        return (settings, try KubernetesClient(configuration: config))
    }
}
