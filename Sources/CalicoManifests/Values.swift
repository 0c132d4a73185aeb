import KubeCore

/// An input that cannot be rendered. `field` names the offending field (dotted path) when one
/// is known; `description` is the full message.
public struct RenderError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The offending field (dotted path), when known.
    public var field: String?
    /// The full message.
    public var message: String
    /// A value from its fields.
    public init(field: String? = nil, _ message: String) {
        self.field = field
        self.message = message
    }
    /// The message.
    public var description: String { message }
}

/// The chart values of the internal `calico` chart, after Helm coalescing
/// with the chart defaults, as typed values. Every condition the templates test is one
/// named property; the builders read nothing else.
public struct CalicoValues: Sendable, Equatable {
    /// `global.overlayEnabled`: unset (`""`), `"true"` or `"false"`.
    public enum OverlaySetting: Sendable, Equatable { case unset, enabled, disabled }

    /// `config.ipv4.*`.
    public struct IPv4: Sendable, Equatable {
        /// `V4`.
        public var enabled = false
        /// The pool type (`ipip` or `vxlan`).
        public var pool = ""
        /// The encapsulation mode.
        public var mode = ""
        /// nil or empty → no `IP_AUTODETECTION_METHOD`.
        public var autoDetectionMethod: String?
        /// WireGuard encryption between nodes.
        public var wireguard = false
    }
    /// `config.ipv6.*`.
    public struct IPv6: Sendable, Equatable {
        /// `V6`.
        public var enabled = false
        /// The pool type (`vxlan`).
        public var pool = ""
        /// The encapsulation mode.
        public var mode = ""
        /// nil or empty: no `IP_AUTODETECTION_METHOD`.
        public var autoDetectionMethod: String?
        /// Masquerade pod traffic leaving the pool.
        public var natOutgoing = false
        /// WireGuard encryption between nodes.
        public var wireguard = false
    }
    /// `config.ipam.*`: the CNI IPAM configuration.
    public struct IPAM: Sendable, Equatable {
        /// The CNI IPAM plugin (`host-local` or `calico-ipam`).
        public var type = "host-local"
        /// `""` → no subnet line in the CNI config.
        public var subnet = ""
        /// Dual-stack ranges (IPv6 first); empty otherwise.
        public var ranges: [String] = []
        /// Assign IPv4 addresses to pods.
        public var assignIPv4 = false
        /// Assign IPv6 addresses to pods.
        public var assignIPv6 = false
    }
    /// Image references for the nine chart images.
    public struct Images: Sendable, Equatable {
        public var calicoNode = "", calicoCNI = "", calicoTypha = "", calicoKubeControllers = ""
        public var calicoCPA = "", calicoCPVA = "", birdExporter = "", multusCNI = "", cniPlugins = ""
    }

    // global.*
    /// The IPv4 (or only) pod CIDR.
    public var podCIDR = ""
    /// `""` when no IPv6 pod CIDR is known.
    public var podCIDRv6 = ""
    /// `global.nodeCIDR` (nil when the shoot has none).
    public var nodeCIDR: String?
    /// `OVL`.
    public var overlay: OverlaySetting = .unset
    /// `VXLAN`: overlay enabled with VXLAN encapsulation.
    public var vxlanOverlay = false
    /// `SNAT`: the add-snat-rule-to-upstream-dns side-car.
    public var snatToUpstreamDNS = false

    // config.*
    /// `BACKEND`: `bird`, `vxlan` or `none`.
    public var backend = "bird"
    /// IP-in-IP encapsulation configured in Felix.
    public var ipinipEnabled = true
    /// `BPF`.
    public var bpfEnabled = false
    /// `CLEANUP`.
    public var kubeProxyIPTablesCleanup = false
    /// Felix runs in nftables mode.
    public var nftablesEnabled = false
    /// Felix's handling of traffic to unused service IPs.
    public var serviceLoopPrevention: String?
    /// IPv4 settings.
    public var ipv4 = IPv4()
    /// IPv6 settings.
    public var ipv6 = IPv6()
    /// The CNI IPAM plugin.
    public var ipam = IPAM()
    /// `TYPHA`.
    public var typhaEnabled = true
    /// `KC`.
    public var kubeControllersEnabled = true
    /// The MTU of pod interfaces (`"0"`: detect).
    public var vethMTU = "0"
    /// `MON` (always true).
    public var monitoringEnabled = true
    /// The port of Felix metrics.
    public let felixMetricsPort = 9091
    /// The port of Typha metrics.
    public let typhaMetricsPort = 9093
    /// The port of the BIRD exporter metrics.
    public let birdMetricsPort = 9094
    /// not `PRIV`.
    public var nonPrivileged = false
    /// `BIRDEXP`.
    public var birdExporterEnabled = false
    /// `MULTUS`.
    public var multusEnabled = false
    /// Multus also installs the reference CNI plugins.
    public var multusInstallCNIPlugins = false

