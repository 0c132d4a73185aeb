import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// Stands in for gardener-resource-manager's ManagedResource, health and garbage-collector
/// controllers for the shoot: applies the objects of a ManagedResource's secrets to the shoot
/// (create, update, delete what left the set unless `keepObjects`), records them in
/// `status.resources`, sets `ResourcesApplied`, `ResourcesHealthy` and `ResourcesProgressing`
/// with `observedGeneration`, deletes the objects when the ManagedResource goes (its finalizer
/// keeps it until then), and deletes secrets labelled
/// `resources.gardener.cloud/garbage-collectable-reference=true` that no ManagedResource
/// references any more.
///
/// Left out: ManagedResources with a `class` (the seed's own), server-side apply with field
/// ownership and the `resources.gardener.cloud/mode`/`ignore` annotations, origin labels,
/// health checks beyond DaemonSets and Deployments, and the periodic resync. A kind the shoot
/// does not serve (RBAC, policy, networking, admission policies: the embedded server serves a
/// fixed set of built-in kinds) is given a schemaless stand-in CRD first, so every rendered object
/// can be stored and inspected.
public struct ResourceManager: Reconciler {
    /// The finalizer gardener-resource-manager puts on ManagedResources.
    public static let finalizer = "resources.gardener.cloud/gardener-resource-manager"
    /// How long a fresh unreferenced secret is spared by the garbage collection: the extension
    /// writes a new secret before the ManagedResource that references it.
    public static let garbageCollectionGrace: Duration = .seconds(5)

    let seed: KubernetesClient
    let shoot: ShootAPI
    let managedResources: Store
    let daemonSets: Store
    let deployments: Store
    let logger: Logger

    /// Adds the controller to `manager` (the seed's); `shootManager` provides the shoot's
    /// DaemonSet and Deployment informers whose changes re-evaluate health and progress.
    @discardableResult
    public static func add(to manager: Manager, shoot shootManager: Manager, logger: Logger) async -> Controller {
        let managedResources = manager.informer(for: .managedResources)
        let daemonSets = shootManager.informer(for: .daemonSets)
        let deployments = shootManager.informer(for: .deployments)
        let reconciler = ResourceManager(
            seed: manager.client, shoot: ShootAPI(client: shootManager.client), managedResources: managedResources.store,
            daemonSets: daemonSets.store, deployments: deployments.store, logger: logger)
        let controller = Controller(
            name: "managedresource", reconciler: reconciler, maxConcurrentReconciles: 2, rateLimiter: Landscape.rateLimiter(),
            reconcileTimeout: .seconds(60), metrics: manager.metrics, logger: logger)
        await controller.watch(managedResources)
        let allShootResources: @Sendable (JSON) async -> [ReconcileRequest] = { _ in
            managedResources.store.list().filter { ManagedResource(raw: $0).resourceClass == nil }.map {
                ReconcileRequest(namespace: $0[path: "metadata", "namespace"]?.stringValue, name: $0[path: "metadata", "name"]?.stringValue ?? "")
            }
        }
        await controller.watch(daemonSets, caches: [managedResources], map: allShootResources)
        await controller.watch(deployments, caches: [managedResources], map: allShootResources)
        manager.add(controller)
        return controller
    }

