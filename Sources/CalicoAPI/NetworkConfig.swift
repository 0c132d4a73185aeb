import KubeCore

/// The provider API group of the extension.
public enum CalicoAPIGroup {
    /// `calico.networking.extensions.gardener.cloud`
    public static let group = "calico.networking.extensions.gardener.cloud"
    /// `calico.networking.extensions.gardener.cloud/v1alpha1`
    public static let apiVersion = "calico.networking.extensions.gardener.cloud/v1alpha1"
    /// The networking type handled by this extension (`Network.spec.type`, `Shoot.spec.networking.type`).
    public static let networkType = "calico"
    /// The extension name.
    public static let extensionName = "networking-calico"
}

/// A string-typed enumeration as in the Go API: any string can be decoded (so validation can
/// report unsupported values), the known values are static members.
public protocol StringEnum: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String {
    /// The supported values, in the order the validation messages list them.
    static var allowedValues: [String] { get }
    init(rawValue: String)
}

extension StringEnum {
    /// A value from its fields.
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    /// The raw value.
    public var description: String { rawValue }
    /// Whether the value is one of `allowedValues`.
    public var isSupported: Bool { Self.allowedValues.contains(rawValue) }
}

/// Calico networking backend.
public struct Backend: StringEnum {
    /// The value as written.
    public var rawValue: String
    /// Any string: validation reports unsupported values.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `bird`.
    public static let bird: Backend = "bird"
    /// `none`.
    public static let none: Backend = "none"
    /// `vxlan`.
    public static let vxlan: Backend = "vxlan"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["bird", "none", "vxlan"]
}

/// IP pool encapsulation mode.
public struct PoolMode: StringEnum {
    /// The value as written.
    public var rawValue: String
    /// Any string: validation reports unsupported values.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `Always`.
    public static let always: PoolMode = "Always"
    /// `Never`.
    public static let never: PoolMode = "Never"
    /// `CrossSubnet`.
    public static let crossSubnet: PoolMode = "CrossSubnet"
    /// `Off`.
    public static let off: PoolMode = "Off"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["Always", "Never", "CrossSubnet", "Off"]
}

/// IP pool type (overlay encapsulation).
public struct Pool: StringEnum {
    /// The value as written.
    public var rawValue: String
    /// Any string: validation reports unsupported values.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `ipip`.
    public static let ipip: Pool = "ipip"
    /// `vxlan`.
    public static let vxlan: Pool = "vxlan"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["ipip", "vxlan"]
}

/// Scaling mode of calico-node / calico-typha.
public struct AutoscalingMode: StringEnum {
    /// The value as written.
    public var rawValue: String
    /// Any string: validation reports unsupported values.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `cluster-proportional`.
    public static let clusterProportional: AutoscalingMode = "cluster-proportional"
    /// `vpa`.
    public static let vpa: AutoscalingMode = "vpa"
    /// `static`.
    public static let `static`: AutoscalingMode = "static"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["cluster-proportional", "vpa", "static"]
}

/// Felix service loop prevention.
public struct ServiceLoopPrevention: StringEnum {
    /// The value as written.
    public var rawValue: String
    /// Any string: validation reports unsupported values.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `Disabled`.
    public static let disabled: ServiceLoopPrevention = "Disabled"
    /// `Drop`.
    public static let drop: ServiceLoopPrevention = "Drop"
    /// `Reject`.
    public static let reject: ServiceLoopPrevention = "Reject"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["Disabled", "Drop", "Reject"]
}

/// Well-known IPAM values.
public enum IPAMType {
    /// `calico-ipam`.
    public static let calicoIPAM = "calico-ipam"
    /// `host-local`.
    public static let hostLocal = "host-local"
    /// The supported values, in the order validation messages list them.
    public static let allowedValues = ["calico-ipam", "host-local"]
    /// Magic subnet string: use the node's pod CIDR (IPv4).
    public static let usePodCIDR = "usePodCidr"
    /// Magic subnet string: use the node's pod CIDR (IPv6).
    public static let usePodCIDRIPv6 = "usePodCidrIPv6"
}

/// CNI IPAM plugin configuration.
public struct IPAM: Sendable, Hashable {
    /// `calico-ipam` or `host-local`; always serialised, `""` means "keep default".
    public var type: String
    /// `usePodCidr` (any case) or a literal CIDR.
    public var cidr: String?
    /// A value from its fields.
    public init(type: String = "", cidr: String? = nil) {
        self.type = type
        self.cidr = cidr
    }
}

