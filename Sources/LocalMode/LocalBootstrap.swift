import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import NetworkingCalico

/// Applying example files for local mode and end-to-end tests (docs/local.md): CRDs, namespaces,
/// Clusters, Networks and the garden's Shoot, CloudProfile and Seed, idempotent on restart; the
/// reconciled check and the report of `calico-dev local`.
public enum LocalBootstrap {
    /// Creates or updates every document of a YAML file (CRDs, namespaces, Clusters, Networks).
    public static func apply(file: String, client: KubernetesClient) async throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for doc in try JSON.parseYAMLDocuments(text) where doc.isObject {
            try await apply(object: doc, client: client)
        }
    }

    /// The resource of the kinds the example files contain.
    static func resource(of object: JSON) throws -> Resource {
        switch (object["apiVersion"]?.stringValue ?? "", object["kind"]?.stringValue ?? "") {
        case ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): return .customResourceDefinitions
        case ("v1", "Namespace"): return .namespaces
        case ("v1", "Secret"): return .secrets
        case ("v1", "ConfigMap"): return .configMaps
        case (Resource.clusters.apiVersion, "Cluster"): return .clusters
        case (Resource.networks.apiVersion, "Network"): return .networks
        case (Resource.shoots.apiVersion, "Shoot"): return .shoots
        case (Resource.cloudProfiles.apiVersion, "CloudProfile"): return .cloudProfiles
        case (Resource.seeds.apiVersion, "Seed"): return .seeds
        case (let apiVersion, let kind): throw MessageError("unsupported object \(apiVersion) \(kind) in example file")
        }
    }

    /// Create; if it exists: Networks get the `reconcile` operation annotation again (so a
    /// restart re-runs the reconcile), other objects are updated when their spec differs.
    public static func apply(object: JSON, client: KubernetesClient) async throws {
        let resource = try resource(of: object)
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        let namespace = resource.namespaced ? object[path: "metadata", "namespace"]?.stringValue : nil
        do {
            _ = try await client.create(resource, namespace: namespace, object)
            return
        } catch let e as KubeError where e.isAlreadyExists {}
        let existing = try await client.get(resource, namespace: namespace, name: name)
        if resource == .networks {
            if existing[path: "metadata", "deletionTimestamp"] != nil {
                throw MessageError("Network \(namespace ?? "")/\(name) is being deleted; wait and retry")
            }
            _ = try await client.patch(
                resource, namespace: namespace, name: name,
                ["metadata": ["annotations": [GardenerConstants.operationAnnotation: "reconcile"]]], type: .merge)
            return
        }
        // The user's edits of a Shoot are kept on restart (`--reset` starts from the example).
        if resource == .shoots { return }
        // Local edits of the Cluster/CRDs are overwritten by the example on restart.
        guard let spec = object["spec"], existing["spec"] != spec else { return }
        var updated = existing
        updated["spec"] = spec
        _ = try await client.update(resource, namespace: namespace, updated)
    }

    /// Waits until the Network, Cluster and ManagedResource APIs answer (CRDs served).
    public static func waitForCRDs(client: KubernetesClient, timeout: Duration = .seconds(30)) async throws {
        try await waitUntilServed(client: client, resources: [.networks, .clusters, .managedResources], timeout: timeout)
    }

    /// Waits until every resource of `resources` answers a list (its CRD is served).
    public static func waitUntilServed(client: KubernetesClient, resources: [Resource], timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        for resource in resources {
            while true {
                do {
                    _ = try await client.list(resource, namespace: nil, options: ListOptions(limit: 1))
                    break
                } catch {
                    if ContinuousClock.now > deadline { throw MessageError("\(resource.qualifiedName) not served: \(error)") }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    /// Applies the garden example (CloudProfile, Seed, project namespace, Shoot); returns the
    /// Shoot's namespace and name.
    public static func applyGardenExample(file: String, client: KubernetesClient) async throws -> (namespace: String, name: String) {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var shoot: (String, String)?
        for doc in try JSON.parseYAMLDocuments(text) where doc.isObject {
            try await apply(object: doc, client: client)
            if doc["kind"]?.stringValue == "Shoot" {
                shoot = (doc[path: "metadata", "namespace"]?.stringValue ?? "", doc[path: "metadata", "name"]?.stringValue ?? "")
            }
        }
        guard let shoot else { throw MessageError("\(file) contains no Shoot") }
        return shoot
    }

    /// Whether the Network is reconciled: no pending operation annotation, last operation
    /// Succeeded and the current generation observed.
    public static func isReconciled(_ obj: JSON) -> Bool {
        let pending = obj[path: "metadata", "annotations", GardenerConstants.operationAnnotation]?.stringValue
        let state = obj[path: "status", "lastOperation", "state"]?.stringValue
        let type = obj[path: "status", "lastOperation", "type"]?.stringValue
        return pending == nil && state == "Succeeded" && type != "Delete" && type != "Migrate"
            && obj[path: "status", "observedGeneration"]?.intValue == obj[path: "metadata", "generation"]?.intValue
    }

}

extension LocalBootstrap {
    /// The report `local` prints once the example is ready: the Shoot, the Network, the
    /// ManagedResource's conditions, the shoot's Nodes and calico-node, the three kubeconfigs and
    /// a few kubectl commands for each cluster.
    public static func landscapeReport(_ landscape: LocalLandscape, exampleDir: String) async -> String {
        let layout = landscape.layout
        let (ns, name) = landscape.network
        var lines: [String] = [""]
        lines.append(landscape.keptState ? "State: kept from the last run (--reset starts from the example)" : "State: new, from the example")
        if let garden = landscape.clients[.garden],
            let shoot = try? await garden.get(.shoots, namespace: landscape.shoot.namespace, name: landscape.shoot.name)
        {
            let op = shoot[path: "status", "lastOperation"] ?? .null
            lines.append(
                "Shoot \(landscape.shoot.namespace)/\(landscape.shoot.name) (garden): Kubernetes \(shoot[path: "spec", "kubernetes", "version"]?.stringValue ?? "?"), lastOperation \(op["type"]?.stringValue ?? "-") \(op["state"]?.stringValue ?? "-")"
            )
        }
        if let seed = landscape.clients[.seed], let network = try? await seed.get(.networks, namespace: ns, name: name) {
            let op = network[path: "status", "lastOperation"] ?? .null
            lines.append(
                "Network \(ns)/\(name) (seed): \(op["type"]?.stringValue ?? "") \(op["state"]?.stringValue ?? "") \(op["progress"]?.intValue ?? 0)% — \(op["description"]?.stringValue ?? "")"
            )
            lines.append(
                "  providerStatus: \(network[path: "status", "providerStatus", "kind"]?.stringValue ?? "-"); observedGeneration \(network[path: "status", "observedGeneration"]?.intValue ?? 0) (generation \(network[path: "metadata", "generation"]?.intValue ?? 0))"
            )
            if let mr = try? await seed.get(.managedResources, namespace: ns, name: CalicoNames.managedResourceName) {
                let view = ManagedResource(raw: mr)
                lines.append("ManagedResource \(ns)/\(CalicoNames.managedResourceName) (seed): secrets \(view.secretRefs.joined(separator: ", "))")
                for type in ["ResourcesApplied", "ResourcesHealthy", "ResourcesProgressing"] {
                    let c = view.condition(type)
                    lines.append(
                        "  \(type.padding(toLength: 21, withPad: " ", startingAt: 0)) \(c?["status"]?.stringValue ?? "-") (\(c?["reason"]?.stringValue ?? "-"))"
                    )
                }
                lines.append("  objects in the shoot: \(mr[path: "status", "resources"]?.arrayValue?.count ?? 0)")
            }
        }
        if let shoot = landscape.clients[.shoot] {
            let nodes = (try? await shoot.listAll(.nodes, namespace: nil).items.count) ?? 0
            let ds = try? await shoot.get(.daemonSets, namespace: "kube-system", name: "calico-node")
            lines.append(
                "Shoot cluster: \(nodes) Nodes; DaemonSet kube-system/calico-node \(ds?[path: "status", "numberReady"]?.intValue ?? 0)/\(ds?[path: "status", "desiredNumberScheduled"]?.intValue ?? 0) ready"
            )
        }
        let garden = layout.kubeconfig(.garden)
        let seed = layout.kubeconfig(.seed)
        let shoot = layout.kubeconfig(.shoot)
        lines.append("")
        lines.append("Kubeconfigs:")
        lines.append("  garden  \(garden)   (Shoots; admission webhook registered)")
        lines.append("  seed    \(seed)   (also \(layout.defaultKubeconfig); Network, Cluster, ManagedResource)")
        lines.append("  shoot   \(shoot)   (Nodes and what the ManagedResource applies)")
        lines.append("Garden (shoot owner):")
        lines.append("  kubectl --kubeconfig \(garden) -n \(landscape.shoot.namespace) get shoots")
        lines.append("  kubectl --kubeconfig \(garden) -n \(landscape.shoot.namespace) patch shoot \(landscape.shoot.name) --type merge \\")
        lines.append("    -p '{\"spec\":{\"networking\":{\"providerConfig\":{\"overlay\":{\"enabled\":true}}}}}'")
        lines.append("Seed (operator):")
        lines.append("  kubectl --kubeconfig \(seed) -n \(ns) get network,managedresource,secrets")
        lines.append("  kubectl --kubeconfig \(seed) -n \(ns) describe network \(name)")
        lines.append("Shoot:")
        lines.append("  kubectl --kubeconfig \(shoot) get nodes")
        lines.append("  kubectl --kubeconfig \(shoot) -n kube-system get daemonsets,deployments")
        lines.append("Start from the example again: calico-dev local --reset (example: \(exampleDir)/local/shoot.yaml)")
        return lines.joined(separator: "\n")
    }
}
