import KubeCore

/// The pure part of the actuator's Reconcile before rendering, shared with the `render` command:
/// everything the chart needs, derived from the Network, the Cluster's Shoot and feature gates.
public struct RenderInput: Sendable, Equatable {
    /// The pre-processed NetworkConfig.
    public var config: EffectiveNetworkConfig
    /// Shoot data for the values computation.
    public var shoot: ShootContext
    /// `status.ipFamilies` for the Network: `IPv4` if the config has `ipv4`, then `IPv6` if it has `ipv6`.
    public var statusIPFamilies: [String]
    /// Whether the shoot's API server offers MutatingAdmissionPolicy; the SeamlessOverlaySwitch guard is active only then.
    public var mutatingAdmissionPolicyAvailable: Bool
    /// Whether the original provider config wants the overlay (before pre-processing; the overlay-switch guard compares it with the deployed state).
    public var desiredOverlayEnabled: Bool
}

/// A read-only view of the Shoot fields the extension reads, taken from the
/// Cluster object's `spec.shoot`. Missing fields are nil; nothing here throws.
struct ShootFields: Sendable {
    /// The embedded Shoot (`.null` when the Cluster has none).
    public var json: JSON
    /// The Shoot embedded in a Cluster object.
    public init(cluster: JSON) { json = cluster[path: "spec", "shoot"] ?? .null }
    /// A Shoot object as it is.
    public init(shoot: JSON) { json = shoot }

    /// `spec.kubernetes.version`.
    public var kubernetesVersion: String? { json[path: "spec", "kubernetes", "version"]?.stringValue }
    /// `spec.kubernetes.kubeProxy` present.
    public var hasKubeProxy: Bool { json[path: "spec", "kubernetes", "kubeProxy"]?.isObject == true }
    /// `spec.kubernetes.kubeProxy.enabled`; nil when unset (kube-proxy then runs).
    public var kubeProxyEnabled: Bool? { json[path: "spec", "kubernetes", "kubeProxy", "enabled"]?.boolValue }
    /// `spec.kubernetes.kubeProxy.mode`.
    public var kubeProxyMode: String? { json[path: "spec", "kubernetes", "kubeProxy", "mode"]?.stringValue }
    /// Whether `spec.kubernetes.verticalPodAutoscaler.enabled` is true.
    public var wantsVPA: Bool { json[path: "spec", "kubernetes", "verticalPodAutoscaler", "enabled"]?.boolValue == true }
    /// Whether `spec.networking` is present.
    public var hasNetworking: Bool { json[path: "spec", "networking"]?.isObject == true }
    /// `spec.networking.nodes`, the node CIDR.
    public var nodesCIDR: String? { json[path: "spec", "networking", "nodes"]?.stringValue }
    /// Whether `status.networking` is present.
    public var hasStatusNetworking: Bool { json[path: "status", "networking"]?.isObject == true }
    /// `status.networking.nodes` (the node CIDRs per family); empty when absent.
    public var statusNodes: [String] { (json[path: "status", "networking", "nodes"]?.arrayValue ?? []).compactMap(\.stringValue) }
    /// `status.networking.pods` (the pod CIDRs per family); nil when absent.
    public var statusPods: [String]? { json[path: "status", "networking", "pods"]?.arrayValue?.compactMap(\.stringValue) }
    /// Status of the `DualStackNodesMigrationReady` constraint, if present.
    public var dualStackMigrationReady: String? {
        for c in json[path: "status", "constraints"]?.arrayValue ?? [] where c["type"]?.stringValue == "DualStackNodesMigrationReady" {
            return c["status"]?.stringValue ?? ""
        }
        return nil
    }
    /// A feature gate of the shoot's kube-apiserver, nil when not set.
    public func kubeAPIServerFeatureGate(_ name: String) -> Bool? {
        json[path: "spec", "kubernetes", "kubeAPIServer", "featureGates", name]?.boolValue
    }
    /// A runtime-config entry of the shoot's kube-apiserver, nil when not set.
    public func kubeAPIServerRuntimeConfig(_ key: String) -> Bool? {
        json[path: "spec", "kubernetes", "kubeAPIServer", "runtimeConfig", key]?.boolValue
    }
}

