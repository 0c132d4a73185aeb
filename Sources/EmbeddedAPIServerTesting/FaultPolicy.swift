import EmbeddedAPIServer
import Foundation
import KubeCore
import Synchronization

/// What the embedded server does wrong on purpose (fault injection, see docs/reliability.md). Set it at any time
/// with ``EmbeddedAPIServer/faultPolicy`` (or at start through
/// ``EmbeddedAPIServerConfiguration/faultPolicy``); the default injects nothing.
///
/// A request is *eligible* when it matches ``verbs`` and ``pathPrefix``. Watch requests are
/// eligible only when ``includeWatches`` is true or ``verbs`` names `watch` explicitly. The health
/// endpoints (`/healthz`, `/readyz`, `/livez`) are never eligible. Every eligible request draws
/// from one seeded random generator (SplitMix64), so a sequence of requests sent in the same order
/// gets the same faults on every run.
public struct FaultPolicy: Sendable, Equatable {
    /// Injects nothing.
    public static let none = FaultPolicy()

    /// Fraction (0…1) of eligible requests answered with an error instead of being served.
    public var errorRate: Double
    /// Statuses to answer with; one is picked at random per failed request. Supported with proper
    /// `Status` bodies: 409 (Conflict), 410 (Expired; on a watch: a 200 stream carrying one 410
    /// ERROR event, as a real server does), 429 (TooManyRequests), 500 (InternalError),
    /// 503 (ServiceUnavailable), 504 (Timeout).
    public var errorStatuses: [Int]
    /// `Retry-After` seconds sent with 429 and 503 (and `details.retryAfterSeconds`). A 429 always
    /// carries one (1 when this is nil), like kube-apiserver's max-in-flight filter.
    public var retryAfterSeconds: Int?
    /// Kubernetes verbs that are eligible (`get list watch create update patch delete
    /// deletecollection`, or the lower-cased HTTP method for non-resource paths); nil = all.
    public var verbs: Set<String>?
    /// Only paths starting with this are eligible; nil = all.
    public var pathPrefix: String?
    /// Whether watch requests are eligible for errors and delays.
    public var includeWatches: Bool
    /// Fixed delay added before answering an eligible request (asynchronously: no thread blocks).
    public var delay: Duration
    /// Up to this much extra random delay on top of ``delay``.
    public var delayJitter: Duration
    /// Fraction (0…1) of eligible requests that are delayed (when ``delay`` or ``delayJitter`` > 0).
    public var delayRate: Double
    /// Ends every watch stream cleanly after this many events (initial and live events count,
    /// bookmarks do not). Applies to watches started after the policy is set, under ``pathPrefix``
    /// (``verbs`` and ``includeWatches`` do not restrict truncation).
    public var watchTruncateAfterEvents: Int?
    /// Ends every watch stream cleanly this long after it started.
    public var watchTruncateAfter: Duration?
    /// Forgets the event history this often (watches resuming older versions then get 410).
    public var compactHistoryEvery: Duration?
    /// Closes every client connection this often.
    public var dropConnectionsEvery: Duration?
    /// Seed of the random generator; setting a policy restarts the sequence from it.
    public var seed: UInt64

    /// A policy; every parameter defaults to injecting nothing of its kind.
    public init(
        errorRate: Double = 0, errorStatuses: [Int] = [503], retryAfterSeconds: Int? = nil,
        verbs: Set<String>? = nil, pathPrefix: String? = nil, includeWatches: Bool = false,
        delay: Duration = .zero, delayJitter: Duration = .zero, delayRate: Double = 1,
        watchTruncateAfterEvents: Int? = nil, watchTruncateAfter: Duration? = nil,
        compactHistoryEvery: Duration? = nil, dropConnectionsEvery: Duration? = nil, seed: UInt64 = 1
    ) {
        self.errorRate = errorRate
        self.errorStatuses = errorStatuses
        self.retryAfterSeconds = retryAfterSeconds
        self.verbs = verbs
        self.pathPrefix = pathPrefix
        self.includeWatches = includeWatches
        self.delay = delay
        self.delayJitter = delayJitter
        self.delayRate = delayRate
        self.watchTruncateAfterEvents = watchTruncateAfterEvents
        self.watchTruncateAfter = watchTruncateAfter
        self.compactHistoryEvery = compactHistoryEvery
        self.dropConnectionsEvery = dropConnectionsEvery
        self.seed = seed
    }

    /// True when any per-request fault (error, delay, watch truncation) is configured.
    var affectsRequests: Bool {
        (errorRate > 0 && !errorStatuses.isEmpty) || hasDelay || watchTruncateAfterEvents != nil || watchTruncateAfter != nil
    }

    var hasDelay: Bool { delayRate > 0 && (delay > .zero || delayJitter > .zero) }
}

