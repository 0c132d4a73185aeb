import KubeCore

/// The pure part of the actuator's Reconcile before rendering:
/// everything the chart needs, derived from the Network, the Cluster's Shoot and feature gates.
public struct RenderInput: Sendable, Equatable {
    /// The pre-processed NetworkConfig.
    public var config: EffectiveNetworkConfig
    /// What the values computation reads from the Shoot, the Network and the feature gates.
    public var chartInputs: ChartInputs
    /// `status.ipFamilies` for the Network: `IPv4` if the config has `ipv4`, then `IPv6` if it has `ipv6`.
    public var statusIPFamilies: [String]
    /// Whether the shoot's API server offers MutatingAdmissionPolicy (the SeamlessOverlaySwitch guard).
    public var mutatingAdmissionPolicyAvailable: Bool
    /// Whether the original provider config wants the overlay (see docs/overlay.md).
    public var desiredOverlayEnabled: Bool
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
        let spec = network["spec"] ?? .null
        var families = (spec["ipFamilies"]?.arrayValue ?? []).compactMap(\.stringValue)
        let podCIDR = spec["podCIDR"]?.stringValue ?? ""
        guard let shootObject = cluster[path: "spec", "shoot"], shootObject.isObject else {
            throw RenderError(field: "spec.shoot", "cluster has no shoot: spec.shoot is required")
        }
        let shoot = Shoot(raw: shootObject)

        // Decode + validate with the untruncated families.
        var config = EffectiveNetworkConfig()
        var desiredOverlayEnabled = true
        if let raw = spec["providerConfig"], !raw.isNull {
            config = try decodeProviderConfig(raw, families)
            if let overlay = config.overlay { desiredOverlayEnabled = overlay.enabled }
        }

        // Dual-stack migration truncation.
        if let ready = shoot.constraint("DualStackNodesMigrationReady")?.status, ready != "True", families.count > 1 {
            families = [families[0]]
        }
        let isIPv4 = families.contains("IPv4")
        let isIPv6 = families.contains("IPv6")

        // Every family in use gets its settings.
        if isIPv4 && config.ipv4 == nil { config.ipv4 = .init() }
        if isIPv6 && config.ipv6 == nil { config.ipv6 = .init() }

        // Node-CIDR based IP autodetection.
        if let nodes = shoot.networking?.nodes, !nodes.isEmpty {
            if isIPv4 { config.ipv4?.autoDetectionMethod = "cidr=" + nodes }
            if let statusNodes = shoot.statusNetworking?.nodes, !statusNodes.isEmpty {
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

        // Overlay → pool mode / backend.
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

        // kube-proxy checks.
        var kubeProxyEnabled = true
        var kubeProxyMode: String?
        if let kubeProxy = shoot.kubeProxy {
            if let enabled = kubeProxy.enabled {
                if !enabled && config.ebpfDataplaneEnabled != true {
                    throw RenderError(
                        field: "spec.kubernetes.kubeProxy.enabled",
                        "spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction with calico without running in ebpf dataplane"
                    )
                }
                kubeProxyEnabled = enabled
            }
            kubeProxyMode = kubeProxy.mode
        }

        // Chart inputs.
        var statusFamilies: [String] = []
        if config.ipv4 != nil { statusFamilies.append("IPv4") }
        if config.ipv6 != nil { statusFamilies.append("IPv6") }
        let inputs = ChartInputs(
            podCIDR: podCIDR, kubernetesVersion: version, wantsVPA: shoot.wantsVerticalPodAutoscaler, kubeProxyEnabled: kubeProxyEnabled,
            kubeProxyMode: kubeProxyMode, nonPrivileged: nonPrivilegedCalicoNode, nodeCIDR: shoot.networking?.nodes,
            podCIDRs: shoot.statusNetworking?.pods ?? [], ipFamilies: families)
        return RenderInput(
            config: config, chartInputs: inputs, statusIPFamilies: statusFamilies,
            mutatingAdmissionPolicyAvailable: mapAvailable, desiredOverlayEnabled: desiredOverlayEnabled)
    }

    /// The parts of Gardener's Network validation the rendering depends on.
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
