import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// The provider-specific part of a Network controller. The generic reconciler handles
/// finalizers, status and operation annotations around these calls.
public protocol Actuator: Sendable {
    /// Create/update everything to the desired state and return the provider's status fields
    /// (`providerStatus`, `ipFamilies`), which the reconciler writes with the Succeeded status.
    /// Throw `RequeueAfterError` to retry after a fixed delay.
    func reconcile(_ network: Network, cluster: Cluster) async throws -> StatusFields
    /// Remove everything the extension created and wait until it is gone.
    func delete(_ network: Network, cluster: Cluster) async throws
    /// Called instead of `delete` when the Shoot requests force deletion.
    func forceDelete(_ network: Network, cluster: Cluster) async throws
    /// Keep shoot objects (keepObjects), then remove seed-side objects.
    func migrate(_ network: Network, cluster: Cluster) async throws
    /// Restore from `status.state`, then reconcile (status fields as for `reconcile`).
    func restore(_ network: Network, cluster: Cluster) async throws -> StatusFields
}

/// Fields of `status` an actuator reports; they go out with the operation's final status write,
/// so a successful reconcile costs one status write, not two. `.null` removes a field.
public struct StatusFields: Sendable, Equatable {
    /// The fields to set (`.null` removes one).
    public var fields: JSONObject

    /// Status fields from a JSON object.
    public init(_ fields: JSONObject) { self.fields = fields }

    /// No fields.
    public static let none = StatusFields(JSONObject())

    /// `status` with these fields set (or removed for `.null`).
    public func applied(to status: JSON) -> JSON {
        var s = status.isObject ? status : .emptyObject
        for (key, value) in fields { s[key] = value == .null ? nil : value }
        return s
    }
}

/// Settings of the generic Network reconciler and its controller.
public struct NetworkControllerOptions: Sendable {
    /// `spec.type` handled (`calico`).
    public var extensionType: String
    /// Accepted `spec.class` values (absent = `shoot`).
    public var classes: Set<String>
    /// `--ignore-operation-annotation`.
    public var ignoreOperationAnnotation: Bool
    /// `--max-concurrent-reconciles` (default 5).
    public var maxConcurrentReconciles: Int
    /// Deadline of one reconcile (Gardener: 3 minutes).
    public var reconcileTimeout: Duration
    /// Controller name (`network`).
    public var controllerName: String
    /// Finalizer (`extensions.gardener.cloud/network`).
    public var finalizer: String

    /// Options with Gardener's defaults for networking-calico.
    public init(
        extensionType: String = "calico", classes: Set<String> = [GardenerConstants.classShoot],
        ignoreOperationAnnotation: Bool = false, maxConcurrentReconciles: Int = 5,
        reconcileTimeout: Duration = Controller.defaultReconcileTimeout, controllerName: String = "network",
        finalizer: String = GardenerConstants.networkFinalizer
    ) {
        self.extensionType = extensionType
        self.classes = classes
        self.ignoreOperationAnnotation = ignoreOperationAnnotation
        self.maxConcurrentReconciles = maxConcurrentReconciles
        self.reconcileTimeout = reconcileTimeout
        self.controllerName = controllerName
        self.finalizer = finalizer
    }
}

/// Gardener's generic extension reconciler for `Network`: operation type, finalizer and the
/// `lastOperation`/`lastError` status gardenlet reads, including the operation-annotation wrapper.
public struct NetworkReconciler: Reconciler {
    /// Client for the Networks and Clusters.
    public let client: KubernetesClient
    /// The provider-specific part.
    public let actuator: any Actuator
    /// Controller settings (type, classes, mode, finalizer).
    public let options: NetworkControllerOptions
    /// Cluster informer store read before a live GET (the reference reads through its cache).
    public let clusters: Store?
    /// Network informer store the wrapper reads first, as the reference's cached client does
    /// (a miss falls back to a live GET).
    public let networks: Store?
    /// Records each operation's outcome as an Event on the Network (nil: none), so
    /// `kubectl describe network` shows the history (see docs/operations.md, "Events").
    public let events: EventRecorder?
    /// Versions of the reconciler's own writes, which tell a cached Network that predates them.
    let ownWrites: OwnWrites
    let logger: Logger

