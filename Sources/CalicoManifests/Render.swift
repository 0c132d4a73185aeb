import CalicoAPI
import KubeCore
import Synchronization

/// The shoot objects of one rendering, sorted by apiVersion, kind, namespace and name.
public struct RenderedManifests: Sendable {
    /// The chart values the objects were built from.
    public var values: CalicoValues
    var entries: [ManifestEntry]

    init(values: CalicoValues, entries: [ManifestEntry]) {
        self.values = values
        self.entries = entries
    }

    /// Every object of the shoot ManagedResource, sorted.
    public var objects: [JSON] { entries.map(\.json) }

    /// Deterministic multi-document YAML: each object preceded by `---`.
    public func yaml() -> String { String(decoding: yamlBytes(), as: UTF8.self) }

    /// The YAML stream as UTF-8 bytes.
    public func yamlBytes() -> [UInt8] { ManifestYAML.streamBytes(entries) }

    /// The objects as a `v1` `List` JSON document.
    public func jsonList() -> JSON {
        ["apiVersion": "v1", "kind": "List", "items": .array(objects)]
    }
}

/// The internal `calico` chart: which objects exist for which values.
public enum CalicoChart {
    /// Every shoot object for `values`, sorted by apiVersion, kind, namespace, name.
    public static func objects(_ v: CalicoValues) -> [JSON] { entries(v).map(\.json) }

    /// Objects that never depend on the values: built and serialized once per process (the
    /// render then copies their YAML bytes). A test checks each cache equals a fresh emission.
    static let staticCRDs = CalicoCRDs.all.map { ManifestEntry($0, cacheYAML: true) }
    static let staticRBAC = [
        CalicoRBAC.cniPluginRole, CalicoRBAC.calicoNodeRole, CalicoRBAC.tierGetterRole, CalicoRBAC.tierGetterBinding,
        K.clusterRoleBinding("calico-cni-plugin", subjects: [K.saSubject("calico-cni-plugin")]),
        K.serviceAccount("calico-cni-plugin"), K.serviceAccount("calico-node"),
        TyphaDeployment.networkPolicy(),
    ].map { ManifestEntry($0, cacheYAML: true) }
    static let staticKubeControllers =
        CalicoRBAC.kubeControllers().map { ManifestEntry($0, cacheYAML: true) }
        + [ManifestEntry(KubeControllersDeployment.podDisruptionBudget(), cacheYAML: true)]
    static let staticTypha = [
        TyphaDeployment.podDisruptionBudget(), TyphaDeployment.service(), K.serviceAccount("calico-typha"),
    ].map { ManifestEntry($0, cacheYAML: true) }

    static let staticMultus = MultusObjects.staticObjects.map { ManifestEntry($0, cacheYAML: true) }
    static let staticNodeCPVA = ClusterProportionalAutoscalers.nodeCPVAStatic.map { ManifestEntry($0, cacheYAML: true) }
    static let staticTyphaCPHA = ClusterProportionalAutoscalers.typhaCPHAStatic.map { ManifestEntry($0, cacheYAML: true) }
    static let staticTyphaCPVA = ClusterProportionalAutoscalers.typhaCPVAStatic.map { ManifestEntry($0, cacheYAML: true) }
    static let staticKubeControllersVPA = ManifestEntry(VerticalPodAutoscalers.kubeControllersVPA, cacheYAML: true)

    /// Which groups of static objects a rendering includes (bit set; see `staticEntries`).
    struct StaticSelection: Hashable, Sendable {
        var bits: UInt8
        init(_ v: CalicoValues) {
            bits =
                (v.multusEnabled ? 1 : 0) | (v.kubeControllersEnabled ? 2 : 0)
                | (v.kubeControllersEnabled && v.vpaKubeControllers ? 4 : 0) | (v.nodeCPVA ? 8 : 0)
                | (v.typhaEnabled ? 16 : 0) | (v.typhaEnabled && v.typhaCPVA ? 32 : 0)
        }
    }

    /// The sorted static entries per selection (at most 64), built on first use; a render then
    /// sorts only its value-dependent objects and merges the two sorted lists.
    private static let sortedStatics = Mutex<[StaticSelection: [ManifestEntry]]>([:])

    static func staticEntries(_ selection: StaticSelection) -> [ManifestEntry] {
        if let cached = sortedStatics.withLock({ $0[selection] }) { return cached }
        let bits = selection.bits
        var list = staticCRDs + staticRBAC
        if bits & 1 != 0 { list += staticMultus }
        if bits & 2 != 0 { list += staticKubeControllers }
        if bits & 4 != 0 { list.append(staticKubeControllersVPA) }
        if bits & 8 != 0 { list += staticNodeCPVA }
        if bits & 16 != 0 { list += staticTypha + staticTyphaCPHA }
        if bits & 32 != 0 { list += staticTyphaCPVA }
        list.sort { $0.sortKey < $1.sortKey }
        sortedStatics.withLock { $0[selection] = list }
        return list
    }

