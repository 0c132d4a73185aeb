import KubeClient
import KubeCore
import Logging
import Synchronization

/// The list+watch seam an informer runs on (implemented over `KubernetesClient` by
/// `ResourceListWatcher`; tests may script it).
public protocol ListWatcher: Sendable {
    /// Lists all objects; answers the items and the list's resourceVersion.
    func list() async throws -> (items: [JSON], resourceVersion: String)
    /// Watches from `resourceVersion` (with bookmarks). The stream ends when the server closes
    /// it; an expired resourceVersion is reported by throwing an error for which `isGone` holds.
    func watch(resourceVersion: String) async throws -> AsyncThrowingStream<WatchEvent, any Error>
    /// Whether `error` means "resourceVersion too old" (HTTP 410 / watch ERROR 410).
    func isGone(_ error: any Error) -> Bool
}

extension ListWatcher {
    /// Whether `error` is 410 Gone (the watch must relist).
    public func isGone(_ error: any Error) -> Bool { (error as? KubeError)?.isGone ?? false }
}

/// List-then-watch cache of one resource, kube-rs reflector / client-go informer style.
///
/// - lists, then watches from the list's resourceVersion; tracks the latest resourceVersion
///   (including bookmarks) and resumes the watch from it after a disconnect, with exponential
///   backoff (capped) while the server is unreachable;
/// - relists on 410 Gone; on relist, objects that vanished are delivered as deletes and
///   surviving ones as updates;
/// - optional periodic resync delivers `update(old: o, new: o)` for every cached object;
/// - `hasSynced` turns true once the first list has been stored and delivered.
public final class Informer: Sendable {
    /// Called for every event, in order.
    public typealias Handler = @Sendable (ObjectEvent) async -> Void
    /// What the cache keeps of each listed or watched object.
    public typealias Transform = @Sendable (JSON) -> JSON

    /// Drops `metadata.managedFields`: server-side apply's bookkeeping, which no controller here
    /// reads, is often larger than the rest of an object (a Cluster embeds a whole Shoot), so the
    /// caches keep it out, as controller-runtime's `TransformStripManagedFields` does.
    public static let stripManagedFields: Transform = { object in
        guard object[path: "metadata", "managedFields"] != nil else { return object }
        var copy = object
        copy[path: "metadata", "managedFields"] = nil
        return copy
    }

    /// Name used in logs (e.g. `networks.extensions.gardener.cloud`).
    public let name: String
    /// The cache the informer keeps in sync.
    public let store: Store
    private let listWatcher: any ListWatcher
    private let transform: Transform?
    private let resyncPeriod: Duration?
    private let initialBackoff: Duration
    private let maxBackoff: Duration
    private let logger: Logger

    private struct State {
        var handlers: [Handler] = []
        var synced = false
        var syncWaiters: [(UInt64, CheckedContinuation<Void, Never>)] = []
        var nextSyncWaiterID: UInt64 = 0
        var lastResourceVersion: String?
        var relists = 0
        var watchRestarts = 0
        /// Since when list/watch calls have failed without a success in between, and the last error.
        var failingSince: ContinuousClock.Instant?
        var lastError: String?
    }
    private let state = Mutex(State())

    /// An informer on `resource` (optionally one namespace / label selector); starts with `run`.
    /// `transform` is applied to every object before it is cached and handed to the handlers
    /// (nil: kept as the server sent it).
    public init(
        name: String, listWatcher: any ListWatcher, transform: Transform? = Informer.stripManagedFields, resyncPeriod: Duration? = nil,
        indexers: [String: Store.IndexFunction] = [:], initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(30), logger: Logger = Logger(label: "informer")
    ) {
        self.name = name
        self.listWatcher = listWatcher
        self.transform = transform
        self.resyncPeriod = resyncPeriod
        self.store = Store(indexers: indexers)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        var logger = logger
        logger[metadataKey: "informer"] = .string(name)
        self.logger = logger
    }

    /// Registers a handler. Handlers added after the initial sync first get a `create` for every
    /// cached object. Handlers run on the informer's task; keep them short (enqueue keys).
    public func addHandler(_ handler: @escaping Handler) async {
        let (synced, items) = state.withLock { s -> (Bool, [JSON]) in
            s.handlers.append(handler)
            return (s.synced, s.synced ? store.list() : [])
        }
        if synced { for item in items { await handler(.create(item)) } }
    }

    /// Whether the first list was stored and delivered.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// Number of full relists after the first one (410 Gone or failures before a watch).
    public var relistCount: Int { state.withLock { $0.relists } }

    /// Since when the informer has failed to reach the API server (lists and watches failing with
    /// no success in between), with the last error; nil while it is connected. Readiness reports
    /// an outage from this (see docs/operations.md).
    public var failing: (since: ContinuousClock.Instant, error: String)? {
        state.withLock { s in s.failingSince.map { ($0, s.lastError ?? "") } }
    }