    /// A reconciler; without stores every read is a live GET.
    public init(
        client: KubernetesClient, actuator: any Actuator, options: NetworkControllerOptions = NetworkControllerOptions(),
        clusters: Store? = nil, networks: Store? = nil, events: EventRecorder? = nil, logger: Logger = Logger(label: "network")
    ) {
        self.events = events
        self.client = client
        self.actuator = actuator
        self.options = options
        self.clusters = clusters
        self.networks = networks
        var isKnown: (@Sendable (String) -> Bool)?
        if let networks { isKnown = { key in networks.get(key) != nil } }
        self.ownWrites = OwnWrites(isKnown: isKnown)
        self.logger = logger
    }

    private func removeOperationAnnotation(_ name: String, _ namespace: String?) async throws -> JSON {
        try await patchNetwork(namespace: namespace, name: name, ["metadata": ["annotations": [GardenerConstants.operationAnnotation: .null]]])
    }

    /// Merge-patches the Network and remembers the version the write produced.
    func patchNetwork(namespace: String?, name: String, _ body: JSON, subresource: String? = nil) async throws -> JSON {
        let answer = try await client.patch(.networks, namespace: namespace, name: name, body, type: .merge, subresource: subresource)
        ownWrites.record(objectKey(namespace: namespace, name: name), answer)
        return answer
    }

    /// The Network from the informer cache unless it may predate this reconciler's last write
    /// of it (the watch event of that write not seen yet: a reconcile queued by the write's own
    /// event would otherwise act on the state before it); else, or on a miss, a live GET.
    private func readNetwork(_ request: ReconcileRequest) async throws -> JSON {
        let key = objectKey(namespace: request.namespace, name: request.name)
        if let cached = networks?.get(key), ownWrites.isCurrent(key, cached) { return cached }
        do {
            return try await client.get(.networks, namespace: request.namespace, name: request.name)
        } catch let e as KubeError where e.isNotFound {
            ownWrites.forget(key)
            throw e
        }
    }

