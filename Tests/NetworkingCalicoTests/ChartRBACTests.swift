import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import LocalMode
import Logging
import TestSupport
import Testing

@testable import NetworkingCalico

/// The controller reconciles every golden case while authenticated as the ServiceAccount the
/// chart installs, holding exactly the chart's RBAC on the embedded API server (which enforces
/// RBAC for every user but the kubeconfig admin; see docs/local.md).
@Suite(.serialized) struct ChartRBACTests {
    static let release = "gardener-extension-networking-calico"
    static let releaseNamespace = "garden"

    /// The chart's RBAC objects (templates/rbac.yaml rendered with default values).
    static func chartRBAC() throws -> [JSON] {
        try ChartRBAC.render(template: "charts/\(release)/templates/rbac.yaml", name: release, namespace: releaseNamespace)
    }

    /// Applies the RBAC objects and answers a client authenticated as the chart's ServiceAccount.
    static func serviceAccountClient(_ env: Env, rbac: [JSON]) async throws -> KubernetesClient {
        try await ChartRBAC.apply(rbac, admin: env.client)
        return try await ChartRBAC.serviceAccountClient(server: env.server, admin: env.client, namespace: releaseNamespace, name: release) {
            $0.qps = 0
        }
    }

    /// A manager on `client` with leader election and heartbeat in the release namespace, as the chart's Deployment runs it.
    static func startManager(_ client: KubernetesClient) async throws -> (Manager, Task<Void, any Error>) {
        var settings = CalicoControllerSettings()
        settings.leaderElection = true
        settings.leaderElectionNamespace = releaseNamespace
        settings.heartbeatNamespace = releaseNamespace
        settings.leaseDuration = .seconds(3)
        settings.renewDeadline = .seconds(2)
        settings.retryPeriod = .milliseconds(300)
        settings.gracefulShutdownTimeout = .seconds(10)
        settings.actuator = CalicoActuatorOptions(deleteWaitTimeout: .seconds(30), deleteWaitInterval: .milliseconds(200))
        var logger = Logger(label: "chart-rbac")
        logger.logLevel = .error
        let manager = try await CalicoController.makeManager(client: client, settings: settings, logger: logger)
        return (manager, Task { try await manager.run() })
    }

