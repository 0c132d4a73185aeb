import KubeCore

/// A lenient, typed view of the part of a `core.gardener.cloud/v1beta1` Shoot that the calico
/// extension reads, for validation and rendering.
///
/// "Lenient": unknown fields are ignored and absent objects are nil. A field we read that has
/// the wrong JSON type is still an error (as the Go unmarshaller reports it), so a Shoot whose
/// `spec.networking` is a string does not silently pass validation.
public struct ShootView: Sendable, Hashable {
    /// `spec.kubernetes.kubeProxy`.
    public struct KubeProxy: Sendable, Hashable {
        /// `enabled`; nil when absent (effective default true).
        public var enabled: Bool?
        /// `mode`: `IPTables`, `NFTables` or `IPVS`; nil when absent.
        public var mode: String?
        public init(enabled: Bool? = nil, mode: String? = nil) {
            self.enabled = enabled
            self.mode = mode
        }
    }

    /// `spec.networking`.
    public struct Networking: Sendable, Hashable {
        public var type: String?
        /// The raw provider config object (decode with `NetworkConfig.decode`).
        public var providerConfig: JSON?
        public var pods: String?
        public var nodes: String?
        public var services: String?
        /// nil when absent (Gardener defaults it to `[IPv4]`).
        public var ipFamilies: [String]?
        public init(
            type: String? = nil, providerConfig: JSON? = nil, pods: String? = nil, nodes: String? = nil,
            services: String? = nil, ipFamilies: [String]? = nil
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

    /// A condition / constraint (`status.constraints[]`).
    public struct Condition: Sendable, Hashable {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?
        public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
        }
    }

    /// `status.networking`: CIDRs actually in use.
    public struct StatusNetworking: Sendable, Hashable {
        public var nodes: [String]
        public var pods: [String]
        public var services: [String]
        public var egressCIDRs: [String]
        public init(nodes: [String] = [], pods: [String] = [], services: [String] = [], egressCIDRs: [String] = []) {
            self.nodes = nodes
            self.pods = pods
            self.services = services
            self.egressCIDRs = egressCIDRs
        }
    }

    public var name: String?
    public var namespace: String?
    public var labels: [String: String]
    public var annotations: [String: String]

    /// `spec.kubernetes.version`.
    public var kubernetesVersion: String?
    /// `spec.kubernetes.kubeProxy`; nil when the object is absent.
    public var kubeProxy: KubeProxy?
    /// `spec.kubernetes.kubeAPIServer.featureGates`.
    public var kubeAPIServerFeatureGates: [String: Bool]
    /// `spec.kubernetes.kubeAPIServer.runtimeConfig`.
    public var kubeAPIServerRuntimeConfig: [String: Bool]
    /// `spec.kubernetes.verticalPodAutoscaler` present with `enabled: true`.
    public var vpaEnabled: Bool
    /// `spec.networking`; nil when absent.
    public var networking: Networking?
    /// Number of entries of `spec.provider.workers` (0 → workerless).
    public var workerCount: Int
    /// `spec.hibernation.enabled == true`.
    public var hibernationEnabled: Bool
    /// `status.hibernated == true`.
    public var statusHibernated: Bool
    public var statusNetworking: StatusNetworking?
    public var constraints: [Condition]
    /// `status.lastOperation.type` / `.state`.
    public var lastOperationType: String?
    public var lastOperationState: String?
    /// `status.technicalID`.
    public var technicalID: String?

    public init() {
        name = nil
        namespace = nil
        labels = [:]
        annotations = [:]
        kubernetesVersion = nil
        kubeProxy = nil
        kubeAPIServerFeatureGates = [:]
        kubeAPIServerRuntimeConfig = [:]
        vpaEnabled = false
        networking = nil
        workerCount = 0
        hibernationEnabled = false
        statusHibernated = false
        statusNetworking = nil
        constraints = []
        lastOperationType = nil
        lastOperationState = nil
        technicalID = nil
    }

