import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization
import TestSupport

final class Recorder<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}

/// Our own minimal v1 CRDs (open schemas, status subresource), used when `example/` lacks them.
func fallbackCRD(group: String, kind: String, plural: String, scope: String, shortNames: [String] = []) -> JSON {
    var names: JSON = ["kind": .string(kind), "listKind": .string(kind + "List"), "plural": .string(plural), "singular": .string(kind.lowercased())]
    if !shortNames.isEmpty { names["shortNames"] = .array(shortNames.map(JSON.string)) }
    return [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": .string("\(plural).\(group)")],
        "spec": [
            "group": .string(group), "scope": .string(scope), "names": names,
            "versions": [
                [
                    "name": "v1alpha1", "served": true, "storage": true, "subresources": ["status": [:]],
                    "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                ]
            ],
        ],
    ]
}

/// Registers the Network, Cluster and ManagedResource CRDs (from `example/10-crd-*.yaml` when present).
func installGardenerCRDs(_ client: KubernetesClient) async throws {
    let example = SharedFixtures.packageRoot.appendingPathComponent("example")
    let specs: [(file: String, fallback: JSON)] = [
        ("10-crd-network.yaml", fallbackCRD(group: "extensions.gardener.cloud", kind: "Network", plural: "networks", scope: "Namespaced")),
        ("10-crd-cluster.yaml", fallbackCRD(group: "extensions.gardener.cloud", kind: "Cluster", plural: "clusters", scope: "Cluster")),
        (
            "10-crd-managedresource.yaml",
            fallbackCRD(
                group: "resources.gardener.cloud", kind: "ManagedResource", plural: "managedresources", scope: "Namespaced", shortNames: ["mr"])
        ),
    ]
    for spec in specs {
        var crd = spec.fallback
        if let text = try? String(contentsOf: example.appendingPathComponent(spec.file), encoding: .utf8),
            let parsed = try? JSON.parseYAML(text), parsed["kind"] == "CustomResourceDefinition"
        {
            crd = parsed
        }
        _ = try await client.create(.customResourceDefinitions, namespace: nil, crd)
    }
    for r in [Resource.networks, .clusters, .managedResources] {
        _ = await eventually { (try? await client.list(r, namespace: nil)) != nil }
    }
}

let shootNamespace = "shoot--proj--demo"

func shootObject(failed: Bool = false, forceDelete: Bool = false) -> JSON {
    var shoot: JSON = [
        "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
        "metadata": ["name": "demo", "namespace": "garden-proj"],
        "spec": [
            "kubernetes": ["version": "1.33.2"],
            "networking": ["type": "calico", "pods": "100.96.0.0/11", "services": "100.64.0.0/13", "nodes": "10.250.0.0/16"],
        ],
        "status": ["technicalID": .string(shootNamespace), "lastOperation": ["type": "Reconcile", "state": failed ? "Failed" : "Succeeded"]],
    ]
    if forceDelete { shoot[path: "metadata", "annotations"] = ["confirmation.gardener.cloud/force-deletion": "true"] }
    return shoot
}

func clusterObject(shoot: JSON) -> JSON {
    [
        "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Cluster",
        "metadata": ["name": .string(shootNamespace)],
        "spec": [
            "cloudProfile": ["apiVersion": "core.gardener.cloud/v1beta1", "kind": "CloudProfile"],
            "seed": ["apiVersion": "core.gardener.cloud/v1beta1", "kind": "Seed"],
            "shoot": shoot,
        ],
    ]
}

func networkObject(name: String = "demo", operation: String? = "reconcile") -> JSON {
    var n: JSON = [
        "apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Network",
        "metadata": ["name": .string(name), "namespace": .string(shootNamespace)],
        "spec": ["type": "calico", "podCIDR": "100.96.0.0/11", "serviceCIDR": "100.64.0.0/13", "ipFamilies": ["IPv4"]],
    ]
    if let operation {
        n[path: "metadata", "annotations"] = [
            "gardener.cloud/operation": .string(operation), "gardener.cloud/timestamp": "2025-01-31T12:00:00.000000000Z",
        ]
    }
    return n
}

/// An actuator whose behaviour tests script; it records every call.
final class ScriptedActuator: Actuator {
    let calls = Recorder<String>()
    private let failure = Mutex<(any Error & Sendable)?>(nil)

    func fail(with error: (any Error & Sendable)?) { failure.withLock { $0 = error } }

    private func run(_ op: String, _ network: Network, _ cluster: Cluster) throws {
        calls.append("\(op) \(network.namespace ?? "")/\(network.name)")
        #if DEBUG
            precondition(cluster.shoot != nil)
        #endif
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func reconcile(_ network: Network, cluster: Cluster) async throws -> StatusFields {
        try run("reconcile", network, cluster)
        return .none
    }
    func delete(_ network: Network, cluster: Cluster) async throws { try run("delete", network, cluster) }
    func forceDelete(_ network: Network, cluster: Cluster) async throws { try run("forceDelete", network, cluster) }
    func migrate(_ network: Network, cluster: Cluster) async throws { try run("migrate", network, cluster) }
    func restore(_ network: Network, cluster: Cluster) async throws -> StatusFields {
        try run("restore", network, cluster)
        return .none
    }
}

struct Env {
    let server: EmbeddedAPIServer
    let client: KubernetesClient
    let actuator: ScriptedActuator
    let manager: Manager
    let controller: Controller

    /// Waits until the controller has handled the event of the Network's current version and has
    /// nothing queued, delayed or in flight (see `settled`): what has not happened by then will
    /// not happen without a new change.
    func settled(_ name: String = "demo") async -> Bool {
        await TestSupport.settled(
            currentVersion: { (try? await network(name))?[path: "metadata", "resourceVersion"]?.stringValue },
            isIdle: { controller.isIdle(at: $0) })
    }

    func network(_ name: String = "demo") async throws -> JSON {
        try await client.get(.networks, namespace: shootNamespace, name: name)
    }

    func networkGone(_ name: String = "demo") async -> Bool {
        do {
            _ = try await network(name)
            return false
        } catch {
            return (error as? KubeError)?.isNotFound ?? false
        }
    }

    func setOperation(_ op: String, name: String = "demo") async throws {
        _ = try await client.patch(
            .networks, namespace: shootNamespace, name: name,
            ["metadata": ["annotations": ["gardener.cloud/operation": .string(op)]]], type: .merge)
    }
}

/// Embedded server + CRDs + shoot namespace + Cluster + a running manager with the Network controller.
func withNetworkController(
    ignoreOperationAnnotation: Bool = false, shoot: JSON = shootObject(),
    rateLimiter: any RateLimiter = ItemExponentialFailureRateLimiter(baseDelay: .milliseconds(50), maxDelay: .seconds(5)),
    _ body: (Env) async throws -> Void
) async throws {
    try await withShootNamespace(labels: ["gardener.cloud/role": "shoot"]) { server, client in
        _ = try await client.create(.clusters, namespace: nil, clusterObject(shoot: shoot))
        let actuator = ScriptedActuator()
        let manager = Manager(client: client, options: ManagerOptions(gracefulShutdownTimeout: .seconds(5)))
        let controller = await NetworkController.add(
            to: manager, actuator: actuator,
            options: NetworkControllerOptions(ignoreOperationAnnotation: ignoreOperationAnnotation, maxConcurrentReconciles: 2),
            rateLimiter: rateLimiter)
        let run = Task { try await manager.run() }
        await manager.waitUntilLeading()
        do {
            try await body(Env(server: server, client: client, actuator: actuator, manager: manager, controller: controller))
        } catch {
            manager.stop()
            try? await run.value
            throw error
        }
        manager.stop()
        try await run.value
    }
}

/// Embedded server with the Gardener CRDs and the shoot namespace (carrying `labels`), and a
/// client for it, shut down after `body`.
func withShootNamespace(labels: JSON? = nil, _ body: (EmbeddedAPIServer, KubernetesClient) async throws -> Void) async throws {
    try await withTestAPIServer { server in
        let client = try makeClient(server)
        do {
            try await installGardenerCRDs(client)
            var metadata: JSON = ["name": .string(shootNamespace)]
            if let labels { metadata["labels"] = labels }
            _ = try await client.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": metadata])
            try await body(server, client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
    }
}
