import Foundation
import KubeJSON
import NIOCore
import Synchronization

/// The kind of a stored change.
enum ChangeType: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }

/// One retained change, used for watch fan-out and resume-from-resourceVersion.
struct StoredEvent: Sendable {
    var rv: Int64
    var type: ChangeType
    var storageKey: String
    var object: JSON
    /// The previous state (for selector transitions).
    var old: JSON?
}

/// What a watch stream carries.
enum WatchItem: Sendable {
    /// One reference per change: every watcher that sees it queues the same object.
    case event(WatchEvent)
    case bookmark(rv: Int64)
    case error(JSON)
}

/// A change as watchers see it, with its serialized event line computed once by the first
/// watcher that writes it and reused by all others presenting the same apiVersion (fan-out cost
/// stays one serialization per change, and queueing it costs one reference, not a copy).
final class WatchEvent: Sendable {
    let type: String
    let object: JSON
    private let cache = Mutex<(groupVersion: String, line: ByteBuffer)?>(nil)

    init(type: String, object: JSON) {
        self.type = type
        self.object = object
    }

    func line(groupVersion: String, render: (WatchEvent) -> ByteBuffer) -> ByteBuffer {
        cache.withLock { c in
            if let c, c.groupVersion == groupVersion { return c.line }
            let line = render(self)
            if c == nil { c = (groupVersion, line) }
            return line
        }
    }
}

/// A watcher's pending items. Delivery never blocks the writer: the buffer is bounded and a
/// watcher whose buffer overflows is marked and finished (its connection then sends an ERROR
/// event). The consumer (the connection, on its event loop) is notified once when items become
/// available and then takes everything pending at once, so a busy watcher writes and flushes a
/// batch of events per wake-up instead of one.
final class WatchQueue: Sendable {
    private struct State {
        var items: [WatchItem] = []
        var finished = false
        var overflowed = false
        /// A notification is outstanding (set when notifying, cleared by `takeAll`).
        var notified = false
        var consumer: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var overflowed: Bool { state.withLock { $0.overflowed } }

    /// Sets who to notify; notifies at once if items are already pending.
    func setConsumer(_ consumer: @escaping @Sendable () -> Void) {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            s.consumer = consumer
            guard (!s.items.isEmpty || s.finished) && !s.notified else { return nil }
            s.notified = true
            return consumer
        }
        notify?()
    }

    func push(_ item: WatchItem) {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            if s.finished { return nil }
            if s.items.count >= capacity {
                s.overflowed = true
                s.finished = true
            } else {
                s.items.append(item)
            }
            guard !s.notified, let c = s.consumer else { return nil }
            s.notified = true
            return c
        }
        notify?()
    }

    func finish() {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            if s.finished { return nil }
            s.finished = true
            guard !s.notified, let c = s.consumer else { return nil }
            s.notified = true
            return c
        }
        notify?()
    }

    /// Everything pending, and whether the queue is finished (nothing more will come).
    func takeAll() -> (items: [WatchItem], finished: Bool) {
        state.withLock { s in
            s.notified = false
            var out: [WatchItem] = []
            swap(&out, &s.items)
            return (out, s.finished)
        }
    }

    /// Drops the consumer (connection gone), breaking the reference cycle.
    func detach() {
        state.withLock { s in
            s.consumer = nil
            s.finished = true
        }
    }
}

/// A registered watcher.
final class Watcher: Sendable {
    let id: Int
    let storageKey: String
    let namespace: String?
    let labelSelector: LabelSelector
    let fieldSelector: FieldSelector
    let queue: WatchQueue
    /// Equal for watchers whose namespace and selectors are equal (nil: never shared).
    let selectorKey: String?
    /// The fan-out group: watchers with equal selectors share one evaluation per change.
    var groupKey: String { selectorKey ?? "#\(id)" }

    init(id: Int, storageKey: String, namespace: String?, labelSelector: LabelSelector, fieldSelector: FieldSelector, bufferSize: Int,
         selectorKey: String? = nil) {
        self.selectorKey = selectorKey
        self.id = id
        self.storageKey = storageKey
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.queue = WatchQueue(capacity: bufferSize)
    }

    func matches(_ object: JSON) -> Bool {
        if let namespace, object[path: "metadata", "namespace"]?.stringValue ?? "" != namespace { return false }
        return labelSelector.matches(object[path: "metadata", "labels"]) && fieldSelector.matches(object)
    }

    /// What this watcher sees of a change (selector transitions become ADDED/DELETED).
    func view(_ event: StoredEvent) -> (String, JSON)? {
        switch event.type {
        case .added: return matches(event.object) ? ("ADDED", event.object) : nil
        case .deleted: return matches(event.object) ? ("DELETED", event.object) : nil
        case .modified:
            let now = matches(event.object)
            let before = event.old.map(matches) ?? false
            switch (before, now) {
            case (true, true): return ("MODIFIED", event.object)
            case (false, true): return ("ADDED", event.object)
            case (true, false): return ("DELETED", event.object)
            case (false, false): return nil
            }
        }
    }

    func send(_ item: WatchItem) { queue.push(item) }

    func finish() { queue.finish() }

    var overflowed: Bool { queue.overflowed }
}