    /// No workers in `spec.provider.workers`.
    public var isWorkerless: Bool { workerCount == 0 }
    /// `status.lastOperation.state == "Failed"`.
    public var isFailed: Bool { lastOperationState == "Failed" }
    /// Hibernation requested and reached.
    public var isHibernated: Bool { hibernationEnabled && statusHibernated }
    /// Hibernation wish differs from the status.
    public var isHibernatingOrWakingUp: Bool { hibernationEnabled != statusHibernated }
    /// `status.lastOperation` absent or of type `Create`.
    public var isCreationInProcess: Bool { lastOperationType == nil || lastOperationType == "Create" }
    /// `confirmation.gardener.cloud/force-deletion` parsed as a Go boolean.
    public var forceDeletion: Bool {
        ["1", "t", "T", "true", "TRUE", "True"].contains(annotations["confirmation.gardener.cloud/force-deletion"] ?? "")
    }
    /// kube-proxy enabled: `kubeProxy.enabled` if set, else true.
    public var kubeProxyEnabled: Bool { kubeProxy?.enabled ?? true }
    /// A constraint by type.
    public func constraint(_ type: String) -> Condition? { constraints.first { $0.type == type } }
    /// `spec.networking.pods` followed by `status.networking.pods` entries not already listed.
    public var podNetworks: [String] { Self.merge(networking?.pods, statusNetworking?.pods ?? []) }
    /// `spec.networking.services` followed by `status.networking.services` entries not already listed.
    public var serviceNetworks: [String] { Self.merge(networking?.services, statusNetworking?.services ?? []) }
    /// `spec.networking.nodes` followed by `status.networking.nodes` entries not already listed.
    public var nodeNetworks: [String] { Self.merge(networking?.nodes, statusNetworking?.nodes ?? []) }

    private static func merge(_ first: String?, _ rest: [String]) -> [String] {
        var out: [String] = first.map { [$0] } ?? []
        for r in rest where !out.contains(r) { out.append(r) }
        return out
    }