    /// The operation-annotation wrapper (drops a `reconcile` annotation before any work, ignores
    /// `wait-for-state`), then the real reconciler.
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        var log = logger
        log[metadataKey: "network"] = .string(request.name)
        log[metadataKey: "namespace"] = .string(request.namespace ?? "")
        // The object as the wrapper last saw it (its GET, or the answer to its patch) is as fresh
        // as a second GET would be: the inner reconciler starts from it.
        var latest: JSON?
        do {
            // The event that queued this key came from the informer, so its store holds the
            // object at least as new as that event. A stale entry costs what it costs the
            // reference: the finalizer patch's optimistic lock answers 409 and the key is retried.
            let obj = try await readNetwork(request)
            latest = obj
            switch ExtensionOperation.operationAnnotation(obj) {
            case GardenerConstants.operationWaitForState?:
                log.info("Skipping reconciliation: waiting for state")
                return .done
            case GardenerConstants.operationReconcile?:
                latest = try await removeOperationAnnotation(request.name, request.namespace)
            default: break
            }
        } catch let e as KubeError where e.isNotFound {
            // The inner reconciler stops on NotFound.
            latest = nil
        }
        return try await reconcileInner(request, log, latest: latest)
    }

    private func reconcileInner(_ request: ReconcileRequest, _ log: Logger, latest: JSON? = nil) async throws -> ReconcileResult {
        let obj: JSON
        do {
            if let latest {
                obj = latest
            } else {
                obj = try await client.get(.networks, namespace: request.namespace, name: request.name)
            }
        } catch let e as KubeError where e.isNotFound {
            log.info("Object is gone, stop reconciling")
            return .done
        } catch {
            throw WrappedError.wrap("error retrieving object from store", error)
        }
        let network = Network(raw: obj)
        let cluster = try await readCluster(namespace: request.namespace ?? "")
        if let shoot = cluster.shoot, shoot.isFailed {
            log.info("Skipping the reconciliation of Network of failed shoot")
            return .done
        }
        let operation = ExtensionOperation.operationType(obj)
        let run = Run(reconciler: self, network: network, generation: Int64(network.metadata.generation), log: log)
        if operation != .migrate && operation != .restore && ExtensionOperation.isMigrated(obj) {
            log.info("Skipping the reconciliation since the object is migrated")
            return .done
        }
        if operation == .migrate { return try await run.migrate(cluster) }
        if ExtensionOperation.isDeleting(obj) { return try await run.delete(cluster) }
        if operation == .restore { return try await run.restore(cluster) }
        return try await run.reconcile(cluster, type: operation)
    }

    /// The Cluster named like the namespace, with its embedded objects checked: from the
    /// informer cache, or a live GET when it has not seen the Cluster yet or has it as failed
    /// (a stale "failed" must not skip the reconcile of a shoot that has just recovered).
    func readCluster(namespace: String) async throws -> Cluster {
        if let cached = clusters?.get(namespace: nil, name: namespace) {
            let cluster = Cluster(raw: cached)
            if !(cluster.shoot?.isFailed ?? false) {
                try cluster.validateEmbedded()
                return cluster
            }
        }
        let cluster = Cluster(raw: try await client.get(.clusters, namespace: nil, name: namespace))
        try cluster.validateEmbedded()
        return cluster
    }

    /// State of one reconcile run: the in-memory object is refreshed from every write answer so
    /// each status patch is the diff against the latest known object.
    final class Run: @unchecked Sendable {
        // @unchecked: used by one task only (one reconcile).
        let r: NetworkReconciler
        var network: Network
        let generation: Int64
        let log: Logger

        init(reconciler: NetworkReconciler, network: Network, generation: Int64, log: Logger) {
            self.r = reconciler
            self.network = network
            self.generation = generation
            self.log = log
        }

        var client: KubernetesClient { r.client }
        var finalizer: String { r.options.finalizer }

        /// Status patch from the current in-memory status to `newStatus`.
        func patchStatus(_ newStatus: JSON) async throws {
            guard let diff = MergePatch.diff(from: network.status, to: newStatus) else { return }
            let answer = try await r.patchNetwork(namespace: network.namespace, name: network.name, ["status": diff], subresource: "status")
            network = Network(raw: answer)
        }

        func processing(_ type: LastOperationType, _ description: String) async throws {
            try await patchStatus(
                ExtensionOperation.processing(network.status, type: type, description: description, now: Date()))
        }

        func success(_ type: LastOperationType, _ description: String, fields: StatusFields = .none) async throws {
            try await patchStatus(
                fields.applied(
                    to: ExtensionOperation.succeeded(
                        network.status, type: type, description: description, generation: generation, now: Date())))
            await r.events?.record(involved: network.raw, type: .normal, reason: "\(type.rawValue)Succeeded", message: description)
        }

        /// Error status (a failure of this write is ignored), then the result: a fixed-delay
        /// requeue for `RequeueAfterError`, no requeue for a terminal error, else backoff.
        func failure(_ type: LastOperationType, _ description: String, _ error: any Error) async throws -> ReconcileResult {
            let status = ExtensionOperation.failed(
                network.status, type: type, description: description, error: error, generation: generation, now: Date())
            do { try await patchStatus(status) } catch {
                log.error("Could not update status after error", metadata: ["error": "\(errorText(error))"])
            }
            // The Event carries lastError's text; repeats of it raise the Event's count.
            let message = ExtensionOperation.errorDescription(description, error: error)
            await r.events?.record(involved: network.raw, type: .warning, reason: "\(type.rawValue)Error", message: message)
            if let requeue = error as? RequeueAfterError {
                log.info("Requeueing", metadata: ["after": "\(goDuration(requeue.requeueAfter))", "reason": "\(requeue)"])
                return .requeueAfter(requeue.requeueAfter)
            }
            let failure = ReconcileFailure(message: message, cause: error)
            // Same status as any error; only the requeue differs (see docs/reliability.md).
            if isTerminal(error) { throw TerminalError(failure) }
            throw failure
        }

        func ensureFinalizer() async throws {
            var meta = network.metadata
            guard meta.addFinalizer(finalizer) else { return }
            do {
                let answer = try await r.patchNetwork(
                    namespace: network.namespace, name: network.name,
                    [
                        "metadata": [
                            "finalizers": .array(meta.finalizers.map(JSON.string)),
                            "resourceVersion": .string(network.metadata.resourceVersion ?? ""),
                        ]
                    ])
                network = Network(raw: answer)
            } catch {
                throw WrappedError.wrap("failed to add finalizer", error)
            }
        }

        func removeAnnotation() async throws {
            do {
                network = Network(raw: try await r.removeOperationAnnotation(network.name, network.namespace))
            } catch let e as KubeError where e.isNotFound {
                // Already gone (e.g. finalizers removed during migrate of a deleted object).
            } catch {
                throw WrappedError.wrap("error removing annotation from Network", error)
            }
        }

        func reconcile(_ cluster: Cluster, type: LastOperationType) async throws -> ReconcileResult {
            try await ensureFinalizer()
            try await processing(type, "Reconciling the Network")
            let fields: StatusFields
            do {
                fields = try await r.actuator.reconcile(network, cluster: cluster)
            } catch {
                return try await failure(type, "Error reconciling Network", error)
            }
            try await success(type, "Successfully reconciled Network", fields: fields)
            log.info("Successfully reconciled Network", metadata: ["operation": "\(type.rawValue)"])
            return .done
        }

        func restore(_ cluster: Cluster) async throws -> ReconcileResult {
            try await ensureFinalizer()
            try await processing(.restore, "Restoring the Network")
            let fields: StatusFields
            do {
                fields = try await r.actuator.restore(network, cluster: cluster)
            } catch {
                return try await failure(.restore, "Error restoring Network", error)
            }
            try await success(.restore, "Successfully restored Network", fields: fields)
            try await removeAnnotation()
            return .done
        }

        func delete(_ cluster: Cluster) async throws -> ReconcileResult {
            guard network.metadata.hasFinalizer(finalizer) else {
                log.info("Deleting Network causes a no-op as there is no finalizer")
                return .done
            }
            try await processing(.delete, "Deleting the Network")
            do {
                if cluster.shoot?.needsForceDeletion == true {
                    try await r.actuator.forceDelete(network, cluster: cluster)
                } else {
                    try await r.actuator.delete(network, cluster: cluster)
                }
            } catch {
                return try await failure(.delete, "Error deleting Network", error)
            }
            try await success(.delete, "Successfully deleted Network")
            var meta = network.metadata
            meta.removeFinalizer(finalizer)
            do {
                _ = try await r.patchNetwork(
                    namespace: network.namespace, name: network.name,
                    [
                        "metadata": [
                            "finalizers": meta.finalizers.isEmpty ? .null : .array(meta.finalizers.map(JSON.string)),
                            "resourceVersion": .string(network.metadata.resourceVersion ?? ""),
                        ]
                    ])
            } catch let e as KubeError where e.isNotFound {
            } catch {
                throw WrappedError.wrap("failed to remove finalizer", error)
            }
            log.info("Successfully deleted Network")
            return .done
        }

        func migrate(_ cluster: Cluster) async throws -> ReconcileResult {
            try await processing(.migrate, "Migrating the Network")
            do {
                try await r.actuator.migrate(network, cluster: cluster)
            } catch {
                return try await failure(.migrate, "Error migrating Network", error)
            }
            try await success(.migrate, "Successfully migrated Network")
            do {
                network = Network(
                    raw: try await r.patchNetwork(namespace: network.namespace, name: network.name, ["metadata": ["finalizers": .null]]))
            } catch let e as KubeError where e.isNotFound {
                return .done
            } catch {
                throw WrappedError.wrap("error removing finalizers", error)
            }
            try await removeAnnotation()
            return .done
        }
    }
}

