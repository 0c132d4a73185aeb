import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import GardenerExtensions
import KubeClient
import KubeCore
import Logging
import TestSupport
import Testing

@testable import KubeRuntime

/// The shoot-not-failed predicate (docs/reliability.md) against a live API server.
@Suite(.serialized) struct ShootNotFailedPredicateTests {
    @Test func acceptsRejectsAndSurvivesTransientErrors() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await installGardenerCRDs(client)
            let logger = Logger(label: "predicate-test")
            var network = networkObject()
            network[path: "metadata", "namespace"] = .string(shootNamespace)
            let event = ObjectEvent.create(network)

            // Namespace missing → accept (the reference logs and accepts).
            #expect(await shootNotFailed(event, client: client, logger: logger))
            _ = try await client.create(
                .namespaces, namespace: nil,
                ["metadata": ["name": .string(shootNamespace), "labels": ["gardener.cloud/role": "shoot"]]])
            // Shoot namespace without a Cluster → reject (faithful).
            #expect(!(await shootNotFailed(event, client: client, logger: logger)))
            _ = try await client.create(.clusters, namespace: nil, clusterObject(shoot: shootObject(failed: true)))
            #expect(!(await shootNotFailed(event, client: client, logger: logger)))
            #expect(!(await shootNotFailed(.generic(network), client: client, logger: logger)))

            try await client.delete(.clusters, namespace: nil, name: shootNamespace)
            _ = try await client.create(.clusters, namespace: nil, clusterObject(shoot: shootObject()))
            #expect(await shootNotFailed(event, client: client, logger: logger))
            // A transient error reading the Cluster must not lose the event: accept (the
            // reconciler reads the Cluster again and skips failed shoots).
            server.failNextRequests(1, status: 503, pathPrefix: "/apis/extensions.gardener.cloud/v1alpha1/clusters")
            #expect(await shootNotFailed(event, client: client, logger: logger))
            #expect(server.requestCount(verb: "get", path: "/apis/extensions.gardener.cloud/v1alpha1/clusters/\(shootNamespace)") >= 4)

            // With the informer cache: a cached healthy Cluster needs no GET; a cached failed one
            // is confirmed live (a stale "failed" must not drop the event).
            let store = Store()
            let cache = ShootLookupCache(clusters: store)
            let clusterPath = "/apis/extensions.gardener.cloud/v1alpha1/clusters/\(shootNamespace)"
            _ = store.upsert(clusterObject(shoot: shootObject()))
            server.resetRequestLog()
            #expect(await shootNotFailed(event, client: client, cache: cache, logger: logger))
            #expect(server.requestCount(verb: "get", path: clusterPath) == 0)
            _ = store.upsert(clusterObject(shoot: shootObject(failed: true)))
            #expect(await shootNotFailed(event, client: client, cache: cache, logger: logger))
            #expect(server.requestCount(verb: "get", path: clusterPath) == 1)
            // Cache miss → live read.
            _ = store.remove(objectKey(namespace: nil, name: shootNamespace))
            #expect(await shootNotFailed(event, client: client, cache: cache, logger: logger))
            #expect(server.requestCount(verb: "get", path: clusterPath) == 2)
        }
    }
}
