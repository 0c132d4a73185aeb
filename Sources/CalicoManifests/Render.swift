import CalicoAPI
import KubeJSON

/// The shoot objects of one rendering, sorted by apiVersion, kind, namespace and name.
public struct RenderedManifests: Sendable {
    /// The chart values the objects were built from.
    public var values: CalicoValues
    /// Every object of the shoot ManagedResource, sorted.
    public var objects: [JSON]

    /// Deterministic multi-document YAML: each object preceded by `---`.
    public func yaml() -> String { String(decoding: yamlBytes(), as: UTF8.self) }

    /// The YAML stream as UTF-8 bytes.
    public func yamlBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 * 1024)
        ManifestYAML.writeStream(objects, to: &out)
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
    public static func objects(_ v: CalicoValues) -> [JSON] {
        var list: [JSON] = []
        list.reserveCapacity(72)
        list += CalicoCRDs.all
        if v.multusEnabled { list += MultusObjects.build(v) }
        list += IPPools.build(v)

        let configMap = CNIConfig.configMap(v)
        list.append(configMap)
        list.append(CalicoNodeDaemonSet.build(v, configChecksum: SHA256Digest.hex(YAMLWriter().document(configMap).utf8)))
        list += CalicoRBAC.always(v)
        list += MonitoringServices.build(v)
        list.append(TyphaDeployment.networkPolicy())

        if v.kubeControllersEnabled {
            list += CalicoRBAC.kubeControllers()
            list.append(KubeControllersDeployment.build(v))
            list.append(KubeControllersDeployment.podDisruptionBudget())
            if v.vpaKubeControllers { list.append(VerticalPodAutoscalers.kubeControllers()) }
        }
        if v.nodeCPVA { list += ClusterProportionalAutoscalers.nodeCPVAObjects(v) }
        if v.vpaNode { list.append(VerticalPodAutoscalers.calicoNode(v)) }
        if v.typhaEnabled {
            list += ClusterProportionalAutoscalers.typhaCPHAObjects(v)
            if v.typhaCPVA { list += ClusterProportionalAutoscalers.typhaCPVAObjects(v) }
            list.append(TyphaDeployment.build(v))
            list.append(TyphaDeployment.podDisruptionBudget())
            list.append(TyphaDeployment.service())
            list.append(K.serviceAccount("calico-typha"))
        }
        if v.vpaTypha { list.append(VerticalPodAutoscalers.typha(v)) }
        return sorted(list)
    }

    /// Sorts objects by (apiVersion, kind, namespace, name).
    public static func sorted(_ objects: [JSON]) -> [JSON] {
        func key(_ o: JSON) -> (String, String, String, String) {
            (o["apiVersion"]?.stringValue ?? "", o["kind"]?.stringValue ?? "",
             o[path: "metadata", "namespace"]?.stringValue ?? "", o[path: "metadata", "name"]?.stringValue ?? "")
        }
        return objects.map { (key($0), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
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
    return RenderedManifests(values: values, objects: CalicoChart.objects(values))
}

/// Renders the shoot manifests with the controller's feature gates (`NonPrivilegedCalicoNode`).
public func renderShootManifests(
    network: JSON, cluster: JSON, featureGates: FeatureGates, imageVector: ImageVector = .default
) throws -> RenderedManifests {
    try renderShootManifests(
        network: network, cluster: cluster, nonPrivilegedCalicoNode: featureGates.nonPrivilegedCalicoNode, imageVector: imageVector)
}