    // autoscaling.*
    /// `VPA_KC`: the shoot wants VPA.
    public var vpaKubeControllers = false
    /// `VPA_NODE`.
    public var vpaNode = false
    /// `VPA_TYPHA`.
    public var vpaTypha = false
    /// `STATIC`.
    public var staticRequests = false
    /// `autoscaling.resourceRequests.node` (VPA minAllowed / static requests).
    public var nodeRequests = EffectiveNetworkConfig.Requests()
    /// Typha resource requests (VPA minAllowed / static requests).
    public var typhaRequests = EffectiveNetworkConfig.Requests()

    /// The chart images.
    public var images = Images()

    /// The defaults.
    public init() {}

    // MARK: Derived switches

    /// `PRIV`.
    public var privileged: Bool { !nonPrivileged }
    /// `HOSTLOCAL`.
    public var hostLocalIPAM: Bool { ipam.type == "host-local" }
    /// Node cluster-proportional vertical autoscaler objects.
    public var nodeCPVA: Bool { !(vpaNode || staticRequests) }
    /// Typha cluster-proportional vertical autoscaler objects.
    public var typhaCPVA: Bool { typhaEnabled && !(vpaTypha || staticRequests) }
    /// The Calico node's cpu request.
    public var nodeCPURequest: String { (staticRequests || vpaNode) ? (nodeRequests.cpu ?? "250m") : "250m" }
    /// calico-node's memory request.
    public var nodeMemoryRequest: String { (staticRequests || vpaNode) ? (nodeRequests.memory ?? "100Mi") : "100Mi" }
    /// Typha's cpu request.
    public var typhaCPURequest: String { staticRequests ? (typhaRequests.cpu ?? "200m") : "200m" }
    /// Typha's memory request.
    public var typhaMemoryRequest: String { staticRequests ? (typhaRequests.memory ?? "100Mi") : "100Mi" }
    /// `resources.gardener.cloud/preserve-resources` on calico-node and typha.
    public var preserveResources: Bool { !staticRequests }
    /// bird-exporter side-car.
    public var birdExporterContainer: Bool { monitoringEnabled && birdExporterEnabled && privileged }
}

/// What the values computation reads, derived from the Shoot, the Network and the feature gates
/// by ``RenderInput/prepare(network:cluster:nonPrivilegedCalicoNode:decodeProviderConfig:)``.
public struct ChartInputs: Sendable, Equatable {
    /// The pod CIDR of the Network.
    public var podCIDR: String
    /// The shoot's Kubernetes version (selects images).
    public var kubernetesVersion: String
    /// The shoot enables the vertical pod autoscaler.
    public var wantsVPA: Bool
    /// kube-proxy runs in the shoot.
    public var kubeProxyEnabled: Bool
    /// kube-proxy's mode, when set.
    public var kubeProxyMode: String?
    /// The NonPrivilegedCalicoNode feature gate.
    public var nonPrivileged: Bool
    /// The node CIDR of the shoot, if any.
    public var nodeCIDR: String?
    /// The pod CIDRs in `status.networking.pods`.
    public var podCIDRs: [String]
    /// Effective (possibly truncated) IP families, `IPv4`/`IPv6`.
    public var ipFamilies: [String]

    /// A value from its fields.
    public init(
        podCIDR: String, kubernetesVersion: String = "", wantsVPA: Bool = false, kubeProxyEnabled: Bool = true,
        kubeProxyMode: String? = nil, nonPrivileged: Bool = false, nodeCIDR: String? = nil, podCIDRs: [String] = [],
        ipFamilies: [String] = ["IPv4"]
    ) {
        self.podCIDR = podCIDR
        self.kubernetesVersion = kubernetesVersion
        self.wantsVPA = wantsVPA
        self.kubeProxyEnabled = kubeProxyEnabled
        self.kubeProxyMode = kubeProxyMode
        self.nonPrivileged = nonPrivileged
        self.nodeCIDR = nodeCIDR
        self.podCIDRs = podCIDRs
        self.ipFamilies = ipFamilies
    }
}