    /// Applies, reports and cleans up one ManagedResource.
    public func reconcile(_ request: ReconcileRequest) async throws -> ReconcileResult {
        let namespace = request.namespace ?? ""
        let raw: JSON
        do {
            raw = try await seed.get(.managedResources, namespace: namespace, name: request.name)
        } catch let e as KubeError where e.isNotFound {
            return try await collectGarbage(namespace: namespace)
        }
        let mr = ManagedResource(raw: raw)
        if let resourceClass = mr.resourceClass, !resourceClass.isEmpty { return .done }
        if raw[path: "metadata", "deletionTimestamp"] != nil {
            if !mr.keepObjects {
                for entry in raw[path: "status", "resources"]?.arrayValue ?? [] { try await shoot.delete(reference: entry) }
            }
            try await seed.removeFinalizer(Self.finalizer, from: raw, .managedResources)
            return try await collectGarbage(namespace: namespace)
        }
        let current = try await seed.ensureFinalizer(Self.finalizer, on: raw, .managedResources)

        var applied: [JSON] = []
        var applyError: String?
        do {
            let objects = try await desiredObjects(current)
            for object in objects { applied.append(try await shoot.apply(object)) }
            let keep = Set(applied.map(ShootAPI.referenceKey))
            if !mr.keepObjects {
                for entry in current[path: "status", "resources"]?.arrayValue ?? [] where !keep.contains(ShootAPI.referenceKey(entry)) {
                    try await shoot.delete(reference: entry)
                }
            }
        } catch {
            applyError = "\(error)"
        }

        var status = current["status"] ?? .emptyObject
        let now = KubeTime.format(Date())
        var conditions = status["conditions"]?.arrayValue ?? []
        if let applyError {
            Self.setCondition(&conditions, "ResourcesApplied", "False", "ApplyFailed", "Could not apply all new resources: \(applyError)", now)
        } else {
            status["resources"] = .array(applied)
            Self.setCondition(&conditions, "ResourcesApplied", "True", "ApplySucceeded", "All resources are applied.", now)
            let (unhealthy, progressing) = health(of: applied)
            if let unhealthy {
                Self.setCondition(&conditions, "ResourcesHealthy", "False", unhealthy.reason, unhealthy.message, now)
            } else {
                Self.setCondition(&conditions, "ResourcesHealthy", "True", "ResourcesHealthy", "All resources are healthy.", now)
            }
            if let progressing {
                Self.setCondition(&conditions, "ResourcesProgressing", "True", progressing.reason, progressing.message, now)
            } else {
                Self.setCondition(
                    &conditions, "ResourcesProgressing", "False", "ResourcesRolledOut", "All resources have been fully rolled out.", now)
            }
        }
        status["conditions"] = .array(conditions)
        status["observedGeneration"] = current[path: "metadata", "generation"] ?? .int(1)
        if status != current["status"] {
            var updated = current
            updated["status"] = status
            _ = try await seed.update(.managedResources, namespace: namespace, updated, subresource: "status")
        }
        if let applyError { throw MessageError(applyError) }
        return try await collectGarbage(namespace: namespace)
    }

    // MARK: Parts

    /// The objects of the secrets, CRDs and namespaces first (as the resource manager orders them).
    func desiredObjects(_ mr: JSON) async throws -> [JSON] {
        let namespace = mr[path: "metadata", "namespace"]?.stringValue
        var objects: [JSON] = []
        for name in ManagedResource(raw: mr).secretRefs {
            let secret = Secret(raw: try await seed.get(.secrets, namespace: namespace, name: name))
            for key in secret.data.keys.sorted() {
                let text = String(decoding: secret.data[key] ?? [], as: UTF8.self)
                objects += try JSON.parseYAMLDocuments(text).filter(\.isObject)
            }
        }
        func rank(_ object: JSON) -> Int {
            switch object["kind"]?.stringValue {
            case "CustomResourceDefinition": return 0
            case "Namespace": return 1
            default: return 2
            }
        }
        return objects.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// The first unhealthy and the first progressing workload among `references`, from the
    /// shoot's informer caches.
    func health(of references: [JSON]) -> (unhealthy: (reason: String, message: String)?, progressing: (reason: String, message: String)?) {
        var unhealthy: (String, String)?
        var progressing: (String, String)?
        for ref in references {
            let kind = ref["kind"]?.stringValue ?? ""
            let key = objectKey(namespace: ref["namespace"]?.stringValue, name: ref["name"]?.stringValue ?? "")
            guard let object = kind == "DaemonSet" ? daemonSets.get(key) : kind == "Deployment" ? deployments.get(key) : nil else {
                if kind == "DaemonSet" || kind == "Deployment", unhealthy == nil {
                    unhealthy = ("\(kind)Unhealthy", "\(kind) \"\(key)\" is not yet observed in the shoot.")
                }
                continue
            }
            let rollout = WorkloadRollout(object)
            if !rollout.observed || rollout.updated < rollout.desired, progressing == nil {
                progressing = (
                    "\(kind)Progressing",
                    "\(kind) \"\(key)\" is progressing: \(rollout.updated) of \(rollout.desired) updated."
                )
            }
            if rollout.available < rollout.desired || !rollout.observed, unhealthy == nil {
                unhealthy = ("\(kind)Unhealthy", "\(kind) \"\(key)\" is unhealthy: \(rollout.available) of \(rollout.desired) available.")
            }
        }
        return (unhealthy, progressing)
    }

    /// Deletes unreferenced garbage-collectable secrets of `namespace` (a fresh one after the grace period).
    func collectGarbage(namespace: String) async throws -> ReconcileResult {
        var referenced = Set<String>()
        for mr in managedResources.list() where mr[path: "metadata", "namespace"]?.stringValue == namespace {
            referenced.formUnion(ManagedResource(raw: mr).secretRefs)
        }
        let secrets = try await seed.list(
            .secrets, namespace: namespace, options: ListOptions(labelSelector: "\(ManagedResources.garbageCollectableLabel)=true"))
        var retry: Duration?
        for secret in secrets.items {
            guard let name = secret[path: "metadata", "name"]?.stringValue, !referenced.contains(name) else { continue }
            let created = secret[path: "metadata", "creationTimestamp"]?.stringValue.flatMap(KubeTime.parse) ?? .distantPast
            let age = Duration.seconds(Date().timeIntervalSince(created))
            if age < Self.garbageCollectionGrace {
                let wait = Self.garbageCollectionGrace - age + .milliseconds(100)
                retry = min(retry ?? wait, wait)
                continue
            }
            do {
                try await seed.delete(.secrets, namespace: namespace, name: name)
                logger.info("Garbage-collected secret", metadata: ["secret": "\(namespace)/\(name)"])
            } catch let e as KubeError where e.isNotFound {}
        }
        return retry.map { .requeueAfter($0) } ?? .done
    }

    /// Sets a condition, keeping `lastTransitionTime` when the status does not change.
    static func setCondition(_ conditions: inout [JSON], _ type: String, _ status: String, _ reason: String, _ message: String, _ now: String) {
        let index = conditions.firstIndex { $0["type"]?.stringValue == type }
        let old = index.map { conditions[$0] }
        if let old, old["status"]?.stringValue == status, old["reason"]?.stringValue == reason, old["message"]?.stringValue == message {
            return
        }
        let transition = old.flatMap { $0["status"]?.stringValue == status ? $0["lastTransitionTime"] : nil } ?? .string(now)
        let condition: JSON = [
            "type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
            "lastTransitionTime": transition, "lastUpdateTime": .string(now),
        ]
        if let index { conditions[index] = condition } else { conditions.append(condition) }
    }
}

/// The rollout numbers of a DaemonSet or Deployment, as its status reports them.
struct WorkloadRollout {
    var desired: Int
    var updated: Int
    var available: Int
    /// The status describes the current spec (generation observed).
    var observed: Bool

