import Synchronization

/// Decides how long a key must wait before it is processed again.
///
/// Shape follows client-go's workqueue rate limiters: `when` records one more failure of the key
/// and answers the delay, `forget` resets the key's history, `numRequeues` reports it.
public protocol RateLimiter: Sendable {
    /// Records a (re)try of `key` and returns how long to wait before it may be processed.
    func when(_ key: String) -> Duration
    /// Clears the failure history of `key` (called after a successful reconcile).
    func forget(_ key: String)
    /// Number of failures recorded for `key` since the last `forget`.
    func numRequeues(_ key: String) -> Int
}

/// Per-key exponential backoff: `base * 2^failures`, capped at `maxDelay`.
/// Defaults are controller-runtime's (5 ms → 1000 s).
public final class ItemExponentialFailureRateLimiter: RateLimiter {
    /// Delay of the first retry.
    public let baseDelay: Duration
    /// Upper bound of the delay.
    public let maxDelay: Duration
    private let failures = Mutex<[String: Int]>([:])

    /// Delays doubling from `baseDelay` up to `maxDelay` (client-go defaults).
    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The next delay for `key` (doubles per failure).
    public func when(_ key: String) -> Duration {
        let exp = failures.withLock { state -> Int in
            let n = state[key, default: 0]
            state[key] = n + 1
            return n
        }
        // Compute in Double so large exponents saturate instead of overflowing.
        let seconds = baseDelay.seconds * pow2(exp)
        if !seconds.isFinite || seconds > maxDelay.seconds { return maxDelay }
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// Resets `key`'s failures.
    public func forget(_ key: String) {
        failures.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Failures recorded for `key`.
    public func numRequeues(_ key: String) -> Int {
        failures.withLock { $0[key, default: 0] }
    }

    private func pow2(_ n: Int) -> Double {
        if n >= 1023 { return .infinity }
        var r = 1.0
        for _ in 0..<n { r *= 2 }
        return r
    }
}

/// Overall token bucket shared by all keys (client-go default: 10 qps, burst 100). Each `when`
/// reserves one token and answers how long until that token is available.
public final class BucketRateLimiter: RateLimiter {
    /// Tokens per second.
    public let qps: Double
    /// Bucket size.
    public let burst: Int
    private struct State {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    private let state: Mutex<State>

    /// A bucket of `burst` tokens refilled at `qps` (client-go defaults).
    public init(qps: Double = 10, burst: Int = 100) {
        self.qps = qps
        self.burst = burst
        self.state = Mutex(State(tokens: Double(burst), last: .now))
    }

    /// The wait until the next token.
    public func when(_ key: String) -> Duration {
        state.withLock { s in
            let now = ContinuousClock.now
            let elapsed = (now - s.last).seconds
            s.last = now
            s.tokens = min(Double(burst), s.tokens + elapsed * qps)
            s.tokens -= 1  // reserve; may go negative = waiting line
            if s.tokens >= 0 { return .zero }
            return .nanoseconds(Int64(-s.tokens / qps * 1e9))
        }
    }

    /// Nothing to forget: the bucket is shared.
    public func forget(_ key: String) {}
    /// Always 0: the bucket does not count per key.
    public func numRequeues(_ key: String) -> Int { 0 }
}

/// Combines limiters: the delay is the maximum of all answers (controller-runtime's default
/// controller rate limiter is `max(exponential per item, overall bucket)`).
public final class MaxOfRateLimiter: RateLimiter {
    /// The combined limiters.
    public let limiters: [any RateLimiter]

    /// The maximum of `limiters`.
    public init(_ limiters: [any RateLimiter]) { self.limiters = limiters }

    /// The longest delay any limiter asks for.
    public func when(_ key: String) -> Duration {
        limiters.map { $0.when(key) }.max() ?? .zero
    }

    /// Forgets `key` in every limiter.
    public func forget(_ key: String) { for element in limiters { element.forget(key) } }

    /// The most failures any limiter recorded for `key`.
    public func numRequeues(_ key: String) -> Int {
        limiters.map { $0.numRequeues(key) }.max() ?? 0
    }

    /// controller-runtime's default: per-item 5 ms → 1000 s combined with a 10 qps / 100 burst bucket.
    public static func defaultControllerRateLimiter() -> MaxOfRateLimiter {
        MaxOfRateLimiter([ItemExponentialFailureRateLimiter(), BucketRateLimiter()])
    }
}

extension Duration {
    /// The duration as fractional seconds.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