extension CalicoValues {
    /// Computes the chart values from the pre-processed config. Errors carry
    /// the message `error when generating calico config: <inner>`.
    public static func compute(config: EffectiveNetworkConfig?, inputs: ChartInputs, imageVector: ImageVector = .default) throws -> CalicoValues {
        var v = CalicoValues()
        let isIPv4 = inputs.ipFamilies.contains("IPv4")
        let isIPv6 = inputs.ipFamilies.contains("IPv6")
        // Config fields are reported with the controller's root path of the provider config.
        func fail(_ field: String?, _ message: String) -> RenderError {
            let path = field.map { $0.hasPrefix("spec.") || $0.hasPrefix("status.") ? $0 : "spec.providerConfig." + $0 }
            return RenderError(field: path, "error when generating calico config: \(message)")
        }

        // Base config.
        v.ipinipEnabled = true
        v.ipam = IPAM(type: "host-local", subnet: "", ranges: [], assignIPv4: false, assignIPv6: false)
        if isIPv4 {
            v.ipam.assignIPv4 = true
            v.ipam.subnet = "usePodCidr"
            v.ipv4 = IPv4(enabled: true, pool: "ipip", mode: "Always", autoDetectionMethod: nil, wireguard: false)
        }
        if isIPv6 {
            v.ipam.assignIPv6 = true
            v.ipam.subnet = "usePodCidrIPv6"
            v.ipam.type = "host-local"
            v.ipv6 = IPv6(enabled: true, pool: "vxlan", mode: "Never", autoDetectionMethod: nil, natOutgoing: false, wireguard: false)
            v.ipinipEnabled = false
        }
        if isIPv4 && isIPv6 {
            v.ipam.subnet = ""
            v.ipam.ranges = ["usePodCidrIPv6", "usePodCidr"]
        }
        if inputs.kubeProxyEnabled && inputs.kubeProxyMode == "NFTables" { v.nftablesEnabled = true }
        if !inputs.kubeProxyEnabled {
            if inputs.kubeProxyMode != nil {
                throw fail("spec.kubernetes.kubeProxy.mode", "kube-proxy mode must not be set if kube-proxy is disabled")
            }
            v.kubeProxyIPTablesCleanup = true
        }
        v.nonPrivileged = inputs.nonPrivileged

        // Merge of the NetworkConfig.
        if let c = config {
            if let slp = c.serviceLoopPrevention { v.serviceLoopPrevention = slp }
            v.ipv4.wireguard = c.wireguardEncryption
            v.ipv6.wireguard = c.wireguardEncryption
            if c.wireguardEncryption { v.ipv6.natOutgoing = true }
            if let backend = c.backend {
                guard ["bird", "vxlan", "none"].contains(backend) else {
                    throw fail("backend", "unsupported value for backend: \(backend)")
                }
                v.backend = backend
            }
            if v.backend == "none" {
                v.kubeControllersEnabled = false
                v.ipinipEnabled = false
                v.ipv4.mode = "Never"
            }
            if let overlay = c.overlay, !overlay.enabled {
                v.ipinipEnabled = false
                v.ipv4.mode = "Never"
            }
            if c.ebpfDataplaneEnabled == true {
                v.bpfEnabled = true
                v.nonPrivileged = false
            }
            if let ipam = c.ipam, !ipam.type.isEmpty { v.ipam.type = ipam.type }
            if v.ipam.type == "host-local", let cidr = c.ipam?.cidr, !(isIPv4 && isIPv6) { v.ipam.subnet = cidr }
            if let ipv4 = c.ipv4 {
                guard isIPv4 else {
                    throw fail("ipv4", "IPv4 configuration must not be specified if Shoot doesn't use IPv4 networking")
                }
                if c.vxlanEnabled == true {
                    v.ipv4.pool = "vxlan"
                    v.ipv4.mode = "Always"
                    v.ipam.type = "calico-ipam"
                }
                if let pool = ipv4.pool {
                    guard ["ipip", "vxlan"].contains(pool) else { throw fail("ipv4.pool", "unsupported value for ipv4 pool: \(pool)") }
                    v.ipv4.pool = pool
                }
                if let mode = ipv4.mode {
                    guard ["Always", "Never", "Off", "CrossSubnet"].contains(mode) else {
                        throw fail("ipv4.mode", "unsupported value for ipv4 mode: \(mode)")
                    }
                    v.ipv4.mode = mode
                }
                if let method = ipv4.autoDetectionMethod { v.ipv4.autoDetectionMethod = method }
            } else {
                if let ipip = c.ipip {
                    guard isIPv4 else {
                        throw fail("ipip", "IPv4 configuration must not be specified if Shoot doesn't use IPv4 networking")
                    }
                    guard ["Always", "Never", "Off", "CrossSubnet"].contains(ipip) else {
                        throw fail("ipip", "unsupported value for ipip: \(ipip)")
                    }
                    v.ipv4.mode = ipip
                }
                if let method = c.ipAutodetectionMethod { v.ipv4.autoDetectionMethod = method }
            }
            if let ipv6 = c.ipv6 {
                guard isIPv6 else {
                    throw fail("ipv6", "IPv6 configuration must not be specified if Shoot doesn't use IPv6 networking")
                }
                if let pool = ipv6.pool {
                    guard pool == "vxlan" else { throw fail("ipv6.pool", "unsupported value for ipv6 pool: \(pool)") }
                    v.ipv6.pool = pool
                }
                if let mode = ipv6.mode {
                    guard ["Always", "Never", "CrossSubnet"].contains(mode) else {
                        throw fail("ipv6.mode", "unsupported value for ipv6 mode: \(mode)")
                    }
                    v.ipv6.mode = mode
                }
                if let method = ipv6.autoDetectionMethod { v.ipv6.autoDetectionMethod = method }
                if let nat = ipv6.sourceNATEnabled { v.ipv6.natOutgoing = nat }
            }
            if let typha = c.typhaEnabled { v.typhaEnabled = typha }
            if let mtu = c.vethMTU { v.vethMTU = mtu }
            if let bird = c.birdExporterEnabled { v.birdExporterEnabled = bird }
            if let multus = c.multus {
                v.multusEnabled = multus.enabled
                if let install = multus.installCNIPlugins { v.multusInstallCNIPlugins = install }
            }
        }

        // Global values.
        v.podCIDR = inputs.podCIDR
        for cidr in inputs.podCIDRs {
            guard let parsed = CIDR(cidr) else {
                throw fail("status.networking.pods", "invalid CIDR address: \(cidr)")
            }
            if !parsed.isIPv4 { v.podCIDRv6 = cidr }
        }
        v.nodeCIDR = inputs.nodeCIDR
        if let overlay = config?.overlay {
            v.overlay = overlay.enabled ? .enabled : .disabled
            if overlay.enabled && config?.vxlanEnabled == true { v.vxlanOverlay = true }
            if !overlay.enabled { v.snatToUpstreamDNS = config?.snatToUpstreamDNSEnabled ?? true }
        }

        // Autoscaling values.
        v.vpaKubeControllers = inputs.wantsVPA
        let mode = config?.autoScaling?.mode
        if mode == "vpa" && inputs.wantsVPA {
            v.vpaNode = true
            v.vpaTypha = v.typhaEnabled
        }
        if (mode == "vpa" && inputs.wantsVPA) || mode == "static" {
            v.nodeRequests = config?.autoScaling?.resources?.node ?? .init()
            v.typhaRequests = config?.autoScaling?.resources?.typha ?? .init()
        }
        if mode == "static" { v.staticRequests = true }

        // Images.
        let k8s = inputs.kubernetesVersion.isEmpty ? nil : inputs.kubernetesVersion
        func image(_ name: String) throws -> String {
            do { return try imageVector.reference(name, kubernetesVersion: k8s) } catch {
                throw RenderError(field: nil, "could not find image \"\(name)\" in the image vector")
            }
        }
        v.images = Images(
            calicoNode: try image("calico-node"), calicoCNI: try image("calico-cni"), calicoTypha: try image("calico-typha"),
            calicoKubeControllers: try image("calico-kube-controllers"), calicoCPA: try image("calico-cpa"),
            calicoCPVA: try image("calico-cpva"), birdExporter: try image("bird-exporter"), multusCNI: try image("multus-cni"),
            cniPlugins: try image("cni-plugins"))
        return v
    }
}
