import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import Synchronization
import TestSupport
import Testing

@testable import KubeClient

/// Retries, rate limiting and watches, counted at the embedded server.
@Suite struct RetryAndRateLimitTests {
    @Test func tooManyRequestsIsRetriedHonouringRetryAfter() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let path = "/api/v1/namespaces/default"
                server.resetRequestLog()
                server.failNextRequests(1, status: 429, retryAfterSeconds: 1, pathPrefix: path)
                let start = ContinuousClock.now
                _ = try await client.get(.namespaces, namespace: nil, name: "default")
                let elapsed = start.duration(to: .now)
                #expect(server.requestCount(path: path) == 2)
                #expect(elapsed >= .milliseconds(950), "Retry-After: 1 must be honoured, waited \(elapsed)")

                // 429 is retried for non-idempotent verbs too: the server did not process it.
                server.resetRequestLog()
                server.failNextRequests(2, status: 429, pathPrefix: "/api/v1/namespaces/default/configmaps")
                _ = try await client.create(.configMaps, namespace: "default", configMap("after-429"))
                #expect(server.requestCount(verb: "create") == 3)
            }
        }
    }

    @Test func serverErrorsRetriedOnlyForIdempotentVerbs() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let cms = "/api/v1/namespaces/default/configmaps"
                server.resetRequestLog()
                server.failNextRequests(3, status: 500, pathPrefix: cms)
                let list = try await client.list(.configMaps, namespace: "default")
                #expect(list.items.isEmpty)
                #expect(server.requestCount(verb: "list", path: cms) == 4)

                // POST + 500 without Retry-After: not retried (it may have been processed).
                server.resetRequestLog()
                server.failNextRequests(1, status: 500, pathPrefix: cms)
                let error = await kubeError { try await client.create(.configMaps, namespace: "default", configMap("p")) }
                #expect(error?.isInternal == true)
                #expect(server.requestCount(verb: "create") == 1)

                // POST + 503 with Retry-After: the server asks for a retry.
                server.resetRequestLog()
                server.failNextRequests(1, status: 503, retryAfterSeconds: 0, pathPrefix: cms)
                _ = try await client.create(.configMaps, namespace: "default", configMap("p"))
                #expect(server.requestCount(verb: "create") == 2)

                // PUT (idempotent) is retried on 504.
                server.resetRequestLog()
                var cm = try await client.get(.configMaps, namespace: "default", name: "p")
                cm["data"] = ["k": "v"]
                server.failNextRequests(1, status: 504, pathPrefix: cms)
                _ = try await client.update(.configMaps, namespace: "default", cm)
                #expect(server.requestCount(verb: "update") == 2)
            }
        }
    }

    @Test func retriesStopAfterMaxRetries() async throws {
        try await withTestAPIServer { server in
            try await withClient(server, { $0.maxRetries = 2 }) { client in
                server.resetRequestLog()
                server.failNextRequests(10, status: 503, pathPrefix: "/api/v1/nodes")
                let error = await kubeError { try await client.list(.nodes, namespace: nil) }
                #expect(error?.code == 503)
                #expect(error?.isInternal == true)
                #expect(server.requestCount(path: "/api/v1/nodes") == 3)
            }
        }
    }

    @Test func connectionFailuresAreTransportErrors() async throws {
        // Nothing listens on this port once the server is gone.
        var port = 0
        try await withTestAPIServer { server in port = server.port }
        var config = ClientConfiguration(server: "https://127.0.0.1:\(port)")
        config.connectTimeout = .milliseconds(500)
        config.maxRetries = 1
        config.retryBaseDelay = .milliseconds(10)
        config.tls.insecureSkipVerify = true
        let client = try KubernetesClient(configuration: config)
        let error = await kubeError { try await client.get(.namespaces, namespace: nil, name: "default") }
        try await client.shutdown()
        #expect(error?.isTransport == true)
        #expect(error?.code == 0)
    }

    @Test func clientSideRateLimitPacesRequests() async throws {
        try await withTestAPIServer { server in
            try await withClient(
                server,
                {
                    $0.qps = 5
                    $0.burst = 2
                }
            ) { client in
                server.resetRequestLog()
                let start = ContinuousClock.now
                for _ in 0..<6 { _ = try await client.get(.namespaces, namespace: nil, name: "default") }
                let elapsed = start.duration(to: .now)
                #expect(server.requestCount(path: "/api/v1/namespaces/default") == 6)
                // Burst 2 passes at once, the other 4 come at 5/s: at least ~0.8 s.
                #expect(elapsed >= .milliseconds(750), "6 requests at qps 5 / burst 2 took only \(elapsed)")
            }
        }
    }

    @Test func defaultsAreClientGoDefaults() {
        let config = ClientConfiguration(server: "https://x")
        #expect(config.qps == 5)
        #expect(config.burst == 10)
        #expect(config.userAgent.contains("kubeclient-swift"))
        #expect(config.userAgent.contains("(linux/") || config.userAgent.contains("(darwin/"))
    }
}

@Suite struct WatchTests {
    @Test func watchDeliversChangesAndResumesFromResourceVersion() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let start = try await client.list(.configMaps, namespace: "default")
                let stream = client.watch(.configMaps, namespace: "default", options: .init(resourceVersion: start.resourceVersion))
                _ = try await client.create(.configMaps, namespace: "default", configMap("w1"))
                _ = try await client.patch(.configMaps, namespace: "default", name: "w1", ["data": ["x": "1"]], type: .merge)
                try await client.delete(.configMaps, namespace: "default", name: "w1")
                let events = try await collectEvents(stream, count: 3)
                #expect(events.map(\.type) == [.added, .modified, .deleted])
                #expect(events.allSatisfy { $0.object[path: "metadata", "name"]?.stringValue == "w1" })

