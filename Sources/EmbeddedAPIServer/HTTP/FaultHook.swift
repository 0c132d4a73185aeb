import KubeCore
import Synchronization

// The server's side of fault injection: a slot for a hook that decides per request, and the
// answers to what it decided. The policies, their random sequence and the public API live in
// EmbeddedAPIServerTesting (see docs/reliability.md), so that production code carries none of it.

/// A fault decided for one request.
package struct FaultDecision: Sendable {
    /// Answer with this status instead of serving the request.
    package var errorStatus: Int?
    /// `Retry-After` seconds sent with the injected error.
    package var retryAfterSeconds: Int?
    /// Wait this long before answering.
    package var delay: Duration?
    /// For watches: end the stream cleanly after this many events.
    package var truncateAfterEvents: Int?
    /// For watches: end the stream cleanly this long after it started.
    package var truncateAfter: Duration?

    package init(
        errorStatus: Int? = nil, retryAfterSeconds: Int? = nil, delay: Duration? = nil, truncateAfterEvents: Int? = nil,
        truncateAfter: Duration? = nil
    ) {
        self.errorStatus = errorStatus
        self.retryAfterSeconds = retryAfterSeconds
        self.delay = delay
        self.truncateAfterEvents = truncateAfterEvents
        self.truncateAfter = truncateAfter
    }

    /// Nothing injected.
    package var isEmpty: Bool { errorStatus == nil && delay == nil && truncateAfterEvents == nil && truncateAfter == nil }
}

/// Decides the faults of each request; installed by the testing module.
package protocol FaultHook: Sendable {
    /// What happens to one request (nil: nothing injected). Called only while the slot is active.
    func decide(path: String, verb: String) -> FaultDecision?
}

/// Server-side events that fault tests count (they happen with or without a hook installed).
package struct FaultEventCounts: Sendable, Equatable {
    /// Watch streams ended by truncation.
    package var truncatedWatches = 0
    /// History compactions.
    package var compactions = 0
    /// Times all connections were dropped.
    package var connectionDrops = 0
    /// Completed restarts.
    package var restarts = 0

    package init() {}
}

/// The server's fault slot: the installed hook, an atomic flag that keeps the no-fault path to a
/// single load, and the counts of fault-related server events.
package final class FaultHookSlot: Sendable {
    private let hook = Mutex<(any FaultHook)?>(nil)
    private let active = Atomic<Bool>(false)
    private let events = Mutex(FaultEventCounts())

    package init() {}

    /// The installed hook, or the one `make` creates and installs now.
    package func installed<H: FaultHook>(_ make: () -> H) -> H {
        hook.withLock { h in
            if let existing = h as? H { return existing }
            let created = make()
            h = created
            return created
        }
    }

    /// Whether requests consult the hook (the hook turns this on while it has anything to inject).
    package func setActive(_ on: Bool) { active.store(on, ordering: .releasing) }

    /// Asks the hook about one request; nil at once when nothing is to be injected.
    func decide(path: String, verb: String) -> FaultDecision? {
        guard active.load(ordering: .acquiring) else { return nil }
        return hook.withLock { $0 }?.decide(path: path, verb: verb)
    }

    /// Counts a server event.
    func count(_ body: (inout FaultEventCounts) -> Void) { events.withLock { body(&$0) } }

    /// The events counted so far.
    package var eventCounts: FaultEventCounts { events.withLock { $0 } }

    /// Zeroes ``eventCounts``.
    package func resetEventCounts() { events.withLock { $0 = FaultEventCounts() } }

    /// The `Status` answer for an injected error; `resource` names the target when the path has one.
    static func errorResponse(status: Int, retryAfterSeconds: Int?, resource: (group: String, plural: String, name: String?)?) -> APIResponse {
        let target = resource.map { r in r.group.isEmpty ? r.plural : "\(r.plural).\(r.group)" }
        var details: JSON? = resource.map { APIError.resourceDetails($0.name, group: $0.group, resource: $0.plural) }
        let (reason, message): (String, String) =
            switch status {
            case 409:
                (
                    "Conflict",
                    "Operation cannot be fulfilled on \(target ?? "the resource") \"\(resource?.name ?? "")\": the object has been modified; please apply your changes to the latest version and try again (injected fault)"
                )
            case 410: ("Expired", "too old resource version (injected fault)")
            case 429: ("TooManyRequests", "Too many requests, please try again later.")
            case 500: ("InternalError", "Internal error occurred: injected fault")
            case 503: ("ServiceUnavailable", "The server is currently unable to handle the request")
            case 504: ("Timeout", "The server was unable to return a response in the time allotted, but may still be processing the request")
            default: ("InternalError", "Internal error occurred: injected fault")
            }
        var extra: [(String, String)] = []
        if let r = retryAfterSeconds {
            var d = details ?? .emptyObject
            d["retryAfterSeconds"] = .int(Int64(r))
            details = d
            extra.append(("Retry-After", String(r)))
        }
        return Router.json(status, APIError(code: status, reason: reason, message: message, details: details).status, extra: extra)
    }
}

extension EmbeddedAPIServer {
    /// The fault slot of this server (for the testing module).
    package var faultHooks: FaultHookSlot { router.faults }

    /// Replaces the periodic fault tasks (compaction, connection drops); cancels the old ones, and
    /// the new ones too when the server is already shut down.
    /// Installs the periodic fault tasks of a new policy and cancels the previous ones, which it
    /// returns so that a caller can wait until they have ended.
    @discardableResult
    package func replacePeriodicFaultTasks(_ tasks: [Task<Void, Never>]) -> [Task<Void, Never>] {
        let stoppedNow = stopped.withLock { $0 }
        if stoppedNow { for t in tasks { t.cancel() } }
        let old = periodicFaults.withLock { p in
            defer { p = stoppedNow ? [] : tasks }
            return p
        }
        for t in old { t.cancel() }
        return old
    }
}

/// A boolean flag shareable with escaping closures.
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