/// IPv4 specific settings.
public struct IPv4: Sendable, Hashable {
    /// The IP pool type (encapsulation).
    public var pool: Pool?
    /// The encapsulation mode of the pool.
    public var mode: PoolMode?
    /// How calico-node picks the node's address (`IP_AUTODETECTION_METHOD`).
    public var autoDetectionMethod: String?
    /// A value from its fields.
    public init(pool: Pool? = nil, mode: PoolMode? = nil, autoDetectionMethod: String? = nil) {
        self.pool = pool
        self.mode = mode
        self.autoDetectionMethod = autoDetectionMethod
    }
}

/// IPv6 specific settings.
public struct IPv6: Sendable, Hashable {
    /// The IP pool type (encapsulation).
    public var pool: Pool?
    /// The encapsulation mode of the pool.
    public var mode: PoolMode?
    /// How calico-node picks the node's address (`IP_AUTODETECTION_METHOD`).
    public var autoDetectionMethod: String?
    /// Masquerade pod IPv6 traffic to external destinations (pool `natOutgoing`).
    public var sourceNATEnabled: Bool?
    /// A value from its fields.
    public init(pool: Pool? = nil, mode: PoolMode? = nil, autoDetectionMethod: String? = nil, sourceNATEnabled: Bool? = nil) {
        self.pool = pool
        self.mode = mode
        self.autoDetectionMethod = autoDetectionMethod
        self.sourceNATEnabled = sourceNATEnabled
    }
}

/// Typha on/off (`typha: {}` means disabled).
public struct Typha: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// A value from its fields.
    public init(enabled: Bool = false) { self.enabled = enabled }
}

/// eBPF data plane on/off.
public struct EbpfDataplane: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// A value from its fields.
    public init(enabled: Bool = false) { self.enabled = enabled }
}

/// VXLAN instead of IPIP as overlay encapsulation.
public struct VXLAN: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// A value from its fields.
    public init(enabled: Bool = false) { self.enabled = enabled }
}

/// BIRD metrics exporter side-car.
public struct BirdExporter: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// A value from its fields.
    public init(enabled: Bool = false) { self.enabled = enabled }
}

/// Masquerade pod traffic to upstream DNS servers (only evaluated when the overlay is disabled).
public struct SnatToUpstreamDNS: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// A value from its fields.
    public init(enabled: Bool = false) { self.enabled = enabled }
}

/// Pod overlay network on/off (`overlay: {}` means disabled, not unset).
public struct Overlay: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// Keep the `bird` backend to distribute pod routes via BGP when the overlay is disabled.
    public var createPodRoutes: Bool?
    /// A value from its fields.
    public init(enabled: Bool = false, createPodRoutes: Bool? = nil) {
        self.enabled = enabled
        self.createPodRoutes = createPodRoutes
    }
}

/// Multus CNI.
public struct Multus: Sendable, Hashable {
    /// Whether it is on.
    public var enabled: Bool
    /// Also install the containernetworking reference plugins.
    public var installCNIPlugins: Bool?
    /// A value from its fields.
    public init(enabled: Bool = false, installCNIPlugins: Bool? = nil) {
        self.enabled = enabled
        self.installCNIPlugins = installCNIPlugins
    }
}

/// A Kubernetes `ResourceList` (resource name → quantity), keeping the order of the input.
public struct ResourceList: Sendable, Hashable, Sequence {
    /// One `name: quantity` entry.
    public struct Entry: Sendable, Hashable {
        /// The resource name (`cpu`, `memory`, ...).
        public var name: String
        /// The amount.
        public var quantity: Quantity
        /// A value from its fields.
        public init(name: String, quantity: Quantity) {
            self.name = name
            self.quantity = quantity
        }
    }
    /// The entries in input order.
    public var entries: [Entry]
    /// A list of these entries.
    public init(_ entries: [Entry] = []) { self.entries = entries }

    /// The quantity of a resource, e.g. `list["cpu"]`.
    public subscript(name: String) -> Quantity? {
        get { entries.first { $0.name == name }?.quantity }
        set {
            if let idx = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[idx].quantity = newValue } else { entries.remove(at: idx) }
            } else if let newValue {
                entries.append(Entry(name: name, quantity: newValue))
            }
        }
    }
    /// No entries.
    public var isEmpty: Bool { entries.isEmpty }
    /// Iterates the entries in order.
    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// `{name: canonicalQuantity, ...}` as chart values want it.
    public var json: JSON {
        var o = JSONObject(minimumCapacity: entries.count)
        for e in entries { o[e.name] = .string(e.quantity.canonical) }
        return .object(o)
    }
}