    static func entries(_ v: CalicoValues) -> [ManifestEntry] {
        var list: [ManifestEntry] = []
        list.reserveCapacity(24)
        func add(_ object: JSON) { list.append(ManifestEntry(object)) }
        func add(_ objects: [JSON]) { for o in objects { list.append(ManifestEntry(o)) } }
        if v.multusEnabled { add(MultusObjects.daemonSet(v)) }
        add(IPPools.build(v))

        let configMap = CNIConfig.configMap(v)
        let configMapYAML = ManifestYAML.document(configMap)
        list.append(ManifestEntry(json: configMap, yaml: configMapYAML))
        // The pod template checksum guards exactly the ConfigMap text we ship.
        add(CalicoNodeDaemonSet.build(v, configChecksum: SHA256Digest.hex(configMapYAML)))
        var nodeSubjects = [K.saSubject("calico-node")]
        if v.typhaEnabled { nodeSubjects.append(K.saSubject("calico-typha")) }
        add(K.clusterRoleBinding("calico-node", subjects: nodeSubjects))
        add(MonitoringServices.build(v))

        if v.kubeControllersEnabled { add(KubeControllersDeployment.build(v)) }
        if v.nodeCPVA { add(ClusterProportionalAutoscalers.nodeCPVADeployment(v)) }
        if v.vpaNode { add(VerticalPodAutoscalers.calicoNode(v)) }
        if v.typhaEnabled {
            add(ClusterProportionalAutoscalers.typhaCPHADeployment(v))
            if v.typhaCPVA { add(ClusterProportionalAutoscalers.typhaCPVADeployment(v)) }
            add(TyphaDeployment.build(v))
        }
        if v.vpaTypha { add(VerticalPodAutoscalers.typha(v)) }
        list.sort { $0.sortKey < $1.sortKey }
        return merge(staticEntries(StaticSelection(v)), list)
    }

    /// Merges two lists sorted by sort key (keys are unique across the two).
    static func merge(_ a: [ManifestEntry], _ b: [ManifestEntry]) -> [ManifestEntry] {
        var out: [ManifestEntry] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count && j < b.count {
            if b[j].sortKey < a[i].sortKey {
                out.append(b[j])
                j += 1
            } else {
                out.append(a[i])
                i += 1
            }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }

    /// Sorts objects by (apiVersion, kind, namespace, name).
    public static func sorted(_ objects: [JSON]) -> [JSON] {
        objects.map { ManifestEntry($0) }.sorted { $0.sortKey < $1.sortKey }.map(\.json)
    }
}

/// Renders the shoot manifests for a Network and its Cluster (the `render` command and the
/// actuator): pre-processing, values, objects. Errors are `RenderError`s naming the field, or
/// whatever `decodeProviderConfig` throws.
public func renderShootManifests(
    network: JSON, cluster: JSON, nonPrivilegedCalicoNode: Bool = false, imageVector: ImageVector = .default,
    decodeProviderConfig: (JSON, [String]) throws -> EffectiveNetworkConfig = { try EffectiveNetworkConfig.decodeAndValidate($0, ipFamilies: $1) }
) throws -> RenderedManifests {
    let input = try RenderInput.prepare(
        network: network, cluster: cluster, nonPrivilegedCalicoNode: nonPrivilegedCalicoNode,
        decodeProviderConfig: decodeProviderConfig)
    return try renderShootManifests(input, imageVector: imageVector)
}

/// Renders the shoot manifests for already pre-processed input.
public func renderShootManifests(_ input: RenderInput, imageVector: ImageVector = .default) throws -> RenderedManifests {
    let values = try CalicoValues.compute(config: input.config, inputs: input.chartInputs, imageVector: imageVector)
    return RenderedManifests(values: values, entries: CalicoChart.entries(values))
}

/// Renders the shoot manifests with the controller's feature gates (`NonPrivilegedCalicoNode`).
/// `providerConfigDuplicates` are the paths of keys the raw `spec.providerConfig` gave twice (see `NetworkConfig.decode`).
public func renderShootManifests(
    network: JSON, cluster: JSON, featureGates: FeatureGates, imageVector: ImageVector = .default, providerConfigDuplicates: [String] = []
) throws -> RenderedManifests {
    try renderShootManifests(
        network: network, cluster: cluster, nonPrivilegedCalicoNode: featureGates.nonPrivilegedCalicoNode, imageVector: imageVector,
        decodeProviderConfig: { try EffectiveNetworkConfig.decodeAndValidate($0, ipFamilies: $1, duplicateFields: providerConfigDuplicates) })
}
