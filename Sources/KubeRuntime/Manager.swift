import KubeClient
import KubeCore
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of a `Manager`.
public struct ManagerOptions: Sendable {
    /// Leader election; `nil` = always lead (`--leader-election=false`).
    public var leaderElection: LeaderElectionConfiguration?
    /// `/metrics` server (`--metrics-bind-address`); `nil` = disabled.
    public var metricsBindAddress: BindAddress?
    /// `/healthz` + `/readyz` server (`--health-bind-address`); `nil` = disabled.
    public var healthBindAddress: BindAddress?
    /// How long the manager waits for in-flight reconciles to return after a shutdown request.
    public var gracefulShutdownTimeout: Duration
    /// How long in-flight reconciles may keep running undisturbed after a shutdown request before
    /// they are cancelled (capped by `gracefulShutdownTimeout`). Ordinary reconciles end within
    /// milliseconds and so finish their writes; long waits (a delete waiting for the shoot) are
    /// cancelled as controller-runtime cancels the context, instead of holding up the exit.
    public var drainTimeout: Duration
    /// How long to wait for informer caches before giving up at start.
    public var cacheSyncTimeout: Duration

    public init(
        leaderElection: LeaderElectionConfiguration? = nil, metricsBindAddress: BindAddress? = nil,
        healthBindAddress: BindAddress? = nil, gracefulShutdownTimeout: Duration = .seconds(30),
        drainTimeout: Duration = .seconds(3), cacheSyncTimeout: Duration = .seconds(120)
    ) {
        self.leaderElection = leaderElection
        self.metricsBindAddress = metricsBindAddress
        self.healthBindAddress = healthBindAddress
        self.gracefulShutdownTimeout = gracefulShutdownTimeout
        self.drainTimeout = drainTimeout
        self.cacheSyncTimeout = cacheSyncTimeout
    }
}

/// Raised when informer caches do not sync in time.
public struct CacheSyncTimeoutError: Error, CustomStringConvertible, Sendable {
    public var informers: [String]
    public var description: String { "timed out waiting for cache to be synced: \(informers.joined(separator: ", "))" }
}

/// A one-shot signal that async code can wait for.
final class Signal<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [(UInt64, CheckedContinuation<Value?, Never>)] = []
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// Fires once; later calls are ignored.
    func fire(_ value: Value) {
        let waiters = state.withLock { s -> [(UInt64, CheckedContinuation<Value?, Never>)] in
            guard s.value == nil else { return [] }
            s.value = value
            let w = s.waiters
            s.waiters = []
            return w
        }
        for element in waiters { element.1.resume(returning: value) }
    }

    var value: Value? { state.withLock { $0.value } }

    /// The fired value, or nil when the waiting task is cancelled first.
    func wait() async -> Value? {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Value?, Never>) in
                let now: Value?? = state.withLock { s in
                    if let v = s.value { return .some(v) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters.append((id, c))
                    return .none
                }
                if let v = now { c.resume(returning: v) }
            }
        } onCancel: {
            let w = state.withLock { s -> CheckedContinuation<Value?, Never>? in
                guard let i = s.waiters.firstIndex(where: { $0.0 == id }) else { return nil }
                return s.waiters.remove(at: i).1
            }
            w?.resume(returning: nil)
        }
    }
}

/// Runs informers and controllers (controller-runtime's manager): leader election on a Lease,
/// health/readiness and metrics endpoints, graceful shutdown (stop taking work, let in-flight
/// reconciles finish for `drainTimeout`, then cancel them and wait up to
/// `gracefulShutdownTimeout`, release the lease).
///
/// Conforms to swift-service-lifecycle's `Service`: inside a `ServiceGroup` with
/// `gracefulShutdownSignals: [.sigterm, .sigint]` a signal triggers the graceful stop.
public final class Manager: Service, Sendable {
    public let client: KubernetesClient
    public let options: ManagerOptions
    public let metrics: MetricsRegistry
    public let health: HealthProbes
    public let logger: Logger
    /// The elector, when leader election is enabled.
    public let leaderElector: LeaderElector?

