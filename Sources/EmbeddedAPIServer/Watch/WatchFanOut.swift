import Foundation
import KubeCore
import NIOCore
import Synchronization

// Watch fan-out: the watchers of a storage key grouped by namespace and selectors, each group with
// one log of changes and shared pre-framed chunks (measurements in bench/results.md). The store appends
// changes here under its lock; the HTTP layer drains them to the connections.

/// What a watch stream carries.
enum WatchItem: Sendable {
    /// One reference per change: every watcher that sees it queues the same object.
    case event(SharedWatchEvent)
    case bookmark(rv: Int64)
    case error(JSON)
}

/// A change as watchers see it, with its serialized event line computed once by the first
/// watcher that writes it and reused by all others presenting the same apiVersion (fan-out cost
/// stays one serialization per change, and queueing it costs one reference, not a copy).
final class SharedWatchEvent: Sendable {
    let event: WatchEvent
    /// The text of the committed object, shared with the write's response (nil for events that
    /// are not a commit, such as a watch's initial list).
    let text: ObjectText?
    private let cache = Mutex<(groupVersion: String, line: ByteBuffer)?>(nil)

    init(_ event: WatchEvent, text: ObjectText? = nil) {
        self.event = event
        self.text = text
    }

    var type: WatchEvent.EventType { event.type }
    var object: JSON { event.object }

    func line(groupVersion: String, render: (SharedWatchEvent) -> ByteBuffer) -> ByteBuffer {
        cache.withLock { c in
            if let c, c.groupVersion == groupVersion { return c.line }
            let line = render(self)
            if c == nil { c = (groupVersion, line) }
            return line
        }
    }
}

/// The JSON text of one committed object as a resource presents it, serialized by whichever needs
/// it first, the write's response or its watch event line, and reused by the other: a write then
/// costs one serialization of the object instead of two (see bench/results.md).
final class ObjectText: Sendable {
    private let cache = Mutex<(resource: String, bytes: [UInt8])?>(nil)

    /// The text as `info` presents the object; `render` runs when no text for it exists yet.
    func bytes(for info: ResourceInfo, render: () -> [UInt8]) -> [UInt8] {
        let resource = info.groupVersion + "/" + info.kind
        return cache.withLock { c in
            if let c, c.resource == resource { return c.bytes }
            let bytes = render()
            if c == nil { c = (resource, bytes) }
            return bytes
        }
    }
}

/// One registered watch: a member of the ``WatchGroup`` of its namespace and selectors, which
/// holds its position and pending items.
final class Watcher: Sendable {
    let id: Int
    let storageKey: String
    let group: WatchGroup

    init(id: Int, storageKey: String, group: WatchGroup) {
        self.id = id
        self.storageKey = storageKey
        self.group = group
    }

    /// What this watcher sees of a change (selector transitions become ADDED/DELETED).
    func view(_ event: StoredEvent) -> WatchEvent? { group.view(event) }

    /// Queues a bookmark or error at the current end of the group's log (call under the store
    /// lock, so that it falls between the changes it concerns).
    func send(_ item: WatchItem) { group.send(item, to: id) }

    /// Ends the watch once everything pending is written (timeout, shutdown, truncation).
    func finish() { group.finish(id) }

    /// Sets who to notify when items become available; notifies at once if some are pending.
    func setConsumer(_ consumer: @escaping @Sendable () -> Void) { group.setConsumer(consumer, for: id) }

    /// Everything pending (or, with `sharing`, up to the end of a chunk another member of the
    /// group already built; the member is then notified again for the rest).
    func take(sharing groupVersion: String? = nil) -> WatchGroup.Taken { group.take(id, sharing: groupVersion) }

    var overflowed: Bool { group.overflowed(id) }
}

/// The watchers of one storage key whose namespace and selectors are equal. They see every
/// change the same way, so a change is evaluated once per group and appended once to the
/// group's log; each member keeps only its position in it. Members that are drained together
/// write the same bytes: the pre-framed chunk of a log range is built once and its buffer is
/// written to every member's connection (TLS still encrypts it per connection). The log keeps
/// what the slowest member has not taken; a member more than `capacity` changes behind is
/// finished as overflowed (its stream then ends with a 410 ERROR), as a bounded per-watcher
/// buffer would.
final class WatchGroup: Sendable {
    /// One member's position and pending items.
    struct Member {
        /// Sequence number of the next change to write.
        var cursor: Int
        /// Bookmarks and errors, each with the log position it was queued at.
        var extras: [(at: Int, item: WatchItem)] = []
        var finished = false
        var overflowed = false
        /// A notification is outstanding (cleared by `take`).
        var notified = false
        var consumer: (@Sendable () -> Void)?
    }

