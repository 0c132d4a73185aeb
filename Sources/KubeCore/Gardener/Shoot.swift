/// A typed, read-only view of a `core.gardener.cloud/v1beta1` Shoot: the one model of a Shoot
/// for the controller (the Cluster's embedded shoot), the webhook and the renderer.
///
/// Lenient: absent fields and fields of the wrong JSON type read as nil (or the Go zero
/// value); the webhook checks the types first where Go's decoder would reject them.
public struct Shoot: Sendable, Hashable {
    /// `spec.kubernetes.kubeProxy`.
    public struct KubeProxy: Sendable, Hashable {
        /// `enabled`; nil when absent (the effective default is true).
        public var enabled: Bool?
        /// `mode`: `IPTables`, `NFTables` or `IPVS`; nil when absent.
        public var mode: String?

        /// A kube-proxy setting from its fields.
        public init(enabled: Bool? = nil, mode: String? = nil) {
            self.enabled = enabled
            self.mode = mode
        }
    }

    /// `spec.networking`.
    public struct Networking: Sendable, Hashable {
        /// `type`, the networking extension (e.g. `calico`).
        public var type: String?
        /// `providerConfig`, raw (the networking extension decodes it); nil when absent or null.
        public var providerConfig: JSON?
        /// `pods`, the pod CIDR.
        public var pods: String?
        /// `nodes`, the node CIDR.
        public var nodes: String?
        /// `services`, the service CIDR.
        public var services: String?
        /// `ipFamilies` as written; nil when absent (Gardener defaults it to `[IPv4]`).
        public var ipFamilies: [String]?

        /// A networking section from its fields.
        public init(
            type: String? = nil, providerConfig: JSON? = nil, pods: String? = nil, nodes: String? = nil, services: String? = nil,
            ipFamilies: [String]? = nil
        ) {
            self.type = type
            self.providerConfig = providerConfig
            self.pods = pods
            self.nodes = nodes
            self.services = services
            self.ipFamilies = ipFamilies
        }

        /// `ipFamilies`, or `[IPv4]` when absent or empty.
        public var effectiveIPFamilies: [String] {
            guard let ipFamilies, !ipFamilies.isEmpty else { return ["IPv4"] }
            return ipFamilies
        }
    }

    /// `status.networking`: the CIDRs actually in use.
    public struct StatusNetworking: Sendable, Hashable {
        /// `nodes`.
        public var nodes: [String]
        /// `pods`.
        public var pods: [String]
        /// `services`.
        public var services: [String]
        /// `egressCIDRs`.
        public var egressCIDRs: [String]
    }

    /// An entry of `status.constraints` (missing strings read as empty).
    public struct Condition: Sendable, Hashable {
        /// `type`.
        public var type: String
        /// `status`: `True`, `False` or `Unknown`.
        public var status: String
        /// `reason`.
        public var reason: String?
        /// `message`.
        public var message: String?
    }

    /// The Shoot object.
    public var raw: JSON

    /// A view of a Shoot object.
    public init(raw: JSON) { self.raw = raw }

