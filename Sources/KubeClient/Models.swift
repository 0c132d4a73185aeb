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
        get {
            var out: [String: [UInt8]] = [:]
            for (k, v) in raw["data"]?.objectValue ?? [:] {
                if let s = v.stringValue, let d = Data(base64Encoded: s) { out[k] = [UInt8](d) }
            }
            return out
        }
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
    public var binaryData: [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (k, v) in raw["binaryData"]?.objectValue ?? [:] {
            if let s = v.stringValue, let d = Data(base64Encoded: s) { out[k] = [UInt8](d) }
        }
        return out
    }
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

// MARK: - Time

/// Kubernetes time formats: `Time` (RFC 3339, UTC, seconds) and `MicroTime` (six fractional digits).
public enum KubeTime {
    /// `2025-01-31T12:00:00Z`.
    public static func format(_ date: Date) -> String {
        let (y, mo, d, h, mi, s, _) = components(date)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        writeDateTime(y, mo, d, h, mi, s, to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `2025-01-31T12:00:00.123456Z`.
    public static func formatMicro(_ date: Date) -> String {
        let (y, mo, d, h, mi, s, micros) = components(date)
        var out: [UInt8] = []
        out.reserveCapacity(27)
        writeDateTime(y, mo, d, h, mi, s, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(micros, width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    // Written by hand: `String(format:)` goes through Foundation's formatter on every status write.
    private static func writeDateTime(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, to out: inout [UInt8]) {
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(mo, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(h, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(mi, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(s, width: 2, to: &out)
    }

    /// Zero-padded decimal of a non-negative value (wider values keep all their digits, as `%0Nd`).
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        let digits = Array(String(max(0, value)).utf8)
        if digits.count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        out.append(contentsOf: digits)
    }

    /// Parses any RFC 3339 timestamp (fractions and offsets allowed); `nil` if malformed.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
            let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let seconds = Double(days * 86400 + h * 3600 + mi * 60 + s - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    static func components(_ date: Date) -> (Int, Int, Int, Int, Int, Int, Int) {
        let t = date.timeIntervalSince1970
        var secs = Int(t.rounded(.down))
        var micros = Int(((t - Double(secs)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            secs += 1
            micros -= 1_000_000
        }
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 {
            rem += 86400
            days -= 1
        }
        let (y, m, d) = civilFromDays(days)
        return (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60, micros)
    }

    // Howard Hinnant's civil-date algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
