import CalicoAPI
import KubeCore

/// The NetworkConfig after the reconcile pre-processing: the shape of
/// the provider API with every field optional, mutated by the pre-processing steps. It is the
/// input of the values computation.
public struct EffectiveNetworkConfig: Sendable, Equatable {
    /// The `ipv4` block: pool type and mode as plain strings, so values the renderer cannot handle
    /// reach it and fail with a clear error instead of being lost in decoding.
    public struct IPv4: Sendable, Equatable {
        /// Encapsulation of the IPv4 pool (`ipip` or `vxlan`).
        public var pool: String?
        /// Encapsulation mode of the IPv4 pool (`Always`, `Never`, `CrossSubnet`, `Off`).
        public var mode: String?
        /// calico-node's IPv4 address autodetection method; set from the node CIDR when Gardener knows it.
        public var autoDetectionMethod: String?
        /// Creates the block; every field unset by default.
        public init(pool: String? = nil, mode: String? = nil, autoDetectionMethod: String? = nil) {
            self.pool = pool
            self.mode = mode
            self.autoDetectionMethod = autoDetectionMethod
        }
    }
    /// The `ipv6` block, as loose as `IPv4` for the same reason.
    public struct IPv6: Sendable, Equatable {
        /// Encapsulation of the IPv6 pool; the renderer accepts only `vxlan`.
        public var pool: String?
        /// Encapsulation mode of the IPv6 pool.
        public var mode: String?
        /// calico-node's IPv6 address autodetection method.
        public var autoDetectionMethod: String?
        /// Whether pod IPv6 traffic leaving the cluster is masqueraded; unset lets WireGuard decide.
        public var sourceNATEnabled: Bool?
        /// Creates the block; every field unset by default.
        public init(pool: String? = nil, mode: String? = nil, autoDetectionMethod: String? = nil, sourceNATEnabled: Bool? = nil) {
            self.pool = pool
            self.mode = mode
            self.autoDetectionMethod = autoDetectionMethod
            self.sourceNATEnabled = sourceNATEnabled
        }
    }
    /// The CNI IPAM plugin settings.
    public struct IPAM: Sendable, Equatable {
        /// `calico-ipam` or `host-local`; empty keeps the chart's default.
        public var type: String
        /// Subnet for `host-local` (`usePodCidr` or a literal CIDR).
        public var cidr: String?
        /// Creates the block; an empty type keeps the chart's default.
        public init(type: String = "", cidr: String? = nil) {
            self.type = type
            self.cidr = cidr
        }
    }
    /// The pod overlay switch; see docs/overlay.md.
    public struct Overlay: Sendable, Equatable {
        /// Whether pod traffic between nodes is encapsulated.
        public var enabled: Bool
        /// Without overlay: keep BIRD to announce pod routes over BGP.
        public var createPodRoutes: Bool?
        /// Creates the block.
        public init(enabled: Bool, createPodRoutes: Bool? = nil) {
            self.enabled = enabled
            self.createPodRoutes = createPodRoutes
        }
    }
    /// `cpu`/`memory` requests as canonical quantity strings (other names dropped).
    public struct Requests: Sendable, Equatable {
        /// The CPU request as a canonical quantity.
        public var cpu: String?
        /// The memory request as a canonical quantity.
        public var memory: String?
        /// Creates requests; both unset by default.
        public init(cpu: String? = nil, memory: String? = nil) {
            self.cpu = cpu
            self.memory = memory
        }
        /// True when neither request is set, so no resources are rendered.
        public var isEmpty: Bool { cpu == nil && memory == nil }
    }
    /// The per-component requests of `autoScaling.resources`.
    public struct Resources: Sendable, Equatable {
        /// Requests of calico-node.
        public var node: Requests?
        /// Requests of Typha.
        public var typha: Requests?
        /// Creates the block; both unset by default.
        public init(node: Requests? = nil, typha: Requests? = nil) {
            self.node = node
            self.typha = typha
        }
    }
    /// The `autoScaling` block; how calico-node and Typha get their resources (docs/usage.md).
    public struct AutoScaling: Sendable, Equatable {
        /// `cluster-proportional`, `vpa` or `static`; `vpa` counts only when the shoot runs VPA.
        public var mode: String
        /// nil when `resources` is absent.
        public var resources: Resources?
        /// Creates the block.
        public init(mode: String, resources: Resources? = nil) {
            self.mode = mode
            self.resources = resources
        }
    }
    /// The `multus` block.
    public struct Multus: Sendable, Equatable {
        /// Whether Multus CNI is deployed.
        public var enabled: Bool
        /// Whether the standard CNI reference plugins are installed on the nodes as well.
        public var installCNIPlugins: Bool?
        /// Creates the block.
        public init(enabled: Bool, installCNIPlugins: Bool? = nil) {
            self.enabled = enabled
            self.installCNIPlugins = installCNIPlugins
        }
    }