    private func reached() {
        state.withLock { s in
            s.failingSince = nil
            s.lastError = nil
        }
    }

    /// The newest resourceVersion seen.
    public var lastResourceVersion: String? { state.withLock { $0.lastResourceVersion } }

    /// Waits until `hasSynced` or the task is cancelled (a handler waiting for another cache
    /// must not hold up a shutdown when that cache never syncs).
    public func waitForSync() async {
        let id = state.withLock { s -> UInt64 in
            s.nextSyncWaiterID += 1
            return s.nextSyncWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let done = state.withLock { s -> Bool in
                    if s.synced || Task.isCancelled { return true }
                    s.syncWaiters.append((id, c))
                    return false
                }
                if done { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                guard let i = s.syncWaiters.firstIndex(where: { $0.0 == id }) else { return nil }
                return s.syncWaiters.remove(at: i).1
            }
            waiter?.resume()
        }
    }

    private func deliver(_ event: ObjectEvent) async {
        let handlers = state.withLock { $0.handlers }
        for h in handlers { await h(event) }
    }

    /// Runs until the surrounding task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            if let resyncPeriod {
                group.addTask { [self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: resyncPeriod)
                        if Task.isCancelled || !hasSynced { continue }
                        for item in store.list() { await deliver(.update(old: item, new: item)) }
                    }
                }
            }
            group.addTask { [self] in await listAndWatch() }
            // The child tasks only end on cancellation, which the group propagates to them.
        }
    }

    private func listAndWatch() async {
        var resourceVersion: String?
        var backoff = RetryBackoff(initial: initialBackoff, cap: maxBackoff)
        var first = true
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let (items, rv) = try await listWatcher.list()
                    if !first { state.withLock { $0.relists += 1 } }
                    first = false
                    await replace(items)
                    resourceVersion = rv
                    state.withLock { $0.lastResourceVersion = rv }
                    markSynced()
                    reached()
                    logger.debug("listed", metadata: ["count": "\(items.count)", "resourceVersion": "\(rv)"])
                }
                guard let rv = resourceVersion else { continue }
                let started = ContinuousClock.now
                var events = 0
                let stream = try await listWatcher.watch(resourceVersion: rv)
                reached()
                for try await event in stream {
                    events += 1
                    backoff.reset()
                    if let newRV = event.object[path: "metadata", "resourceVersion"]?.stringValue, !newRV.isEmpty {
                        resourceVersion = newRV
                        state.withLock { $0.lastResourceVersion = newRV }
                    }
                    switch event.type {
                    case .bookmark:
                        continue
                    case .error:
                        // The client ends its streams with a thrown error instead; scripted
                        // list-watchers may yield one.
                        throw KubeError.fromStatus(event.object)
                    case .added, .modified:
                        let object = transform?(event.object) ?? event.object
                        let old = store.upsert(object)
                        if let old { await deliver(.update(old: old, new: object)) } else { await deliver(.create(object)) }
                    case .deleted:
                        let object = transform?(event.object) ?? event.object
                        _ = store.remove(objectKey(object))
                        await deliver(.delete(object))
                    }
                }
                state.withLock { $0.watchRestarts += 1 }
                // A server that closes watches at once must not make us spin.
                if events == 0 && ContinuousClock.now - started < .seconds(1) {
                    try await Task.sleep(for: backoff.next())
                }
            } catch {
                if Task.isCancelled { return }
                let now = ContinuousClock.now
                state.withLock { s in
                    if s.failingSince == nil { s.failingSince = now }
                    s.lastError = "\(error)"
                }
                if listWatcher.isGone(error) {
                    logger.info("resourceVersion expired, relisting", metadata: ["resourceVersion": "\(resourceVersion ?? "")"])
                    resourceVersion = nil
                    continue
                }
                let wait = backoff.next()
                logger.info(
                    "list/watch failed, retrying",
                    metadata: ["error": "\(error)", "backoff": "\(wait)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// Stores a fresh list: new objects → create, known ones → update, vanished ones → delete.
    private func replace(_ items: [JSON]) async {
        var seen = Set<String>()
        for item in items {
            let item = transform?(item) ?? item
            let key = objectKey(item)
            seen.insert(key)
            if let old = store.upsert(item) {
                await deliver(.update(old: old, new: item))
            } else {
                await deliver(.create(item))
            }
        }
        for key in store.keys() where !seen.contains(key) {
            if let old = store.remove(key) { await deliver(.delete(old)) }
        }
    }

    private func markSynced() {
        let waiters = state.withLock { s -> [(UInt64, CheckedContinuation<Void, Never>)] in
            s.synced = true
            let w = s.syncWaiters
            s.syncWaiters = []
            return w
        }
        for element in waiters { element.1.resume() }
    }
}