    /// The golden cases: (name, namespace object, Cluster, Network, whether the input must be rejected).
    static func goldenCases() throws -> [(name: String, cluster: JSON, network: JSON, rejected: Bool)] {
        let dir = try SharedFixtures.sharedDirectory().appendingPathComponent("golden")
        var out: [(String, JSON, JSON, Bool)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let caseDir = dir.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("network.yaml").path) else { continue }
            let cluster = try JSON.parseYAML(String(contentsOf: caseDir.appendingPathComponent("cluster.yaml"), encoding: .utf8))
            let network = try JSON.parseYAML(String(contentsOf: caseDir.appendingPathComponent("network.yaml"), encoding: .utf8))
            let rejected = FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("expected-error.txt").path)
            out.append((name, cluster, network, rejected))
        }
        return out
    }

    static func createCase(_ env: Env, cluster: JSON, network: JSON) async throws {
        let namespace = try #require(network[path: "metadata", "namespace"]?.stringValue)
        try await LocalBootstrap.apply(
            object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]], client: env.client)
        try await LocalBootstrap.apply(object: cluster, client: env.client)
        try await LocalBootstrap.apply(object: network, client: env.client)
    }

    static func network(_ env: Env, _ network: JSON) async throws -> JSON {
        try await env.client.get(
            .networks, namespace: network[path: "metadata", "namespace"]?.stringValue, name: network[path: "metadata", "name"]?.stringValue ?? "")
    }

    @Test func controllerReconcilesEveryGoldenCaseUnderTheChartsRBAC() async throws {
        try await Env.with { env in
            let client = try await Self.serviceAccountClient(env, rbac: try Self.chartRBAC())
            let cases = try Self.goldenCases()
            #expect(cases.count >= 10)
            for c in cases { try await Self.createCase(env, cluster: c.cluster, network: c.network) }
            let (manager, task) = try await Self.startManager(client)
            for c in cases {
                let done = try await poll(timeout: positiveWaitTimeout, interval: .milliseconds(100)) { () async throws -> JSON? in
                    let obj = try await Self.network(env, c.network)
                    // (JSON is nil-literal expressible: spell out Optional.none.)
                    let finished = c.rejected ? obj[path: "status", "lastError"] != nil : LocalBootstrap.isReconciled(obj)
                    return finished ? .some(obj) : .none
                }
                let obj = try #require(done, "golden case \(c.name) did not finish under the chart's RBAC")
                let lastError = obj[path: "status", "lastError", "description"]?.stringValue ?? ""
                #expect(!lastError.contains("is forbidden: User"), "\(c.name): \(lastError)")
                if !c.rejected {
                    let ns = obj[path: "metadata", "namespace"]?.stringValue
                    let mrs = try await env.client.list(.managedResources, namespace: ns).items.compactMap {
                        $0[path: "metadata", "name"]?.stringValue
                    }
                    #expect(mrs == [CalicoNames.managedResourceName], "\(c.name): \(obj)")
                }
                // The outcome's Event, written under the ClusterRole into the shoot namespace.
                let reason = c.rejected ? "Error" : "Succeeded"
                let recorded = try await poll(timeout: positiveWaitTimeout, interval: .milliseconds(100)) { () async throws -> Bool? in
                    let events = try await env.client.list(
                        .events, namespace: obj[path: "metadata", "namespace"]?.stringValue,
                        options: ListOptions(fieldSelector: "involvedObject.kind=Network")
                    ).items
                    return events.contains { $0["reason"]?.stringValue?.hasSuffix(reason) == true } ? true : nil
                }
                #expect(recorded == true, "\(c.name): no Event ending in \(reason) on the Network")
            }
            // Nothing the controller tried was denied (not even a best-effort Event).
            #expect(env.server.authorizationDenials == [])
            // Leader election and heartbeat ran in the release namespace under the Role.
            let leases = try await env.client.list(.leases, namespace: Self.releaseNamespace).items.compactMap {
                $0[path: "metadata", "name"]?.stringValue
            }
            #expect(leases.contains(CalicoLease.leaseName))
            // Deleting works too (finalizer removal, ManagedResource and monitoring cleanup).
            let first = try #require(cases.first { !$0.rejected })
            _ = try await env.client.delete(
                .networks, namespace: first.network[path: "metadata", "namespace"]?.stringValue,
                name: first.network[path: "metadata", "name"]?.stringValue ?? "")
            let gone = try await poll(timeout: positiveWaitTimeout, interval: .milliseconds(100)) { () async throws -> Bool? in
                do { _ = try await Self.network(env, first.network) } catch let e as KubeError where e.isNotFound { return true }
                return nil
            }
            #expect(gone == true, "the Network was not deleted under the chart's RBAC")
            #expect(env.server.authorizationDenials == [])
            await stop(manager, task)
            try await client.shutdown()
        }
    }

    /// Without the rule allowing Secret creation the reconciliation fails with kube's 403.
    @Test func aMissingRuleFailsWithTheForbiddenError() async throws {
        var rbac = try Self.chartRBAC()
        let index = try #require(rbac.firstIndex { $0["kind"]?.stringValue == "ClusterRole" })
        var rules = rbac[index]["rules"]?.arrayValue ?? []
        let before = rules.count
        rules.removeAll { $0["resources"] == ["secrets"] && $0["apiGroups"] == [""] }
        #expect(rules.count == before - 1)
        rbac[index]["rules"] = .array(rules)
        try await Env.with { env in
            let client = try await Self.serviceAccountClient(env, rbac: rbac)
            let c = try #require(try Self.goldenCases().first { $0.name == "ipv4-default" })
            try await Self.createCase(env, cluster: c.cluster, network: c.network)
            let (manager, task) = try await Self.startManager(client)
            let failed = try await poll(timeout: positiveWaitTimeout, interval: .milliseconds(100)) { () async throws -> String? in
                try await Self.network(env, c.network)[path: "status", "lastError", "description"]?.stringValue
            }
            let ns = c.network[path: "metadata", "namespace"]?.stringValue ?? ""
            #expect(
                failed?.contains(
                    "is forbidden: User \"system:serviceaccount:\(Self.releaseNamespace):\(Self.release)\" cannot create resource \"secrets\" in API group \"\" in the namespace \"\(ns)\""
                ) == true, "\(failed ?? "no lastError")")
            await stop(manager, task)
            try await client.shutdown()
        }
    }
}