    init(_ object: JSON) {
        let status = object["status"] ?? .emptyObject
        observed = (status["observedGeneration"]?.intValue ?? 0) >= (object[path: "metadata", "generation"]?.intValue ?? 1)
        if object["kind"]?.stringValue == "DaemonSet" {
            desired = status["desiredNumberScheduled"]?.intValue ?? 0
            updated = status["updatedNumberScheduled"]?.intValue ?? 0
            available = status["numberAvailable"]?.intValue ?? 0
        } else {
            desired = object[path: "spec", "replicas"]?.intValue ?? 1
            updated = status["updatedReplicas"]?.intValue ?? 0
            available = status["availableReplicas"]?.intValue ?? 0
        }
    }
}

/// Writes arbitrary objects to the shoot: finds each kind's resource by discovery (cached) and
/// gives kinds the shoot does not serve a schemaless stand-in CRD (see `ResourceManager`).
final class ShootAPI: Sendable {
    let client: KubernetesClient
    /// Served kinds by apiVersion (filled by discovery; cleared when a CRD is written).
    private let kinds = Mutex<[String: [String: Resource]]>([:])

    init(client: KubernetesClient) { self.client = client }

    /// `apiVersion/kind/namespace/name` of an object or a `status.resources` entry.
    static func referenceKey(_ ref: JSON) -> String {
        [ref["apiVersion"], ref["kind"], ref["namespace"], ref["name"]].map { $0?.stringValue ?? "" }.joined(separator: "/")
    }

