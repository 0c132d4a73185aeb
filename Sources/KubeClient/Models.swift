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

    /// `apiVersion`, e.g. `coordination.k8s.io/v1`.
    public var apiVersion: String? { raw["apiVersion"]?.stringValue }
    /// `kind`, e.g. `Lease`.
    public var kind: String? { raw["kind"]?.stringValue }

    /// The object's metadata (a view; setting writes it back).
    public var metadata: ObjectMeta {
        get { ObjectMeta(raw: raw["metadata"] ?? .object([:])) }
        set { raw["metadata"] = newValue.raw }
    }

    /// `metadata.name` (empty when unset).
    public var name: String { metadata.name ?? "" }
    /// `metadata.namespace` (`nil` for cluster-scoped objects).
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
            if let s = v.stringValue, let d = Base64.decode(s) { out[k] = d }
        }
        return out
    }

    mutating func setOptional(_ key: String, _ value: JSON?) {
        if let value { self[key] = value } else if self[key] != nil { self[key] = nil }
    }
}

/// Kubernetes condition (`type`, `status`, `reason`, `message`, `lastTransitionTime`, ...).
public struct Condition: Sendable, Hashable {
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// A new condition; the transition time is written as a Kubernetes `Time` (whole seconds).
    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: Date? = nil) {
        var raw: JSON = ["type": .string(type), "status": .string(status)]
        if let reason { raw["reason"] = .string(reason) }
        if let message { raw["message"] = .string(message) }
        if let lastTransitionTime { raw["lastTransitionTime"] = .string(KubeTime.format(lastTransitionTime)) }
        self.raw = raw
    }

    /// The condition's `type`, e.g. `Ready`.
    public var type: String { raw["type"]?.stringValue ?? "" }
    /// `True`, `False` or `Unknown`.
    public var status: String { raw["status"]?.stringValue ?? "" }
    /// Whether `status` is `True`.
    public var isTrue: Bool { status == "True" }
    /// Machine-readable reason in CamelCase.
    public var reason: String? { raw["reason"]?.stringValue }
    /// Human-readable details.
    public var message: String? { raw["message"]?.stringValue }
    /// When `status` last changed.
    public var lastTransitionTime: Date? { raw["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) }
    /// When the condition was last probed (nodes).
    public var lastHeartbeatTime: Date? { raw["lastHeartbeatTime"]?.stringValue.flatMap(KubeTime.parse) }
}

/// `metadata.ownerReferences[]` entry.
public struct OwnerReference: Sendable, Hashable {
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// A new owner reference; `controller` marks the managing owner.
    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        var raw: JSON = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if let controller { raw["controller"] = .bool(controller) }
        if let blockOwnerDeletion { raw["blockOwnerDeletion"] = .bool(blockOwnerDeletion) }
        self.raw = raw
    }

    /// The owner's `apiVersion`.
    public var apiVersion: String { raw["apiVersion"]?.stringValue ?? "" }
    /// The owner's `kind`.
    public var kind: String { raw["kind"]?.stringValue ?? "" }
    /// The owner's name (same namespace, or cluster-scoped).
    public var name: String { raw["name"]?.stringValue ?? "" }
    /// The owner's UID: a reference to a recreated owner of the same name does not match.
    public var uid: String { raw["uid"]?.stringValue ?? "" }
    /// Whether this owner is the managing controller (at most one per object).
    public var controller: Bool { raw["controller"]?.boolValue ?? false }
    /// Whether foreground deletion of the owner waits for this object.
    public var blockOwnerDeletion: Bool? { raw["blockOwnerDeletion"]?.boolValue }
}

