import KubeClient
import KubeCore

extension Resource {
    /// `networks.extensions.gardener.cloud/v1alpha1` (namespaced).
    public static let networks = Resource(
        group: "extensions.gardener.cloud", version: "v1alpha1", plural: "networks", kind: "Network", namespaced: true)
    /// `clusters.extensions.gardener.cloud/v1alpha1` (cluster-scoped).
    public static let clusters = Resource(
        group: "extensions.gardener.cloud", version: "v1alpha1", plural: "clusters", kind: "Cluster", namespaced: false)
    /// `managedresources.resources.gardener.cloud/v1alpha1` (namespaced).
    public static let managedResources = Resource(
        group: "resources.gardener.cloud", version: "v1alpha1", plural: "managedresources", kind: "ManagedResource",
        namespaced: true)
}

/// `extensions.gardener.cloud/v1alpha1` Network (typed view over the raw object).
public struct Network: KubeObjectView {
    /// The API resource of Networks.
    public static let resource = Resource.networks
    /// The object as read from the API server.
    public var raw: JSON
    /// A view over `raw`.
    public init(raw: JSON) { self.raw = raw }

    /// `spec.type` (e.g. `calico`).
    public var type: String? { raw[path: "spec", "type"]?.stringValue }
    /// `spec.class`; absent means `shoot`.
    public var extensionClass: String? { raw[path: "spec", "class"]?.stringValue }
    /// `spec.podCIDR`, if set.
    public var podCIDR: String? { raw[path: "spec", "podCIDR"]?.stringValue }
    /// `spec.serviceCIDR`, if set.
    public var serviceCIDR: String? { raw[path: "spec", "serviceCIDR"]?.stringValue }
    /// `spec.ipFamilies` (`IPv4` / `IPv6`, order matters).
    public var ipFamilies: [String] { raw[path: "spec", "ipFamilies"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    /// `spec.providerConfig` (raw).
    public var providerConfig: JSON? {
        guard let p = raw[path: "spec", "providerConfig"], !p.isNull else { return nil }
        return p
    }
    /// `status` (raw; an empty object when absent).
    public var status: JSON { raw["status"] ?? .emptyObject }
    /// `status.lastOperation` (raw).
    public var lastOperation: JSON? { raw[path: "status", "lastOperation"].flatMap { $0.isNull ? nil : $0 } }
    /// `status.lastError` (raw).
    public var lastError: JSON? { raw[path: "status", "lastError"].flatMap { $0.isNull ? nil : $0 } }
    /// `status.observedGeneration`.
    public var observedGeneration: Int? { raw[path: "status", "observedGeneration"]?.intValue }
    /// `status.ipFamilies`.
    public var statusIPFamilies: [String] {
        raw[path: "status", "ipFamilies"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// `extensions.gardener.cloud/v1alpha1` Cluster: the shoot's context with embedded raw
/// Shoot, Seed and CloudProfile.
public struct Cluster: KubeObjectView {
    /// The API resource of Clusters.
    public static let resource = Resource.clusters
    /// The object as read from the API server.
    public var raw: JSON
    /// A view over `raw`.
    public init(raw: JSON) { self.raw = raw }

    private func embedded(_ key: String) -> JSON? {
        guard let v = raw[path: "spec", key], case .object(let o) = v, !o.isEmpty else { return nil }
        return v
    }

    /// `spec.shoot` as the typed Shoot view (nil when absent or empty).
    public var shoot: Shoot? { embedded("shoot").map(Shoot.init(raw:)) }
    /// `spec.seed` (raw; nil for self-hosted shoots).
    public var seed: JSON? { embedded("seed") }
    /// `spec.cloudProfile` (raw).
    public var cloudProfile: JSON? { embedded("cloudProfile") }
    /// Name of the generic token kubeconfig secret.
    public var genericTokenKubeconfigSecretName: String {
        metadata.annotations[GardenerConstants.genericTokenKubeconfigAnnotation]
            ?? GardenerConstants.genericTokenKubeconfigDefault
    }

    /// Checks the embedded objects decode (objects with `apiVersion`/`kind` when present).
    public func validateEmbedded() throws(ClusterDecodingError) {
        for key in ["shoot", "seed", "cloudProfile"] {
            guard let v = raw[path: "spec", key], !v.isNull else { continue }
            guard case .object = v else {
                throw ClusterDecodingError(message: "could not decode \(key) of cluster \(name): expected an object, got \(v.typeName)")
            }
        }
    }
}

/// An embedded object of a Cluster has the wrong shape.
public struct ClusterDecodingError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, with the field path.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// `resources.gardener.cloud/v1alpha1` ManagedResource.
public struct ManagedResource: KubeObjectView {
    /// The API resource of ManagedResources.
    public static let resource = Resource.managedResources
    /// The object as read from the API server.
    public var raw: JSON
    /// A view over `raw`.
    public init(raw: JSON) { self.raw = raw }

    /// `spec.class` (nil = the shoot's resource manager).
    public var resourceClass: String? { raw[path: "spec", "class"]?.stringValue }
    /// Names in `spec.secretRefs`.
    public var secretRefs: [String] {
        raw[path: "spec", "secretRefs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }
    /// `spec.keepObjects` (default false).
    public var keepObjects: Bool { raw[path: "spec", "keepObjects"]?.boolValue ?? false }
    /// `status.conditions` (raw).
    public var conditions: [JSON] { raw[path: "status", "conditions"]?.arrayValue ?? [] }
    /// The condition of `type`, if present.
    public func condition(_ type: String) -> JSON? { conditions.first { $0["type"]?.stringValue == type } }
}
