import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging

extension Resource {
    /// `shoots.core.gardener.cloud/v1beta1` in local mode's garden (a CRD there, see example/local).
    public static let shoots = Resource(group: "core.gardener.cloud", version: "v1beta1", plural: "shoots", kind: "Shoot", namespaced: true)
    /// `cloudprofiles.core.gardener.cloud/v1beta1` (cluster-scoped).
    public static let cloudProfiles = Resource(
        group: "core.gardener.cloud", version: "v1beta1", plural: "cloudprofiles", kind: "CloudProfile", namespaced: false)
    /// `seeds.core.gardener.cloud/v1beta1` (cluster-scoped).
    public static let seeds = Resource(group: "core.gardener.cloud", version: "v1beta1", plural: "seeds", kind: "Seed", namespaced: false)
}

/// Stands in for gardenlet's shoot reconciliation as far as the networking extension sees it:
/// a Shoot in the garden becomes the seed namespace `shoot--<project>--<name>` with its Cluster
/// (embedding CloudProfile, Seed and Shoot), the shoot-access kubeconfig secret the actuator's
/// shoot client reads, and the Network named like the Shoot (type, CIDRs, ipFamilies and
/// providerConfig from `spec.networking`); the Network's last operation is copied to the Shoot's
/// status. Deleting the Shoot deletes the Network, waits until the extension released it, then
/// removes the Cluster and the namespace.
///
/// Left out: every other extension and control-plane component, the operation annotation
/// (local mode's controller reacts to generation changes), shoot hibernation, migration and
/// restore, the deletion confirmation annotation, and project/quota checks.
public struct Gardenlet: Reconciler {
    /// The finalizer gardenlet puts on Shoots.
    public static let finalizer = "gardener"

    let garden: KubernetesClient
    let seed: KubernetesClient
    /// Kubeconfig of the shoot cluster, stored in the shoot-access secret.
    let shootKubeconfig: String
    let logger: Logger

    /// The seed namespace of a Shoot: `shoot--<project>--<name>`, where the project is the garden
    /// namespace without its `garden-` prefix.
    public static func technicalID(namespace: String, name: String) -> String {
        let project = namespace.hasPrefix("garden-") ? String(namespace.dropFirst("garden-".count)) : namespace
        return "shoot--\(project)--\(name)"
    }

    /// The Shoot of a seed namespace (the inverse of `technicalID`), nil for other namespaces.
    public static func shootRequest(seedNamespace: String) -> ReconcileRequest? {
        let parts = seedNamespace.components(separatedBy: "--")
        guard parts.count == 3, parts[0] == "shoot" else { return nil }
        let namespace = parts[1] == "garden" ? "garden" : "garden-\(parts[1])"
        return ReconcileRequest(namespace: namespace, name: parts[2])
    }

    /// Adds the shoot controller to `manager` (the garden's), watching Shoots there and the
    /// Networks in the seed (`networks`, so their status reaches the Shoot).
    @discardableResult
    public static func add(
        to manager: Manager, seed: KubernetesClient, networks: Informer, shootKubeconfig: String, logger: Logger
    ) async -> Controller {
        let reconciler = Gardenlet(garden: manager.client, seed: seed, shootKubeconfig: shootKubeconfig, logger: logger)
        let controller = Controller(
            name: "shoot", reconciler: reconciler, maxConcurrentReconciles: 2,
            rateLimiter: Landscape.rateLimiter(),
            reconcileTimeout: .seconds(60), metrics: manager.metrics, logger: logger)
        await controller.watch(manager.informer(for: .shoots))
        await controller.watch(networks) { network in
            guard let namespace = network[path: "metadata", "namespace"]?.stringValue else { return [] }
            return Self.shootRequest(seedNamespace: namespace).map { [$0] } ?? []
        }
        manager.add(controller)
        return controller
    }

