import Foundation
import KubeCore

/// A typed view over a Kubernetes object kept as raw JSON.
///
/// Accessors read and write `raw` in place, so fields this library does not model survive a
/// read-modify-write cycle unchanged (the reason the models are views, not Codable structs).
public protocol KubeObjectView: Sendable {
    /// Where objects of this type live.
    static var resource: Resource { get }
    /// The complete object as sent by / to the server.
    var raw: JSON { get set }
    init(raw: JSON)
}

extension KubeObjectView {
    /// A new object with `apiVersion`, `kind` and the given name/namespace.
    public init(name: String, namespace: String? = nil) {
        var raw: JSON = ["apiVersion": .string(Self.resource.apiVersion), "kind": .string(Self.resource.kind), "metadata": ["name": .string(name)]]
        if let namespace, Self.resource.namespaced { raw[path: "metadata", "namespace"] = .string(namespace) }
        self.init(raw: raw)
    }

    public var apiVersion: String? { raw["apiVersion"]?.stringValue }
    public var kind: String? { raw["kind"]?.stringValue }

    /// The object's metadata (a view; setting writes it back).
    public var metadata: ObjectMeta {
        get { ObjectMeta(raw: raw["metadata"] ?? .object([:])) }
        set { raw["metadata"] = newValue.raw }
    }

    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace }
}

// MARK: - Small JSON helpers for views

extension JSON {
    /// A `[String: String]` map member (labels, annotations, ConfigMap data); non-string values skipped.
    func stringMap(_ key: String) -> [String: String] {
        guard let object = self[key]?.objectValue else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in object { if let s = v.stringValue { out[k] = s } }
        return out
    }

    /// Writes a string map keeping the existing key order (so a rewrite does not reorder the
    /// object); an empty map removes the member.
    mutating func setStringMap(_ key: String, _ map: [String: String]) {
        if map.isEmpty {
            if self[key] != nil { self[key] = nil }
            return
        }
        var out = JSONObject()
        if let existing = self[key]?.objectValue {
            for k in existing.keys { if let v = map[k] { out[k] = .string(v) } }
        }
        for k in map.keys.sorted() where out[k] == nil { out[k] = .string(map[k]!) }
        self[key] = .object(out)
    }

    /// A map member of base64 strings, decoded (Secret `data`, ConfigMap `binaryData`); values
    /// that are not valid base64 are skipped.
    func base64Map(_ key: String) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (k, v) in self[key]?.objectValue ?? [:] {
            if let s = v.stringValue, let d = Data(base64Encoded: s) { out[k] = [UInt8](d) }
        }
        return out
    }

    mutating func setOptional(_ key: String, _ value: JSON?) {
        if let value { self[key] = value } else if self[key] != nil { self[key] = nil }
    }
}

/// Kubernetes condition (`type`, `status`, `reason`, `message`, `lastTransitionTime`, ...).
public struct Condition: Sendable, Hashable {
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: Date? = nil) {
        var raw: JSON = ["type": .string(type), "status": .string(status)]
        if let reason { raw["reason"] = .string(reason) }
        if let message { raw["message"] = .string(message) }
        if let lastTransitionTime { raw["lastTransitionTime"] = .string(KubeTime.format(lastTransitionTime)) }
        self.raw = raw
    }

    public var type: String { raw["type"]?.stringValue ?? "" }
    /// `True`, `False` or `Unknown`.
    public var status: String { raw["status"]?.stringValue ?? "" }
    public var isTrue: Bool { status == "True" }
    public var reason: String? { raw["reason"]?.stringValue }
    public var message: String? { raw["message"]?.stringValue }
    public var lastTransitionTime: Date? { raw["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) }
    public var lastHeartbeatTime: Date? { raw["lastHeartbeatTime"]?.stringValue.flatMap(KubeTime.parse) }
}

/// `metadata.ownerReferences[]` entry.
public struct OwnerReference: Sendable, Hashable {
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        var raw: JSON = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if let controller { raw["controller"] = .bool(controller) }
        if let blockOwnerDeletion { raw["blockOwnerDeletion"] = .bool(blockOwnerDeletion) }
        self.raw = raw
    }

    public var apiVersion: String { raw["apiVersion"]?.stringValue ?? "" }
    public var kind: String { raw["kind"]?.stringValue ?? "" }
    public var name: String { raw["name"]?.stringValue ?? "" }
    public var uid: String { raw["uid"]?.stringValue ?? "" }
    public var controller: Bool { raw["controller"]?.boolValue ?? false }
    public var blockOwnerDeletion: Bool? { raw["blockOwnerDeletion"]?.boolValue }
}

