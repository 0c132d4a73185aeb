import KubeCore
import Logging
import Synchronization

/// The object a reconcile is about.
public struct ReconcileRequest: Sendable, Hashable, CustomStringConvertible {
    /// `nil` for cluster-scoped objects.
    public var namespace: String?
    /// Name of the object.
    public var name: String

    /// A request for `namespace/name`.
    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses a work-queue key.
    public init(key: String) {
        let (ns, name) = splitObjectKey(key)
        self.init(namespace: ns, name: name)
    }

    /// The work-queue key (`namespace/name`, or `name` when cluster-scoped).
    public var key: String { objectKey(namespace: namespace, name: name) }
    /// The key.
    public var description: String { key }
}

/// What to do after a reconcile that did not throw.
public enum ReconcileResult: Sendable, Equatable {
    /// Finished; the key's backoff is reset.
    case done
    /// Retry with the rate limiter's backoff.
    case requeue
    /// Retry after exactly this delay; backoff is reset.
    case requeueAfter(Duration)
}

/// A reconciler: makes the world match the object named by the request. Throwing = retry with
/// exponential backoff.
public protocol Reconciler: Sendable {
    func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult
}

/// A reconciler from a closure.
public struct ClosureReconciler: Reconciler {
    let body: @Sendable (ReconcileRequest) async throws -> ReconcileResult
    /// A reconciler running `body`.
    public init(_ body: @escaping @Sendable (ReconcileRequest) async throws -> ReconcileResult) { self.body = body }
    /// Runs the closure.
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult { try await body(request) }
}

/// Thrown into a reconcile that exceeded the controller's reconcile timeout.
public struct ReconcileTimeoutError: Error, CustomStringConvertible, Sendable {
    /// The exceeded deadline.
    public var timeout: Duration
    /// The message controller-runtime's context error prints.
    public var description: String { "context deadline exceeded (reconcile timeout \(timeout))" }
}

/// Runs a reconciler over a work queue with N workers (controller-runtime's controller).
public final class Controller: Sendable {
    /// Controller name (metric label and log field).
    public let name: String
    /// The work queue of request keys.
    public let queue: WorkQueue
    /// Number of workers.
    public let maxConcurrentReconciles: Int
    /// Deadline of one reconcile; nil = none.
    public let reconcileTimeout: Duration?
    /// Gardener's deadline of one reconcile (3 minutes).
    public static let defaultReconcileTimeout: Duration = .seconds(180)
    private let reconciler: any Reconciler
    private let metrics: ControllerMetrics
    private let logger: Logger
    private let informers = Mutex<[Informer]>([])
    private let startKeys = Mutex<[String]>([])

    /// - Parameters:
    ///   - reconcileTimeout: deadline of one reconcile (Gardener: 3 minutes); nil = none.
    public init(
        name: String, reconciler: any Reconciler, maxConcurrentReconciles: Int = 1,
        rateLimiter: any RateLimiter = MaxOfRateLimiter.defaultControllerRateLimiter(),
        reconcileTimeout: Duration? = defaultReconcileTimeout, metrics: MetricsRegistry, logger: Logger = Logger(label: "controller")
    ) {
        self.name = name
        self.reconciler = reconciler
        self.maxConcurrentReconciles = max(1, maxConcurrentReconciles)
        self.reconcileTimeout = reconcileTimeout
        self.queue = WorkQueue(name: name, rateLimiter: rateLimiter, metrics: metrics.workQueueMetrics(name: name))
        self.metrics = metrics.controllerMetrics(name: name)
        var logger = logger
        logger[metadataKey: "controller"] = .string(name)
        self.logger = logger
    }

    /// Watches an informer: events passing all `predicates` (in order) enqueue the keys `map`
    /// returns (default: the object's own key). Use `map` for secondary resources.
    public func watch(
        _ informer: Informer, predicates: [ObjectPredicate] = [],
        map: (@Sendable (JSON) async -> [ReconcileRequest])? = nil
    ) async {
        informers.withLock { $0.append(informer) }
        let queue = self.queue
        await informer.addHandler { event in
            for p in predicates where !(await p(event)) { return }
            if let map {
                for r in await map(event.object) { queue.add(r.key) }
            } else {
                queue.add(objectKey(event.object))
            }
        }
    }

    /// Informers this controller watches (readiness = all synced).
    public var watchedInformers: [Informer] { informers.withLock { $0 } }

    /// Queues a request now.
    public func enqueue(_ request: ReconcileRequest) { queue.add(request.key) }

    /// Queues a request when the controller starts (e.g. a heartbeat's first run).
    public func enqueueOnStart(_ request: ReconcileRequest) { startKeys.withLock { $0.append(request.key) } }

    /// Runs the workers until the queue is shut down (then in-flight reconciles finish) or the
    /// task is cancelled.
    public func run() async {
        metrics.maxConcurrent.set(Double(maxConcurrentReconciles))
        for key in startKeys.withLock({ $0 }) { queue.add(key) }
        logger.info("Starting workers", metadata: ["worker count": "\(maxConcurrentReconciles)"])
        await withDiscardingTaskGroup { group in
            for _ in 0..<maxConcurrentReconciles {
                group.addTask { [self] in
                    while let key = await queue.get() {
                        await process(key)
                        queue.done(key)
                    }
                }
            }
        }
        logger.info("All workers finished")
    }

    /// Stops taking work: after this, workers finish their current reconcile and `run` returns.
    public func shutdown() { queue.shutdown() }

    private func process(_ key: String) async {
        let request = ReconcileRequest(key: key)
        metrics.activeWorkers.increment()
        defer { metrics.activeWorkers.decrement() }
        let started = ContinuousClock.now
        let result: Result<ReconcileResult, any Error>
        do {
            result = .success(try await runWithTimeout(request))
        } catch {
            result = .failure(error)
        }
        metrics.reconcileTime.record((ContinuousClock.now - started).seconds)
        switch result {
        case .failure(let error):
            metrics.error.increment()
            metrics.errors.increment()
            logger.error(
                "Reconciler error",
                metadata: [
                    "namespace": "\(request.namespace ?? "")", "name": "\(request.name)", "error": "\(error)",
                ])
            queue.addRateLimited(key)
        case .success(.requeue):
            metrics.requeue.increment()
            queue.addRateLimited(key)
        case .success(.requeueAfter(let delay)):
            metrics.requeueAfter.increment()
            queue.forget(key)
            queue.addAfter(key, delay)
        case .success(.done):
            metrics.success.increment()
            queue.forget(key)
        }
    }

    private func runWithTimeout(_ request: ReconcileRequest) async throws -> ReconcileResult {
        guard let timeout = reconcileTimeout else { return try await reconciler.reconcile(request) }
        let reconciler = self.reconciler
        return try await withThrowingTaskGroup(of: ReconcileResult?.self) { group in
            group.addTask { try await reconciler.reconcile(request) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
                throw ReconcileTimeoutError(timeout: timeout)
            }
            throw ReconcileTimeoutError(timeout: timeout)
        }
    }
}
