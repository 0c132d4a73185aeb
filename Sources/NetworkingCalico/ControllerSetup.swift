import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Everything the controller binary needs to build its manager (flags in docs/operations.md), independent
/// of flag parsing so `local` mode and tests build exactly the same manager.
public struct CalicoControllerSettings: Sendable {
    /// `--leader-election`.
    public var leaderElection: Bool = true
    /// `--leader-election-id`.
    public var leaderElectionID: String = CalicoLease.leaseName
    /// `--leader-election-namespace` (empty: the client's namespace).
    public var leaderElectionNamespace: String = ""
    /// Lease validity without renewal.
    public var leaseDuration: Duration = LeaderElectionConfiguration.defaultLeaseDuration
    /// How long the leader retries a renewal before giving up.
    public var renewDeadline: Duration = LeaderElectionConfiguration.defaultRenewDeadline
    /// Pause between acquire/renew attempts.
    public var retryPeriod: Duration = LeaderElectionConfiguration.defaultRetryPeriod
    /// `--metrics-bind-address` (nil = disabled).
    public var metricsBindAddress: BindAddress?
    /// `--health-bind-address` (nil = disabled).
    public var healthBindAddress: BindAddress?
    /// `--max-concurrent-reconciles`.
    public var maxConcurrentReconciles: Int = NetworkControllerOptions().maxConcurrentReconciles
    /// Whether the `heartbeat` controller runs (`--controllers` / `--disable-controllers`).
    public var heartbeatEnabled: Bool = true
    /// `--heartbeat-namespace` (empty: the client's namespace).
    public var heartbeatNamespace: String = ""
    /// `--heartbeat-renew-interval-seconds`.
    public var heartbeatRenewIntervalSeconds: Int = 30
    /// `--ignore-operation-annotation`.
    public var ignoreOperationAnnotation: Bool = false
    /// How long in-flight reconciles may run after SIGTERM.
    public var gracefulShutdownTimeout: Duration = ManagerOptions().gracefulShutdownTimeout
    /// The actuator's options (feature gates, image vector, shoot client mode).
    public var actuator: CalicoActuatorOptions = CalicoActuatorOptions()
    /// Rate limiter of the Network controller (nil: controller-runtime's default).
    public var rateLimiter: (any RateLimiter)?

    /// The defaults of the binary.
    public init() {}
}

/// The controller binary's default lease (`--leader-election-id`).
public enum CalicoLease: LeaderElectionDefaults {
    /// `networking-calico-leader-election`.
    public static let leaseName = "networking-calico-leader-election"
}

/// The controller binary's own flags (leader election, endpoints and logging are shared groups);
/// defaults come from `CalicoControllerSettings`.
public struct ControllerFlags: ParsableArguments, Sendable {
    /// Seed cluster kubeconfig.
    @Option(name: .long, help: "Path to a kubeconfig (in-cluster configuration when empty).")
    public var kubeconfig: String = ""
    /// API server URL override.
    @Option(name: .long, help: "API server URL override.")
    public var master: String = ""
    /// Accepted for the Go binary's charts; unused.
    @Option(name: .customLong("webhook-config-server-host"), help: "Unused by this binary.")
    public var webhookConfigServerHost: String = ""
    /// Accepted for the Go binary's charts; unused.
    @Option(name: .customLong("webhook-config-server-port"), help: "Unused by this binary.")
    public var webhookConfigServerPort: Int = 0
    /// Accepted for the Go binary's charts; unused.
    @Option(name: .customLong("webhook-config-cert-dir"), help: "Unused by this binary.")
    public var webhookConfigCertDir: String = ""
    /// Network controller workers.
    @Option(name: .customLong("max-concurrent-reconciles"), help: "Network controller workers.")
    public var maxConcurrentReconciles: Int = CalicoControllerSettings().maxConcurrentReconciles
    /// Accepted for the Go binary's charts; unused.
    @Option(name: .customLong("healthcheck-max-concurrent-reconciles"), help: "Parsed but unused.")
    public var healthcheckMaxConcurrentReconciles: Int = CalicoControllerSettings().maxConcurrentReconciles
    /// Heartbeat Lease namespace; `LEADER_ELECTION_NAMESPACE` when not given.
    @Option(name: .customLong("heartbeat-namespace"), help: "Heartbeat lease namespace (default: env LEADER_ELECTION_NAMESPACE).")
    public var heartbeatNamespace: String?
    /// Heartbeat renew interval in seconds.
    @Option(name: .customLong("heartbeat-renew-interval-seconds"), help: "Heartbeat renew interval.")
    public var heartbeatRenewIntervalSeconds: Int = CalicoControllerSettings().heartbeatRenewIntervalSeconds
    /// The ControllerConfiguration file.
    @Option(name: .customLong("config-file"), help: "ControllerConfiguration file (required).")
    public var configFile: String = ""
    /// Switchable controllers to enable.
    @Option(name: .long, parsing: .singleValue, help: "Controllers to enable (comma separated): heartbeat.")
    public var controllers: [String] = []
    /// Switchable controllers to disable.
    @Option(name: .customLong("disable-controllers"), parsing: .singleValue, help: "Controllers to disable.")
    public var disableControllers: [String] = []
    /// React on generation changes (Go bool syntax, see `GoFlagSyntax`).
    @Option(name: .customLong("ignore-operation-annotation"), help: "React on generation changes instead of the operation annotation.")
    public var ignoreOperationAnnotation: Bool = CalicoControllerSettings().ignoreOperationAnnotation
    /// Informational.
    @Option(name: .customLong("gardener-version"), help: "Version of gardenlet (informational).")
    public var gardenerVersion: String = ""
    /// Informational (Go bool syntax).
    @Option(name: .customLong("self-hosted-shoot-cluster"), help: "Informational.")
    public var selfHostedShootCluster: Bool = false
    /// Informational.
    @Option(name: .customLong("extension-classes"), parsing: .singleValue, help: "Informational.")
    public var extensionClasses: [String] = []