    /// A pre-framed chunk (`<hex size>\r\n<event lines>\r\n`) of the log range `start..<end`.
    struct Chunk {
        var start: Int
        var end: Int
        var groupVersion: String
        var bytes: ByteBuffer
    }

    /// What a member takes: the changes from sequence `start` on, its bookmarks/errors by
    /// position, whether the watch is finished, and the shared chunk of exactly these changes
    /// when one was built already.
    struct Taken {
        var start: Int
        /// How many changes were taken.
        var count: Int
        /// The changes, unless `chunk` already holds them (the references are not copied then).
        var events: [SharedWatchEvent]
        var extras: [(at: Int, item: WatchItem)]
        var finished: Bool
        var chunk: ByteBuffer?

        /// Changes and extras merged in log order.
        var items: [WatchItem] {
            if extras.isEmpty { return events.map(WatchItem.event) }
            var out: [WatchItem] = []
            out.reserveCapacity(events.count + extras.count)
            var next = 0
            for (at, item) in extras {
                while next < events.count && start + next < at {
                    out.append(.event(events[next]))
                    next += 1
                }
                out.append(item)
            }
            while next < events.count {
                out.append(.event(events[next]))
                next += 1
            }
            return out
        }
    }

    private struct State {
        var log: [SharedWatchEvent] = []
        /// Sequence number of `log[0]`.
        var base = 0
        var members: [Int: Member] = [:]
        /// Members waiting for the next change (no notification outstanding).
        var armed: [Int] = []
        /// The last few chunks built, for the members drained after the builder.
        var chunks: [Chunk] = []

        var end: Int { base + log.count }

        /// Drops the changes every member has taken.
        mutating func trim() {
            var low = end
            for m in members.values where !m.overflowed { low = min(low, m.cursor) }
            guard low > base else { return }
            log.removeFirst(low - base)
            base = low
            chunks.removeAll { $0.start < base }
        }
    }

    let namespace: String?
    let labelSelector: LabelSelector
    let fieldSelector: FieldSelector
    let capacity: Int
    private let state = Mutex(State())

    static let maxCachedChunks = 4

    init(namespace: String?, labelSelector: LabelSelector, fieldSelector: FieldSelector, capacity: Int) {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.capacity = max(1, capacity)
    }

    var isEmpty: Bool { state.withLock { $0.members.isEmpty } }
    var memberIDs: [Int] { state.withLock { Array($0.members.keys) } }

    func matches(_ object: JSON) -> Bool {
        if let namespace, object[path: "metadata", "namespace"]?.stringValue ?? "" != namespace { return false }
        return labelSelector.matches(object[path: "metadata", "labels"]) && fieldSelector.matches(object)
    }

    /// What the members see of a change (selector transitions become ADDED/DELETED).
    func view(_ event: StoredEvent) -> WatchEvent? {
        switch event.type {
        case .added: return matches(event.object) ? WatchEvent(type: .added, object: event.object) : nil
        case .deleted: return matches(event.object) ? WatchEvent(type: .deleted, object: event.object) : nil
        case .modified:
            let now = matches(event.object)
            let before = event.old.map(matches) ?? false
            switch (before, now) {
            case (true, true): return WatchEvent(type: .modified, object: event.object)
            case (false, true): return WatchEvent(type: .added, object: event.object)
            case (true, false): return WatchEvent(type: .deleted, object: event.object)
            case (false, false): return nil
            }
        case .bookmark, .error:
            return nil  // never stored
        }
    }

    /// A new member, positioned at the end of the log (it sees the changes committed after it).
    func add(_ id: Int) {
        state.withLock { s in s.members[id] = Member(cursor: s.end) }
    }

    func remove(_ id: Int) {
        state.withLock { s in
            s.members[id] = nil
            s.armed.removeAll { $0 == id }
            s.trim()
        }
    }

