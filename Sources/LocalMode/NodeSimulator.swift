import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// Stands in for what runs in a real shoot besides the API server: the machines with their
/// kubelets (Node objects with a `Ready` condition), the cloud route controller (each Node's
/// `NetworkUnavailable` condition becomes `False`/`RouteCreated`, except on Nodes annotated
/// `calico-dev/hold-route: "true"`, which stay `True`/`NoRouteCreated` until the annotation goes),
/// and the DaemonSet and Deployment controllers (their status advances as a rollout would: a new
/// DaemonSet is scheduled on every Node at once, a changed one is replaced node by node within its
/// `maxUnavailable`, one step per `rolloutStep`; a Deployment is available at once).
///
/// Left out: Pods, scheduling constraints (every DaemonSet runs on every Node), images,
/// probes, failures, and Node leases.
public enum NodeSimulator {
    /// Annotation that keeps a Node's route from being created.
    public static let holdRouteAnnotation = "calico-dev/hold-route"
    /// Label of the Nodes local mode created (only those are removed when `--nodes` shrinks).
    public static let simulatedLabel = "calico-dev/simulated-node"

    /// Name of the `index`th simulated Node.
    public static func nodeName(_ index: Int) -> String { "worker-a-\(index)" }

    /// Creates the missing Nodes `worker-a-0 … worker-a-<count-1>` (annotated to hold their
    /// route when `holdRoutes`) with their status, and deletes simulated Nodes beyond `count`.
    public static func ensureNodes(client: KubernetesClient, count: Int, holdRoutes: Bool, kubernetesVersion: String = "v1.32.0") async throws {
        let existing = try await client.listAll(.nodes, namespace: nil, options: ListOptions(labelSelector: "\(simulatedLabel)=true")).items
        let names = Set(existing.compactMap { $0[path: "metadata", "name"]?.stringValue })
        let wanted = (0..<count).map(nodeName)
        let extra = names.subtracting(wanted)
        let missing = wanted.enumerated().filter { !names.contains($0.element) }
        // Bounded parallelism: 500 Nodes are 1000 requests.
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for (index, name) in missing {
                if running >= 32 {
                    try await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    var node: JSON = [
                        "apiVersion": "v1", "kind": "Node",
                        "metadata": [
                            "name": .string(name),
                            "labels": [
                                simulatedLabel: "true", "kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux",
                                "worker.gardener.cloud/pool": "worker-a", "node.kubernetes.io/instance-type": "local",
                            ],
                        ],
                        "spec": ["providerID": .string("local:///\(name)")],
                    ]
                    if holdRoutes { node[path: "metadata", "annotations"] = [holdRouteAnnotation: "true"] }
                    var created: JSON
                    do {
                        created = try await client.create(.nodes, namespace: nil, node)
                    } catch let e as KubeError where e.isAlreadyExists {
                        return
                    }
                    created["status"] = [
                        "conditions": .array(conditions(holdRoute: holdRoutes)),
                        "addresses": [["type": "InternalIP", "address": .string("10.250.\(index / 250).\(index % 250 + 1)")]],
                        "nodeInfo": ["kubeletVersion": .string(kubernetesVersion), "architecture": "amd64", "operatingSystem": "linux"],
                    ]
                    _ = try await client.update(.nodes, namespace: nil, created, subresource: "status")
                }
            }
            try await group.waitForAll()
        }
        for name in extra { _ = try? await client.delete(.nodes, namespace: nil, name: name) }
    }

    /// The conditions a Node reports: Ready, and NetworkUnavailable as the route controller sets it.
    static func conditions(holdRoute: Bool) -> [JSON] {
        let time = JSON.string(KubeTime.format(Date()))
        return [
            [
                "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                "lastHeartbeatTime": time, "lastTransitionTime": time,
            ],
            holdRoute
                ? [
                    "type": "NetworkUnavailable", "status": "True", "reason": "NoRouteCreated", "message": "Node created without a route",
                    "lastHeartbeatTime": time, "lastTransitionTime": time,
                ]
                : [
                    "type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated", "message": "RouteController created a route",
                    "lastHeartbeatTime": time, "lastTransitionTime": time,
                ],
        ]
    }

    /// Adds the route controller and the DaemonSet/Deployment rollout controllers to `manager`
    /// (the shoot's).
    public static func add(to manager: Manager, rolloutStep: Duration, logger: Logger) async {
        let nodes = manager.informer(for: .nodes)
        let routes = Controller(
            name: "node-route", reconciler: RouteReconciler(client: manager.client, nodes: nodes.store), maxConcurrentReconciles: 4,
            rateLimiter: Landscape.rateLimiter(), reconcileTimeout: .seconds(30), metrics: manager.metrics, logger: logger)
        await routes.watch(nodes)
        manager.add(routes)
        for resource in [Resource.daemonSets, .deployments] {
            let informer = manager.informer(for: resource)
            let reconciler = RolloutReconciler(client: manager.client, resource: resource, nodes: nodes.store, step: rolloutStep)
            let controller = Controller(
                name: "\(resource.plural)-rollout", reconciler: reconciler, maxConcurrentReconciles: 2, rateLimiter: Landscape.rateLimiter(),
                reconcileTimeout: .seconds(30), metrics: manager.metrics, logger: logger)
            await controller.watch(informer, caches: [nodes])
            if resource == .daemonSets {
                // A Node more or less changes every DaemonSet's desired number.
                await controller.watch(nodes, caches: [informer]) { _ in
                    informer.store.list().map {
                        ReconcileRequest(
                            namespace: $0[path: "metadata", "namespace"]?.stringValue, name: $0[path: "metadata", "name"]?.stringValue ?? "")
                    }
                }
            }
            manager.add(controller)
        }
    }
}

