import GardenerExtensions
import KubeCore
import Logging
import TestSupport
import Testing

@testable import KubeRuntime

/// The shoot-not-failed predicate: a pure function of the event and the Namespace and Cluster
/// caches (no API server needed, no requests possible).
@Suite struct ShootNotFailedPredicateTests {
    let logger = Logger(label: "predicate-test")

    func namespace(role: String?) -> JSON {
        var ns: JSON = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(shootNamespace)]]
        if let role { ns[path: "metadata", "labels"] = ["gardener.cloud/role": .string(role)] }
        return ns
    }

    @Test func decidesFromTheCaches() {
        let caches = ShootLookupCache(namespaces: Store(), clusters: Store())
        let network = networkObject()
        let event = ObjectEvent.create(network)

        // Namespace not cached → accept (the reference accepts when it cannot read the namespace).
        #expect(shootNotFailed(event, caches: caches, logger: logger))
        // A namespace without the shoot role → accept, Cluster or not.
        _ = caches.namespaces.upsert(namespace(role: nil))
        #expect(shootNotFailed(event, caches: caches, logger: logger))
        _ = caches.namespaces.upsert(namespace(role: "seed"))
        #expect(shootNotFailed(event, caches: caches, logger: logger))

        // Shoot namespace without a cached Cluster → accept (the informer may lag behind a
        // Cluster created just before its Network; the reconciler reads it and decides).
        _ = caches.namespaces.upsert(namespace(role: "shoot"))
        #expect(shootNotFailed(event, caches: caches, logger: logger))
        _ = caches.clusters.upsert(clusterObject(shoot: shootObject(failed: true)))
        #expect(!shootNotFailed(event, caches: caches, logger: logger))
        _ = caches.clusters.upsert(clusterObject(shoot: shootObject()))
        #expect(shootNotFailed(event, caches: caches, logger: logger))
        // Updates are judged by the new object.
        #expect(shootNotFailed(.update(old: network, new: network), caches: caches, logger: logger))

        // Delete and Generic events are always rejected.
        #expect(!shootNotFailed(.delete(network), caches: caches, logger: logger))
        #expect(!shootNotFailed(.generic(network), caches: caches, logger: logger))

        // An object without a namespace is accepted.
        var clusterScoped = network
        clusterScoped[path: "metadata", "namespace"] = nil
        #expect(shootNotFailed(.create(clusterScoped), caches: caches, logger: logger))
    }

    /// The controller's predicates read the informer caches: a new Network is reconciled without
    /// any namespace or Cluster request in the request log.
    @Test func theControllerSendsNoPredicateRequests() async throws {
        try await withNetworkController { env in
            env.server.resetRequestLog()
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            let reads = env.server.requestLog.filter {
                $0.verb == "get"
                    && ($0.path == "/api/v1/namespaces/\(shootNamespace)"
                        || $0.path == "/apis/extensions.gardener.cloud/v1alpha1/clusters/\(shootNamespace)")
            }
            #expect(reads.isEmpty, "\(reads.map { "\($0.verb) \($0.path)" })")
        }
    }
}
