import CalicoAPI
import CalicoManifests
import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import LocalMode
import TestSupport
import Testing

@testable import NetworkingCalico

/// Many shoots of the example, `shoot--<prefix>--s<i>`, for the fault scenarios of issue 9.
struct Fleet {
    let env: Env
    let prefix: String
    let count: Int

    func namespace(_ i: Int) -> String { "shoot--\(prefix)--s\(i)" }
    var namespaces: [String] { (0..<count).map(namespace) }

    /// Creates every shoot's Namespace, Cluster and Network (with `modify` applied to Network `i`).
    func create(_ modify: @escaping @Sendable (Int, inout JSON) -> Void = { _, _ in }) async throws {
        let (ns, cluster, network) = try Env.exampleObjects()
        let client = env.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var i = worker
                    while i < count {
                        let name = namespace(i)
                        var n = ns
                        var c = cluster
                        var w = network
                        n[path: "metadata", "name"] = .string(name)
                        c[path: "metadata", "name"] = .string(name)
                        w[path: "metadata", "namespace"] = .string(name)
                        modify(i, &w)
                        _ = try await client.create(.namespaces, namespace: nil, n)
                        _ = try await client.create(.clusters, namespace: nil, c)
                        _ = try await client.create(.networks, namespace: name, w)
                        i += 8
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The fleet's Networks by namespace (list errors from injected faults are retried).
    func networks() async throws -> [String: JSON] {
        var lastError: (any Error)?
        let found = await poll(interval: .milliseconds(100)) { () async -> [String: JSON]? in
            do {
                let list = try await env.client.list(.networks, namespace: nil)
                var result: [String: JSON] = [:]
                for item in list.items {
                    if let ns = item[path: "metadata", "namespace"]?.stringValue, ns.hasPrefix("shoot--\(prefix)--") { result[ns] = item }
                }
                return result
            } catch {
                lastError = error
                return nil
            }
        }
        guard let found else { throw lastError ?? MessageError("listing Networks timed out") }
        return found
    }

    static func state(_ obj: JSON?) -> String {
        guard let op = obj?[path: "status", "lastOperation"] else { return "none" }
        return "\(op["type"]?.stringValue ?? "?") \(op["state"]?.stringValue ?? "?")"
    }

    /// Polls until `condition` holds for every Network of the fleet (or records what is stuck).
    @discardableResult
    func waitUntilAll(
        timeout: Duration, _ what: String, _ condition: @escaping (Int, JSON?) -> Bool
    ) async throws -> [String: JSON] {
        var last: [String: JSON] = [:]
        let found = try await poll(timeout: timeout, interval: .milliseconds(250)) { () async throws -> [String: JSON]? in
            last = try await networks()
            return (0..<count).allSatisfy({ condition($0, last[namespace($0)]) }) ? last : nil
        }
        if let found { return found }
        let stuck = (0..<count).filter { !condition($0, last[namespace($0)]) }
        let examples: [String] = stuck.prefix(5).map { i in "\(namespace(i)): \(Fleet.state(last[namespace(i)]))" }
        Issue.record("\(stuck.count)/\(count) Networks not \(what) after \(timeout): \(examples.joined(separator: "; "))")
        throw MessageError("timeout: \(what)")
    }

    func allSucceeded(timeout: Duration) async throws -> [String: JSON] {
        try await waitUntilAll(timeout: timeout, "Succeeded") { _, obj in obj.map(LocalBootstrap.isReconciled) ?? false }
    }

    /// Every listed Network's ManagedResource holds exactly what `render` prints for it.
    func expectRenderedContent(_ objects: [String: JSON], only: (Int) -> Bool = { _ in true }) async throws {
        var checked = 0
        for i in 0..<count where only(i) {
            let ns = namespace(i)
            let network = try #require(objects[ns])
            let mr = try await env.client.get(.managedResources, namespace: ns, name: CalicoNames.managedResourceName)
            let refs = ManagedResource(raw: mr).secretRefs
            #expect(refs.count == 1, "\(ns): secretRefs \(refs)")
            let secret = try await env.client.get(.secrets, namespace: ns, name: try #require(refs.first))
            let config = try #require(Secret(raw: secret).data[CalicoNames.configKey])
            let cluster = try await env.client.get(.clusters, namespace: nil, name: ns)
            let expected = try renderShootManifests(network: network, cluster: cluster, featureGates: FeatureGates()).yamlBytes()
            #expect(config == expected, "\(ns): ManagedResource content differs from render")
            checked += 1
        }
        #expect(checked > 0)
    }
}

/// Issue 9's fault scenarios: the controller (as in production, in-process) against an embedded
/// API server that injects faults. Each asserts that every Network ends `Succeeded` with the
/// right ManagedResource content, none is stuck, and retries stay bounded (requests counted).
@Suite(.serialized) struct FaultScenarioTests {
    /// Requests per Network allowed in a faulty run. A fault-free reconcile of one Network takes
    /// about 15-20 requests; a hot loop would need thousands.
    static let requestsPerNetworkBound = 80

    static func expectBoundedRequests(_ env: Env, networks: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let requests = env.server.requestLog.filter { $0.verb != "watch" }.count
        #expect(
            requests <= networks * requestsPerNetworkBound, "\(requests) requests for \(networks) Networks",
            sourceLocation: sourceLocation)
    }

    @Test func twoHundredNetworksWhileTheServerRestartsTenTimes() async throws {
        let dataDir = try TestDirectories.make("fault-restart")
        try await Env.with(EmbeddedAPIServerConfiguration(dataDirectory: dataDir.path)) { env in
            let fleet = Fleet(env: env, prefix: "restart", count: 200)
            try await fleet.create()
            env.server.resetRequestLog()
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            for _ in 0..<10 {
                // Restart only once the controller has made progress since the last restart.
                let before = env.server.requestLog.count
                #expect(await eventually { env.server.requestLog.count > before + 20 })
                try await env.server.restart(downtime: .milliseconds(150))
            }
            #expect(env.server.faultCounters.restarts == 10)
            let done = try await fleet.allSucceeded(timeout: .seconds(240))
            try await fleet.expectRenderedContent(done)
            Self.expectBoundedRequests(env, networks: fleet.count)
        }
    }

    @Test(arguments: [409, 410, 429, 500, 503])
    func tenPercentOfRequestsFail(status: Int) async throws {
        try await Env.with { env in
            let fleet = Fleet(env: env, prefix: "err\(status)", count: 20)
            try await fleet.create()
            env.server.resetRequestLog()
            // Each status where a real server answers it: conflicts on writes, 410 Expired on
            // lists and watches (resourceVersion too old), throttling and server errors anywhere.
            let verbs: Set<String>? =
                switch status {
                case 409: ["create", "update", "patch"]
                case 410: ["list", "watch"]
                default: nil
                }
            env.server.faultPolicy = FaultPolicy(
                errorRate: 0.1, errorStatuses: [status], retryAfterSeconds: status == 429 ? 1 : nil, verbs: verbs,
                includeWatches: status == 410, seed: UInt64(status))
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            let done = try await fleet.allSucceeded(timeout: .seconds(120))
            let injected = env.server.faultCounters.errors[status, default: 0]
            env.server.clearFaults()
            #expect(injected > 0, "no \(status) was injected")
            try await fleet.expectRenderedContent(done)
            Self.expectBoundedRequests(env, networks: fleet.count)
        }
    }

    @Test func watchesTruncatedAndHistoryCompactedForceRelists() async throws {
        try await Env.with { env in
            let fleet = Fleet(env: env, prefix: "relist", count: 60)
            try await fleet.create()
            env.server.resetRequestLog()
            env.server.faultPolicy = FaultPolicy(
                watchTruncateAfterEvents: 7, watchTruncateAfter: .seconds(2), compactHistoryEvery: .milliseconds(300))
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            let done = try await fleet.allSucceeded(timeout: .seconds(120))
            let counters = env.server.faultCounters
            env.server.clearFaults()
            #expect(counters.truncatedWatches > 0)
            #expect(counters.compactions > 0)
            // Each truncation or 410 ends in a new watch or a relist of the informer.
            #expect(env.server.requestCount(verb: "watch", path: "/apis/extensions.gardener.cloud/v1alpha1/networks") > 1)
            try await fleet.expectRenderedContent(done)
            Self.expectBoundedRequests(env, networks: fleet.count)
        }
    }

    @Test func invalidProviderConfigOnTenPercentEndsInErrorWithoutHotLoop() async throws {
        try await Env.with { env in
            let fleet = Fleet(env: env, prefix: "invalid", count: 50)
            let invalid: @Sendable (Int) -> Bool = { $0 % 10 == 3 }
            try await fleet.create { i, network in
                if invalid(i) { network[path: "spec", "providerConfig", "backend"] = "carrier-pigeon" }
            }
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            let settled = try await fleet.waitUntilAll(timeout: .seconds(120), "settled") { i, obj in
                guard let obj else { return false }
                return invalid(i)
                    ? obj[path: "status", "lastOperation", "state"] == "Error"
                    : LocalBootstrap.isReconciled(obj)
            }
            for i in 0..<fleet.count where invalid(i) {
                let obj = settled[fleet.namespace(i)]
                let lastError = obj?[path: "status", "lastError", "description"]?.stringValue ?? ""
                #expect(lastError.contains("spec.providerConfig.backend"), "\(fleet.namespace(i)): \(lastError)")
                await #expect(throws: KubeError.self) {
                    _ = try await env.client.get(.managedResources, namespace: fleet.namespace(i), name: CalicoNames.managedResourceName)
                }
            }
            try await fleet.expectRenderedContent(settled) { !invalid($0) }
            // Terminal, not a hot loop: once the controller is idle, each failing Network has been
            // reconciled once and nothing is queued or delayed for any of them.
            let controller = try #require(manager.controller(named: "network"))
            #expect(await eventually { controller.queue.isIdle && controller.statistics.terminalErrors >= 5 })
            #expect(controller.statistics.terminalErrors == 5)
        }
    }

    /// Two controller processes with leader election; the leader is SIGKILLed while it works
    /// (responses are slowed down so the work takes seconds); the other takes over after the
    /// lease expires and finishes every Network.
    @Test func leaderKilledMidReconcileOtherReplicaFinishes() async throws {
        try await Env.with { env in
            let dir = try BinaryTests.workDir()
            let fleet = Fleet(env: env, prefix: "leader", count: 40)
            let (first, firstLog) = try BinaryTests.startController(env: env, dir: dir)
            defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
            let lease = "networking-calico-leader-election"
            let holder =
                await poll(interval: .milliseconds(200)) {
                    let h = (try? await env.client.get(.leases, namespace: "kube-system", name: lease))?[path: "spec", "holderIdentity"]?.stringValue
                    return h?.isEmpty == false ? h : nil
                } ?? ""
            try #require(!holder.isEmpty, "first controller never led: \((try? String(contentsOf: firstLog, encoding: .utf8)) ?? "")")
            let (second, secondLog) = try BinaryTests.startController(env: env, dir: dir)
            defer { if second.isRunning { second.terminate() } }

            env.server.faultPolicy = FaultPolicy(verbs: ["get", "create", "update", "patch"], delay: .milliseconds(40))
            try await fleet.create()
            _ = try await fleet.waitUntilAll(timeout: .seconds(120), "started") { i, obj in
                i >= 3 || (obj.map(LocalBootstrap.isReconciled) ?? false)
            }
            let before = try await fleet.networks().values.filter(LocalBootstrap.isReconciled).count
            kill(first.processIdentifier, SIGKILL)
            #expect(before < fleet.count, "the leader finished everything before it was killed")
            env.server.clearFaults()

            let done = try await BinaryTests.showingSecondLog(secondLog) { try await fleet.allSucceeded(timeout: .seconds(120)) }
            let newHolder = try await env.client.get(.leases, namespace: "kube-system", name: lease)[path: "spec", "holderIdentity"]?.stringValue
            #expect(newHolder != nil && newHolder != holder)
            try await fleet.expectRenderedContent(done)
            Self.expectBoundedRequests(env, networks: fleet.count)
        }
    }
}
