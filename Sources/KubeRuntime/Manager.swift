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
    /// How long informers may fail to reach the API server before `/readyz` reports it
    /// (`apiserver-reachable`), so an orchestrator sees the outage; shorter outages (a restart of
    /// the API server) stay invisible. See docs/operations.md.
    public var apiServerUnreachableAfter: Duration

    /// Settings; every endpoint and leader election are off by default.
    public init(
        leaderElection: LeaderElectionConfiguration? = nil, metricsBindAddress: BindAddress? = nil,
        healthBindAddress: BindAddress? = nil, gracefulShutdownTimeout: Duration = .seconds(30),
        drainTimeout: Duration = .seconds(3), cacheSyncTimeout: Duration = .seconds(120),
        apiServerUnreachableAfter: Duration = .seconds(60)
    ) {
        self.leaderElection = leaderElection
        self.metricsBindAddress = metricsBindAddress
        self.healthBindAddress = healthBindAddress
        self.gracefulShutdownTimeout = gracefulShutdownTimeout
        self.drainTimeout = drainTimeout
        self.cacheSyncTimeout = cacheSyncTimeout
        self.apiServerUnreachableAfter = apiServerUnreachableAfter
    }
}

/// Raised when informer caches do not sync in time.
public struct CacheSyncTimeoutError: Error, CustomStringConvertible, Sendable {
    /// Names of the informers that had not synced.
    public var informers: [String]
    /// The message controller-runtime prints.
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

/// Work hosted by a `Manager` (controller-runtime's Runnable): a controller, a webhook server, a
/// periodic sync. Either it runs only while the manager leads, or on every replica from start.
public protocol ManagedService: Sendable {
    /// Name used in logs.
    var name: String { get }
    /// Whether the service runs only while this manager holds the leader lease.
    var needsLeaderElection: Bool { get }
    /// Whether a graceful stop lets the service finish its current work for the manager's drain
    /// period before cancelling it; otherwise the service is cancelled at once.
    var drainsOnShutdown: Bool { get }
    /// Runs until it returns, `shutdown()` is called, or the task is cancelled. A thrown error
    /// (other than cancellation) stops the manager with that error.
    func run() async throws
    /// Asks the service to stop taking new work (graceful stop).
    func shutdown()
}

extension ManagedService {
    /// Cancellation alone stops the service.
    public var drainsOnShutdown: Bool { false }
    /// Nothing to do: cancellation stops the service.
    public func shutdown() {}
}

/// Controllers run only on the leader and drain on a graceful stop.
extension Controller: ManagedService {
    /// Controllers only run while leading.
    public var needsLeaderElection: Bool { true }
    /// In-flight reconciles get the drain period to finish their writes.
    public var drainsOnShutdown: Bool { true }
}

/// A service from a closure; stopped by cancelling it.
public struct ClosureService: ManagedService {
    /// Name used in logs.
    public let name: String
    /// Whether the closure runs only while leading.
    public let needsLeaderElection: Bool
    private let body: @Sendable () async throws -> Void

    /// A service `name` running `body` (only while leading when `needsLeaderElection`).
    public init(name: String, needsLeaderElection: Bool, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.needsLeaderElection = needsLeaderElection
        self.body = body
    }

    /// Runs the closure.
    public func run() async throws { try await body() }
}

/// Hosts the services of one binary (controller-runtime's manager): shared informers, leader
/// election on a Lease, health/readiness and metrics endpoints, and graceful shutdown.
///
/// Services that need no leadership (webhook server, certificate sync) start at once; the others
/// (controllers, heartbeat, certificate management) start once the lease is held and the informer
/// caches synced. A stop request lets draining services (controllers) finish in-flight work for
/// `drainTimeout`, cancels what is still running, waits up to `gracefulShutdownTimeout` and
/// releases the lease. Losing the lease stops every service and `run` throws
/// `LeaderElectionLostError`, so the process exits non-zero and restarts as a follower
/// (see docs/reliability.md).
///
/// Conforms to swift-service-lifecycle's `Service`: inside a `ServiceGroup` a graceful-shutdown
/// signal stops the manager; `runUntilSignalled` does the same with SIGTERM/SIGINT.
public final class Manager: Service, Sendable {
    /// The cluster client shared by informers, leader election and services.
    public let client: KubernetesClient
    /// Settings given at construction.
    public let options: ManagerOptions
    /// Metrics served on `/metrics`.
    public let metrics: MetricsRegistry
    /// Checks served on `/healthz` and `/readyz`.
    public let health: HealthProbes
    /// The manager's logger (services derive theirs from it).
    public let logger: Logger
    /// The elector, when leader election is enabled.
    public let leaderElector: LeaderElector?