extension RenderInput {
    /// Runs the reconcile pre-processing. `decodeProviderConfig` decodes and validates the raw
    /// provider config (strict decoding and validation with root `spec.providerConfig` happen
    /// there, CalicoAPI's job); it returns the config in the renderer's shape.
    public static func prepare(
        network: JSON, cluster: JSON, nonPrivilegedCalicoNode: Bool,
        decodeProviderConfig: (JSON, [String]) throws -> EffectiveNetworkConfig
    ) throws -> RenderInput {
        // Network validation (the fields the renderer depends on).
        try validateNetwork(network)
        // IP families and pod CIDR of the Network.
        let spec = network["spec"] ?? .null
        var families = (spec["ipFamilies"]?.arrayValue ?? []).compactMap(\.stringValue)
        let podCIDR = spec["podCIDR"]?.stringValue ?? ""
        let shoot = ShootFields(cluster: cluster)
        guard shoot.json.isObject else {
            throw RenderError(field: "spec.shoot", "cluster has no shoot: spec.shoot is required")
        }

        // Decode + validate with the untruncated families.
        var config = EffectiveNetworkConfig()
        var desiredOverlayEnabled = true
        if let raw = spec["providerConfig"], !raw.isNull {
            config = try decodeProviderConfig(raw, families)
            if let overlay = config.overlay { desiredOverlayEnabled = overlay.enabled }
        }

        // Dual-stack migration: until the shoot's nodes are ready for it, only the first family is rendered.
        if let ready = shoot.dualStackMigrationReady, ready != "True", families.count > 1 {
            families = [families[0]]
        }
        let isIPv4 = families.contains("IPv4")
        let isIPv6 = families.contains("IPv6")

        // Every family in use gets its (possibly empty) settings block.
        if isIPv4 && config.ipv4 == nil { config.ipv4 = .init() }
        if isIPv6 && config.ipv6 == nil { config.ipv6 = .init() }

        // Node-CIDR based IP autodetection: Gardener knows the node network, so calico-node need not guess.
        if shoot.hasNetworking, let nodes = shoot.nodesCIDR, !nodes.isEmpty {
            if isIPv4 { config.ipv4?.autoDetectionMethod = "cidr=" + nodes }
            let statusNodes = shoot.statusNodes
            if shoot.hasStatusNetworking, !statusNodes.isEmpty {
                var v4: [String] = []
                var v6: [String] = []
                for (i, cidr) in statusNodes.enumerated() {
                    guard let parsed = CIDR(cidr) else {
                        throw RenderError(field: "status.networking.nodes[\(i)]", "invalid CIDR address: \(cidr)")
                    }
                    if parsed.isIPv4 { v4.append(cidr) } else { v6.append(cidr) }
                }
                if isIPv4 { config.ipv4?.autoDetectionMethod = v4.isEmpty ? "" : "cidr=" + v4.joined(separator: ",") }
                if isIPv6 { config.ipv6?.autoDetectionMethod = v6.isEmpty ? "" : "cidr=" + v6.joined(separator: ",") }
            }
        }

        // Kubernetes version and MutatingAdmissionPolicy availability.
        let version = shoot.kubernetesVersion ?? ""
        guard let components = VersionConstraint.components(version), components.count >= 3 else {
            throw RenderError(field: "spec.kubernetes.version", "failed to parse shoot Kubernetes version \(version): invalid semantic version")
        }
        let atLeast136 = components[0] > 1 || (components[0] == 1 && components[1] >= 36)
        let mapAvailable =
            atLeast136
            || (shoot.kubeAPIServerFeatureGate("MutatingAdmissionPolicy") == true
                && (shoot.kubeAPIServerRuntimeConfig("admissionregistration.k8s.io/v1alpha1") == true
                    || shoot.kubeAPIServerRuntimeConfig("admissionregistration.k8s.io/v1beta1") == true))

        // Overlay → pool mode / backend (docs/overlay.md).
        func setPoolMode(_ mode: String) throws {
            if isIPv6 {
                config.ipv6?.mode = mode
            } else if isIPv4 {
                config.ipv4?.mode = mode
            } else {
                throw RenderError(field: "spec.ipFamilies", "cannot configure the pod overlay: the network has no IP family")
            }
            config.backend = mode == "Never" ? "none" : "bird"
        }
        if let overlay = config.overlay {
            if overlay.enabled {
                try setPoolMode("Always")
                if config.vxlanEnabled == true { config.backend = "vxlan" }
            } else {
                try setPoolMode("Never")
                if overlay.createPodRoutes == true { config.backend = "bird" }
            }
        } else if isIPv6 {
            try setPoolMode("Never")
        }

        // kube-proxy checks: disabling it requires eBPF.
        var kubeProxyEnabled = true
        var kubeProxyMode: String?
        if shoot.hasKubeProxy {
            if let enabled = shoot.kubeProxyEnabled {
                if !enabled && config.ebpfDataplaneEnabled != true {
                    throw RenderError(
                        field: "spec.kubernetes.kubeProxy.enabled",
                        "spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction with calico without running in ebpf dataplane"
                    )
                }
                kubeProxyEnabled = enabled
            }
            kubeProxyMode = shoot.kubeProxyMode
        }

        // Chart inputs.
        var statusFamilies: [String] = []
        if config.ipv4 != nil { statusFamilies.append("IPv4") }
        if config.ipv6 != nil { statusFamilies.append("IPv6") }
        let context = ShootContext(
            podCIDR: podCIDR, kubernetesVersion: version, wantsVPA: shoot.wantsVPA, kubeProxyEnabled: kubeProxyEnabled,
            kubeProxyMode: kubeProxyMode, nonPrivileged: nonPrivilegedCalicoNode,
            nodeCIDR: shoot.hasNetworking ? shoot.nodesCIDR : nil, podCIDRs: shoot.statusPods ?? [], ipFamilies: families)
        return RenderInput(
            config: config, shoot: context, statusIPFamilies: statusFamilies,
            mutatingAdmissionPolicyAvailable: mapAvailable, desiredOverlayEnabled: desiredOverlayEnabled)
    }

