import Foundation
import KubeClient
import KubeCore
import Logging

/// Writes `core/v1` Events with client-go's correlation: an identical event (same object,
/// type, reason, message, source) increments `count` and `lastTimestamp` of the existing Event
/// instead of creating a new one; more than `aggregationThreshold` *different* messages for the
/// same object/type/reason within `aggregationWindow` are folded into one aggregate Event whose
/// message starts with `(combined from similar events): `.
public actor EventRecorder {
    /// Event type (`Normal` or `Warning`).
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    private struct Entry {
        var name: String
        var namespace: String
        var count: Int64
        var lastSeen: ContinuousClock.Instant
    }

    private let client: KubernetesClient
    private let component: String
    private let instance: String
    private let logger: Logger
    /// Identical events within the window before they are aggregated.
    public let aggregationThreshold: Int
    /// Window in which identical events count towards aggregation.
    public let aggregationWindow: Duration
    private var cache: [String: Entry] = [:]
    private var similar: [String: (messages: Set<String>, firstSeen: ContinuousClock.Instant)] = [:]
    private let maxCacheEntries = 4096

    /// - Parameters:
    ///   - component: `source.component` / `reportingComponent` (e.g. `network-controller`).
    ///   - instance: `source.host` / `reportingInstance` (e.g. the leader-election identity).
    public init(
        client: KubernetesClient, component: String, instance: String = "", aggregationThreshold: Int = 10,
        aggregationWindow: Duration = .seconds(600), logger: Logger = Logger(label: "events")
    ) {
        self.client = client
        self.component = component
        self.instance = instance
        self.aggregationThreshold = aggregationThreshold
        self.aggregationWindow = aggregationWindow
        self.logger = logger
    }

    /// Records an event about `object` (a full object or an object reference with
    /// apiVersion/kind/namespace/name[/uid]). Failures are logged, never thrown.
    public func record(involved object: JSON, type: EventType, reason: String, message: String) async {
        let ref = Self.reference(object)
        let namespace = ref["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let refKey = [
            ref["kind"]?.stringValue ?? "", ref["namespace"]?.stringValue ?? "", ref["name"]?.stringValue ?? "",
            ref["uid"]?.stringValue ?? "",
        ].joined(separator: "/")
        let now = ContinuousClock.now

        // Aggregation of similar (same reason, different message) events.
        var message = message
        let similarKey = "\(component)|\(refKey)|\(type.rawValue)|\(reason)"
        var entry = similar[similarKey] ?? (messages: [], firstSeen: now)
        if now - entry.firstSeen > aggregationWindow { entry = (messages: [], firstSeen: now) }
        entry.messages.insert(message)
        similar[similarKey] = entry
        if entry.messages.count > aggregationThreshold {
            message = "(combined from similar events): \(message)"
        }
        let identicalKey =
            entry.messages.count > aggregationThreshold
            ? similarKey + "|aggregate" : "\(similarKey)|\(message)"

        let timestamp = Date()
        if var existing = cache[identicalKey] {
            existing.count += 1
            let patch: JSON = [
                "count": .int(existing.count), "lastTimestamp": .string(KubeTime.format(timestamp)), "message": .string(message),
            ]
            do {
                _ = try await client.patch(
                    Resource.events, namespace: existing.namespace, name: existing.name, patch, type: .merge)
                existing.lastSeen = now
                cache[identicalKey] = existing
                return
            } catch let e as KubeError where e.isNotFound {
                cache[identicalKey] = nil  // fall through: create a fresh one
            } catch {
                logger.info("could not update event", metadata: ["error": "\(error)", "reason": "\(reason)"])
                return
            }
        }
        let name = "\(ref["name"]?.stringValue ?? "event").\(String(UInt64(max(0, timestamp.timeIntervalSince1970 * 1e9)), radix: 16))"
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": ref, "reason": .string(reason), "message": .string(message), "type": .string(type.rawValue),
            "source": ["component": .string(component), "host": .string(instance)],
            "firstTimestamp": .string(KubeTime.format(timestamp)), "lastTimestamp": .string(KubeTime.format(timestamp)), "count": 1,
            "reportingComponent": .string(component), "reportingInstance": .string(instance),
        ]
        do {
            _ = try await client.create(Resource.events, namespace: namespace, event)
            if cache.count >= maxCacheEntries { cache.removeAll() }
            cache[identicalKey] = Entry(name: name, namespace: namespace, count: 1, lastSeen: now)
        } catch {
            logger.info("could not create event", metadata: ["error": "\(error)", "reason": "\(reason)"])
        }
    }

    /// An `involvedObject` reference built from an object or a reference.
    static func reference(_ object: JSON) -> JSON {
        if object["metadata"] == nil { return object }
        var ref: JSONObject = [:]
        ref["apiVersion"] = object["apiVersion"]
        ref["kind"] = object["kind"]
        ref["namespace"] = object[path: "metadata", "namespace"]
        ref["name"] = object[path: "metadata", "name"]
        ref["uid"] = object[path: "metadata", "uid"]
        ref["resourceVersion"] = object[path: "metadata", "resourceVersion"]
        return .object(ref)
    }
}
