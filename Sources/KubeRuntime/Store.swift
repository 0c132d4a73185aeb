import KubeCore
import Synchronization

/// What happened to an object, as delivered to event handlers and predicates
/// (controller-runtime's create / update / delete / generic events).
public enum ObjectEvent: Sendable {
    case create(JSON)
    case update(old: JSON, new: JSON)
    case delete(JSON)
    case generic(JSON)

    /// The object to look at (the new one for updates).
    public var object: JSON {
        switch self {
        case .create(let o), .delete(let o), .generic(let o): return o
        case .update(_, let n): return n
        }
    }
}

/// Filters events before they reach a work queue: a pure function of the event and of informer
/// caches (no API requests), so an event costs no round trip.
public typealias ObjectPredicate = @Sendable (ObjectEvent) -> Bool

/// `namespace/name` (or `name` for cluster-scoped objects) — the cache and work-queue key.
public func objectKey(_ object: JSON) -> String {
    let name = object[path: "metadata", "name"]?.stringValue ?? ""
    if let ns = object[path: "metadata", "namespace"]?.stringValue, !ns.isEmpty { return "\(ns)/\(name)" }
    return name
}

/// `namespace/name` (or `name`).
public func objectKey(namespace: String?, name: String) -> String {
    if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
    return name
}

/// Splits a key into namespace (nil for cluster-scoped) and name.
public func splitObjectKey(_ key: String) -> (namespace: String?, name: String) {
    guard let slash = key.firstIndex(of: "/") else { return (nil, key) }
    return (String(key[..<slash]), String(key[key.index(after: slash)...]))
}

/// A thread-safe object cache keyed by `namespace/name`, with secondary indexes.
public final class Store: Sendable {
    /// Computes the index values of an object.
    public typealias IndexFunction = @Sendable (JSON) -> [String]

    /// Name of the built-in namespace index.
    public static let namespaceIndex = "namespace"

    private struct State {
        var items: [String: JSON] = [:]
        /// index name → index value → keys
        var indices: [String: [String: Set<String>]] = [:]
    }

    private let indexers: [String: IndexFunction]
    private let state = Mutex(State())

    /// An empty store with `indexers`.
    public init(indexers: [String: IndexFunction] = [:]) {
        var all = indexers
        all[Self.namespaceIndex] = { obj in [obj[path: "metadata", "namespace"]?.stringValue ?? ""] }
        self.indexers = all
    }

    /// The object with `key`.
    public func get(_ key: String) -> JSON? { state.withLock { $0.items[key] } }

    /// The object `namespace/name`.
    public func get(namespace: String?, name: String) -> JSON? { get(objectKey(namespace: namespace, name: name)) }

    /// Every object.
    public func list() -> [JSON] { state.withLock { Array($0.items.values) } }

    /// Every key.
    public func keys() -> [String] { state.withLock { Array($0.items.keys) } }

    /// Number of objects.
    public var count: Int { state.withLock { $0.items.count } }

    /// Objects whose index `name` contains `value` (e.g. `byIndex("namespace", "shoot--a--b")`).
    public func byIndex(_ name: String, _ value: String) -> [JSON] {
        state.withLock { s in
            (s.indices[name]?[value] ?? []).compactMap { s.items[$0] }
        }
    }

    /// Inserts or replaces an object; answers the previous version.
    @discardableResult
    func upsert(_ object: JSON) -> JSON? {
        let key = objectKey(object)
        return state.withLock { s in
            let old = s.items[key]
            if let old { removeFromIndices(&s, key: key, object: old) }
            s.items[key] = object
            addToIndices(&s, key: key, object: object)
            return old
        }
    }

    /// Removes an object; answers the cached version.
    @discardableResult
    func remove(_ key: String) -> JSON? {
        state.withLock { s in
            guard let old = s.items.removeValue(forKey: key) else { return nil }
            removeFromIndices(&s, key: key, object: old)
            return old
        }
    }

    private func addToIndices(_ s: inout State, key: String, object: JSON) {
        for (name, fn) in indexers {
            for value in fn(object) { s.indices[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func removeFromIndices(_ s: inout State, key: String, object: JSON) {
        for (name, fn) in indexers {
            for value in fn(object) {
                s.indices[name]?[value]?.remove(key)
                if s.indices[name]?[value]?.isEmpty == true { s.indices[name]?[value] = nil }
            }
        }
    }
}