                // Resume from the ADDED event's resourceVersion: only what came after.
                let resumed = client.watch(.configMaps, namespace: "default", options: .init(resourceVersion: events[0].resourceVersion))
                let later = try await collectEvents(resumed, count: 2)
                #expect(later.map(\.type) == [.modified, .deleted])
                #expect(later.first?.resourceVersion == events[1].resourceVersion)
            }
        }
    }

    @Test func watchWithoutResourceVersionStartsWithCurrentStateAndBookmarks() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                _ = try await client.create(
                    .configMaps, namespace: "kube-public", configMap("existing", namespace: "kube-public", labels: ["w": "1"]))
                _ = try await client.create(.configMaps, namespace: "kube-public", configMap("filtered-out", namespace: "kube-public"))
                let stream = client.watch(.configMaps, namespace: nil, options: .init(labelSelector: "w=1", allowWatchBookmarks: true))
                let events = try await collectEvents(stream, count: 2, includeBookmarks: true)
                #expect(events.first?.type == .added)
                #expect(events.first?.object[path: "metadata", "name"]?.stringValue == "existing")
                // The embedded server sends a bookmark after the initial state when bookmarks are allowed.
                #expect(events.last?.type == .bookmark)
                #expect(events.last?.resourceVersion?.isEmpty == false)
            }
        }
    }

    @Test func expiredResourceVersionSurfacesAsGone() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let start = try await client.list(.configMaps, namespace: "default")
                _ = try await client.create(.configMaps, namespace: "default", configMap("churn"))
                server.compactHistory()
                let stream = client.watch(.configMaps, namespace: "default", options: .init(resourceVersion: start.resourceVersion))
                let end = try await streamEnd(stream)
                let error = try #require(end as? KubeError)
                #expect(error.isGone)
                #expect(error.code == 410)
                #expect(error.message.hasPrefix("too old resource version"))

                // The resuming watcher ends with .gone too (the caller must relist).
                let resuming = client.watchResuming(.configMaps, namespace: "default", options: .init(resourceVersion: start.resourceVersion))
                let resumingEnd = try await streamEnd(resuming)
                #expect((resumingEnd as? KubeError)?.isGone == true)
            }
        }
    }

    @Test func watchEndsCleanlyAtServerTimeout() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let stream = client.watch(
                    .namespaces, namespace: nil, options: .init(resourceVersion: "", timeoutSeconds: 1, allowWatchBookmarks: false))
                let end = try await streamEnd(stream, timeout: .seconds(20))
                #expect(end == nil)
            }
        }
    }

    @Test func resumingWatchReconnectsFromLastSeenVersion() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let start = try await client.list(.configMaps, namespace: "default")
                let stream = client.watchResuming(.configMaps, namespace: "default", options: .init(resourceVersion: start.resourceVersion))
                let seen = Mutex<[WatchEvent]>([])
                let collector = Task {
                    for try await event in stream where event.type != .bookmark {
                        let count = seen.withLock {
                            $0.append(event)
                            return $0.count
                        }
                        if count == 3 { return }
                    }
                }
                defer { collector.cancel() }
                try await createTolerantly(client, "r1")
                // Once the watch has delivered r1, end it cleanly.
                #expect(await eventually { seen.withLock { $0.count } == 1 })
                server.closeAllWatches()
                try await createTolerantly(client, "r2")
                // Once r2 arrived on the resumed watch, cut every connection (the watch ends abruptly).
                #expect(await eventually { seen.withLock { $0.count } == 2 })
                server.dropAllConnections()
                try await createTolerantly(client, "r3")
                #expect(await eventually { seen.withLock { $0.count } == 3 })
                let events = seen.withLock { $0 }
                #expect(events.map { $0.object[path: "metadata", "name"]?.stringValue ?? "" } == ["r1", "r2", "r3"])
                #expect(events.allSatisfy { $0.type == .added })
            }
        }
    }

    @Test func watchHTTPErrorIsThrown() async throws {
        try await withTestAPIServer { server in
            try await withClient(server, { $0.maxRetries = 0 }) { client in
                server.failNextRequests(1, status: 410, pathPrefix: "/api/v1/namespaces/default/configmaps")
                let end = try await streamEnd(client.watch(.configMaps, namespace: "default", options: .init(resourceVersion: "1")))
                #expect((end as? KubeError)?.isGone == true)
                let missing = try await streamEnd(
                    client.watch(
                        Resource(group: "nope.example", version: "v1", plural: "things", kind: "Thing", namespaced: true), namespace: "default"))
                #expect((missing as? KubeError)?.isNotFound == true)
            }
        }
    }
}

/// Creates a ConfigMap, retrying when the pooled connection was cut under the request (the
/// tests cut connections on purpose; a POST is not retried by the client itself, as in client-go).
func createTolerantly(_ client: KubernetesClient, _ name: String) async throws {
    var lastError: (any Error)?
    let created = await poll(interval: .milliseconds(100)) { () async -> Bool? in
        do {
            _ = try await client.create(.configMaps, namespace: "default", configMap(name))
            return true
        } catch let error as KubeError where error.isAlreadyExists {
            return true
        } catch let error as KubeError where error.isTransport {
            lastError = error
            return nil
        } catch {
            lastError = error
            return false
        }
    }
    if created != true, let lastError { throw lastError }
}