    /// Brings the seed in line with the Shoot (or tears it down when the Shoot is deleted).
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        let namespace = request.namespace ?? ""
        let shoot: JSON
        do {
            shoot = try await garden.get(.shoots, namespace: namespace, name: request.name)
        } catch let e as KubeError where e.isNotFound {
            return .done
        }
        let technicalID = Self.technicalID(namespace: namespace, name: request.name)
        if shoot[path: "metadata", "deletionTimestamp"] != nil {
            return try await delete(shoot, technicalID: technicalID)
        }
        let current = try await garden.ensureFinalizer(Self.finalizer, on: shoot, .shoots)
        try await ensureNamespace(technicalID, shoot: current)
        try await ensureCluster(technicalID, shoot: current)
        try await ensureShootAccess(technicalID)
        let network = try await ensureNetwork(technicalID, shoot: current)
        try await updateShootStatus(current, technicalID: technicalID, network: network)
        return .done
    }

    // MARK: Seed objects

    func ensureNamespace(_ name: String, shoot: JSON) async throws {
        let provider = shoot[path: "spec", "provider", "type"]?.stringValue ?? ""
        let networking = shoot[path: "spec", "networking", "type"]?.stringValue ?? ""
        let namespace: JSON = [
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": [
                "name": .string(name),
                "labels": [
                    "gardener.cloud/role": "shoot", "shoot.gardener.cloud/provider": .string(provider),
                    "networking.shoot.gardener.cloud/provider": .string(networking),
                ],
            ],
        ]
        try await createOrUpdate(seed, .namespaces, namespace, compare: ["metadata"])
    }

    func ensureCluster(_ name: String, shoot: JSON) async throws {
        var spec: JSON = ["shoot": Self.stripped(shoot)]
        let profileName =
            shoot[path: "spec", "cloudProfile", "name"]?.stringValue ?? shoot[path: "spec", "cloudProfileName"]?.stringValue
        if let profileName, let profile = try? await garden.get(.cloudProfiles, namespace: nil, name: profileName) {
            spec["cloudProfile"] = Self.stripped(profile)
        }
        if let seedName = shoot[path: "spec", "seedName"]?.stringValue, let seedObject = try? await garden.get(.seeds, namespace: nil, name: seedName)
        {
            spec["seed"] = Self.stripped(seedObject)
        }
        let cluster: JSON = [
            "apiVersion": .string(Resource.clusters.apiVersion), "kind": "Cluster", "metadata": ["name": .string(name)], "spec": spec,
        ]
        try await createOrUpdate(seed, .clusters, cluster, compare: ["spec"])
    }

    /// The secret the actuator's shoot client reads (`gardener-internal`, key `kubeconfig`).
    func ensureShootAccess(_ namespace: String) async throws {
        let secret: JSON = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": [
                "name": "gardener-internal", "namespace": .string(namespace), "labels": ["resources.gardener.cloud/purpose": "token-requestor"],
            ],
            "data": ["kubeconfig": .string(Data(shootKubeconfig.utf8).base64EncodedString())],
        ]
        try await createOrUpdate(seed, .secrets, secret, compare: ["data"])
    }

    /// The Network as gardenlet's network component writes it.
    func ensureNetwork(_ namespace: String, shoot: JSON) async throws -> JSON? {
        let name = shoot[path: "metadata", "name"]?.stringValue ?? ""
        let networking = shoot[path: "spec", "networking"] ?? .emptyObject
        var spec: JSON = ["type": networking["type"] ?? ""]
        if let pods = networking["pods"] { spec["podCIDR"] = pods }
        if let services = networking["services"] { spec["serviceCIDR"] = services }
        spec["ipFamilies"] = networking["ipFamilies"] ?? ["IPv4"]
        if let providerConfig = networking["providerConfig"], !providerConfig.isNull { spec["providerConfig"] = providerConfig }
        let network: JSON = [
            "apiVersion": .string(Resource.networks.apiVersion), "kind": "Network",
            "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": spec,
        ]
        do {
            return try await seed.create(.networks, namespace: namespace, network)
        } catch let e as KubeError where e.isAlreadyExists {}
        let existing = try await seed.get(.networks, namespace: namespace, name: name)
        var updated = existing
        updated["spec"] = spec
        guard updated != existing else { return existing }
        return try await seed.update(.networks, namespace: namespace, updated)
    }

    /// The Shoot's status: the technical ID and the Network's last operation and error.
    func updateShootStatus(_ shoot: JSON, technicalID: String, network: JSON?) async throws {
        var status = shoot["status"] ?? .emptyObject
        status["technicalID"] = .string(technicalID)
        status["observedGeneration"] = shoot[path: "metadata", "generation"] ?? .int(1)
        if let operation = network?[path: "status", "lastOperation"], !operation.isNull {
            status["lastOperation"] = operation
        } else {
            status["lastOperation"] = [
                "type": "Create", "state": "Processing", "progress": 0,
                "description": "Waiting for the Network to be reconciled.", "lastUpdateTime": .string(KubeTime.format(Date())),
            ]
        }
        if let error = network?[path: "status", "lastError"], !error.isNull {
            status["lastErrors"] = [error]
        } else {
            status["lastErrors"] = nil
        }
        guard status != shoot["status"] else { return }
        var updated = shoot
        updated["status"] = status
        _ = try await garden.update(.shoots, namespace: shoot[path: "metadata", "namespace"]?.stringValue, updated, subresource: "status")
    }

    // MARK: Deletion

    func delete(_ shoot: JSON, technicalID: String) async throws -> ReconcileResult {
        let name = shoot[path: "metadata", "name"]?.stringValue ?? ""
        do {
            let network = try await seed.get(.networks, namespace: technicalID, name: name)
            if network[path: "metadata", "deletionTimestamp"] == nil {
                try await seed.delete(.networks, namespace: technicalID, name: name)
            }
            var deleting = shoot
            deleting[path: "status", "lastOperation"] = [
                "type": "Delete", "state": "Processing", "progress": 50,
                "description": "Waiting for the Network to be deleted.", "lastUpdateTime": .string(KubeTime.format(Date())),
            ]
            if deleting["status"] != shoot["status"] {
                _ = try? await garden.update(.shoots, namespace: shoot[path: "metadata", "namespace"]?.stringValue, deleting, subresource: "status")
            }
            // The Network watch requeues the Shoot once the extension removed its finalizer.
            return .done
        } catch let e as KubeError where e.isNotFound {}
        for (resource, namespace, objectName) in [(Resource.clusters, nil, technicalID), (.namespaces, nil, technicalID)]
            as [(Resource, String?, String)]
        {
            do { try await seed.delete(resource, namespace: namespace, name: objectName) } catch let e as KubeError where e.isNotFound {}
        }
        try await garden.removeFinalizer(Self.finalizer, from: shoot, .shoots)
        logger.info("Shoot deleted", metadata: ["shoot": "\(shoot[path: "metadata", "namespace"]?.stringValue ?? "")/\(name)"])
        return .done
    }

    // MARK: Helpers

    /// An embedded object without server-side bookkeeping.
    static func stripped(_ object: JSON) -> JSON {
        var copy = object
        copy[path: "metadata", "managedFields"] = nil
        copy[path: "metadata", "resourceVersion"] = nil
        return copy
    }

    /// Creates `desired`, or updates the existing object's `compare` fields (and labels) when
    /// they differ; returns the object as stored.
    @discardableResult
    func createOrUpdate(_ client: KubernetesClient, _ resource: Resource, _ desired: JSON, compare: [String]) async throws -> JSON {
        let name = desired[path: "metadata", "name"]?.stringValue ?? ""
        let namespace = desired[path: "metadata", "namespace"]?.stringValue
        do {
            return try await client.create(resource, namespace: namespace, desired)
        } catch let e as KubeError where e.isAlreadyExists {}
        let existing = try await client.get(resource, namespace: namespace, name: name)
        var updated = existing
        for field in compare where field != "metadata" { updated[field] = desired[field] }
        if let labels = desired[path: "metadata", "labels"]?.objectValue {
            var merged = existing[path: "metadata", "labels"]?.objectValue ?? [:]
            for (k, v) in labels { merged[k] = v }
            updated[path: "metadata", "labels"] = .object(merged)
        }
        guard updated != existing else { return existing }
        return try await client.update(resource, namespace: namespace, updated)
    }
}