    /// The defaults.
    public init() {}

    /// Boolean flags of this group (for `GoFlagSyntax`).
    public static var booleanFlags: [String] { ["ignore-operation-annotation", "self-hosted-shoot-cluster"] }

    /// Comma-separated slice flags (`--controllers a,b`) as pflag does.
    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    /// Flags, shared groups, environment and component config → settings and the seed client's
    /// configuration.
    public func settings(
        leaderElection: LeaderElectionFlags<CalicoLease>, manager: ManagerFlags, environment env: [String: String]
    ) throws -> (CalicoControllerSettings, ClientConfiguration) {
        guard heartbeatRenewIntervalSeconds > 0 else {
            throw ValidationError("--heartbeat-renew-interval-seconds must be greater than 0")
        }
        let componentConfig = try ControllerConfiguration.load(path: configFile)
        var settings = CalicoControllerSettings()
        settings.leaderElection = leaderElection.leaderElection
        settings.leaderElectionID = leaderElection.leaderElectionID
        settings.leaderElectionNamespace = leaderElection.namespace(environment: env)
        let endpoints = try manager.managerOptions(leaderElection: nil)
        settings.metricsBindAddress = endpoints.metricsBindAddress
        settings.healthBindAddress = endpoints.healthBindAddress
        settings.maxConcurrentReconciles = maxConcurrentReconciles
        settings.heartbeatNamespace = heartbeatNamespace ?? env["LEADER_ELECTION_NAMESPACE"] ?? ""
        settings.heartbeatRenewIntervalSeconds = heartbeatRenewIntervalSeconds
        settings.heartbeatEnabled = try CalicoController.heartbeatEnabled(
            controllers: controllers.isEmpty ? nil : Self.split(controllers), disabled: Self.split(disableControllers))
        settings.ignoreOperationAnnotation = ignoreOperationAnnotation
        settings.actuator = CalicoActuatorOptions(
            featureGates: try componentConfig.featureGateSet(), imageVector: try ImageVector.fromEnvironment(env),
            useExternalShootClient: env["GARDENER_SHOOT_CLIENT"] == "external")

        // `--kubeconfig` wins over the ComponentConfig's `clientConnection.kubeconfig`.
        let kubeconfigPath = kubeconfig.isEmpty ? componentConfig.clientConnection?.kubeconfig ?? "" : kubeconfig
        var config = try ClientConfiguration.load(
            kubeconfigPath: kubeconfigPath.isEmpty ? nil : kubeconfigPath, masterURL: master.isEmpty ? nil : master,
            environment: env)
        if let cc = componentConfig.clientConnection {
            try Self.checkContentTypes(cc)
            if cc.qps != 0 { config.qps = cc.qps }
            if cc.burst != 0 { config.burst = cc.burst }
        }
        return (settings, config)
    }
}