/// The resourceVersion each Network had after this process last wrote it. A cached object with
/// another version may be older than that write; equal versions mean the cache has seen it.
/// Entries of Networks the informer no longer has (deleted) are dropped when the map has doubled.
final class OwnWrites: Sendable {
    private struct State {
        var versions: [String: String] = [:]
        var pruneAt = 1_024
    }

    private let state = Mutex(State())
    /// Whether the informer still has the key (nil: never prune).
    let isKnown: (@Sendable (String) -> Bool)?

    init(isKnown: (@Sendable (String) -> Bool)? = nil) { self.isKnown = isKnown }

    func record(_ key: String, _ answer: JSON) {
        guard let version = answer[path: "metadata", "resourceVersion"]?.stringValue else { return }
        state.withLock { s in
            s.versions[key] = version
            guard s.versions.count >= s.pruneAt, let isKnown else { return }
            s.versions = s.versions.filter { isKnown($0.key) }
            s.pruneAt = max(1_024, 2 * s.versions.count)
        }
    }

    func forget(_ key: String) { _ = state.withLock { $0.versions.removeValue(forKey: key) } }

    /// Whether `cached` is not known to predate the last own write of `key`.
    func isCurrent(_ key: String, _ cached: JSON) -> Bool {
        guard let written = state.withLock({ $0.versions[key] }) else { return true }
        return cached[path: "metadata", "resourceVersion"]?.stringValue == written
    }
}

/// The error a failed operation returns to the controller (logged, then backoff; wrapped in a
/// `TerminalError` when the actuator's error is terminal).
public struct ReconcileFailure: WrappingError, CustomStringConvertible, Sendable {
    /// The status text (`<description>: <cause>`).
    public var message: String
    /// The actuator's error.
    public var cause: any Error
    /// The actuator's error (for code extraction).
    public var underlying: (any Error)? { cause }
    /// The status text.
    public var description: String { message }
}

