import CalicoAPI
import KubeJSON

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
    public func yamlBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48 * 1024)
        ManifestYAML.writeStream(entries, to: &out)
        return out
    }

    /// The objects as a `v1` `List` JSON document.
    public func jsonList() -> JSON {
        ["apiVersion": "v1", "kind": "List", "items": .array(objects)]
    }
}

/// The internal `calico` chart: which objects exist for which values (rendering.md §3).
public enum CalicoChart {
    /// Every shoot object for `values`, sorted by apiVersion, kind, namespace, name.
    public static func objects(_ v: CalicoValues) -> [JSON] { entries(v).map(\.json) }

    /// Objects that never depend on the values: built and serialized once per process.
    static let staticCRDs = CalicoCRDs.all.map { ManifestEntry($0, cacheYAML: true) }
    static let staticRBAC = [
        CalicoRBAC.cniPluginRole, CalicoRBAC.calicoNodeRole, CalicoRBAC.tierGetterRole, CalicoRBAC.tierGetterBinding,
        K.clusterRoleBinding("calico-cni-plugin", subjects: [K.saSubject("calico-cni-plugin")]),
        K.serviceAccount("calico-cni-plugin"), K.serviceAccount("calico-node"),
        TyphaDeployment.networkPolicy(),
    ].map { ManifestEntry($0, cacheYAML: true) }
    static let staticKubeControllers = CalicoRBAC.kubeControllers().map { ManifestEntry($0, cacheYAML: true) }
        + [ManifestEntry(KubeControllersDeployment.podDisruptionBudget(), cacheYAML: true)]
    static let staticTypha = [
        TyphaDeployment.podDisruptionBudget(), TyphaDeployment.service(), K.serviceAccount("calico-typha"),
    ].map { ManifestEntry($0, cacheYAML: true) }

    static func entries(_ v: CalicoValues) -> [ManifestEntry] {
        var list: [ManifestEntry] = []
        list.reserveCapacity(72)
        func add(_ objects: [JSON]) { for o in objects { list.append(ManifestEntry(o)) } }
        list += staticCRDs
        list += staticRBAC
        if v.multusEnabled { add(MultusObjects.build(v)) }
        add(IPPools.build(v))

        let configMap = CNIConfig.configMap(v)
        let configMapYAML = ManifestYAML.document(configMap)
        list.append(ManifestEntry(json: configMap, yaml: configMapYAML))
        // The pod template checksum guards exactly the ConfigMap text we ship.
        add([CalicoNodeDaemonSet.build(v, configChecksum: SHA256Digest.hex(configMapYAML))])
        var nodeSubjects = [K.saSubject("calico-node")]
        if v.typhaEnabled { nodeSubjects.append(K.saSubject("calico-typha")) }
        add([K.clusterRoleBinding("calico-node", subjects: nodeSubjects)])
        add(MonitoringServices.build(v))

        if v.kubeControllersEnabled {
            list += staticKubeControllers
            add([KubeControllersDeployment.build(v)])
            if v.vpaKubeControllers { add([VerticalPodAutoscalers.kubeControllers()]) }
        }
        if v.nodeCPVA { add(ClusterProportionalAutoscalers.nodeCPVAObjects(v)) }
        if v.vpaNode { add([VerticalPodAutoscalers.calicoNode(v)]) }
        if v.typhaEnabled {
            list += staticTypha
            add(ClusterProportionalAutoscalers.typhaCPHAObjects(v))
            if v.typhaCPVA { add(ClusterProportionalAutoscalers.typhaCPVAObjects(v)) }
            add([TyphaDeployment.build(v)])
        }
        if v.vpaTypha { add([VerticalPodAutoscalers.typha(v)]) }
        list.sort { $0.sortKey < $1.sortKey }
        return list
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
    decodeProviderConfig: (JSON, [String]) throws -> EffectiveNetworkConfig = EffectiveNetworkConfig.decodeAndValidate
) throws -> RenderedManifests {
    let input = try RenderInput.prepare(
        network: network, cluster: cluster, nonPrivilegedCalicoNode: nonPrivilegedCalicoNode,
        decodeProviderConfig: decodeProviderConfig)
    return try renderShootManifests(input, imageVector: imageVector)
}

/// Renders the shoot manifests for already pre-processed input.
public func renderShootManifests(_ input: RenderInput, imageVector: ImageVector = .default) throws -> RenderedManifests {
    let values = try CalicoValues.compute(config: input.config, shoot: input.shoot, imageVector: imageVector)
    return RenderedManifests(values: values, entries: CalicoChart.entries(values))
}

/// Renders the shoot manifests with the controller's feature gates (`NonPrivilegedCalicoNode`).
public func renderShootManifests(
    network: JSON, cluster: JSON, featureGates: FeatureGates, imageVector: ImageVector = .default
) throws -> RenderedManifests {
    try renderShootManifests(
        network: network, cluster: cluster, nonPrivilegedCalicoNode: featureGates.nonPrivilegedCalicoNode, imageVector: imageVector)
}