extension ControllerFlags {
    /// The client speaks JSON only: `application/json` (or nothing, the default) is honoured; any
    /// other type — protobuf in particular — is refused at start instead of being ignored.
    static func checkContentTypes(_ connection: ControllerConfiguration.ClientConnection) throws {
        let fields = [("contentType", connection.contentType), ("acceptContentTypes", connection.acceptContentTypes)]
        for (field, value) in fields {
            for type in value.split(separator: ",") {
                let mediaType = type.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
                if mediaType.isEmpty || mediaType == "application/json" { continue }
                let why =
                    mediaType.contains("protobuf")
                    ? "this extension talks JSON to the API server and cannot encode or decode protobuf"
                    : "this extension talks JSON to the API server only"
                throw MessageError(
                    "clientConnection.\(field): unsupported content type \"\(mediaType)\" (\(why)); "
                        + "use \"application/json\", the chart's default (config.clientConnection.\(field))")
            }
        }
    }
}

/// Builds the networking-calico controller manager.
public enum CalicoController {
    /// Switchable controllers (`--controllers`); the Network controller is always added.
    public static let switchableControllers = ["heartbeat"]

    /// Resolves `--controllers` / `--disable-controllers` into "heartbeat enabled", with the
    /// reference's error messages for unknown names.
    public static func heartbeatEnabled(controllers: [String]?, disabled: [String]) throws -> Bool {
        let enabled = controllers ?? switchableControllers
        for name in enabled where !switchableControllers.contains(name) {
            throw MessageError("cannot enable unknown controller \"\(name)\"")
        }
        for name in disabled where !switchableControllers.contains(name) {
            throw MessageError("cannot disable unknown controller \"\(name)\"")
        }
        return enabled.contains("heartbeat") && !disabled.contains("heartbeat")
    }

    /// The manager with the Network controller (Calico actuator) and, if enabled, the heartbeat.
    public static func makeManager(
        client: KubernetesClient, settings: CalicoControllerSettings, logger: Logger = Logger(label: "networking-calico")
    ) async throws -> Manager {
        try HeartbeatReconciler.validate(renewIntervalSeconds: settings.heartbeatRenewIntervalSeconds)
        let fallbackNamespace = client.configuration.namespace.isEmpty ? "default" : client.configuration.namespace
        var election: LeaderElectionConfiguration?
        if settings.leaderElection {
            // Required outside a cluster, as in the Go extension (no fallback to `default`).
            let namespace: String
            do { namespace = try LeaderElectionNamespace.resolve(settings.leaderElectionNamespace) } catch {
                throw MessageError("could not instantiate manager: \(error)")
            }
            election = LeaderElectionConfiguration(
                name: settings.leaderElectionID, namespace: namespace, leaseDuration: settings.leaseDuration,
                renewDeadline: settings.renewDeadline, retryPeriod: settings.retryPeriod)
        }
        let manager = Manager(
            client: client,
            options: ManagerOptions(
                leaderElection: election, metricsBindAddress: settings.metricsBindAddress,
                healthBindAddress: settings.healthBindAddress, gracefulShutdownTimeout: settings.gracefulShutdownTimeout),
            logger: logger)
        var actuatorLogger = logger
        actuatorLogger[metadataKey: "controller"] = "network"
        // Only the extension's own ManagedResources are cached (RBAC: list/watch on them).
        let managedResources = manager.informer(
            for: .managedResources, labelSelector: "\(ManagedResources.originLabel)=\(CalicoNames.origin)")
        let actuator = CalicoActuator(
            client: client, options: settings.actuator, managedResourceCache: managedResources.store, logger: actuatorLogger)
        let options = NetworkControllerOptions(
            ignoreOperationAnnotation: settings.ignoreOperationAnnotation,
            maxConcurrentReconciles: settings.maxConcurrentReconciles)
        if let limiter = settings.rateLimiter {
            await NetworkController.add(to: manager, actuator: actuator, options: options, rateLimiter: limiter)
        } else {
            await NetworkController.add(to: manager, actuator: actuator, options: options)
        }
        if settings.heartbeatEnabled {
            let namespace = settings.heartbeatNamespace.isEmpty ? fallbackNamespace : settings.heartbeatNamespace
            HeartbeatReconciler.add(
                to: manager, namespace: namespace, extensionName: CalicoNames.extensionName,
                renewInterval: .seconds(settings.heartbeatRenewIntervalSeconds))
        }
        return manager
    }
}