/// Gardener's default extension predicates for Networks (class, type, operation mode, shoot not
/// failed), in an order that lets the cheap checks drop most events first.
public func networkPredicates(options: NetworkControllerOptions, caches: ShootLookupCache, logger: Logger) -> [ObjectPredicate] {
    let classes = options.classes
    let type = options.extensionType
    let ignore = options.ignoreOperationAnnotation
    // The result is a conjunction, so the order only matters for cost: most events are the
    // controller's own status writes, which the mode predicate drops before any cache lookup.
    return [
        { event in ExtensionPredicates.hasClass(event.object, accepted: classes) },
        { event in ExtensionPredicates.hasType(event.object, type) },
        { event in
            ignore ? ExtensionPredicates.ignoreOperationAnnotationMode(event) : ExtensionPredicates.defaultMode(event)
        },
        { event in shootNotFailed(event, caches: caches, logger: logger) },
    ]
}

/// The informer caches the shoot-not-failed predicate reads: Namespaces (for the shoot role
/// label) and Clusters. Reading caches keeps the predicate free of requests; the controller's
/// watch waits for both to sync before its first event (see `Controller.watch`).
public struct ShootLookupCache: Sendable {
    /// Namespaces, cluster-scoped (only their labels are read).
    public let namespaces: Store
    /// Clusters, named like the shoot namespace.
    public let clusters: Store

    /// Caches from the manager's informers (or test stores).
    public init(namespaces: Store, clusters: Store) {
        self.namespaces = namespaces
        self.clusters = clusters
    }
}

/// The shoot-not-failed predicate: drops events of Networks whose shoot has failed (Delete and
/// Generic events always). A namespace missing from the cache is accepted, as the reference
/// accepts a namespace it cannot read; a Cluster missing from the cache is accepted too, so that
/// a Cluster the informer has not seen yet cannot drop its Network's event (see docs/reliability.md).
public func shootNotFailed(_ event: ObjectEvent, caches: ShootLookupCache, logger: Logger) -> Bool {
    switch event {
    case .delete, .generic: return false
    case .create, .update: break
    }
    let object = event.object
    guard let namespace = object[path: "metadata", "namespace"]?.stringValue, !namespace.isEmpty else { return true }
    guard let ns = caches.namespaces.get(namespace: nil, name: namespace) else {
        logger.info("Namespace not found, accepting event", metadata: ["namespace": "\(namespace)"])
        return true
    }
    guard ns[path: "metadata", "labels", GardenerConstants.roleLabel]?.stringValue == GardenerConstants.roleShoot else {
        return true
    }
    guard let cluster = caches.clusters.get(namespace: nil, name: namespace) else {
        // A Cluster created just before its Network may not have reached the informer yet;
        // dropping the event would lose the Network for good, so the reconciler decides.
        logger.info("Cluster not in the cache yet, accepting event", metadata: ["namespace": "\(namespace)"])
        return true
    }
    return !(Cluster(raw: cluster).shoot?.isFailed ?? false)
}

/// Wiring of the Network controller into a manager.
public enum NetworkController {
    /// Creates the `network` controller (generic reconciler around `actuator`, default
    /// predicates, primary watch on Networks) and adds it to `manager`.
    @discardableResult
    public static func add(
        to manager: Manager, actuator: any Actuator, options: NetworkControllerOptions = NetworkControllerOptions(),
        rateLimiter: any RateLimiter = MaxOfRateLimiter.defaultControllerRateLimiter()
    ) async -> Controller {
        var logger = manager.logger
        logger[metadataKey: "controller"] = .string(options.controllerName)
        let clusters = manager.informer(for: .clusters).store
        let networks = manager.informer(for: .networks)
        let reconciler = NetworkReconciler(
            client: manager.client, actuator: actuator, options: options, clusters: clusters, networks: networks.store,
            events: manager.eventRecorder(for: "\(options.controllerName)-controller"), logger: logger)
        let controller = Controller(
            name: options.controllerName, reconciler: reconciler, maxConcurrentReconciles: options.maxConcurrentReconciles,
            rateLimiter: rateLimiter, reconcileTimeout: options.reconcileTimeout, metrics: manager.metrics, logger: logger)
        // No Cluster watch, also in ignore mode (as the reference; see docs/operations.md, Decisions).
        // The Cluster and Namespace informers only feed the predicate's caches.
        let namespaces = manager.informer(for: .namespaces)
        let caches = ShootLookupCache(namespaces: namespaces.store, clusters: clusters)
        await controller.watch(
            networks, predicates: networkPredicates(options: options, caches: caches, logger: logger),
            caches: [namespaces, manager.informer(for: .clusters)])
        manager.add(controller)
        return controller
    }
}