/// Resources for `static` (requests) or `vpa` (minAllowed) autoscaling modes.
public struct StaticResources: Sendable, Hashable {
    /// For calico-node.
    public var node: ResourceList?
    /// For calico-typha.
    public var typha: ResourceList?
    /// A value from its fields.
    public init(node: ResourceList? = nil, typha: ResourceList? = nil) {
        self.node = node
        self.typha = typha
    }
}

/// Scaling mode of calico-node / calico-typha.
public struct AutoScaling: Sendable, Hashable {
    /// Always serialised; a missing key decodes to `""` (fails validation).
    public var mode: AutoscalingMode
    /// Requests (`static`) or minimum allowed values (`vpa`).
    public var resources: StaticResources?
    /// A value from its fields.
    public init(mode: AutoscalingMode = "", resources: StaticResources? = nil) {
        self.mode = mode
        self.resources = resources
    }
}

/// `NetworkConfig` of `calico.networking.extensions.gardener.cloud/v1alpha1`: what users put into
/// `Shoot.spec.networking.providerConfig`. Every JSON key of the reference, deprecated ones included.
public struct NetworkConfig: Sendable, Hashable {
    /// `NetworkConfig`.
    public static let kind = "NetworkConfig"

    /// The networking backend (`bird`, `vxlan` or `none`).
    public var backend: Backend?
    /// The CNI IPAM plugin.
    public var ipam: IPAM?
    /// IPv4 settings.
    public var ipv4: IPv4?
    /// IPv6 settings.
    public var ipv6: IPv6?
    /// For calico-typha (`typha: {}` disables it).
    public var typha: Typha?
    /// MTU as a string (e.g. `"1440"`); a JSON number is a decode error.
    public var vethMTU: String?
    /// The eBPF data plane (replaces kube-proxy).
    public var ebpfDataplane: EbpfDataplane?
    /// The pod overlay network.
    public var overlay: Overlay?
    /// Masquerading of pod traffic to upstream DNS.
    public var snatToUpstreamDNS: SnatToUpstreamDNS?
    /// How calico-node and calico-typha are scaled.
    public var autoScaling: AutoScaling?
    /// VXLAN as the overlay encapsulation.
    public var vxlan: VXLAN?
    /// DEPRECATED: IPv4 pool IPIP mode (moved to `ipv4.mode`).
    public var ipip: PoolMode?
    /// DEPRECATED: IPv4 autodetection method (JSON key `ipAutodetectionMethod`, lower-case d).
    public var ipAutodetectionMethod: String?
    /// Node-to-node WireGuard encryption (non-pointer: omitted when false).
    public var wireguardEncryption: Bool
    /// The BIRD metrics exporter side-car.
    public var birdExporter: BirdExporter?
    /// Multus CNI.
    public var multus: Multus?
    /// Felix's handling of traffic to unused service IPs.
    public var serviceLoopPrevention: ServiceLoopPrevention?

    /// A value from its fields.
    public init(
        backend: Backend? = nil, ipam: IPAM? = nil, ipv4: IPv4? = nil, ipv6: IPv6? = nil, typha: Typha? = nil,
        vethMTU: String? = nil, ebpfDataplane: EbpfDataplane? = nil, overlay: Overlay? = nil,
        snatToUpstreamDNS: SnatToUpstreamDNS? = nil, autoScaling: AutoScaling? = nil, vxlan: VXLAN? = nil,
        ipip: PoolMode? = nil, ipAutodetectionMethod: String? = nil, wireguardEncryption: Bool = false,
        birdExporter: BirdExporter? = nil, multus: Multus? = nil, serviceLoopPrevention: ServiceLoopPrevention? = nil
    ) {
        self.backend = backend
        self.ipam = ipam
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.typha = typha
        self.vethMTU = vethMTU
        self.ebpfDataplane = ebpfDataplane
        self.overlay = overlay
        self.snatToUpstreamDNS = snatToUpstreamDNS
        self.autoScaling = autoScaling
        self.vxlan = vxlan
        self.ipip = ipip
        self.ipAutodetectionMethod = ipAutodetectionMethod
        self.wireguardEncryption = wireguardEncryption
        self.birdExporter = birdExporter
        self.multus = multus
        self.serviceLoopPrevention = serviceLoopPrevention
    }

    /// There is no defaulting in the reference API package: decoding never fills in
    /// values. Returns `self` unchanged; the effective defaults are the `effective…` properties
    /// below and the procedural rules of the reconciler and the renderer.
    public func defaulted() -> NetworkConfig { self }

