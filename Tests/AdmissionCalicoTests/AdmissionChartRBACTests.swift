import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import TestSupport
import Testing

@testable import AdmissionCalico

/// The admission webhook registers itself, manages its certificate Secrets and elects a leader
/// while authenticated as the ServiceAccount its charts install, holding exactly the RBAC of the
/// runtime and application charts on the embedded API server (which enforces RBAC).
@Suite(.serialized) struct AdmissionChartRBACTests {
    static let name = "gardener-extension-admission-calico"
    static let namespace = AdmissionRuntimeTests.namespace
    static let charts = "charts/gardener-extension-admission-calico/charts"

    @Test func theWebhookRunsUnderItsChartsRBAC() async throws {
        try await withTestAPIServer { api in
            let admin = try AdmissionRuntimeTests.client(kubeconfig: try api.writeTemporaryKubeconfig())
            var rbac = try ChartRBAC.render(template: "\(Self.charts)/runtime/templates/rbac.yaml", name: Self.name, namespace: Self.namespace)
            rbac += try ChartRBAC.render(template: "\(Self.charts)/application/templates/rbac.yaml", name: Self.name, namespace: Self.namespace)
            #expect(rbac.compactMap { $0["kind"]?.stringValue }.sorted() == ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"])
            try await ChartRBAC.apply(rbac, admin: admin)
            let client = try await ChartRBAC.serviceAccountClient(server: api, admin: admin, namespace: Self.namespace, name: Self.name) {
                $0.qps = 100
                $0.burst = 130
            }
            // The runtime chart's Deployment passes --leader-election-id with the chart's name.
            let election = LeaderElectionConfiguration(
                name: Self.name, namespace: Self.namespace, identity: "rbac", leaseDuration: .seconds(3), renewDeadline: .seconds(2),
                retryPeriod: .milliseconds(200))
            let runtime = try await AdmissionRuntime.start(
                AdmissionRuntimeTests.options(certDir: try TestDirectories.make("adm-rbac").path), client: client,
                manager: ManagerOptions(leaderElection: election, gracefulShutdownTimeout: .seconds(5)), tuning: AdmissionRuntimeTests.tuning())
            do {
                #expect(runtime.isLeader)
                #expect(runtime.leaderPasses >= 1)
                let vwc = try await admin.get(.validatingWebhookConfigurations, namespace: nil, name: Self.name)
                #expect(
                    Base64.decode(vwc["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? "") == Array(runtime.caBundlePEM.utf8))
                for secret in [CertificateSecrets.caSecretName, CertificateSecrets.serverSecretName] {
                    _ = try await admin.get(.secrets, namespace: Self.namespace, name: secret)
                }
                let review = Fixtures.review(Fixtures.shoot()).serialized()
                let r = try await TestHTTPSClient.request(
                    port: try runtime.servingServer.port, caPEM: runtime.caBundlePEM, path: "/webhooks/validate", body: review)
                #expect(try JSON.parse(r.body)[path: "response", "allowed"] == true)
                // The leader elector's Event was recorded (a denial would only be logged).
                let recorded = try await eventually {
                    try await admin.list(.events, namespace: Self.namespace).items.contains { $0["reason"] == "LeaderElection" }
                }
                #expect(recorded, "no LeaderElection Event: the charts' RBAC denied it")
                // A second pass (updates by name) is allowed too.
                try await runtime.runLeaderPass()
                #expect(api.authorizationDenials == [])
            } catch {
                await runtime.stop()
                throw error
            }
            await runtime.stop()
            try await client.shutdown()
            try await admin.shutdown()
        }
    }
}