    /// The served resource of `kind` in `apiVersion`, creating a stand-in CRD when `create`.
    func resource(apiVersion: String, kind: String, namespaced: Bool, create: Bool) async throws -> Resource? {
        if let known = kinds.withLock({ $0[apiVersion]?[kind] }) { return known }
        if let found = try await discover(apiVersion)[kind] { return found }
        guard create else { return nil }
        let parts = apiVersion.split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw MessageError("the shoot does not serve \(apiVersion) \(kind)") }
        let plural = Self.plural(of: kind)
        let crd: JSON = [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": [
                "name": .string("\(plural).\(parts[0])"),
                "labels": ["calico-dev/stand-in": "true"],
                "annotations": ["api-approved.kubernetes.io": "unapproved, local mode stand-in for a built-in API"],
            ],
            "spec": [
                "group": .string(parts[0]), "scope": namespaced ? "Namespaced" : "Cluster",
                "names": [
                    "kind": .string(kind), "listKind": .string("\(kind)List"), "plural": .string(plural), "singular": .string(kind.lowercased()),
                ],
                "versions": [
                    [
                        "name": .string(parts[1]), "served": true, "storage": true,
                        "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                    ]
                ],
            ],
        ]
        do {
            _ = try await client.create(.customResourceDefinitions, namespace: nil, crd)
        } catch let e as KubeError where e.isAlreadyExists {
            // A stand-in of another version of the group kind: add this version.
            var existing = try await client.get(.customResourceDefinitions, namespace: nil, name: "\(plural).\(parts[0])")
            var versions = existing[path: "spec", "versions"]?.arrayValue ?? []
            if !versions.contains(where: { $0["name"]?.stringValue == parts[1] }) {
                var version = crd[path: "spec", "versions"]?[0] ?? .emptyObject
                version["storage"] = false
                versions.append(version)
                existing[path: "spec", "versions"] = .array(versions)
                _ = try await client.update(.customResourceDefinitions, namespace: nil, existing)
            }
        }
        let resource = Resource(group: parts[0], version: parts[1], plural: plural, kind: kind, namespaced: namespaced)
        kinds.withLock { $0[apiVersion, default: [:]][kind] = resource }
        return resource
    }

    /// Lower-case English plural, as CRDs of built-in kinds are named.
    static func plural(of kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("y") && !lower.hasSuffix("ey") { return String(lower.dropLast()) + "ies" }
        if lower.hasSuffix("s") || lower.hasSuffix("x") { return lower + "es" }
        return lower + "s"
    }

    /// The kinds `apiVersion` serves (empty when the group version is not served).
    func discover(_ apiVersion: String) async throws -> [String: Resource] {
        let parts = apiVersion.split(separator: "/").map(String.init)
        let path = parts.count == 1 ? "/api/\(apiVersion)" : "/apis/\(apiVersion)"
        var found: [String: Resource] = [:]
        do {
            let list = try await client.getRaw(path: path)
            for entry in list["resources"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, !name.contains("/"), let kind = entry["kind"]?.stringValue else { continue }
                found[kind] = Resource(
                    group: parts.count == 2 ? parts[0] : "", version: parts.last ?? "", plural: name, kind: kind,
                    namespaced: entry["namespaced"]?.boolValue ?? true)
            }
        } catch let e as KubeError where e.isNotFound {}
        kinds.withLock { $0[apiVersion] = found }
        return found
    }

    /// Creates or updates `object`; returns its `status.resources` entry.
    func apply(_ object: JSON) async throws -> JSON {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        var namespace = object[path: "metadata", "namespace"]?.stringValue
        guard let resource = try await resource(apiVersion: apiVersion, kind: kind, namespaced: namespace != nil, create: true) else {
            throw MessageError("the shoot does not serve \(apiVersion) \(kind)")
        }
        if resource.namespaced && namespace == nil { namespace = "default" }
        if !resource.namespaced { namespace = nil }
        var desired = object
        if let namespace { desired[path: "metadata", "namespace"] = .string(namespace) }
        do {
            _ = try await client.create(resource, namespace: namespace, desired)
        } catch let e as KubeError where e.isAlreadyExists {
            let existing = try await client.get(resource, namespace: namespace, name: name)
            var updated = existing
            for (key, value) in desired.objectValue ?? [:] where key != "metadata" && key != "status" { updated[key] = value }
            for field in ["labels", "annotations"] {
                guard let values = desired[path: "metadata", field]?.objectValue else { continue }
                var merged = existing[path: "metadata", field]?.objectValue ?? [:]
                for (k, v) in values { merged[k] = v }
                updated[path: "metadata", field] = .object(merged)
            }
            if updated != existing { _ = try await client.update(resource, namespace: namespace, updated) }
        }
        if kind == "CustomResourceDefinition" { kinds.withLock { $0.removeAll() } }
        var reference: JSON = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name)]
        if let namespace { reference["namespace"] = .string(namespace) }
        return reference
    }

    /// Deletes the object of a `status.resources` entry (gone already is fine).
    func delete(reference: JSON) async throws {
        let namespace = reference["namespace"]?.stringValue
        guard
            let resource = try await resource(
                apiVersion: reference["apiVersion"]?.stringValue ?? "", kind: reference["kind"]?.stringValue ?? "",
                namespaced: namespace != nil, create: false)
        else { return }
        do {
            try await client.delete(resource, namespace: resource.namespaced ? namespace : nil, name: reference["name"]?.stringValue ?? "")
        } catch let e as KubeError where e.isNotFound {}
    }
}