/// The route controller: NetworkUnavailable follows the hold annotation.
struct RouteReconciler: Reconciler {
    let client: KubernetesClient
    let nodes: Store

    func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        guard var node = nodes.get(request.key) else { return .done }
        let hold = node[path: "metadata", "annotations", NodeSimulator.holdRouteAnnotation]?.stringValue == "true"
        var conditions = node[path: "status", "conditions"]?.arrayValue ?? []
        let wanted = NodeSimulator.conditions(holdRoute: hold)
        var changed = false
        for condition in wanted {
            let type = condition["type"]?.stringValue
            if let index = conditions.firstIndex(where: { $0["type"]?.stringValue == type }) {
                if conditions[index]["status"] != condition["status"] || conditions[index]["reason"] != condition["reason"] {
                    conditions[index] = condition
                    changed = true
                }
            } else {
                conditions.append(condition)
                changed = true
            }
        }
        guard changed else { return .done }
        node[path: "status", "conditions"] = .array(conditions)
        do {
            _ = try await client.update(.nodes, namespace: nil, node, subresource: "status")
        } catch let e as KubeError where e.isNotFound {}
        return .done
    }
}

/// The DaemonSet or Deployment controller as far as status goes (see `NodeSimulator`).
final class RolloutReconciler: Reconciler {
    let client: KubernetesClient
    let resource: Resource
    let nodes: Store
    let step: Duration
    /// Earliest time of each key's next rollout step (events of our own writes must not speed it up).
    private let nextStep = Mutex<[String: ContinuousClock.Instant]>([:])

    init(client: KubernetesClient, resource: Resource, nodes: Store, step: Duration) {
        self.client = client
        self.resource = resource
        self.nodes = nodes
        self.step = step
    }

    func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        let now = ContinuousClock.now
        if let next = nextStep.withLock({ $0[request.key] }), next > now { return .requeueAfter(next - now) }
        let object: JSON
        do {
            object = try await client.get(resource, namespace: request.namespace, name: request.name)
        } catch let e as KubeError where e.isNotFound {
            nextStep.withLock { $0[request.key] = nil }
            return .done
        }
        let (status, more) = resource == .daemonSets ? daemonSetStatus(object) : deploymentStatus(object)
        if status != object["status"] {
            var updated = object
            updated["status"] = status
            do {
                _ = try await client.update(resource, namespace: request.namespace, updated, subresource: "status")
            } catch let e as KubeError where e.isConflict || e.isNotFound {
                return .requeue
            }
        }
        guard more else {
            nextStep.withLock { $0[request.key] = nil }
            return .done
        }
        nextStep.withLock { $0[request.key] = ContinuousClock.now + step }
        return .requeueAfter(step)
    }

    /// The next rollout step of a DaemonSet; `more` while pods are still being replaced.
    func daemonSetStatus(_ ds: JSON) -> (JSON, more: Bool) {
        let desired = nodes.count
        let generation = ds[path: "metadata", "generation"]?.intValue ?? 1
        let status = ds["status"] ?? .emptyObject
        let observed = status["observedGeneration"]?.intValue
        var updated = min(status["updatedNumberScheduled"]?.intValue ?? 0, desired)
        var unavailable = status["numberUnavailable"]?.intValue ?? 0
        let maxUnavailable = Self.maxUnavailable(ds[path: "spec", "updateStrategy", "rollingUpdate", "maxUnavailable"], of: desired)
        if observed == nil {
            updated = desired  // a new DaemonSet: scheduled on every node at once
            unavailable = 0
        } else if (observed ?? 0) < generation {
            updated = 0  // a changed template: replaced node by node
            unavailable = min(maxUnavailable, desired)
        } else {
            updated = min(updated + unavailable, desired)
            unavailable = min(maxUnavailable, desired - updated)
        }
        var next: JSON = [
            "currentNumberScheduled": .int(Int64(desired)), "desiredNumberScheduled": .int(Int64(desired)), "numberMisscheduled": 0,
            "numberReady": .int(Int64(desired - unavailable)), "numberAvailable": .int(Int64(desired - unavailable)),
            "updatedNumberScheduled": .int(Int64(updated)), "observedGeneration": .int(Int64(generation)),
        ]
        if unavailable > 0 { next["numberUnavailable"] = .int(Int64(unavailable)) }
        return (next, unavailable > 0 || updated < desired)
    }

    /// A Deployment's status: every replica updated and available.
    func deploymentStatus(_ deployment: JSON) -> (JSON, more: Bool) {
        let replicas = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let status: JSON = [
            "observedGeneration": deployment[path: "metadata", "generation"] ?? .int(1), "replicas": .int(Int64(replicas)),
            "updatedReplicas": .int(Int64(replicas)), "readyReplicas": .int(Int64(replicas)), "availableReplicas": .int(Int64(replicas)),
            "conditions": [
                ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."],
                ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed."],
            ],
        ]
        return (status, false)
    }

    /// `maxUnavailable` (a number or a percentage, rounded down, at least 1; default 1).
    static func maxUnavailable(_ value: JSON?, of total: Int) -> Int {
        if let n = value?.intValue { return max(1, n) }
        if let text = value?.stringValue, text.hasSuffix("%"), let percent = Int(text.dropLast()) {
            return max(1, total * percent / 100)
        }
        return 1
    }
}
