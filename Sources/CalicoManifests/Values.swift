import KubeCore

/// An input that cannot be rendered. `field` names the offending field (dotted path) when one
/// is known; `description` is the full message.
public struct RenderError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Dotted path of the offending field (e.g. `spec.providerConfig.ipv4.pool`), nil when no single field is to blame.
    public var field: String?
    /// The full message, as it ends up in the Network's `lastError`.
    public var message: String
    /// Creates an error with its message and, if known, the field.
    public init(field: String? = nil, _ message: String) {
        self.field = field
        self.message = message
    }
    /// The full message.
    public var description: String { message }
}

/// The chart values of the internal `calico` chart, after Helm coalescing
/// with the chart defaults, as typed values. Every condition the templates test is one
/// named property; the builders read nothing else.
public struct CalicoValues: Sendable, Equatable {
    /// `global.overlayEnabled`: unset (`""`), `"true"` or `"false"`.
    public enum OverlaySetting: Sendable, Equatable { case unset, enabled, disabled }

    /// IPv4 settings of calico-node, the IPv4 pool and the CNI config.
    public struct IPv4: Sendable, Equatable {
        /// `V4`.
        public var enabled = false
        /// Pool encapsulation: `ipip` or `vxlan`.
        public var pool = ""
        /// Pool encapsulation mode: `Always`, `Never`, `CrossSubnet` or `Off`.
        public var mode = ""
        /// nil or empty → no `IP_AUTODETECTION_METHOD`.
        public var autoDetectionMethod: String?
        /// Whether Felix encrypts IPv4 pod traffic between nodes with WireGuard.
        public var wireguard = false
    }
    /// IPv6 settings of calico-node, the IPv6 pool and the CNI config.
    public struct IPv6: Sendable, Equatable {
        /// `V6`.
        public var enabled = false
        /// Pool encapsulation; only `vxlan` is renderable.
        public var pool = ""
        /// Pool encapsulation mode: `Always`, `Never` or `CrossSubnet`.
        public var mode = ""
        /// nil or empty → no `IP6_AUTODETECTION_METHOD`.
        public var autoDetectionMethod: String?
        /// Whether the IPv6 pool masquerades traffic leaving the cluster (on by default with WireGuard).
        public var natOutgoing = false
        /// Whether Felix encrypts IPv6 pod traffic between nodes with WireGuard.
        public var wireguard = false
    }
    /// The IPAM section of the CNI network configuration.
    public struct IPAM: Sendable, Equatable {
        /// The CNI IPAM plugin: `host-local` (node pod CIDR) or `calico-ipam` (needed for VXLAN).
        public var type = "host-local"
        /// `""` → no subnet line in the CNI config.
        public var subnet = ""
        /// Dual-stack ranges (IPv6 first); empty otherwise.
        public var ranges: [String] = []
        /// Whether the CNI plugin assigns IPv4 addresses.
        public var assignIPv4 = false
        /// Whether the CNI plugin assigns IPv6 addresses.
        public var assignIPv6 = false
    }
    /// Image references for the nine chart images.
    public struct Images: Sendable, Equatable {
        public var calicoNode = "", calicoCNI = "", calicoTypha = "", calicoKubeControllers = ""
        public var calicoCPA = "", calicoCPVA = "", birdExporter = "", multusCNI = "", cniPlugins = ""
    }

    // global.*
    /// The Network's pod CIDR (`global.podCIDR`).
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
    /// Whether Felix runs IP-in-IP (off for IPv6-only, backend `none` and without overlay).
    public var ipinipEnabled = true
    /// `BPF`.
    public var bpfEnabled = false
    /// `CLEANUP`.
    public var kubeProxyIPTablesCleanup = false
    /// Whether calico-node follows kube-proxy's nftables mode.
    public var nftablesEnabled = false
    /// Felix's handling of traffic to service IPs no Service owns; nil keeps Calico's default.
    public var serviceLoopPrevention: String?
    /// IPv4 settings.
    public var ipv4 = IPv4()
    /// IPv6 settings.
    public var ipv6 = IPv6()
    /// CNI IPAM settings.
    public var ipam = IPAM()
    /// `TYPHA`.
    public var typhaEnabled = true
    /// `KC`.
    public var kubeControllersEnabled = true
    /// MTU of pod interfaces and tunnels; `"0"` lets Calico detect it.
    public var vethMTU = "0"
    /// `MON` (always true).
    public var monitoringEnabled = true
    /// Port of Felix's Prometheus metrics.
    public let felixMetricsPort = 9091
    /// Port of Typha's Prometheus metrics.
    public let typhaMetricsPort = 9093
    /// Port of the BIRD exporter's metrics.
    public let birdMetricsPort = 9094
    /// not `PRIV`.
    public var nonPrivileged = false
    /// `BIRDEXP`.
    public var birdExporterEnabled = false
    /// `MULTUS`.
    public var multusEnabled = false
    /// Whether Multus also installs the standard CNI reference plugins on the nodes.
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
    /// `autoscaling.resourceRequests.typha` (VPA minAllowed / static requests).
    public var typhaRequests = EffectiveNetworkConfig.Requests()

    /// Image references of the chart images.
    public var images = Images()

    /// The chart defaults, before the shoot and the NetworkConfig are merged in.
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
    /// The Calico node's memory request.
    public var nodeMemoryRequest: String { (staticRequests || vpaNode) ? (nodeRequests.memory ?? "100Mi") : "100Mi" }
    /// Typha's cpu request (from the config only in `static` mode; an autoscaler adjusts it otherwise).
    public var typhaCPURequest: String { staticRequests ? (typhaRequests.cpu ?? "200m") : "200m" }
    /// Typha's memory request (from the config only in `static` mode).
    public var typhaMemoryRequest: String { staticRequests ? (typhaRequests.memory ?? "100Mi") : "100Mi" }
    /// `resources.gardener.cloud/preserve-resources` on calico-node and typha.
    public var preserveResources: Bool { !staticRequests }
    /// bird-exporter side-car.
    public var birdExporterContainer: Bool { monitoringEnabled && birdExporterEnabled && privileged }
}

/// What the values computation reads, derived from the Shoot, the Network and the feature gates
/// by ``RenderInput/prepare(network:cluster:nonPrivilegedCalicoNode:decodeProviderConfig:)``.
public struct ChartInputs: Sendable, Equatable {
    public var podCIDR: String
    /// The shoot's Kubernetes version; selects version-specific images.
    public var kubernetesVersion: String
    /// Whether the shoot runs the vertical pod autoscaler (`vpa` mode needs it).
    public var wantsVPA: Bool
    /// Whether kube-proxy runs; when it is off, Felix cleans up its iptables rules.
    public var kubeProxyEnabled: Bool
    /// kube-proxy's mode (e.g. `NFTables`); must be unset while kube-proxy is disabled.
    public var kubeProxyMode: String?
    /// The NonPrivilegedCalicoNode feature gate.
    public var nonPrivileged: Bool
    /// The shoot's node CIDR, when it has one.
    public var nodeCIDR: String?
    /// The shoot's pod CIDRs from its status (an IPv6 one becomes `podCIDRv6`).
    public var podCIDRs: [String]
    /// Effective (possibly truncated) IP families, `IPv4`/`IPv6`.
    public var ipFamilies: [String]

    /// Creates the context; defaults describe an IPv4 shoot with kube-proxy on and VPA off.
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

        // Base config from the IP families and kube-proxy, before the NetworkConfig is merged.
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

        // Merge of the NetworkConfig (skipped when there is none).
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

        // §2.4 global values.
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

        // §2.5 autoscaling values.
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

        // §2.6 images.
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