    private enum StopReason: Sendable { case requested, leaseLost }

    private struct State {
        var controllers: [Controller] = []
        var informers: [String: Informer] = [:]
        var informerTasks: [Task<Void, Never>] = []
        var running = false
        var healthPort: Int?
        var metricsPort: Int?
    }
    private let state = Mutex(State())
    private let stopSignal = Signal<StopReason>()
    private let startedSignal = Signal<Bool>()
    private let leadingSignal = Signal<Bool>()

    public init(
        client: KubernetesClient, options: ManagerOptions = ManagerOptions(), metrics: MetricsRegistry = MetricsRegistry(),
        logger: Logger = Logger(label: "manager")
    ) {
        self.client = client
        self.options = options
        self.metrics = metrics
        self.logger = logger
        self.health = HealthProbes()
        if let le = options.leaderElection {
            self.leaderElector = LeaderElector(
                client: client, configuration: le, metrics: metrics,
                events: EventRecorder(client: client, component: le.name, instance: le.identity, logger: logger),
                logger: logger)
        } else {
            self.leaderElector = nil
        }
        health.addHealthzCheck("ping") { nil }
        health.addReadyzCheck("informer-sync") { [weak self] in
            guard let self else { return "manager gone" }
            let informers = self.state.withLock { Array($0.informers.values) }
            let unsynced = informers.filter { !$0.hasSynced }.map(\.name)
            return unsynced.isEmpty ? nil : "informers not synced: \(unsynced.sorted().joined(separator: ", "))"
        }
    }

    /// The shared informer for `resource` (one per resource/namespace/selector); started with the
    /// manager, or at once when the manager already runs.
    public func informer(
        for resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
        indexers: [String: Store.IndexFunction] = [:]
    ) -> Informer {
        let key = "\(resource.qualifiedName)|\(namespace ?? "")|\(labelSelector ?? "")"
        return state.withLock { s in
            if let existing = s.informers[key] { return existing }
            let inf = Informer(
                client: client, resource: resource, namespace: namespace, labelSelector: labelSelector,
                indexers: indexers, logger: logger)
            s.informers[key] = inf
            if s.running { s.informerTasks.append(Task { await inf.run() }) }
            return inf
        }
    }

    /// Adds a controller; it runs while this manager leads.
    public func add(_ controller: Controller) {
        state.withLock { $0.controllers.append(controller) }
    }

    /// The controller named `name`, if added (tests read its statistics and queue).
    public func controller(named name: String) -> Controller? {
        state.withLock { $0.controllers.first { $0.name == name } }
    }

    /// Requests a graceful stop (idempotent).
    public func stop() { stopSignal.fire(.requested) }

    /// Waits until the endpoints are bound (after `run` started).
    public func waitUntilStarted() async { _ = await startedSignal.wait() }

    /// Waits until this manager became leader and started its controllers.
    public func waitUntilLeading() async { _ = await leadingSignal.wait() }

    /// Port of the health server once started.
    public var healthPort: Int? { state.withLock { $0.healthPort } }
    /// Port of the metrics server once started.
    public var metricsPort: Int? { state.withLock { $0.metricsPort } }
    /// Whether controllers are running (we lead, or leader election is off).
    public var isLeading: Bool { leadingSignal.value ?? false }

    /// Runs until `stop()`, a graceful-shutdown signal of the surrounding `ServiceGroup`, or task
    /// cancellation; throws `LeaderElectionLostError` if the lease was lost.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await runInternal()
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Runs the manager inside a `ServiceGroup` that turns SIGTERM/SIGINT into a graceful stop.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(
            services: [self], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        try await group.run()
    }

