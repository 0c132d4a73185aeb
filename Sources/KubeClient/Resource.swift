import KubeCore

/// Describes one REST resource of the Kubernetes API: where its objects live and what they are.
///
/// The value is all a client needs to build URLs: core
/// resources (`group == ""`) live under `/api/v1`, grouped ones under `/apis/<group>/<version>`;
/// namespaced resources add `/namespaces/<ns>` unless listed across all namespaces.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    /// API group, `""` for the core group.
    public var group: String
    /// API version, e.g. `v1`.
    public var version: String
    /// Lower-case plural used in URLs, e.g. `configmaps`.
    public var plural: String
    /// The object kind, e.g. `ConfigMap`.
    public var kind: String
    /// Whether objects live inside a namespace.
    public var namespaced: Bool

    /// A resource by group, version, plural and kind; `namespaced` picks the URL layout.
    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` for core, `<group>/<version>` otherwise — the `apiVersion` of the objects.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `configmaps` for core, `networks.extensions.gardener.cloud` for grouped resources
    /// (the form the API server uses in its messages).
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// `<plural>.<group>/<version>`, e.g. `leases.coordination.k8s.io/v1`.
    public var description: String { "\(qualifiedName)/\(version)" }

    /// `/api/v1` or `/apis/<group>/<version>`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// Collection path. For namespaced resources a `nil` namespace means "all namespaces"
    /// (valid for list and watch only); for cluster-scoped resources the namespace is ignored.
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace {
            return "\(groupVersionPath)/namespaces/\(Self.escape(namespace))/\(plural)"
        }
        return "\(groupVersionPath)/\(plural)"
    }

    /// Object path, optionally with a subresource such as `status`.
    public func objectPath(namespace: String?, name: String, subresource: String? = nil) -> String {
        var path = "\(collectionPath(namespace: namespace))/\(Self.escape(name))"
        if let subresource, !subresource.isEmpty { path += "/\(subresource)" }
        return path
    }

    /// Percent-encodes a path segment (names are DNS names in practice, but a stray character
    /// must not change the URL structure).
    static func escape(_ segment: String) -> String {
        var out = ""
        out.reserveCapacity(segment.utf8.count)
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + hex(byte)
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}

extension Resource {
    /// Core `v1` Namespaces (cluster-scoped).
    public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    /// Core `v1` Secrets.
    public static let secrets = Resource(group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true)
    /// Core `v1` ConfigMaps.
    public static let configMaps = Resource(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    /// Core `v1` ServiceAccounts.
    public static let serviceAccounts = Resource(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true)
    /// Core `v1` Services.
    public static let services = Resource(group: "", version: "v1", plural: "services", kind: "Service", namespaced: true)
    /// Core `v1` Nodes (cluster-scoped).
    public static let nodes = Resource(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false)
    /// Core `v1` Pods.
    public static let pods = Resource(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    /// Core `v1` Events (`involvedObject`, `reason`, `message`, ...).
    public static let events = Resource(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)
    /// `events.k8s.io/v1` Events (`regarding`, `note`, ...).
    public static let eventsV1 = Resource(group: "events.k8s.io", version: "v1", plural: "events", kind: "Event", namespaced: true)
    /// `coordination.k8s.io/v1` Leases (leader election, heartbeats).
    public static let leases = Resource(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    /// `apps/v1` DaemonSets.
    public static let daemonSets = Resource(group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true)
    /// `apps/v1` Deployments.
    public static let deployments = Resource(group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true)
    /// `apiextensions.k8s.io/v1` CustomResourceDefinitions (cluster-scoped).
    public static let customResourceDefinitions = Resource(
        group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false)
    /// `admissionregistration.k8s.io/v1` ValidatingWebhookConfigurations (cluster-scoped).
    public static let validatingWebhookConfigurations = Resource(
        group: "admissionregistration.k8s.io", version: "v1", plural: "validatingwebhookconfigurations", kind: "ValidatingWebhookConfiguration",
        namespaced: false)
    /// `admissionregistration.k8s.io/v1` MutatingWebhookConfigurations (cluster-scoped).
    public static let mutatingWebhookConfigurations = Resource(
        group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration",
        namespaced: false)
}
