import Synchronization

/// A rate-limited, delaying work queue of string keys (`namespace/name`), shaped like client-go's.
///
/// Guarantees:
/// - **dedupe**: a key that is already waiting is not queued twice;
/// - **in-flight exclusion**: a key handed out by `get()` is not handed out again before `done`;
///   adds arriving meanwhile are coalesced and re-queued once `done` is called;
/// - **delays**: `addAfter` keeps only the earliest pending deadline per key;
/// - **rate limiting**: `addRateLimited` asks the rate limiter (per-key exponential backoff
///   combined with an overall token bucket by default);
/// - **shutdown**: after `shutdown()` nothing new is accepted and `get()` answers `nil`, while
///   keys already being processed may finish (`waitForInFlight`).
///
/// All operations except `get` are synchronous so informer handlers can call them directly.
public final class WorkQueue: Sendable {
    /// Name used for metrics and logs.
    public let name: String
    /// Decides the delay of `addRateLimited`.
    public let rateLimiter: any RateLimiter
    private let metrics: WorkQueueMetrics?

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<String?, Never>
    }

    private struct State {
        var queue: [String] = []
        var head = 0
        var dirty: Set<String> = []
        var processing: [String: ContinuousClock.Instant] = [:]
        var addedAt: [String: ContinuousClock.Instant] = [:]
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var shuttingDown = false
        var delayed: [String: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)] = [:]
        var drainWaiters: [CheckedContinuation<Void, Never>] = []

        var count: Int { queue.count - head }

        mutating func popFirst() -> String? {
            guard head < queue.count else { return nil }
            let key = queue[head]
            head += 1
            // Compact occasionally so the array does not grow without bound.
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return key
        }
    }

    private let state = Mutex(State())

    /// Creates a queue. `metrics` is normally `MetricsRegistry.workQueueMetrics(name:)`.
    public init(
        name: String, rateLimiter: any RateLimiter = MaxOfRateLimiter.defaultControllerRateLimiter(),
        metrics: WorkQueueMetrics? = nil
    ) {
        self.name = name
        self.rateLimiter = rateLimiter
        self.metrics = metrics
    }

    /// Queues `key` unless it is already waiting; a key in flight is re-queued on `done`.
    public func add(_ key: String) {
        let waiter: (Waiter, String)? = state.withLock { s in
            guard !s.shuttingDown, !s.dirty.contains(key) else { return nil }
            s.dirty.insert(key)
            metrics?.adds.increment()
            if s.processing[key] != nil { return nil }
            s.addedAt[key] = .now
            return Self.dispatch(&s, key: key, metrics: metrics)
        }
        if let (w, k) = waiter { w.continuation.resume(returning: k) }
    }

    /// Either hands `key` straight to a waiting worker or appends it to the queue.
    private static func dispatch(_ s: inout State, key: String, metrics: WorkQueueMetrics?) -> (Waiter, String)? {
        if !s.waiters.isEmpty {
            let w = s.waiters.removeFirst()
            take(&s, key: key, metrics: metrics)
            return (w, key)
        }
        s.queue.append(key)
        metrics?.depth.set(Double(s.count))
        return nil
    }

    /// Marks `key` as handed out.
    private static func take(_ s: inout State, key: String, metrics: WorkQueueMetrics?) {
        s.dirty.remove(key)
        let now = ContinuousClock.now
        s.processing[key] = now
        if let added = s.addedAt.removeValue(forKey: key) {
            metrics?.queueDuration.record((now - added).seconds)
        }
    }

    /// Waits for the next key. Answers `nil` once the queue is shut down (or the task cancelled).
    public func get() async -> String? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
                let immediate: String?? = state.withLock { s in
                    if s.shuttingDown || Task.isCancelled { return .some(nil) }
                    if let key = s.popFirst() {
                        Self.take(&s, key: key, metrics: metrics)
                        metrics?.depth.set(Double(s.count))
                        return .some(key)
                    }
                    s.waiters.append(Waiter(id: id, continuation: c))
                    return .none
                }
                if let value = immediate { c.resume(returning: value) }
            }
        } onCancel: {
            let w = state.withLock { s -> Waiter? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i)
            }
            w?.continuation.resume(returning: nil)
        }
    }

    /// Marks `key` as processed; if it was added again meanwhile it is queued now.
    public func done(_ key: String) {
        var drained: [CheckedContinuation<Void, Never>] = []
        let waiter: (Waiter, String)? = state.withLock { s in
            if let started = s.processing.removeValue(forKey: key) {
                metrics?.workDuration.record((ContinuousClock.now - started).seconds)
            }
            var result: (Waiter, String)?
            if s.dirty.contains(key) && !s.shuttingDown {
                s.addedAt[key] = .now
                result = Self.dispatch(&s, key: key, metrics: metrics)
            }
            if s.processing.isEmpty {
                drained = s.drainWaiters
                s.drainWaiters = []
            }
            return result
        }
        if let (w, k) = waiter { w.continuation.resume(returning: k) }
        for element in drained { element.resume() }
    }

    /// Adds `key` after `delay`. Of several pending delayed adds of one key only the earliest counts.
    public func addAfter(_ key: String, _ delay: Duration) {
        if delay <= .zero {
            add(key)
            return
        }
        let deadline = ContinuousClock.now + delay
        state.withLock { s in
            guard !s.shuttingDown else { return }
            if let existing = s.delayed[key], existing.deadline <= deadline { return }
            s.delayed[key]?.task.cancel()
            let task = Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled, let self else { return }
                let fire = self.state.withLock { s -> Bool in
                    guard let d = s.delayed[key], d.deadline == deadline else { return false }
                    s.delayed[key] = nil
                    return true
                }
                if fire { self.add(key) }
            }
            s.delayed[key] = (deadline, task)
        }
    }

    /// Adds `key` after the rate limiter's delay (a retry).
    public func addRateLimited(_ key: String) {
        metrics?.retries.increment()
        addAfter(key, rateLimiter.when(key))
    }

    /// Resets the backoff of `key`.
    public func forget(_ key: String) { rateLimiter.forget(key) }

    /// How often `key` was retried since the last `forget`.
    public func numRequeues(_ key: String) -> Int { rateLimiter.numRequeues(key) }

    /// Number of keys waiting (not counting delayed or in-flight keys).
    public var count: Int { state.withLock { $0.count } }

    /// Number of keys currently handed out to workers.
    public var inFlight: Int { state.withLock { $0.processing.count } }

    /// Number of `get()` calls waiting for a key (tests synchronize on a parked worker).
    public var waitingGets: Int { state.withLock { $0.waiters.count } }

    /// Number of `waitForInFlight()` calls waiting for in-flight keys to finish.
    public var waitingForInFlight: Int { state.withLock { $0.drainWaiters.count } }

    /// Number of keys waiting for a delayed add (`addAfter`, `addRateLimited`).
    public var delayedCount: Int { state.withLock { $0.delayed.count } }

    /// Whether nothing is waiting, delayed or in flight: until a new add, no worker will get a key.
    /// Tests use it to show that something did not happen (e.g. no retry) without waiting.
    public var isIdle: Bool { state.withLock { $0.count == 0 && $0.processing.isEmpty && $0.delayed.isEmpty } }

    /// Whether `shutdown()` was called.
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Stops accepting keys; pending `get()` calls answer `nil`; delayed adds are dropped.
    public func shutdown() {
        let (waiters, tasks) = state.withLock { s -> ([Waiter], [Task<Void, Never>]) in
            s.shuttingDown = true
            let w = s.waiters
            s.waiters = []
            let t = s.delayed.values.map(\.task)
            s.delayed = [:]
            return (w, t)
        }
        for element in tasks { element.cancel() }
        for element in waiters { element.continuation.resume(returning: nil) }
    }

    /// Waits until no key is in flight.
    public func waitForInFlight() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.processing.isEmpty { return true }
                s.drainWaiters.append(c)
                return false
            }
            if done { c.resume() }
        }
    }

    /// Refreshes the gauges that depend on time (unfinished work, longest running processor).
    public func updateUnfinishedWorkMetrics() {
        guard let metrics else { return }
        let now = ContinuousClock.now
        let (total, longest) = state.withLock { s -> (Double, Double) in
            var total = 0.0
            var longest = 0.0
            for started in s.processing.values {
                let d = (now - started).seconds
                total += d
                longest = max(longest, d)
            }
            return (total, longest)
        }
        metrics.unfinishedWork.set(total)
        metrics.longestRunning.set(longest)
    }
}
