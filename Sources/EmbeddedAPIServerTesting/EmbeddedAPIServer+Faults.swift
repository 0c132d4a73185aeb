import EmbeddedAPIServer
import Foundation

extension EmbeddedAPIServer {
    // MARK: - Fault injection (see docs/reliability.md)

    /// Starts a server that injects `faultPolicy` from its first request on.
    public static func start(_ configuration: EmbeddedAPIServerConfiguration = .init(), faultPolicy: FaultPolicy) async throws
        -> EmbeddedAPIServer
    {
        let server = try await start(configuration)
        if faultPolicy != .none { server.faultPolicy = faultPolicy }
        return server
    }

    /// This server's fault state, installed on first use.
    var faultInjector: FaultInjector {
        let slot = faultHooks
        return slot.installed { FaultInjector(slot: slot) }
    }

    /// The active fault policy. Setting it takes effect for the next request, restarts the random
    /// sequence from ``FaultPolicy/seed`` and (re)starts the periodic faults (compaction,
    /// connection drops). Thread-safe.
    public var faultPolicy: FaultPolicy {
        get { faultInjector.policy }
        set { setFaultPolicy(newValue) }
    }

    /// Sets ``faultPolicy``.
    public func setFaultPolicy(_ policy: FaultPolicy) {
        installFaultPolicy(policy)
    }

    /// Sets ``faultPolicy`` and waits until the periodic faults of the previous policy have ended,
    /// so that a test can show that none of them runs any more without sleeping.
    public func replaceFaultPolicy(_ policy: FaultPolicy) async {
        for task in installFaultPolicy(policy) { await task.value }
    }

    /// Installs `policy` and returns the cancelled periodic tasks of the previous one.
    @discardableResult
    private func installFaultPolicy(_ policy: FaultPolicy) -> [Task<Void, Never>] {
        faultInjector.setPolicy(policy)
        var tasks: [Task<Void, Never>] = []
        if let every = policy.compactHistoryEvery, every > .zero {
            tasks.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: every)
                        if Task.isCancelled { return }
                        self?.compactHistory()
                    }
                })
        }
        if let every = policy.dropConnectionsEvery, every > .zero {
            tasks.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: every)
                        if Task.isCancelled { return }
                        self?.dropAllConnections()
                    }
                })
        }
        return replacePeriodicFaultTasks(tasks)
    }

    /// Changes part of the policy: `server.updateFaultPolicy { $0.errorRate = 0.1 }`.
    public func updateFaultPolicy(_ body: (inout FaultPolicy) -> Void) {
        var p = faultPolicy
        body(&p)
        setFaultPolicy(p)
    }

    /// Answers the next `count` requests (optionally only those whose path starts with
    /// `pathPrefix`) with `status` (e.g. 429, 500, 503) and a matching Status body; 429/503 carry
    /// `Retry-After` when `retryAfterSeconds` is set.
    public func failNextRequests(_ count: Int, status: Int, retryAfterSeconds: Int? = nil, pathPrefix: String? = nil) {
        faultInjector.addOneShot(
            Array(repeating: InjectedFault(status: status, retryAfterSeconds: retryAfterSeconds, pathPrefix: pathPrefix), count: max(0, count)))
    }

    /// Stops injecting faults (policy and pending ``failNextRequests(_:status:retryAfterSeconds:pathPrefix:)``).
    /// Counters are kept.
    public func clearFaults() {
        faultInjector.state.withLock { $0.oneShot.removeAll() }
        setFaultPolicy(.none)
    }

    /// Faults injected so far, by kind (including the server's own fault events: truncated
    /// watches, compactions, connection drops and restarts).
    public var faultCounters: FaultCounters {
        var c = faultInjector.counters
        let events = faultHooks.eventCounts
        c.truncatedWatches = events.truncatedWatches
        c.compactions = events.compactions
        c.connectionDrops = events.connectionDrops
        c.restarts = events.restarts
        return c
    }

    /// Zeroes ``faultCounters``.
    public func resetFaultCounters() {
        faultInjector.resetCounters()
        faultHooks.resetEventCounts()
    }
}
