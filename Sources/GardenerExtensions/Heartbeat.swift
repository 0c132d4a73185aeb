import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// The `heartbeat` controller: renews the Lease `gardener-extension-heartbeat`
/// every renew interval so gardenlet sees the extension alive.
public struct HeartbeatReconciler: Reconciler {
    /// Lease name read by gardenlet.
    public static let leaseName = "gardener-extension-heartbeat"

    /// Client for the Lease.
    public let client: KubernetesClient
    /// Namespace of the heartbeat Lease.
    public let namespace: String
    /// `holderIdentity` (the extension name, e.g. `networking-calico`).
    public let extensionName: String
    /// How often the Lease is renewed.
    public let renewInterval: Duration
    let logger: Logger

    /// A heartbeat for `extensionName` in `namespace`.
    public init(
        client: KubernetesClient, namespace: String, extensionName: String, renewInterval: Duration,
        logger: Logger = Logger(label: "heartbeat")
    ) {
        self.client = client
        self.namespace = namespace
        self.extensionName = extensionName
        self.renewInterval = renewInterval
        self.logger = logger
    }

    /// Validates `--heartbeat-renew-interval-seconds`.
    public static func validate(renewIntervalSeconds: Int) throws {
        if renewIntervalSeconds <= 0 { throw MessageError("--heartbeat-renew-interval-seconds must be greater than 0") }
    }

    /// Creates or renews the Lease, then asks to run again after `renewInterval`.
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        let seconds = Int64(renewInterval.seconds.rounded())
        let spec: JSON = [
            "holderIdentity": .string(extensionName), "leaseDurationSeconds": .int(seconds),
            "renewTime": .string(KubeTime.formatMicro(Date())),
        ]
        let lease: JSON = [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": .string(Self.leaseName), "namespace": .string(namespace)], "spec": spec,
        ]
        do {
            _ = try await client.create(.leases, namespace: namespace, lease)
        } catch let e as KubeError where e.isAlreadyExists {
            let existing = try await client.get(.leases, namespace: namespace, name: Self.leaseName)
            var desired = existing
            desired["spec"] = spec
            if let patch = MergePatch.diff(from: existing, to: desired) {
                _ = try await client.patch(.leases, namespace: namespace, name: Self.leaseName, patch, type: .merge)
            }
        }
        logger.debug("Renewed heartbeat lease", metadata: ["namespace": "\(namespace)"])
        return .requeueAfter(renewInterval)
    }

    /// Adds the `heartbeat` controller (one worker, triggered once at start, then by requeue).
    @discardableResult
    public static func add(
        to manager: Manager, namespace: String, extensionName: String, renewInterval: Duration = .seconds(30)
    ) -> Controller {
        var logger = manager.logger
        logger[metadataKey: "controller"] = "heartbeat"
        let controller = Controller(
            name: "heartbeat",
            reconciler: HeartbeatReconciler(
                client: manager.client, namespace: namespace, extensionName: extensionName, renewInterval: renewInterval,
                logger: logger),
            maxConcurrentReconciles: 1, metrics: manager.metrics, logger: logger)
        controller.enqueueOnStart(ReconcileRequest(namespace: namespace, name: leaseName))
        manager.add(controller)
        return controller
    }
}