/// How many faults were injected, by kind (tests assert that faults really happened).
public struct FaultCounters: Sendable, Equatable {
    /// Requests that matched the policy's filters (whether or not a fault hit them).
    public var eligibleRequests = 0
    /// Injected error answers by HTTP status (policy errors and ``EmbeddedAPIServer/failNextRequests(_:status:retryAfterSeconds:pathPrefix:)``).
    public var errors: [Int: Int] = [:]
    /// Requests whose answer was delayed.
    public var delayedRequests = 0
    /// Total delay injected, in milliseconds.
    public var totalDelayMilliseconds = 0
    /// Watch streams ended by truncation (event count or duration).
    public var truncatedWatches = 0
    /// History compactions (periodic and explicit ``EmbeddedAPIServer/compactHistory()``).
    public var compactions = 0
    /// Times all connections were dropped (periodic and explicit).
    public var connectionDrops = 0
    /// Completed ``EmbeddedAPIServer/restart(downtime:)`` calls.
    public var restarts = 0

    /// All injected error answers.
    public var totalErrors: Int { errors.values.reduce(0, +) }

    /// All counters at zero.
    public init() {}
}

/// A one-shot failure queued by ``EmbeddedAPIServer/failNextRequests(_:status:retryAfterSeconds:pathPrefix:)``.
struct InjectedFault: Sendable {
    var status: Int
    var retryAfterSeconds: Int?
    var pathPrefix: String?
}

/// A server's fault state: the policy, the RNG, one-shot failures, counters. Installed in the
/// server's fault slot, which it keeps active while it has anything to inject.
final class FaultInjector: FaultHook {
    struct State {
        var policy = FaultPolicy.none
        var rng = SplitMix64(seed: 1)
        var oneShot: [InjectedFault] = []
        var counters = FaultCounters()
    }

    let state = Mutex(State())
    let slot: FaultHookSlot

    init(slot: FaultHookSlot) { self.slot = slot }

    var policy: FaultPolicy { state.withLock { $0.policy } }

    func setPolicy(_ policy: FaultPolicy) {
        state.withLock { s in
            s.policy = policy
            s.rng = SplitMix64(seed: policy.seed)
            slot.setActive(policy.affectsRequests || !s.oneShot.isEmpty)
        }
    }

    func addOneShot(_ faults: [InjectedFault]) {
        state.withLock { s in
            s.oneShot += faults
            slot.setActive(s.policy.affectsRequests || !s.oneShot.isEmpty)
        }
    }

    var counters: FaultCounters { state.withLock { $0.counters } }

    func resetCounters() { state.withLock { $0.counters = FaultCounters() } }

    static let healthPaths: Set<String> = ["/healthz", "/readyz", "/livez"]

    /// Decides what happens to one request (nil: nothing injected).
    func decide(path: String, verb: String) -> FaultDecision? {
        if Self.healthPaths.contains(path) { return nil }
        return state.withLock { s -> FaultDecision? in
            if let i = s.oneShot.firstIndex(where: { $0.pathPrefix.map(path.hasPrefix) ?? true }) {
                let f = s.oneShot.remove(at: i)
                slot.setActive(s.policy.affectsRequests || !s.oneShot.isEmpty)
                s.counters.errors[f.status, default: 0] += 1
                return FaultDecision(errorStatus: f.status, retryAfterSeconds: f.retryAfterSeconds)
            }
            let p = s.policy
            let isWatch = verb == "watch"
            if let prefix = p.pathPrefix, !path.hasPrefix(prefix) { return nil }
            // Truncation hits every watch under the path prefix, whatever the verb filter says.
            let truncation =
                isWatch ? FaultDecision(truncateAfterEvents: p.watchTruncateAfterEvents, truncateAfter: p.watchTruncateAfter) : FaultDecision()
            let verbOK = p.verbs.map { $0.contains(verb) } ?? true
            let watchOK = !isWatch || p.includeWatches || p.verbs?.contains("watch") == true
            guard verbOK && watchOK else { return truncation.isEmpty ? nil : truncation }
            s.counters.eligibleRequests += 1
            var d = truncation
            if p.errorRate > 0, !p.errorStatuses.isEmpty, s.rng.unit() < p.errorRate {
                let status = p.errorStatuses.count == 1 ? p.errorStatuses[0] : p.errorStatuses[Int(s.rng.next() % UInt64(p.errorStatuses.count))]
                d.errorStatus = status
                switch status {
                case 429: d.retryAfterSeconds = p.retryAfterSeconds ?? 1
                case 503: d.retryAfterSeconds = p.retryAfterSeconds
                default: break
                }
                s.counters.errors[status, default: 0] += 1
            }
            if p.hasDelay, p.delayRate >= 1 || s.rng.unit() < p.delayRate {
                var delay = p.delay
                if p.delayJitter > .zero { delay += p.delayJitter * s.rng.unit() }
                if delay > .zero {
                    d.delay = delay
                    s.counters.delayedRequests += 1
                    let (secs, atto) = delay.components
                    s.counters.totalDelayMilliseconds += Int(secs) * 1000 + Int(atto / 1_000_000_000_000_000)
                }
            }
            return d.isEmpty ? nil : d
        }
    }
}