    private enum StopReason: Sendable { case requested, leaseLost, failed }

    private struct State {
        var services: [any ManagedService] = []
        var informers: [String: Informer] = [:]
        var informerTasks: [Task<Void, Never>] = []
        var metricsSources: [@Sendable () -> String] = []
        var running = false
        var healthPort: Int?
        var metricsPort: Int?
        var failure: (any Error)?
    }
    private let state = Mutex(State())
    private let stopSignal = Signal<StopReason>()
    private let startedSignal = Signal<Bool>()
    private let leadingSignal = Signal<Bool>()

    /// A manager for `client`; nothing runs before `run`.
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
        // The request and process metrics operators' dashboards read (as client-go and
        // Prometheus' Go client expose them).
        client.setRequestObserver(metrics.restClientObserver())
        state.withLock { $0.metricsSources.append { ProcessMetrics.exposition() } }
        health.addHealthzCheck("ping") { nil }
        health.addReadyzCheck("informer-sync") { [weak self] in
            guard let self else { return "manager gone" }
            let informers = self.state.withLock { Array($0.informers.values) }
            let unsynced = informers.filter { !$0.hasSynced }.map(\.name)
            return unsynced.isEmpty ? nil : "informers not synced: \(unsynced.sorted().joined(separator: ", "))"
        }
        let unreachableAfter = options.apiServerUnreachableAfter
        health.addReadyzCheck("apiserver-reachable") { [weak self] in
            guard let self else { return "manager gone" }
            let informers = self.state.withLock { Array($0.informers.values) }
            let now = ContinuousClock.now
            let failing = informers.compactMap { inf in inf.failing.map { (inf.name, $0.since, $0.error) } }
                .filter { now - $0.1 >= unreachableAfter }
                .sorted { $0.0 < $1.0 }
            guard let first = failing.first else { return nil }
            let seconds = Int((now - first.1).components.seconds)
            return "list/watch failing for \(seconds)s, API server unreachable or refusing (\(failing.map(\.0).joined(separator: ", "))): \(first.2)"
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

    /// An event recorder writing as `component` (controller-runtime's `GetEventRecorderFor`), with
    /// this process's leader-election identity as its instance (or the host name without one).
    public func eventRecorder(for component: String) -> EventRecorder {
        let instance = options.leaderElection?.identity ?? LeaderElectionConfiguration.hostName()
        var log = logger
        log[metadataKey: "events"] = .string(component)
        return EventRecorder(client: client, component: component, instance: instance, logger: log)
    }

    /// Adds a service (a controller runs while this manager leads); call before `run`.
    public func add(_ service: any ManagedService) {
        state.withLock { $0.services.append(service) }
    }

    /// Appends another exposition (e.g. a webhook's own metrics) to `/metrics`.
    public func addMetricsSource(_ source: @escaping @Sendable () -> String) {
        state.withLock { $0.metricsSources.append(source) }
    }

    /// The controller named `name`, if added (tests read its statistics and queue).
    public func controller(named name: String) -> Controller? {
        state.withLock { $0.services.lazy.compactMap { $0 as? Controller }.first { $0.name == name } }
    }

    /// Requests a graceful stop (idempotent).
    public func stop() { stopSignal.fire(.requested) }

    /// Waits until the endpoints are bound (after `run` started).
    public func waitUntilStarted() async { _ = await startedSignal.wait() }

    /// Waits until this manager became leader and started its leader services.
    public func waitUntilLeading() async { _ = await leadingSignal.wait() }

    /// Port of the health server once started.
    public var healthPort: Int? { state.withLock { $0.healthPort } }
    /// Port of the metrics server once started.
    public var metricsPort: Int? { state.withLock { $0.metricsPort } }
    /// Whether leader services were started (we lead, or leader election is off).
    public var isLeading: Bool { leadingSignal.value ?? false }
    /// Whether a stop was requested or the manager stopped on its own (lease lost, service failed).
    public var isStopping: Bool { stopSignal.value != nil }

    /// Runs until `stop()`, a graceful-shutdown signal of the surrounding `ServiceGroup`, or task
    /// cancellation; throws `LeaderElectionLostError` if the lease was lost, or the error of a
    /// failed service.
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

    /// Runs the manager until SIGTERM or SIGINT, then stops gracefully (the one signal path of
    /// every executable, see `TerminationSignals`).
    public func runUntilSignalled() async throws {
        let signals = await TerminationSignals()
        let watcher = Task { if await signals.wait() { self.stop() } }
        defer { watcher.cancel() }
        try await run()
    }

    private func startEndpoints() async throws -> [EndpointServer] {
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
                let server = try await EndpointServer.start(at: address) { [self] req in
                    guard req.path == "/metrics" else { return EndpointResponse(status: 404, body: "404 page not found\n") }
                    let extra = state.withLock { $0.metricsSources }
                    return EndpointResponse(
                        status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                        body: extra.map { $0() }.joined() + metrics.exposition())
                }
                servers.append(server)
                state.withLock { $0.metricsPort = server.port }
                logger.info("Starting metrics server", metadata: ["addr": "\(address.host):\(server.port)"])
            }
        } catch {
            for s in servers { await s.stop() }
            throw error
        }
        return servers
    }

