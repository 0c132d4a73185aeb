import CalicoAPI
import KubeCore

/// The NetworkConfig after the reconcile pre-processing (reconcile.md §3.5–3.10): the shape of
/// the provider API with every field optional, mutated by the pre-processing steps. It is the
/// input of the values computation (rendering.md §2.3).
public struct EffectiveNetworkConfig: Sendable, Equatable {
    public struct IPv4: Sendable, Equatable {
        public var pool: String?
        public var mode: String?
        public var autoDetectionMethod: String?
        public init(pool: String? = nil, mode: String? = nil, autoDetectionMethod: String? = nil) {
            self.pool = pool
            self.mode = mode
            self.autoDetectionMethod = autoDetectionMethod
        }
    }
    public struct IPv6: Sendable, Equatable {
        public var pool: String?
        public var mode: String?
        public var autoDetectionMethod: String?
        public var sourceNATEnabled: Bool?
        public init(pool: String? = nil, mode: String? = nil, autoDetectionMethod: String? = nil, sourceNATEnabled: Bool? = nil) {
            self.pool = pool
            self.mode = mode
            self.autoDetectionMethod = autoDetectionMethod
            self.sourceNATEnabled = sourceNATEnabled
        }
    }
    public struct IPAM: Sendable, Equatable {
        public var type: String
        public var cidr: String?
        public init(type: String = "", cidr: String? = nil) {
            self.type = type
            self.cidr = cidr
        }
    }
    public struct Overlay: Sendable, Equatable {
        public var enabled: Bool
        public var createPodRoutes: Bool?
        public init(enabled: Bool, createPodRoutes: Bool? = nil) {
            self.enabled = enabled
            self.createPodRoutes = createPodRoutes
        }
    }
    /// `cpu`/`memory` requests as canonical quantity strings (other names dropped).
    public struct Requests: Sendable, Equatable {
        public var cpu: String?
        public var memory: String?
        public init(cpu: String? = nil, memory: String? = nil) {
            self.cpu = cpu
            self.memory = memory
        }
        public var isEmpty: Bool { cpu == nil && memory == nil }
    }
    public struct Resources: Sendable, Equatable {
        public var node: Requests?
        public var typha: Requests?
        public init(node: Requests? = nil, typha: Requests? = nil) {
            self.node = node
            self.typha = typha
        }
    }
    public struct AutoScaling: Sendable, Equatable {
        public var mode: String
        /// nil when `resources` is absent.
        public var resources: Resources?
        public init(mode: String, resources: Resources? = nil) {
            self.mode = mode
            self.resources = resources
        }
    }
    public struct Multus: Sendable, Equatable {
        public var enabled: Bool
        public var installCNIPlugins: Bool?
        public init(enabled: Bool, installCNIPlugins: Bool? = nil) {
            self.enabled = enabled
            self.installCNIPlugins = installCNIPlugins
        }
    }

    public var backend: String?
    public var ipam: IPAM?
    public var ipv4: IPv4?
    public var ipv6: IPv6?
    /// `typha.enabled` when the `typha` object is present.
    public var typhaEnabled: Bool?
    public var vethMTU: String?
    public var ebpfDataplaneEnabled: Bool?
    public var overlay: Overlay?
    public var snatToUpstreamDNSEnabled: Bool?
    public var autoScaling: AutoScaling?
    public var vxlanEnabled: Bool?
    /// Deprecated top-level IPv4 pool mode.
    public var ipip: String?
    /// Deprecated top-level IPv4 autodetection method.
    public var ipAutodetectionMethod: String?
    public var wireguardEncryption: Bool
    public var birdExporterEnabled: Bool?
    public var multus: Multus?
    public var serviceLoopPrevention: String?

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
            // Only cpu and memory are forwarded into the chart values (rendering.md §2.5).
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
    /// (reconcile.md §3.3): decode errors unchanged, validation errors as
    /// `invalid network config: <aggregate>` with root `spec.providerConfig`.
    public static func decodeAndValidate(_ raw: JSON, ipFamilies: [String]) throws -> EffectiveNetworkConfig {
        let config: NetworkConfig
        do {
            config = try NetworkConfig.decode(raw)
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