/// View over `metadata`.
public struct ObjectMeta: Sendable, Hashable {
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw`; anything but an object counts as empty metadata.
    public init(raw: JSON) { self.raw = raw.isObject ? raw : .object([:]) }
    /// Empty metadata.
    public init() { self.raw = .object([:]) }

    /// `name`, unique per namespace and kind.
    public var name: String? {
        get { raw["name"]?.stringValue }
        set { raw.setOptional("name", newValue.map(JSON.string)) }
    }
    /// `generateName`: the server appends a random suffix when `name` is empty.
    public var generateName: String? {
        get { raw["generateName"]?.stringValue }
        set { raw.setOptional("generateName", newValue.map(JSON.string)) }
    }
    /// `namespace` (unset for cluster-scoped objects).
    public var namespace: String? {
        get { raw["namespace"]?.stringValue }
        set { raw.setOptional("namespace", newValue.map(JSON.string)) }
    }
    /// `uid`, assigned by the server at creation.
    public var uid: String? { raw["uid"]?.stringValue }
    /// `resourceVersion`, the optimistic-concurrency token (send it back on update).
    public var resourceVersion: String? {
        get { raw["resourceVersion"]?.stringValue }
        set { raw.setOptional("resourceVersion", newValue.map(JSON.string)) }
    }
    /// `metadata.generation` (0 when absent, as for built-in kinds).
    public var generation: Int { raw["generation"]?.intValue ?? 0 }
    /// When the server stored the object.
    public var creationTimestamp: Date? { raw["creationTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    /// When deletion was requested (finalizers still hold the object).
    public var deletionTimestamp: Date? { raw["deletionTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    /// Whether deletion has started (finalizers are holding the object).
    public var isBeingDeleted: Bool { raw["deletionTimestamp"].map { !$0.isNull } ?? false }

    /// `labels` (selectable key/value pairs).
    public var labels: [String: String] {
        get { raw.stringMap("labels") }
        set { raw.setStringMap("labels", newValue) }
    }
    /// `annotations` (non-selectable key/value pairs).
    public var annotations: [String: String] {
        get { raw.stringMap("annotations") }
        set { raw.setStringMap("annotations", newValue) }
    }
    /// `finalizers`: keys that must be removed before the object goes away.
    public var finalizers: [String] {
        get { raw["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { raw.setOptional("finalizers", newValue.isEmpty ? nil : .array(newValue.map(JSON.string))) }
    }
    /// `ownerReferences`: the objects this one is garbage-collected with.
    public var ownerReferences: [OwnerReference] {
        get { raw["ownerReferences"]?.arrayValue?.map(OwnerReference.init(raw:)) ?? [] }
        set { raw.setOptional("ownerReferences", newValue.isEmpty ? nil : .array(newValue.map(\.raw))) }
    }

    /// Whether `finalizer` is set.
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

/// Core `v1` Namespace.
public struct Namespace: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.namespaces
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }
    /// `status.phase`: `Active` or `Terminating`.
    public var phase: String? { raw[path: "status", "phase"]?.stringValue }
}

/// Core `v1` Secret; `data` is base64 on the wire and decoded here (the one place that decodes Secret data).
public struct Secret: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.secrets
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// `type`, e.g. `Opaque`.
    public var type: String? {
        get { raw["type"]?.stringValue }
        set { raw.setOptional("type", newValue.map(JSON.string)) }
    }
    /// `immutable`: the data can no longer change once set.
    public var immutable: Bool? {
        get { raw["immutable"]?.boolValue }
        set { raw.setOptional("immutable", newValue.map(JSON.bool)) }
    }
    /// `data`, base64-decoded. Values that are not valid base64 are skipped.
    public var data: [String: [UInt8]] {
        get { raw.base64Map("data") }
        set {
            var object = JSONObject()
            for k in newValue.keys.sorted() { object[k] = .string(Base64.encode(newValue[k] ?? [])) }
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

/// Core `v1` ConfigMap.
public struct ConfigMap: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.configMaps
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// `data`: text values by key.
    public var data: [String: String] {
        get { raw.stringMap("data") }
        set { raw.setStringMap("data", newValue) }
    }
    /// `binaryData`, base64-decoded; values that are not valid base64 are skipped.
    public var binaryData: [String: [UInt8]] { raw.base64Map("binaryData") }
    /// `immutable`: the data can no longer change once set.
    public var immutable: Bool? { raw["immutable"]?.boolValue }
}

/// Core `v1` Event.
public struct Event: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.events
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// `involvedObject` (kind, namespace, name, uid, apiVersion, resourceVersion, fieldPath).
    public var involvedObject: JSON {
        get { raw["involvedObject"] ?? .object([:]) }
        set { raw["involvedObject"] = newValue }
    }
    /// Machine-readable reason in CamelCase, e.g. `Reconciled`.
    public var reason: String? {
        get { raw["reason"]?.stringValue }
        set { raw.setOptional("reason", newValue.map(JSON.string)) }
    }
    /// Human-readable description of what happened.
    public var message: String? {
        get { raw["message"]?.stringValue }
        set { raw.setOptional("message", newValue.map(JSON.string)) }
    }
    /// `Normal` or `Warning`.
    public var type: String? {
        get { raw["type"]?.stringValue }
        set { raw.setOptional("type", newValue.map(JSON.string)) }
    }
    /// How often the event occurred (repeats are aggregated into one object).
    public var count: Int {
        get { raw["count"]?.intValue ?? 0 }
        set { raw["count"] = .int(Int64(newValue)) }
    }
    /// `source.component`.
    public var sourceComponent: String? { raw[path: "source", "component"]?.stringValue }
    /// When the event first occurred.
    public var firstTimestamp: Date? { raw["firstTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
    /// When the event last occurred.
    public var lastTimestamp: Date? { raw["lastTimestamp"]?.stringValue.flatMap(KubeTime.parse) }
}

/// `coordination.k8s.io/v1` Lease (leader election, Gardener heartbeat).
public struct Lease: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.leases
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// `spec.holderIdentity`: who holds the lease.
    public var holderIdentity: String? {
        get { raw[path: "spec", "holderIdentity"]?.stringValue }
        set { setSpec("holderIdentity", newValue.map(JSON.string)) }
    }
    /// `spec.leaseDurationSeconds`: how long a holder may go without renewing.
    public var leaseDurationSeconds: Int? {
        get { raw[path: "spec", "leaseDurationSeconds"]?.intValue }
        set { setSpec("leaseDurationSeconds", newValue.map { .int(Int64($0)) }) }
    }
    /// MicroTime (six fractional digits on the wire).
    public var acquireTime: Date? {
        get { raw[path: "spec", "acquireTime"]?.stringValue.flatMap(KubeTime.parse) }
        set { setSpec("acquireTime", newValue.map { .string(KubeTime.formatMicro($0)) }) }
    }
    /// `spec.renewTime`, a MicroTime (six fractional digits on the wire).
    public var renewTime: Date? {
        get { raw[path: "spec", "renewTime"]?.stringValue.flatMap(KubeTime.parse) }
        set { setSpec("renewTime", newValue.map { .string(KubeTime.formatMicro($0)) }) }
    }
    /// `spec.leaseTransitions`: how often the holder changed.
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

/// Core `v1` Node.
public struct Node: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.nodes
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    /// `status.conditions` (`Ready`, `MemoryPressure`, ...).
    public var conditions: [Condition] { raw[path: "status", "conditions"]?.arrayValue?.map(Condition.init(raw:)) ?? [] }
    /// The condition of `type`, if reported.
    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }
    /// `status.addresses` as (type, address) pairs.
    public var addresses: [(type: String, address: String)] {
        raw[path: "status", "addresses"]?.arrayValue?.compactMap { a in
            guard let t = a["type"]?.stringValue, let addr = a["address"]?.stringValue else { return nil }
            return (t, addr)
        } ?? []
    }
    /// `spec.podCIDRs`: the pod ranges assigned to the node.
    public var podCIDRs: [String] { raw[path: "spec", "podCIDRs"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// `apps/v1` DaemonSet, decoded for rollout status.
public struct DaemonSet: KubeObjectView {
    /// Where these objects live.
    public static let resource = Resource.daemonSets
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }

    private func status(_ key: String) -> Int { raw[path: "status", key]?.intValue ?? 0 }
    /// `status.desiredNumberScheduled`: nodes that should run a pod.
    public var desiredNumberScheduled: Int { status("desiredNumberScheduled") }
    /// `status.currentNumberScheduled`: nodes running a pod.
    public var currentNumberScheduled: Int { status("currentNumberScheduled") }
    /// `status.updatedNumberScheduled`: nodes running a pod of the current template.
    public var updatedNumberScheduled: Int { status("updatedNumberScheduled") }
    /// `status.numberReady`: nodes with a ready pod.
    public var numberReady: Int { status("numberReady") }
    /// `status.numberAvailable`: nodes with a pod available for `minReadySeconds`.
    public var numberAvailable: Int { status("numberAvailable") }
    /// `status.numberUnavailable`: nodes that should run an available pod but do not.
    public var numberUnavailable: Int { status("numberUnavailable") }
    /// `status.numberMisscheduled`: nodes running a pod they should not.
    public var numberMisscheduled: Int { status("numberMisscheduled") }
    /// `status.observedGeneration`: the generation the controller last acted on.
    public var observedGeneration: Int { status("observedGeneration") }
    /// `status.conditions`.
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
    /// The complete object, including fields this view does not model.
    public var raw: JSON
    /// A view over `raw` (not validated).
    public init(raw: JSON) { self.raw = raw }
    /// The object's metadata (a view; setting writes it back).
    public var metadata: ObjectMeta {
        get { ObjectMeta(raw: raw["metadata"] ?? .object([:])) }
        set { raw["metadata"] = newValue.raw }
    }
}
