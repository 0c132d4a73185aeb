import Foundation
import KubeCore
import NIOCore
import Synchronization

/// One retained change, used for watch fan-out and resume-from-resourceVersion.
struct StoredEvent: Sendable {
    var rv: Int64
    /// `.added`, `.modified` or `.deleted`.
    var type: WatchEvent.EventType
    var storageKey: String
    var object: JSON
    /// The previous state (for selector transitions).
    var old: JSON?
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
        if buffer.count < capacity {
            buffer.append(e)
            return nil
        }
        let evicted = buffer[head]
        buffer[head] = e
        head = (head + 1) % capacity
        return evicted
    }

    mutating func removeAll() {
        buffer.removeAll()
        head = 0
    }

    /// Undoes the last `append` (a change whose write to the log failed).
    mutating func removeLast(restoring evicted: StoredEvent?) {
        guard let evicted else {
            if !buffer.isEmpty { buffer.removeLast() }
            return
        }
        head = (head + capacity - 1) % capacity
        buffer[head] = evicted
    }

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
    var resources: [String: ResourceInfo] = [:] {  // "group/version/plural"
        didSet { resourcesGeneration += 1 }
    }
    /// Counts changes of `resources`; the store publishes the registry to lock-free readers when
    /// it differs from `publishedGeneration` (see ``Store/resource(group:version:plural:)``).
    var resourcesGeneration = 0
    var publishedGeneration = -1
    var collections: [String: [String: JSON]] = [:]  // storageKey → "ns/name" → object
    var history: EventRing
    /// storageKey → selector key → group.
    var watchers: [String: [String: WatchGroup]] = [:]
    var nextWatcherID = 1
    var persistence: Persistence?
    let watchBufferSize: Int
    /// The request's changes until they are in the log (see ``endChange(_:)``): log records,
    /// what watchers get, and how to undo them.
    var pendingRecords: [UInt8] = []
    var pendingDeliveries: [PendingDelivery] = []
    var undo: [Undo] = []
    /// The request's commits so far, and the text of its object when there was exactly one: the
    /// response of a create, update or patch is that object (see ``ObjectText``).
    var commitsInChange = 0
    var committedText: ObjectText?

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

    /// Assigns the next resourceVersion, stores, records history; the log record and the watch
    /// events wait in the pending lists until ``endChange(_:)`` has written the record.
    mutating func commit(storageKey: String, key: String, object: JSON, type: WatchEvent.EventType, old: JSON?) -> JSON {
        rv += 1
        var obj = object
        obj[path: "metadata", "resourceVersion"] = .string(String(rv))
        let previous = persistence == nil ? nil : collections[storageKey]?[key]
        if type == .deleted {
            collections[storageKey]?.removeValue(forKey: key)
        } else {
            collections[storageKey, default: [:]][key] = obj
        }
        let event = StoredEvent(rv: rv, type: type, storageKey: storageKey, object: obj, old: old)
        let text = ObjectText()
        commitsInChange += 1
        committedText = commitsInChange == 1 ? text : nil
        let evicted = history.append(event)
        if let evicted { compactedRV = evicted.rv }
        if let groups = watchers[storageKey] {
            // One shared event per type (selector transitions can turn one change into ADDED for
            // some groups and DELETED for others); evaluated and logged once per group.
            var added: SharedWatchEvent?
            var modified: SharedWatchEvent?
            var deleted: SharedWatchEvent?
            for group in groups.values {
                guard let seen = group.view(event) else { continue }
                let shared: SharedWatchEvent
                switch seen.type {
                case .added:
                    shared = added ?? SharedWatchEvent(seen, text: text)
                    added = shared
                case .deleted:
                    shared = deleted ?? SharedWatchEvent(seen, text: text)
                    deleted = shared
                default:
                    shared = modified ?? SharedWatchEvent(seen, text: text)
                    modified = shared
                }
                pendingDeliveries.append(.event(group, shared))
            }
        }
        if persistence != nil {
            pendingRecords += Persistence.record(type == .deleted ? .delete : .put, storageKey: storageKey, key: key, object: obj, rv: rv)
            undo.append(Undo(storageKey: storageKey, key: key, previous: previous, evicted: evicted))
        }
        return obj
    }

    /// Registers a watcher in the group of its namespace and selectors (`selectorKey`; nil: a
    /// group of its own).
    mutating func registerWatcher(
        storageKey: String, namespace: String?, labelSelector: LabelSelector,
        fieldSelector: FieldSelector, selectorKey: String? = nil
    ) -> Watcher {
        let id = nextWatcherID
        nextWatcherID += 1
        let key = selectorKey ?? "#\(id)"
        let group: WatchGroup
        if let existing = watchers[storageKey]?[key] {
            group = existing
        } else {
            group = WatchGroup(namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, capacity: watchBufferSize)
            watchers[storageKey, default: [:]][key] = group
        }
        group.add(id)
        return Watcher(id: id, storageKey: storageKey, group: group)
    }

    /// Removes a watcher (its group goes when it was the last member).
    mutating func deregisterWatcher(_ watcher: Watcher) {
        watcher.group.remove(watcher.id)
        guard watcher.group.isEmpty, let groups = watchers[watcher.storageKey] else { return }
        let remaining = groups.filter { $0.value !== watcher.group }
        watchers[watcher.storageKey] = remaining.isEmpty ? nil : remaining
    }

    mutating func finishWatchers(storageKey: String) {
        // After the events already pending for these watchers.
        if let groups = watchers[storageKey] { pendingDeliveries.append(.finish(Array(groups.values))) }
        watchers[storageKey] = nil
    }

    // MARK: - persist first, then show

    /// A watch delivery held back until the change is in the log.
    enum PendingDelivery {
        case event(WatchGroup, SharedWatchEvent)
        case finish([WatchGroup])
    }

    /// How to take one change back out of the state.
    struct Undo {
        var storageKey: String
        var key: String
        var previous: JSON?
        var evicted: StoredEvent?
    }

    /// What a request may change besides objects and history (restored when its write fails).
    struct ChangeMark {
        var rv: Int64
        var compactedRV: Int64
        var resources: [String: ResourceInfo]
        var watchers: [String: [String: WatchGroup]]
    }

    func beginChange() -> ChangeMark { ChangeMark(rv: rv, compactedRV: compactedRV, resources: resources, watchers: watchers) }

    /// Ends a request under the store lock: writes its log records (one write), then hands the
    /// watch events out. If the write fails, the request's changes are undone (resourceVersions
    /// included, so the sequence has no gap) and it fails with InternalError; watchers saw
    /// nothing. See docs/reliability.md, "Storage of the embedded API server".
    mutating func endChange(_ mark: ChangeMark) throws(APIError) {
        defer {
            pendingRecords.removeAll(keepingCapacity: true)
            undo.removeAll(keepingCapacity: true)
            pendingDeliveries.removeAll(keepingCapacity: true)
            commitsInChange = 0
            committedText = nil
        }
        if !pendingRecords.isEmpty, let persistence {
            do {
                try persistence.append(pendingRecords)
            } catch {
                for u in undo.reversed() {
                    if let previous = u.previous {
                        collections[u.storageKey, default: [:]][u.key] = previous
                    } else {
                        collections[u.storageKey]?.removeValue(forKey: u.key)
                    }
                    history.removeLast(restoring: u.evicted)
                }
                rv = mark.rv
                compactedRV = mark.compactedRV
                resources = mark.resources
                watchers = mark.watchers
                throw APIError.internalError("storage failure, the change was not made: \(error.description)")
            }
        }
        for delivery in pendingDeliveries {
            switch delivery {
            case .event(let group, let event): group.append(event)
            case .finish(let groups): for g in groups { g.finishAll() }
            }
        }
    }
}