/// View over `metadata`.
public struct ObjectMeta: Sendable, Hashable {
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw.isObject ? raw : .object([:]) }
    public init() { self.raw = .object([:]) }

    public var name: String? {
        get { raw["name"]?.stringValue }
        set { raw.setOptional("name", newValue.map(JSON.string)) }
    }
    public var generateName: String? {
        get { raw["generateName"]?.stringValue }
        set { raw.setOptional("generateName", newValue.map(JSON.string)) }
    }
    public var namespace: String? {
        get { raw["namespace"]?.stringValue }
        set { raw.setOptional("namespace", newValue.map(JSON.string)) }
    }
    public var uid: String? { raw["uid"]?.stringValue }
    public var resourceVersion: String? {
        get { raw["resourceVersion"]?.stringValue }
        set { raw.setOptional("resourceVersion", newValue.map(JSON.string)) }
    }
    /// `metadata.generation` (0 when absent, as for built-in kinds).
    public var generation: Int { raw["generation"]?.intValue ?? 0 }
    public var creationTimestamp: Date? { raw["creationTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    public var deletionTimestamp: Date? { raw["deletionTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    /// Whether deletion has started (finalizers are holding the object).
    public var isBeingDeleted: Bool { raw["deletionTimestamp"].map { !$0.isNull } ?? false }

    public var labels: [String: String] {
        get { raw.stringMap("labels") }
        set { raw.setStringMap("labels", newValue) }
    }
    public var annotations: [String: String] {
        get { raw.stringMap("annotations") }
        set { raw.setStringMap("annotations", newValue) }
    }
    public var finalizers: [String] {
        get { raw["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { raw.setOptional("finalizers", newValue.isEmpty ? nil : .array(newValue.map(JSON.string))) }
    }
    public var ownerReferences: [OwnerReference] {
        get { raw["ownerReferences"]?.arrayValue?.map(OwnerReference.init(raw:)) ?? [] }
        set { raw.setOptional("ownerReferences", newValue.isEmpty ? nil : .array(newValue.map(\.raw))) }
    }

    public func hasFinalizer(_ finalizer: String) -> Bool { finalizers.contains(finalizer) }

    /// Adds a finalizer if missing; returns whether it changed anything.
    @discardableResult
    public mutating func addFinalizer(_ finalizer: String) -> Bool {
        guard !finalizers.contains(finalizer) else { return false }
        finalizers.append(finalizer)
        return true
    }

    /// Removes a finalizer; returns whether it changed anything.
    @discardableResult
    public mutating func removeFinalizer(_ finalizer: String) -> Bool {
        let before = finalizers
        finalizers = before.filter { $0 != finalizer }
        return before.count != finalizers.count
    }

    /// The owner reference with `controller: true`, if any.
    public var controllerReference: OwnerReference? { ownerReferences.first { $0.controller } }
}

// MARK: - Core models

public struct Namespace: KubeObjectView {
    public static let resource = Resource.namespaces
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }
    /// `status.phase`: `Active` or `Terminating`.
    public var phase: String? { raw[path: "status", "phase"]?.stringValue }
}

public struct Secret: KubeObjectView {
    public static let resource = Resource.secrets
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    /// `type`, e.g. `Opaque`.
    public var type: String? {
        get { raw["type"]?.stringValue }
        set { raw.setOptional("type", newValue.map(JSON.string)) }
    }
    public var immutable: Bool? {
        get { raw["immutable"]?.boolValue }
        set { raw.setOptional("immutable", newValue.map(JSON.bool)) }
    }
    /// `data`, base64-decoded. Values that are not valid base64 are skipped.
    public var data: [String: [UInt8]] {
        get { raw.base64Map("data") }
        set {
            var object = JSONObject()
            for k in newValue.keys.sorted() { object[k] = .string(Data(newValue[k]!).base64EncodedString()) }
            raw.setOptional("data", newValue.isEmpty ? nil : .object(object))
        }
    }
    /// A `data` entry decoded as UTF-8.
    public func string(_ key: String) -> String? {
        data[key].flatMap { String(validating: $0, as: UTF8.self) }
    }
    /// `stringData` (write-only on the server: merged into `data`).
    public var stringData: [String: String] {
        get { raw.stringMap("stringData") }
        set { raw.setStringMap("stringData", newValue) }
    }
}

public struct ConfigMap: KubeObjectView {
    public static let resource = Resource.configMaps
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    public var data: [String: String] {
        get { raw.stringMap("data") }
        set { raw.setStringMap("data", newValue) }
    }
    public var binaryData: [String: [UInt8]] { raw.base64Map("binaryData") }
    public var immutable: Bool? { raw["immutable"]?.boolValue }
}

/// Core `v1` Event.
public struct Event: KubeObjectView {
    public static let resource = Resource.events
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    /// `involvedObject` (kind, namespace, name, uid, apiVersion, resourceVersion, fieldPath).
    public var involvedObject: JSON {
        get { raw["involvedObject"] ?? .object([:]) }
        set { raw["involvedObject"] = newValue }
    }
    public var reason: String? {
        get { raw["reason"]?.stringValue }
        set { raw.setOptional("reason", newValue.map(JSON.string)) }
    }
    public var message: String? {
        get { raw["message"]?.stringValue }
        set { raw.setOptional("message", newValue.map(JSON.string)) }
    }
    /// `Normal` or `Warning`.
    public var type: String? {
        get { raw["type"]?.stringValue }
        set { raw.setOptional("type", newValue.map(JSON.string)) }
    }
    public var count: Int {
        get { raw["count"]?.intValue ?? 0 }
        set { raw["count"] = .int(Int64(newValue)) }
    }
    /// `source.component`.
    public var sourceComponent: String? { raw[path: "source", "component"]?.stringValue }
    public var firstTimestamp: Date? { raw["firstTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    public var lastTimestamp: Date? { raw["lastTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
}

/// `coordination.k8s.io/v1` Lease (leader election, Gardener heartbeat).
public struct Lease: KubeObjectView {
    public static let resource = Resource.leases
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    public var holderIdentity: String? {
        get { raw[path: "spec", "holderIdentity"]?.stringValue }
        set { setSpec("holderIdentity", newValue.map(JSON.string)) }
    }
    public var leaseDurationSeconds: Int? {
        get { raw[path: "spec", "leaseDurationSeconds"]?.intValue }
        set { setSpec("leaseDurationSeconds", newValue.map { .int(Int64($0)) }) }
    }
    /// MicroTime (six fractional digits on the wire).
    public var acquireTime: Date? {
        get { raw[path: "spec", "acquireTime"]?.stringValue.flatMap(KubeTime.parse) }
        set { setSpec("acquireTime", newValue.map { .string(KubeTime.formatMicro($0)) }) }
    }
    public var renewTime: Date? {
        get { raw[path: "spec", "renewTime"]?.stringValue.flatMap(KubeTime.parse) }
        set { setSpec("renewTime", newValue.map { .string(KubeTime.formatMicro($0)) }) }
    }
    public var leaseTransitions: Int? {
        get { raw[path: "spec", "leaseTransitions"]?.intValue }
        set { setSpec("leaseTransitions", newValue.map { .int(Int64($0)) }) }
    }

    private mutating func setSpec(_ key: String, _ value: JSON?) {
        var spec = raw["spec"] ?? .object([:])
        if spec.isNull { spec = .object([:]) }
        spec.setOptional(key, value)
        raw["spec"] = spec
    }
}

public struct Node: KubeObjectView {
    public static let resource = Resource.nodes
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    public var conditions: [Condition] { raw[path: "status", "conditions"]?.arrayValue?.map(Condition.init(raw:)) ?? [] }
    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }
    /// `status.addresses` as (type, address) pairs.
    public var addresses: [(type: String, address: String)] {
        raw[path: "status", "addresses"]?.arrayValue?.compactMap { a in
            guard let t = a["type"]?.stringValue, let addr = a["address"]?.stringValue else { return nil }
            return (t, addr)
        } ?? []
    }
    public var podCIDRs: [String] { raw[path: "spec", "podCIDRs"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// `apps/v1` DaemonSet, decoded for rollout status.
public struct DaemonSet: KubeObjectView {
    public static let resource = Resource.daemonSets
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }

    private func status(_ key: String) -> Int { raw[path: "status", key]?.intValue ?? 0 }
    public var desiredNumberScheduled: Int { status("desiredNumberScheduled") }
    public var currentNumberScheduled: Int { status("currentNumberScheduled") }
    public var updatedNumberScheduled: Int { status("updatedNumberScheduled") }
    public var numberReady: Int { status("numberReady") }
    public var numberAvailable: Int { status("numberAvailable") }
    public var numberUnavailable: Int { status("numberUnavailable") }
    public var numberMisscheduled: Int { status("numberMisscheduled") }
    public var observedGeneration: Int { status("observedGeneration") }
    public var conditions: [Condition] { raw[path: "status", "conditions"]?.arrayValue?.map(Condition.init(raw:)) ?? [] }
    /// The pod template labels' selector (`spec.selector.matchLabels`).
    public var selectorLabels: [String: String] { (raw[path: "spec", "selector"] ?? .null).stringMap("matchLabels") }

    /// Rolled out as `kubectl rollout status` judges it: the controller observed the current
    /// generation, every scheduled pod is updated and available.
    public var isRolledOut: Bool {
        let generation = metadata.generation
        return observedGeneration >= generation && updatedNumberScheduled >= desiredNumberScheduled
            && numberAvailable >= desiredNumberScheduled
    }
}

/// Generic view for kinds without a model of their own.
public struct GenericObject: Sendable, Hashable {
    public var raw: JSON
    public init(raw: JSON) { self.raw = raw }
    public var metadata: ObjectMeta {
        get { ObjectMeta(raw: raw["metadata"] ?? .object([:])) }
        set { raw["metadata"] = newValue.raw }
    }
}