    /// `bird`, `vxlan` or `none`; derived from the overlay setting when the pre-processing runs.
    public var backend: String?
    /// CNI IPAM settings; unset keeps the chart's defaults.
    public var ipam: IPAM?
    /// IPv4 pool settings; the pre-processing always provides one for IPv4 shoots.
    public var ipv4: IPv4?
    /// IPv6 pool settings.
    public var ipv6: IPv6?
    /// `typha.enabled` when the `typha` object is present.
    public var typhaEnabled: Bool?
    /// MTU of pod interfaces and tunnels as a string; `"0"` lets Calico detect it.
    public var vethMTU: String?
    /// Whether the eBPF data plane replaces iptables.
    public var ebpfDataplaneEnabled: Bool?
    /// The overlay switch; unset means the chart's IP-in-IP default without a managed IPv4 pool.
    public var overlay: Overlay?
    /// Whether pod DNS traffic to upstream resolvers is masqueraded when the overlay is off.
    public var snatToUpstreamDNSEnabled: Bool?
    /// How calico-node and Typha get their resources.
    public var autoScaling: AutoScaling?
    /// VXLAN instead of IP-in-IP as overlay encapsulation.
    public var vxlanEnabled: Bool?
    /// Deprecated top-level IPv4 pool mode.
    public var ipip: String?
    /// Deprecated top-level IPv4 autodetection method.
    public var ipAutodetectionMethod: String?
    /// Whether node-to-node pod traffic is encrypted with WireGuard.
    public var wireguardEncryption: Bool
    /// Whether the BIRD metrics exporter side-car is wanted (dropped for a non-privileged calico-node).
    public var birdExporterEnabled: Bool?
    /// Multus CNI settings.
    public var multus: Multus?
    /// What Felix does with traffic to service IPs no Service owns (`Disabled`, `Drop`, `Reject`).
    public var serviceLoopPrevention: String?

    /// Creates a config; every field unset (WireGuard off) by default, as after decoding an empty provider config.
    public init(
        backend: String? = nil, ipam: IPAM? = nil, ipv4: IPv4? = nil, ipv6: IPv6? = nil, typhaEnabled: Bool? = nil,
        vethMTU: String? = nil, ebpfDataplaneEnabled: Bool? = nil, overlay: Overlay? = nil,
        snatToUpstreamDNSEnabled: Bool? = nil, autoScaling: AutoScaling? = nil, vxlanEnabled: Bool? = nil,
        ipip: String? = nil, ipAutodetectionMethod: String? = nil, wireguardEncryption: Bool = false,
        birdExporterEnabled: Bool? = nil, multus: Multus? = nil, serviceLoopPrevention: String? = nil
    ) {
        self.backend = backend
        self.ipam = ipam
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.typhaEnabled = typhaEnabled
        self.vethMTU = vethMTU
        self.ebpfDataplaneEnabled = ebpfDataplaneEnabled
        self.overlay = overlay
        self.snatToUpstreamDNSEnabled = snatToUpstreamDNSEnabled
        self.autoScaling = autoScaling
        self.vxlanEnabled = vxlanEnabled
        self.ipip = ipip
        self.ipAutodetectionMethod = ipAutodetectionMethod
        self.wireguardEncryption = wireguardEncryption
        self.birdExporterEnabled = birdExporterEnabled
        self.multus = multus
        self.serviceLoopPrevention = serviceLoopPrevention
    }
}

extension EffectiveNetworkConfig {
    /// The renderer's view of a decoded (and validated) provider config.
    public init(_ c: NetworkConfig) {
        self.init()
        backend = c.backend?.rawValue
        ipam = c.ipam.map { IPAM(type: $0.type, cidr: $0.cidr) }
        ipv4 = c.ipv4.map { IPv4(pool: $0.pool?.rawValue, mode: $0.mode?.rawValue, autoDetectionMethod: $0.autoDetectionMethod) }
        ipv6 = c.ipv6.map {
            IPv6(pool: $0.pool?.rawValue, mode: $0.mode?.rawValue, autoDetectionMethod: $0.autoDetectionMethod, sourceNATEnabled: $0.sourceNATEnabled)
        }
        typhaEnabled = c.typha?.enabled
        vethMTU = c.vethMTU
        ebpfDataplaneEnabled = c.ebpfDataplane?.enabled
        overlay = c.overlay.map { Overlay(enabled: $0.enabled, createPodRoutes: $0.createPodRoutes) }
        snatToUpstreamDNSEnabled = c.snatToUpstreamDNS?.enabled
        if let a = c.autoScaling {
            // Only cpu and memory are forwarded into the chart values (the only names validation allows).
            func requests(_ list: ResourceList?) -> Requests? {
                list.map { Requests(cpu: $0["cpu"]?.canonical, memory: $0["memory"]?.canonical) }
            }
            autoScaling = AutoScaling(
                mode: a.mode.rawValue,
                resources: a.resources.map { Resources(node: requests($0.node), typha: requests($0.typha)) })
        }
        vxlanEnabled = c.vxlan?.enabled
        ipip = c.ipip?.rawValue
        ipAutodetectionMethod = c.ipAutodetectionMethod
        wireguardEncryption = c.wireguardEncryption
        birdExporterEnabled = c.birdExporter?.enabled
        multus = c.multus.map { Multus(enabled: $0.enabled, installCNIPlugins: $0.installCNIPlugins) }
        serviceLoopPrevention = c.serviceLoopPrevention?.rawValue
    }

    /// Strict decoding and validation of `Network.spec.providerConfig` as the actuator does it
    /// (so `render` fails exactly where the controller does): decode errors unchanged, validation errors as
    /// `invalid network config: <aggregate>` with root `spec.providerConfig`. `duplicateFields` are the
    /// paths of keys the raw provider config gave twice (see `NetworkConfig.decode`).
    public static func decodeAndValidate(_ raw: JSON, ipFamilies: [String], duplicateFields: [String] = []) throws -> EffectiveNetworkConfig {
        let config: NetworkConfig
        do {
            config = try NetworkConfig.decode(raw, duplicateFields: duplicateFields)
        } catch {
            throw RenderError(field: error.errors.first.map { "spec.providerConfig." + $0.field }, error.description)
        }
        let errors = CalicoValidation.validateNetworkConfig(config, root: CalicoValidation.controllerRoot, ipFamilies: ipFamilies)
        if !errors.isEmpty {
            throw RenderError(field: errors.first?.field, "invalid network config: \(FieldErrorList(errors).description)")
        }
        return EffectiveNetworkConfig(config)
    }
}
