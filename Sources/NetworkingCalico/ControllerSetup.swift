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
    public var leaderElectionID: String = "networking-calico-leader-election"
    /// `--leader-election-namespace` (empty: the client's namespace).
    public var leaderElectionNamespace: String = ""
    /// Lease timings (controller-runtime defaults 15 s / 10 s / 2 s).
    public var leaseDuration: Duration = .seconds(15)
    /// How long the leader keeps retrying a renewal before it gives up leadership.
    public var renewDeadline: Duration = .seconds(10)
    /// Wait between attempts to acquire or renew the Lease.
    public var retryPeriod: Duration = .seconds(2)
    /// `--metrics-bind-address` (nil = disabled).
    public var metricsBindAddress: BindAddress?
    /// `--health-bind-address` (nil = disabled).
    public var healthBindAddress: BindAddress?
    /// `--max-concurrent-reconciles`.
    public var maxConcurrentReconciles: Int = 5
    /// Whether the `heartbeat` controller runs (`--controllers` / `--disable-controllers`).
    public var heartbeatEnabled: Bool = true
    /// `--heartbeat-namespace` (empty: the client's namespace).
    public var heartbeatNamespace: String = ""
    /// `--heartbeat-renew-interval-seconds`.
    public var heartbeatRenewIntervalSeconds: Int = 30
    /// `--ignore-operation-annotation`.
    public var ignoreOperationAnnotation: Bool = false
    /// How long in-flight reconciles may run after SIGTERM.
    public var gracefulShutdownTimeout: Duration = .seconds(30)
    /// The actuator's options (feature gates, image vector, shoot client mode).
    public var actuator: CalicoActuatorOptions = CalicoActuatorOptions()
    /// Rate limiter of the Network controller (nil: controller-runtime's default).
    public var rateLimiter: (any RateLimiter)?

    /// Settings with the controller's defaults.
    public init() {}
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
            let namespace = settings.leaderElectionNamespace.isEmpty ? fallbackNamespace : settings.leaderElectionNamespace
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