    /// Typha is enabled when `typha` is absent, else `typha.enabled`.
    public var effectiveTyphaEnabled: Bool { typha?.enabled ?? true }
    /// `vethMTU`, or `"0"` (auto-detect) when absent.
    public var effectiveVethMTU: String { vethMTU ?? "0" }
    /// The autoscaling mode, `cluster-proportional` when `autoScaling` is absent.
    public var effectiveAutoscalingMode: AutoscalingMode { autoScaling?.mode ?? .clusterProportional }
    /// eBPF data plane on (`ebpfDataplane.enabled == true`).
    public var ebpfEnabled: Bool { ebpfDataplane?.enabled == true }

    /// The JSON form, `apiVersion`/`kind` first, keys in the reference's field order; optional
    /// fields omitted when nil, `wireguardEncryption` omitted when false. Decoding it gives back
    /// an equal value.
    public func encode() -> JSON {
        var o: JSONObject = ["apiVersion": .string(CalicoAPIGroup.apiVersion), "kind": .string(NetworkConfig.kind)]
        if let backend { o["backend"] = .string(backend.rawValue) }
        if let ipam {
            var i: JSONObject = ["type": .string(ipam.type)]
            if let cidr = ipam.cidr { i["cidr"] = .string(cidr) }
            o["ipam"] = .object(i)
        }
        if let ipv4 {
            var i = JSONObject()
            if let pool = ipv4.pool { i["pool"] = .string(pool.rawValue) }
            if let mode = ipv4.mode { i["mode"] = .string(mode.rawValue) }
            if let m = ipv4.autoDetectionMethod { i["autoDetectionMethod"] = .string(m) }
            o["ipv4"] = .object(i)
        }
        if let ipv6 {
            var i = JSONObject()
            if let pool = ipv6.pool { i["pool"] = .string(pool.rawValue) }
            if let mode = ipv6.mode { i["mode"] = .string(mode.rawValue) }
            if let m = ipv6.autoDetectionMethod { i["autoDetectionMethod"] = .string(m) }
            if let s = ipv6.sourceNATEnabled { i["sourceNATEnabled"] = .bool(s) }
            o["ipv6"] = .object(i)
        }
        if let typha { o["typha"] = ["enabled": .bool(typha.enabled)] }
        if let vethMTU { o["vethMTU"] = .string(vethMTU) }
        if let ebpfDataplane { o["ebpfDataplane"] = ["enabled": .bool(ebpfDataplane.enabled)] }
        if let overlay {
            var i: JSONObject = ["enabled": .bool(overlay.enabled)]
            if let c = overlay.createPodRoutes { i["createPodRoutes"] = .bool(c) }
            o["overlay"] = .object(i)
        }
        if let snatToUpstreamDNS { o["snatToUpstreamDNS"] = ["enabled": .bool(snatToUpstreamDNS.enabled)] }
        if let autoScaling {
            var i: JSONObject = ["mode": .string(autoScaling.mode.rawValue)]
            if let r = autoScaling.resources {
                var ro = JSONObject()
                if let n = r.node { ro["node"] = Self.encodeOriginal(n) }
                if let t = r.typha { ro["typha"] = Self.encodeOriginal(t) }
                i["resources"] = .object(ro)
            }
            o["autoScaling"] = .object(i)
        }
        if let vxlan { o["vxlan"] = ["enabled": .bool(vxlan.enabled)] }
        if let ipip { o["ipip"] = .string(ipip.rawValue) }
        if let ipAutodetectionMethod { o["ipAutodetectionMethod"] = .string(ipAutodetectionMethod) }
        if wireguardEncryption { o["wireguardEncryption"] = true }
        if let birdExporter { o["birdExporter"] = ["enabled": .bool(birdExporter.enabled)] }
        if let multus {
            var i: JSONObject = ["enabled": .bool(multus.enabled)]
            if let c = multus.installCNIPlugins { i["installCNIPlugins"] = .bool(c) }
            o["multus"] = .object(i)
        }
        if let serviceLoopPrevention { o["serviceLoopPrevention"] = .string(serviceLoopPrevention.rawValue) }
        return .object(o)
    }

    /// Quantities serialise in canonical form, as Kubernetes' `Quantity.MarshalJSON` does.
    private static func encodeOriginal(_ list: ResourceList) -> JSON { list.json }
}

/// `NetworkStatus`: only `apiVersion` and `kind`.
public struct NetworkStatus: Sendable, Hashable {
    /// `NetworkStatus`.
    public static let kind = "NetworkStatus"
    /// The defaults.
    public init() {}
    /// `{"apiVersion":"calico.networking.extensions.gardener.cloud/v1alpha1","kind":"NetworkStatus"}`
    public func encode() -> JSON {
        ["apiVersion": .string(CalicoAPIGroup.apiVersion), "kind": .string(NetworkStatus.kind)]
    }
}