    private func runInternal() async throws {
        let servers = try await startEndpoints()
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

    /// A running service and its task.
    private struct Running {
        var service: any ManagedService
        var task: Task<Void, Never>
    }

    private func start(_ services: [any ManagedService]) -> [Running] {
        services.map { service in
            Running(
                service: service,
                task: Task { [self] in
                    do {
                        try await service.run()
                    } catch is CancellationError {
                    } catch {
                        // An error after the stop request is part of stopping, not a failure.
                        guard stopSignal.value == nil else { return }
                        logger.error("Service failed", metadata: ["service": "\(service.name)", "error": "\(error)"])
                        state.withLock { if $0.failure == nil { $0.failure = error } }
                        stopSignal.fire(.failed)
                    }
                })
        }
    }

    private func leadAndRun() async throws {
        let all = state.withLock { $0.services }
        // Services that need no leadership serve on every replica from the start.
        let always = start(all.filter { !$0.needsLeaderElection })
        var leaderServices: [Running] = []
        var renewTask: Task<Void, Never>?
        var failure: (any Error)?
        if await acquireLeadership() {
            // Start renewing before waiting for caches so a slow sync cannot lose the lease.
            renewTask = leaderElector.map { elector in
                Task { [stopSignal] in
                    do {
                        try await elector.renewLoop()
                    } catch is LeaderElectionLostError {
                        stopSignal.fire(.leaseLost)
                    } catch {}
                }
            }
            do {
                try await waitForCacheSync()
                if stopSignal.value == nil {
                    leaderServices = start(all.filter(\.needsLeaderElection))
                    leadingSignal.fire(true)
                }
            } catch {
                failure = error
                stopSignal.fire(.failed)
            }
        }

        let reason = await stopSignal.wait() ?? .requested
        logger.info("Stopping and waiting for services", metadata: ["reason": "\(reason)"])
        let deadline = ContinuousClock.now + options.gracefulShutdownTimeout
        // Leader work first (it may still use what the other services provide), then the rest.
        let leaderFinished = await stopAll(leaderServices, deadline: deadline)
        let finished = await stopAll(always, deadline: deadline) && leaderFinished
        if !finished { logger.error("graceful shutdown timed out; in-flight work did not return") }
        renewTask?.cancel()
        await renewTask?.value
        if reason == .leaseLost { throw LeaderElectionLostError(name: options.leaderElection?.name ?? "") }
        if options.leaderElection?.releaseOnCancel ?? false {
            await leaderElector?.release()
        }
        if let failure = failure ?? state.withLock({ $0.failure }) { throw failure }
    }

    /// Campaigns until the lease is ours (true) or a stop comes first (false).
    private func acquireLeadership() async -> Bool {
        guard let elector = leaderElector else { return true }
        let acquireTask = Task { try await elector.acquire() }
        let watcher = Task { [stopSignal] in
            if await stopSignal.wait() != nil { acquireTask.cancel() }
        }
        defer { watcher.cancel() }
        do {
            try await acquireTask.value
            return true
        } catch {
            return false
        }
    }

    /// Stops `running` gracefully: shutdown requests, immediate cancellation of non-draining
    /// services, cancellation of the draining ones after `drainTimeout`; waits until `deadline`.
    /// Answers whether everything returned in time.
    private func stopAll(_ running: [Running], deadline: ContinuousClock.Instant) async -> Bool {
        guard !running.isEmpty else { return true }
        for r in running { r.service.shutdown() }
        for r in running where !r.service.drainsOnShutdown { r.task.cancel() }
        let draining = running.filter(\.service.drainsOnShutdown).map(\.task)
        let drain = min(options.drainTimeout, options.gracefulShutdownTimeout)
        // Drain period over: cancel what is still running (it gets the rest of the graceful
        // period to return).
        let drainer = Task { [logger] in
            try? await Task.sleep(for: drain)
            guard !Task.isCancelled, !draining.isEmpty else { return }
            logger.info("Cancelling in-flight reconciles", metadata: ["after": "\(drain)"])
            for element in draining { element.cancel() }
        }
        defer { drainer.cancel() }
        let tasks = running.map(\.task)
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for t in tasks { await t.value }
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first
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