    private func string(_ keys: String...) -> String? { raw[path: keys]?.stringValue }
    private func bool(_ keys: String...) -> Bool? { raw[path: keys]?.boolValue }
    private func object(_ keys: String...) -> JSON? {
        // An explicit guard: in a ternary `nil` would become JSON's null literal.
        guard let value = raw[path: keys], value.isObject else { return nil }
        return value
    }
    private func strings(_ value: JSON?) -> [String]? { value?.arrayValue?.compactMap(\.stringValue) }
    private func stringMap(_ keys: String...) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in raw[path: keys]?.objectValue ?? [:] { if let s = v.stringValue { out[k] = s } }
        return out
    }

    // MARK: Metadata

    /// `metadata.name`.
    public var name: String? { string("metadata", "name") }
    /// `metadata.namespace` (the project namespace).
    public var namespace: String? { string("metadata", "namespace") }
    /// `metadata.labels` (string values only).
    public var labels: [String: String] { stringMap("metadata", "labels") }
    /// `metadata.annotations` (string values only).
    public var annotations: [String: String] { stringMap("metadata", "annotations") }
    /// The annotation that asks Gardener to force-delete a shoot.
    public static let forceDeletionAnnotation = "confirmation.gardener.cloud/force-deletion"
    /// `confirmation.gardener.cloud/force-deletion` set to a Go boolean true.
    public var needsForceDeletion: Bool {
        annotations[Self.forceDeletionAnnotation].flatMap(parseGoBool) ?? false
    }

    // MARK: Spec

    /// `spec.provider.type` (the infrastructure provider).
    public var providerType: String? { string("spec", "provider", "type") }
    /// The number of entries of `spec.provider.workers`.
    public var workerCount: Int { raw[path: "spec", "provider", "workers"]?.arrayValue?.count ?? 0 }
    /// No workers: the shoot has no nodes and hence no pod network.
    public var isWorkerless: Bool { workerCount == 0 }
    /// `spec.kubernetes.version`.
    public var kubernetesVersion: String? { string("spec", "kubernetes", "version") }
    /// `spec.kubernetes.kubeProxy`; nil when absent.
    public var kubeProxy: KubeProxy? {
        guard let kp = object("spec", "kubernetes", "kubeProxy") else { return nil }
        return KubeProxy(enabled: kp["enabled"]?.boolValue, mode: kp["mode"]?.stringValue)
    }
    /// Whether kube-proxy runs: `kubeProxy.enabled` when set, else true.
    public var kubeProxyEnabled: Bool { kubeProxy?.enabled ?? true }
    /// `spec.kubernetes.kubeAPIServer.featureGates[name]`.
    public func kubeAPIServerFeatureGate(_ name: String) -> Bool? { bool("spec", "kubernetes", "kubeAPIServer", "featureGates", name) }
    /// `spec.kubernetes.kubeAPIServer.runtimeConfig[key]`.
    public func kubeAPIServerRuntimeConfig(_ key: String) -> Bool? { bool("spec", "kubernetes", "kubeAPIServer", "runtimeConfig", key) }
    /// `spec.kubernetes.verticalPodAutoscaler.enabled == true`.
    public var wantsVerticalPodAutoscaler: Bool { bool("spec", "kubernetes", "verticalPodAutoscaler", "enabled") ?? false }
    /// `spec.networking`; nil when absent.
    public var networking: Networking? {
        guard let n = object("spec", "networking") else { return nil }
        return Networking(
            type: n["type"]?.stringValue, providerConfig: n["providerConfig"]?.isNull == false ? n["providerConfig"] : nil,
            pods: n["pods"]?.stringValue, nodes: n["nodes"]?.stringValue, services: n["services"]?.stringValue,
            ipFamilies: strings(n["ipFamilies"]))
    }
    /// `spec.hibernation.enabled == true`.
    public var hibernationEnabled: Bool { bool("spec", "hibernation", "enabled") ?? false }

    // MARK: Status

    /// `status.hibernated == true`.
    public var statusHibernated: Bool { bool("status", "hibernated") ?? false }
    /// Hibernation requested and reached.
    public var isHibernated: Bool { hibernationEnabled && statusHibernated }
    /// Hibernation wish and status differ.
    public var isHibernatingOrWakingUp: Bool { hibernationEnabled != statusHibernated }
    /// `status.technicalID`: the shoot's namespace in the seed.
    public var technicalID: String? { string("status", "technicalID") }
    /// `status.networking`; nil when absent.
    public var statusNetworking: StatusNetworking? {
        guard let sn = object("status", "networking") else { return nil }
        return StatusNetworking(
            nodes: strings(sn["nodes"]) ?? [], pods: strings(sn["pods"]) ?? [], services: strings(sn["services"]) ?? [],
            egressCIDRs: strings(sn["egressCIDRs"]) ?? [])
    }
    /// `status.constraints`.
    public var constraints: [Condition] {
        (raw[path: "status", "constraints"]?.arrayValue ?? []).compactMap { c in
            guard c.isObject else { return nil }
            return Condition(
                type: c["type"]?.stringValue ?? "", status: c["status"]?.stringValue ?? "", reason: c["reason"]?.stringValue,
                message: c["message"]?.stringValue)
        }
    }
    /// The first constraint of `type`.
    public func constraint(_ type: String) -> Condition? { constraints.first { $0.type == type } }
    /// `status.lastOperation.type` (`Create`, `Reconcile`, `Delete`, ...).
    public var lastOperationType: String? { string("status", "lastOperation", "type") }
    /// `status.lastOperation.state` (`Processing`, `Succeeded`, `Failed`, ...).
    public var lastOperationState: String? { string("status", "lastOperation", "state") }
    /// The last operation failed (Gardener stops reconciling extensions of a failed shoot).
    public var isFailed: Bool { lastOperationState == "Failed" }
    /// Being created: no last operation yet, or one of type `Create`.
    public var isCreationInProcess: Bool {
        guard let last = raw[path: "status", "lastOperation"], !last.isNull else { return true }
        return last["type"]?.stringValue == "Create"
    }

    // MARK: Networks of spec and status together

    /// `spec.networking.pods` followed by the `status.networking.pods` entries not already listed.
    public var podNetworks: [String] { Self.merge(networking?.pods, statusNetworking?.pods) }
    /// `spec.networking.services` followed by the `status.networking.services` entries not already listed.
    public var serviceNetworks: [String] { Self.merge(networking?.services, statusNetworking?.services) }
    /// `spec.networking.nodes` followed by the `status.networking.nodes` entries not already listed.
    public var nodeNetworks: [String] { Self.merge(networking?.nodes, statusNetworking?.nodes) }

    private static func merge(_ spec: String?, _ status: [String]?) -> [String] {
        var out: [String] = []
        if let spec, !spec.isEmpty { out.append(spec) }
        for s in status ?? [] where !out.contains(s) { out.append(s) }
        return out
    }
}