    private func runInternal() async throws {
        var servers: [EndpointServer] = []
        do {
            if let address = options.healthBindAddress {
                let health = self.health
                let server = try await EndpointServer.start(at: address) { await health.handle($0) }
                servers.append(server)
                state.withLock { $0.healthPort = server.port }
                logger.info("Starting health probe server", metadata: ["addr": "\(address.host):\(server.port)"])
            }
            if let address = options.metricsBindAddress {
                let metrics = self.metrics
                let server = try await EndpointServer.start(at: address) { req in
                    if req.path == "/metrics" {
                        return EndpointResponse(
                            status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
                    }
                    return EndpointResponse(status: 404, body: "404 page not found\n")
                }
                servers.append(server)
                state.withLock { $0.metricsPort = server.port }
                logger.info("Starting metrics server", metadata: ["addr": "\(address.host):\(server.port)"])
            }
        } catch {
            for s in servers { await s.stop() }
            throw error
        }
        startedSignal.fire(true)

        let informers = state.withLock { s -> [Informer] in
            s.running = true
            return Array(s.informers.values)
        }
        let tasks = informers.map { inf in Task { await inf.run() } }
        state.withLock { $0.informerTasks.append(contentsOf: tasks) }

        var failure: (any Error)?
        do {
            try await leadAndRun()
        } catch {
            failure = error
        }

        let allTasks = state.withLock { s -> [Task<Void, Never>] in
            s.running = false
            let t = s.informerTasks
            s.informerTasks = []
            return t
        }
        for element in allTasks { element.cancel() }
        for t in allTasks { await t.value }
        for s in servers { await s.stop() }
        logger.info("Stopped manager")
        if let failure { throw failure }
    }

    private func leadAndRun() async throws {
        if let elector = leaderElector {
            let acquireTask = Task { try await elector.acquire() }
            let watcher = Task { [stopSignal] in
                if await stopSignal.wait() != nil { acquireTask.cancel() }
            }
            do {
                try await acquireTask.value
                watcher.cancel()
            } catch {
                watcher.cancel()
                return  // stopped before becoming leader
            }
        }

        // Start renewing before waiting for caches so a slow sync cannot lose the lease.
        let renewTask: Task<Void, Never>? = leaderElector.map { elector in
            Task { [stopSignal] in
                do {
                    try await elector.renewLoop()
                } catch is LeaderElectionLostError {
                    stopSignal.fire(.leaseLost)
                } catch {}
            }
        }

        let controllers = state.withLock { $0.controllers }
        var controllerTasks: [Task<Void, Never>] = []
        do {
            try await waitForCacheSync()
        } catch {
            renewTask?.cancel()
            await renewTask?.value
            await leaderElector?.release()
            throw error
        }
        if stopSignal.value == nil {
            controllerTasks = controllers.map { c in Task { await c.run() } }
            leadingSignal.fire(true)
        }

        let reason = await stopSignal.wait() ?? .requested
        logger.info("Stopping and waiting for controllers", metadata: ["reason": "\(reason)"])
        for element in controllers { element.shutdown() }
        let tasksToWait = controllerTasks
        let drain = min(options.drainTimeout, options.gracefulShutdownTimeout)
        // Drain period over: cancel what is still running (it gets the rest of the graceful
        // period to return).
        let drainer = Task { [logger] in
            try? await Task.sleep(for: drain)
            guard !Task.isCancelled else { return }
            logger.info("Cancelling in-flight reconciles", metadata: ["after": "\(drain)"])
            for element in tasksToWait { element.cancel() }
        }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for t in tasksToWait { await t.value }
                return true
            }
            group.addTask { [timeout = options.gracefulShutdownTimeout] in
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first
        }
        drainer.cancel()
        if !finished { logger.error("graceful shutdown timed out; in-flight reconciles did not return") }
        renewTask?.cancel()
        await renewTask?.value
        if reason == .leaseLost {
            throw LeaderElectionLostError(name: options.leaderElection?.name ?? "")
        }
        if options.leaderElection?.releaseOnCancel ?? false {
            await leaderElector?.release()
        }
    }

    private func waitForCacheSync() async throws {
        let deadline = ContinuousClock.now + options.cacheSyncTimeout
        while true {
            let informers = state.withLock { Array($0.informers.values) }
            let unsynced = informers.filter { !$0.hasSynced }
            if unsynced.isEmpty || stopSignal.value != nil { return }
            if ContinuousClock.now > deadline { throw CacheSyncTimeoutError(informers: unsynced.map(\.name)) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