    /// Decodes the view from a Shoot object. Throws when the Shoot is not an object or a read
    /// field has the wrong JSON type (paths as in the Shoot, e.g. `spec.networking.type`).
    public static func decode(_ json: JSON) throws(FieldErrorList) -> ShootView {
        var r = LenientReader()
        guard case .object(let root) = json else {
            throw FieldErrorList([.decode("", "json: cannot unmarshal \(StrictDecoder.goJSONType(json)) into Go value of type core.Shoot")])
        }
        var v = ShootView()
        if let meta = r.object(root["metadata"], "metadata") {
            v.name = r.string(meta["name"], "metadata.name")
            v.namespace = r.string(meta["namespace"], "metadata.namespace")
            v.labels = r.stringMap(meta["labels"], "metadata.labels")
            v.annotations = r.stringMap(meta["annotations"], "metadata.annotations")
        }
        let spec = r.object(root["spec"], "spec")
        if let k = r.object(spec?["kubernetes"], "spec.kubernetes") {
            v.kubernetesVersion = r.string(k["version"], "spec.kubernetes.version")
            if let kp = r.object(k["kubeProxy"], "spec.kubernetes.kubeProxy") {
                v.kubeProxy = KubeProxy(
                    enabled: r.bool(kp["enabled"], "spec.kubernetes.kubeProxy.enabled"),
                    mode: r.string(kp["mode"], "spec.kubernetes.kubeProxy.mode"))
            }
            if let api = r.object(k["kubeAPIServer"], "spec.kubernetes.kubeAPIServer") {
                v.kubeAPIServerFeatureGates = r.boolMap(api["featureGates"], "spec.kubernetes.kubeAPIServer.featureGates")
                v.kubeAPIServerRuntimeConfig = r.boolMap(api["runtimeConfig"], "spec.kubernetes.kubeAPIServer.runtimeConfig")
            }
            if let vpa = r.object(k["verticalPodAutoscaler"], "spec.kubernetes.verticalPodAutoscaler") {
                v.vpaEnabled = r.bool(vpa["enabled"], "spec.kubernetes.verticalPodAutoscaler.enabled") ?? false
            }
        }
        if let n = r.object(spec?["networking"], "spec.networking") {
            var net = Networking()
            net.type = r.string(n["type"], "spec.networking.type")
            if let pc = n["providerConfig"], !pc.isNull { net.providerConfig = pc }
            net.pods = r.string(n["pods"], "spec.networking.pods")
            net.nodes = r.string(n["nodes"], "spec.networking.nodes")
            net.services = r.string(n["services"], "spec.networking.services")
            net.ipFamilies = r.stringList(n["ipFamilies"], "spec.networking.ipFamilies")
            v.networking = net
        }
        if let p = r.object(spec?["provider"], "spec.provider") {
            if let w = p["workers"], !w.isNull {
                if case .array(let a) = w { v.workerCount = a.count } else { r.typeError("spec.provider.workers", w, "[]core.Worker") }
            }
        }
        if let h = r.object(spec?["hibernation"], "spec.hibernation") {
            v.hibernationEnabled = r.bool(h["enabled"], "spec.hibernation.enabled") ?? false
        }
        if let status = r.object(root["status"], "status") {
            v.statusHibernated = r.bool(status["hibernated"], "status.hibernated") ?? false
            v.technicalID = r.string(status["technicalID"], "status.technicalID")
            if let sn = r.object(status["networking"], "status.networking") {
                v.statusNetworking = StatusNetworking(
                    nodes: r.stringList(sn["nodes"], "status.networking.nodes") ?? [],
                    pods: r.stringList(sn["pods"], "status.networking.pods") ?? [],
                    services: r.stringList(sn["services"], "status.networking.services") ?? [],
                    egressCIDRs: r.stringList(sn["egressCIDRs"], "status.networking.egressCIDRs") ?? [])
            }
            if let cs = status["constraints"], !cs.isNull {
                if case .array(let a) = cs {
                    for (i, c) in a.enumerated() {
                        let p = "status.constraints[\(i)]"
                        guard let co = r.object(c, p) else { continue }
                        v.constraints.append(
                            Condition(
                                type: r.string(co["type"], p + ".type") ?? "",
                                status: r.string(co["status"], p + ".status") ?? "",
                                reason: r.string(co["reason"], p + ".reason"),
                                message: r.string(co["message"], p + ".message")))
                    }
                } else {
                    r.typeError("status.constraints", cs, "[]core.Condition")
                }
            }
            if let lo = r.object(status["lastOperation"], "status.lastOperation") {
                v.lastOperationType = r.string(lo["type"], "status.lastOperation.type")
                v.lastOperationState = r.string(lo["state"], "status.lastOperation.state")
            }
        }
        if !r.errors.isEmpty { throw FieldErrorList(r.errors) }
        return v
    }
}

/// Reads fields without complaining about unknown ones; wrong types are recorded.
struct LenientReader {
    var errors: [FieldError] = []

    mutating func typeError(_ path: String, _ value: JSON, _ goType: String) {
        errors.append(
            .decode(FieldPath(path), "json: cannot unmarshal \(StrictDecoder.goJSONType(value)) into Go struct field Shoot.\(path) of type \(goType)")
        )
    }
    mutating func object(_ value: JSON?, _ path: String) -> JSONObject? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let o) = value else {
            typeError(path, value, "object")
            return nil
        }
        return o
    }
    mutating func string(_ value: JSON?, _ path: String) -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let s) = value else {
            typeError(path, value, "string")
            return nil
        }
        return s
    }
    mutating func bool(_ value: JSON?, _ path: String) -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard case .bool(let b) = value else {
            typeError(path, value, "bool")
            return nil
        }
        return b
    }
    mutating func stringList(_ value: JSON?, _ path: String) -> [String]? {
        guard let value, !value.isNull else { return nil }
        guard case .array(let a) = value else {
            typeError(path, value, "[]string")
            return nil
        }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            if let s = string(e, path + "[\(i)]") { out.append(s) }
        }
        return out
    }
    mutating func stringMap(_ value: JSON?, _ path: String) -> [String: String] {
        guard let o = object(value, path) else { return [:] }
        var out: [String: String] = [:]
        for (k, e) in o { if let s = string(e, path + "." + k) { out[k] = s } }
        return out
    }
    mutating func boolMap(_ value: JSON?, _ path: String) -> [String: Bool] {
        guard let o = object(value, path) else { return [:] }
        var out: [String: Bool] = [:]
        for (k, e) in o { if let b = bool(e, path + "." + k) { out[k] = b } }
        return out
    }
}