/// The watchers of one storage key, grouped by selector: watchers whose namespace and
/// selectors are equal see a change the same way, so the fan-out evaluates a change once per
/// group and hands every member the same item (no per-watcher lookups or copies).
struct WatcherSet: Sendable {
    private(set) var groups: [String: [Watcher]] = [:]

    var isEmpty: Bool { groups.isEmpty }
    var all: [Watcher] { groups.values.flatMap { $0 } }

    mutating func insert(_ w: Watcher) { groups[w.groupKey, default: []].append(w) }

    mutating func remove(_ w: Watcher) {
        let key = w.groupKey
        guard var members = groups[key] else { return }
        members.removeAll { $0.id == w.id }
        groups[key] = members.isEmpty ? nil : members
    }
}

/// A fixed-capacity ring buffer of events.
struct EventRing: Sendable {
    private var buffer: [StoredEvent] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { buffer.count }

    /// Appends; returns the evicted event, if any.
    mutating func append(_ e: StoredEvent) -> StoredEvent? {
        if buffer.count < capacity { buffer.append(e); return nil }
        let evicted = buffer[head]
        buffer[head] = e
        head = (head + 1) % capacity
        return evicted
    }

    mutating func removeAll() { buffer.removeAll(); head = 0 }

    /// Events with rv > after, in order.
    func events(after rv: Int64) -> [StoredEvent] {
        var out: [StoredEvent] = []
        for i in 0..<buffer.count {
            let e = buffer[(head + i) % buffer.count]
            if e.rv > rv { out.append(e) }
        }
        return out
    }
}

/// All server state, guarded by one lock: objects, resource registry, history, watchers.
struct StoreState {
    var rv: Int64
    /// Events with rv ≤ compactedRV are no longer retained.
    var compactedRV: Int64
    var resources: [String: ResourceInfo] = [:]  // "group/version/plural"
    var collections: [String: [String: JSON]] = [:]  // storageKey → "ns/name" → object
    var history: EventRing
    var watchers: [String: WatcherSet] = [:]
    var nextWatcherID = 1
    var persistence: Persistence?
    let watchBufferSize: Int

    init(startRV: Int64, historySize: Int, watchBufferSize: Int) {
        rv = startRV
        compactedRV = startRV
        history = EventRing(capacity: historySize)
        self.watchBufferSize = watchBufferSize
    }

    static func objectKey(_ namespace: String, _ name: String) -> String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    func resource(group: String, version: String, plural: String) -> ResourceInfo? { resources["\(group)/\(version)/\(plural)"] }

    /// Any served version of a storage key (for cascade logic).
    func anyResource(storageKey: String) -> ResourceInfo? {
        resources.values.first { $0.storageKey == storageKey }
    }

    func object(_ info: ResourceInfo, _ namespace: String, _ name: String) -> JSON? {
        collections[info.storageKey]?[Self.objectKey(namespace, name)]
    }

    /// Assigns the next resourceVersion, stores, records history, notifies watchers, persists.
    mutating func commit(storageKey: String, key: String, object: JSON, type: ChangeType, old: JSON?) -> JSON {
        rv += 1
        var obj = object
        obj[path: "metadata", "resourceVersion"] = .string(String(rv))
        if type == .deleted {
            collections[storageKey]?.removeValue(forKey: key)
        } else {
            collections[storageKey, default: [:]][key] = obj
        }
        let event = StoredEvent(rv: rv, type: type, storageKey: storageKey, object: obj, old: old)
        if let evicted = history.append(event) { compactedRV = evicted.rv }
        if let set = watchers[storageKey], !set.isEmpty {
            // One shared event per type (selector transitions can turn one change into ADDED for
            // some groups and DELETED for others); evaluated once per group, sent to all members.
            var added: WatchEvent?, modified: WatchEvent?, deleted: WatchEvent?
            for members in set.groups.values {
                guard let first = members.first, let (t, o) = first.view(event) else { continue }
                let shared: WatchEvent
                switch t {
                case "ADDED": shared = added ?? WatchEvent(type: t, object: o); added = shared
                case "DELETED": shared = deleted ?? WatchEvent(type: t, object: o); deleted = shared
                default: shared = modified ?? WatchEvent(type: t, object: o); modified = shared
                }
                let item = WatchItem.event(shared)
                for w in members { w.send(item) }
            }
        }
        persistence?.record(type == .deleted ? .delete : .put, storageKey: storageKey, key: key, object: obj, rv: rv)
        return obj
    }

    mutating func registerWatcher(storageKey: String, namespace: String?, labelSelector: LabelSelector,
                                  fieldSelector: FieldSelector, selectorKey: String? = nil) -> Watcher {
        let watcher = Watcher(id: nextWatcherID, storageKey: storageKey, namespace: namespace, labelSelector: labelSelector,
                              fieldSelector: fieldSelector, bufferSize: watchBufferSize, selectorKey: selectorKey)
        nextWatcherID += 1
        watchers[storageKey, default: WatcherSet()].insert(watcher)
        return watcher
    }

    mutating func finishWatchers(storageKey: String) {
        if let set = watchers[storageKey] { for w in set.all { w.finish() } }
        watchers[storageKey] = nil
    }
}
