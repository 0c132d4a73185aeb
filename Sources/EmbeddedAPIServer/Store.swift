import Foundation
import KubeJSON
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
    case event(type: String, object: JSON)
    case bookmark(rv: Int64)
    case error(JSON)
}

/// A registered watcher. Delivery never blocks: the stream buffer is bounded and a watcher
/// whose buffer overflows is marked and finished; its connection then sends an ERROR event.
final class Watcher: Sendable {
    let id: Int
    let storageKey: String
    let namespace: String?
    let labelSelector: LabelSelector
    let fieldSelector: FieldSelector
    let continuation: AsyncStream<WatchItem>.Continuation
    let overflowed = Atomic<Bool>(false)

    init(id: Int, storageKey: String, namespace: String?, labelSelector: LabelSelector, fieldSelector: FieldSelector,
         continuation: AsyncStream<WatchItem>.Continuation) {
        self.id = id
        self.storageKey = storageKey
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.continuation = continuation
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

    func send(_ item: WatchItem) {
        if overflowed.load(ordering: .acquiring) { return }
        if case .dropped = continuation.yield(item) {
            overflowed.store(true, ordering: .releasing)
            continuation.finish()
        }
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
    var watchers: [String: [Int: Watcher]] = [:]
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
        if let ws = watchers[storageKey] {
            for w in ws.values {
                if let (t, o) = w.view(event) { w.send(.event(type: t, object: o)) }
            }
        }
        persistence?.record(type == .deleted ? .delete : .put, storageKey: storageKey, key: key, object: obj, rv: rv)
        return obj
    }

    mutating func registerWatcher(storageKey: String, namespace: String?, labelSelector: LabelSelector,
                                  fieldSelector: FieldSelector) -> (Watcher, AsyncStream<WatchItem>) {
        let (stream, continuation) = AsyncStream<WatchItem>.makeStream(bufferingPolicy: .bufferingOldest(watchBufferSize))
        let watcher = Watcher(id: nextWatcherID, storageKey: storageKey, namespace: namespace, labelSelector: labelSelector,
                              fieldSelector: fieldSelector, continuation: continuation)
        nextWatcherID += 1
        watchers[storageKey, default: [:]][watcher.id] = watcher
        return (watcher, stream)
    }

    mutating func finishWatchers(storageKey: String) {
        if let ws = watchers[storageKey] { for w in ws.values { w.continuation.finish() } }
        watchers[storageKey] = nil
    }
}