    /// Appends a change for every member and notifies those waiting for one.
    func append(_ event: SharedWatchEvent) {
        let notify = state.withLock { s -> [@Sendable () -> Void] in
            s.log.append(event)
            var out: [@Sendable () -> Void] = []
            if s.log.count > capacity {
                // Some member is `capacity` changes behind: it is finished as overflowed and
                // no longer holds the log.
                let end = s.end
                for (id, var m) in s.members where !m.finished && end - m.cursor > capacity {
                    m.overflowed = true
                    m.finished = true
                    m.cursor = end
                    m.extras.removeAll()
                    if !m.notified, let c = m.consumer {
                        m.notified = true
                        out.append(c)
                    }
                    s.members[id] = m
                }
                s.trim()
            }
            for id in s.armed {
                guard var m = s.members[id], !m.notified, let c = m.consumer else { continue }
                m.notified = true
                s.members[id] = m
                out.append(c)
            }
            s.armed.removeAll(keepingCapacity: true)
            return out
        }
        for c in notify { c() }
    }

    func send(_ item: WatchItem, to id: Int) {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            guard var m = s.members[id], !m.finished else { return nil }
            m.extras.append((s.end, item))
            let c = Self.claimNotification(&m)
            s.members[id] = m
            return c
        }
        notify?()
    }

    func finish(_ id: Int) {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            guard var m = s.members[id], !m.finished else { return nil }
            m.finished = true
            let c = Self.claimNotification(&m)
            s.members[id] = m
            return c
        }
        notify?()
    }

    func finishAll() {
        for id in memberIDs { finish(id) }
    }

    func overflowed(_ id: Int) -> Bool { state.withLock { $0.members[id]?.overflowed ?? false } }

    func setConsumer(_ consumer: @escaping @Sendable () -> Void, for id: Int) {
        let notify = state.withLock { s -> (@Sendable () -> Void)? in
            guard var m = s.members[id] else { return nil }
            m.consumer = consumer
            let pending = m.cursor < s.end || !m.extras.isEmpty || m.finished
            var c: (@Sendable () -> Void)?
            if pending {
                c = Self.claimNotification(&m)
            } else if !m.notified {
                s.armed.append(id)
            }
            s.members[id] = m
            return c
        }
        notify?()
    }

    private static func claimNotification(_ m: inout Member) -> (@Sendable () -> Void)? {
        guard !m.notified, let c = m.consumer else { return nil }
        m.notified = true
        return c
    }

    func take(_ id: Int, sharing groupVersion: String?) -> Taken {
        let (taken, again) = state.withLock { s -> (Taken, (@Sendable () -> Void)?) in
            guard var m = s.members[id] else { return (Taken(start: s.end, count: 0, events: [], extras: [], finished: true, chunk: nil), nil) }
            let end = s.end
            if m.overflowed {
                // Dropped from the log: nothing more to write but the stream's end.
                m.cursor = end
                m.extras.removeAll()
                s.members[id] = m
                return (Taken(start: end, count: 0, events: [], extras: [], finished: true, chunk: nil), nil)
            }
            var upTo = end
            var chunk: ByteBuffer?
            // Drained after another member at the same position: take exactly its chunk; what
            // came since goes out in the next pass (the member is notified again below).
            if let groupVersion, m.extras.isEmpty, !m.finished,
                let c = s.chunks.last(where: { $0.start == m.cursor && $0.groupVersion == groupVersion })
            {
                upTo = c.end
                chunk = c.bytes
            }
            let from = m.cursor
            let events = chunk == nil && from < upTo ? Array(s.log[(from - s.base)..<(upTo - s.base)]) : []
            let taken = Taken(
                start: from, count: upTo - from, events: events, extras: m.extras, finished: m.finished && upTo == end,
                chunk: chunk)
            m.extras.removeAll()
            m.cursor = upTo
            var again: (@Sendable () -> Void)?
            if upTo < end {
                again = m.consumer  // stays notified: the rest is pending
            } else {
                m.notified = false
                if !m.finished { s.armed.append(id) }
            }
            s.members[id] = m
            if from == s.base { s.trim() }
            return (taken, again)
        }
        again?()
        return taken
    }

    /// The chunk of `events` (the log range from `start`), built by `build` unless a member
    /// built it already; kept for the members drained next.
    func chunk(start: Int, events: [SharedWatchEvent], groupVersion: String, build: () -> ByteBuffer) -> ByteBuffer {
        let end = start + events.count
        if let cached = state.withLock({ s in s.chunks.last { $0.start == start && $0.end == end && $0.groupVersion == groupVersion } }) {
            return cached.bytes
        }
        let bytes = build()
        state.withLock { s in
            guard start >= s.base else { return }
            if s.chunks.count >= Self.maxCachedChunks { s.chunks.removeFirst() }
            s.chunks.append(Chunk(start: start, end: end, groupVersion: groupVersion, bytes: bytes))
        }
        return bytes
    }
}