    /// The parts of Gardener's Network validation the rendering depends on (a malformed Network fails
    /// with a field path instead of rendering nonsense).
    static func validateNetwork(_ network: JSON) throws {
        func invalid(_ field: String, _ detail: String) -> RenderError {
            RenderError(field: field, "invalid network resource: \(field): \(detail)")
        }
        guard network.isObject else { throw invalid("metadata", "the Network must be an object") }
        if let kind = network["kind"]?.stringValue, kind != "Network" {
            throw invalid("kind", "Invalid value: \"\(kind)\": must be Network")
        }
        let spec = network["spec"] ?? .null
        guard spec.isObject else { throw invalid("spec", "Required value: spec is required") }
        guard let type = spec["type"]?.stringValue, !type.isEmpty else {
            throw invalid("spec.type", "Required value: field is required")
        }
        guard let podCIDR = spec["podCIDR"]?.stringValue, !podCIDR.isEmpty else {
            throw invalid("spec.podCIDR", "Required value: field is required")
        }
        guard CIDR(podCIDR) != nil else { throw invalid("spec.podCIDR", "Invalid value: \"\(podCIDR)\": invalid CIDR address") }
        guard let serviceCIDR = spec["serviceCIDR"]?.stringValue, !serviceCIDR.isEmpty else {
            throw invalid("spec.serviceCIDR", "Required value: field is required")
        }
        guard CIDR(serviceCIDR) != nil else {
            throw invalid("spec.serviceCIDR", "Invalid value: \"\(serviceCIDR)\": invalid CIDR address")
        }
        var seen: Set<String> = []
        for (i, family) in (spec["ipFamilies"]?.arrayValue ?? []).enumerated() {
            let field = "spec.ipFamilies[\(i)]"
            guard let name = family.stringValue, name == "IPv4" || name == "IPv6" else {
                throw invalid(field, "Unsupported value: \(family): supported values: \"IPv4\", \"IPv6\"")
            }
            guard seen.insert(name).inserted else { throw invalid(field, "Duplicate value: \"\(name)\"") }
        }
    }
}
