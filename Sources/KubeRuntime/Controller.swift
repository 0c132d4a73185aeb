import KubeCore
import Logging
import Synchronization

/// The object a reconcile is about.
public struct ReconcileRequest: Sendable, Hashable, CustomStringConvertible {
    /// `nil` for cluster-scoped objects.
    public var namespace: String?
    /// The object's name.
    public var name: String

    /// A request for `name` in `namespace` (nil: cluster-scoped).
    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses a work-queue key.
    public init(key: String) {
        let (ns, name) = splitObjectKey(key)
        self.init(namespace: ns, name: name)
    }

    /// The work-queue key (`namespace/name` or `name`).
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
/// exponential backoff, unless the error is a `TerminalError`.
public protocol Reconciler: Sendable {
    func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult
}

/// A reconciler from a closure.
public struct ClosureReconciler: Reconciler {
    let body: @Sendable (ReconcileRequest) async throws -> ReconcileResult
    /// Wraps `body`.
    public init(_ body: @escaping @Sendable (ReconcileRequest) async throws -> ReconcileResult) { self.body = body }
    /// Runs the closure.
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult { try await body(request) }
}

/// A reconcile failure that retrying cannot fix (invalid input the user must change): the
/// controller logs and counts it but does not requeue the key; the next event for the object
/// (e.g. a new generation) reconciles it again. See docs/reliability.md.
public struct TerminalError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var cause: any Error & Sendable

    /// Marks `cause` as terminal.
    public init(_ cause: any Error & Sendable) { self.cause = cause }

    /// The cause's text: being terminal changes the handling, not the message.
    public var description: String { String(describing: cause) }
}

/// What the controller has done so far, for tests and diagnostics (the metrics hold the same
/// numbers for Prometheus).
public struct ControllerStatistics: Sendable, Equatable {
    /// Events that reached the controller's watch handlers (accepted or not).
    public var handledEvents = 0
    /// resourceVersion of the newest object whose event the handlers have finished with.
    public var lastHandledResourceVersion: String?
    /// Events that passed the predicates and queued at least one key.
    public var acceptedEvents = 0
    /// Reconciles that finished without an error or a requeue.
    public var successes = 0
    /// Reconciles that threw a retryable error (requeued with backoff).
    public var errors = 0
    /// Reconciles that threw a `TerminalError` (not requeued).
    public var terminalErrors = 0
    /// Reconciles that asked for a requeue (with or without a fixed delay).
    public var requeues = 0

    /// Finished reconciles of any outcome.
    public var reconciles: Int { successes + errors + terminalErrors + requeues }
}

/// Shared, lock-protected `ControllerStatistics`.
private final class StatisticsBox: Sendable {
    private let state = Mutex(ControllerStatistics())

    func withLock<T: Sendable>(_ body: (inout ControllerStatistics) -> T) -> T { state.withLock { body(&$0) } }
}

/// Thrown into a reconcile that exceeded the controller's reconcile timeout.
public struct ReconcileTimeoutError: Error, CustomStringConvertible, Sendable {
    /// The deadline that was exceeded.
    public var timeout: Duration
    /// Go's text for an exceeded deadline.
    public var description: String { "context deadline exceeded (reconcile timeout \(timeout))" }
}

/// Runs a reconciler over a work queue with N workers (controller-runtime's controller).
public final class Controller: Sendable {
    /// Name in logs and metrics (`network`).
    public let name: String
    /// The controller's work queue (keys of objects to reconcile).
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
    /// A reference so the informer handlers can update it without holding the controller.
    private let stats = StatisticsBox()

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
    ///
    /// Predicates are pure and synchronous; what they read besides the event comes from informer
    /// caches listed in `caches`: the first event waits until those have synced, as a cached
    /// read in controller-runtime waits for its informer, so a predicate never mistakes a cache
    /// that is still filling for a missing object.
    public func watch(
        _ informer: Informer, predicates: [ObjectPredicate] = [], caches: [Informer] = [],
        map: (@Sendable (JSON) async -> [ReconcileRequest])? = nil
    ) async {
        informers.withLock { $0.append(informer) }
        let queue = self.queue
        let stats = self.stats
        await informer.addHandler { event in
            for cache in caches where !cache.hasSynced { await cache.waitForSync() }
            if Task.isCancelled { return }  // stopped before the caches synced
            var keys: [String] = []
            if predicates.allSatisfy({ $0(event) }) {
                if let map {
                    keys = await map(event.object).map(\.key)
                } else {
                    keys = [objectKey(event.object)]
                }
            }
            for key in keys { queue.add(key) }
            let version = event.object[path: "metadata", "resourceVersion"]?.stringValue
            stats.withLock { s in
                s.handledEvents += 1
                if !keys.isEmpty { s.acceptedEvents += 1 }
                if let version { s.lastHandledResourceVersion = version }
            }
        }
    }

    /// Counts of handled events and finished reconciles so far.
    public var statistics: ControllerStatistics { stats.withLock { $0 } }

    /// Whether the newest event the handlers finished with is the one of `resourceVersion` and
    /// no key is waiting, delayed or in flight: until the next event nothing will be reconciled.
    /// Tests use it to show that something did not happen (e.g. no retry, no retrigger).
    public func isIdle(at resourceVersion: String) -> Bool {
        stats.withLock { $0.lastHandledResourceVersion } == resourceVersion && queue.isIdle
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
        case .failure(let error as TerminalError):
            // No requeue: the same input would fail the same way (see docs/reliability.md).
            metrics.terminalError.increment()
            metrics.errors.increment()
            metrics.terminalErrors.increment()
            stats.withLock { $0.terminalErrors += 1 }
            logger.error(
                "Reconciler error (terminal, not requeued)",
                metadata: [
                    "namespace": "\(request.namespace ?? "")", "name": "\(request.name)", "error": "\(error)",
                ])
            queue.forget(key)
        case .failure(let error):
            metrics.error.increment()
            metrics.errors.increment()
            stats.withLock { $0.errors += 1 }
            logger.error(
                "Reconciler error",
                metadata: [
                    "namespace": "\(request.namespace ?? "")", "name": "\(request.name)", "error": "\(error)",
                ])
            queue.addRateLimited(key)
        case .success(.requeue):
            metrics.requeue.increment()
            stats.withLock { $0.requeues += 1 }
            queue.addRateLimited(key)
        case .success(.requeueAfter(let delay)):
            metrics.requeueAfter.increment()
            stats.withLock { $0.requeues += 1 }
            queue.forget(key)
            queue.addAfter(key, delay)
        case .success(.done):
            metrics.success.increment()
            stats.withLock { $0.successes += 1 }
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
