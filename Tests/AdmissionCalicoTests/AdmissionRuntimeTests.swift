import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import Testing
import X509

@testable import AdmissionCalico

/// Plain-HTTP GET (health endpoint).
enum TestPlainHTTP {
    static func get(port: Int, path: String) async throws -> TestResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: TestResponse.self)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }
}

/// Polls `condition` every 50 ms until true or `timeout` passed.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
    try await TestSupport.eventually(timeout: timeout, interval: .milliseconds(50), condition)
}

extension AdmissionRuntime {
    /// The HTTPS server of a started runtime (`start` returns only once it serves).
    var servingServer: WebhookServer {
        get throws { try #require(webhookServer) }
    }
}

func pemCertificates(_ bundle: String) throws -> [Certificate] {
    var out: [Certificate] = []
    var rest = Substring(bundle)
    while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"),
        let end = rest.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<rest.endIndex)
    {
        out.append(try Certificate(pemEncoded: String(rest[begin.lowerBound..<end.upperBound])))
        rest = rest[end.upperBound...]
    }
    return out
}

@Suite(.serialized) struct AdmissionRuntimeTests {
    static let namespace = "extension-admission-calico"

    /// A client with the binary's rate limits (QPS 100, burst 130): the defaults (5/10) would
    /// throttle lease renewals and certificate syncs of two replicas.
    static func client(kubeconfig path: String) throws -> KubernetesClient {
        var config = try ClientConfiguration.fromKubeconfigFile(path)
        config.qps = 100
        config.burst = 130
        return try KubernetesClient(configuration: config)
    }

    /// A manager with short lease timings and a loopback health endpoint.
    static func manager(identity: String, namespace: String = AdmissionRuntimeTests.namespace, election: Bool = true) -> ManagerOptions {
        let le = LeaderElectionConfiguration(
            name: AdmissionLease.leaseName, namespace: namespace, identity: identity, leaseDuration: .seconds(3),
            renewDeadline: .seconds(2), retryPeriod: .milliseconds(200))
        return ManagerOptions(
            leaderElection: election ? le : nil, healthBindAddress: BindAddress(host: "127.0.0.1", port: 0), gracefulShutdownTimeout: .seconds(5))
    }

    static func tuning() -> AdmissionTuning {
        var t = AdmissionTuning()
        t.leaderResyncInterval = .seconds(60)
        t.certificateSyncInterval = .milliseconds(500)
        t.certificateReloadInterval = .milliseconds(200)
        t.startupTimeout = .seconds(20)
        return t
    }

    static func options(certDir: String, namespace: String = AdmissionRuntimeTests.namespace, mode: String = "service") -> AdmissionOptions {
        RegistrationTests.options(certDir: certDir, namespace: namespace, mode: mode)
    }

    static func createNamespace(_ client: KubernetesClient, _ name: String) async throws {
        _ = try await client.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
    }

    static func leaseHolder(_ client: KubernetesClient, namespace: String) async throws -> String? {
        let lease = try await client.get(.leases, namespace: namespace, name: "admission-calico-leader-election")
        return lease[path: "spec", "holderIdentity"]?.stringValue
    }

    static func isNotFound(_ body: () async throws -> JSON) async -> Bool {
        do {
            _ = try await body()
            return false
        } catch let e as KubeError { return e.isNotFound } catch { return false }
    }

    @Test func onlyTheLeaderManagesAndAnotherReplicaTakesOver() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            try await Self.createNamespace(client, Self.namespace)
            let a = try await AdmissionRuntime.start(
                Self.options(certDir: try TestDirectories.make("adm-a").path), client: client,
                manager: Self.manager(identity: "replica-a"), tuning: Self.tuning())
            var bOrNil: AdmissionRuntime?
            do {
                let b = try await AdmissionRuntime.start(
                    Self.options(certDir: try TestDirectories.make("adm-b").path), client: client,
                    manager: Self.manager(identity: "replica-b"), tuning: Self.tuning())
                bOrNil = b
                // One Lease, held by A; only A did leader work; both serve.
                #expect(a.isLeader)
                #expect(!b.isLeader)
                #expect(try await Self.leaseHolder(client, namespace: Self.namespace) == "replica-a")
                #expect(a.leaderPasses >= 1)
                #expect(b.leaderPasses == 0)
                #expect(a.manager?.isLeading == true)
                #expect(b.manager?.isLeading == false)
                #expect(b.certificates.serverCertificatePEM == a.certificates.serverCertificatePEM)
                let review = Fixtures.review(Fixtures.shoot()).serialized()
                for port in [try a.servingServer.port, try b.servingServer.port] {
                    let r = try await TestHTTPSClient.request(port: port, caPEM: a.caBundlePEM, path: "/webhooks/validate", body: review)
                    #expect(r.status == 200)
                    #expect(try JSON.parse(r.body)[path: "response", "allowed"] == true)
                }
                // A stops (releasing the lease): B takes over and does the leader work.
                await a.stop()
                #expect(try await eventually { b.isLeader })
                #expect(try await eventually { b.leaderPasses >= 1 })
                #expect(try await Self.leaseHolder(client, namespace: Self.namespace) == "replica-b")
                let vwc = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
                #expect(
                    Base64.decode(vwc["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? "")
                        == Array(b.caBundlePEM.utf8))
                await b.stop()
            } catch {
                await a.stop()
                await bOrNil?.stop()
                throw error
            }
        }
    }

    @Test func leaderElectionCanBeDisabled() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            try await Self.createNamespace(client, Self.namespace)
            var o = Self.options(certDir: try TestDirectories.make("adm-nole").path)
            let r = try await AdmissionRuntime.start(
                o, client: client, manager: Self.manager(identity: "solo", election: false), tuning: Self.tuning())
            #expect(r.leaderElector == nil)
            #expect(r.isLeader)
            #expect(await Self.isNotFound { try await client.get(.leases, namespace: Self.namespace, name: "admission-calico-leader-election") })
            await r.stop()
        }
    }

    @Test func sourceClusterHoldsLeaseAndSecrets() async throws {
        try await withTestAPIServer { gardenAPI in
            try await withTestAPIServer { sourceAPI in
                let garden = try Self.client(kubeconfig: try gardenAPI.writeTemporaryKubeconfig())
                let source = try Self.client(kubeconfig: try sourceAPI.writeTemporaryKubeconfig())
                try await Self.createNamespace(source, "garden")
                var o = Self.options(certDir: try TestDirectories.make("adm-src").path, namespace: "", mode: "url")
                o.applyEnvironment(
                    ["SOURCE_CLUSTER": "enabled", "SOURCE_KUBECONFIG": "/nonexistent-unused"], namespaceFlagSet: true)
                #expect(o.sourceCluster)
                let r = try await AdmissionRuntime.start(
                    o, client: garden, sourceClient: source, manager: Self.manager(identity: "src-a", namespace: "garden"), tuning: Self.tuning())
                do {
                    // Lease and certificate Secrets in the source cluster's `garden` namespace ...
                    #expect(try await Self.leaseHolder(source, namespace: "garden") == "src-a")
                    let ca = try await source.get(.secrets, namespace: "garden", name: CertificateSecrets.caSecretName)
                    #expect(
                        Base64.decode(ca["data"]?["ca.crt"]?.stringValue ?? "") == Array(r.certificates.caCertificatePEM.utf8))
                    #expect(await Self.isNotFound { try await garden.get(.secrets, namespace: "garden", name: CertificateSecrets.caSecretName) })
                    #expect(await Self.isNotFound { try await garden.get(.leases, namespace: "garden", name: "admission-calico-leader-election") })
                    // ... the webhook configuration in the garden cluster only.
                    let vwc = try await garden.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
                    #expect(
                        Base64.decode(vwc["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? "")
                            == Array(r.caBundlePEM.utf8))
                    #expect(
                        await Self.isNotFound {
                            try await source.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
                        })
                    // Readiness includes source-informer-sync.
                    let port = try #require(r.healthPort)
                    #expect(try await TestPlainHTTP.get(port: port, path: "/readyz/source-informer-sync").status == 200)
                    #expect(try await TestPlainHTTP.get(port: port, path: "/readyz/webhook-server").status == 200)
                    #expect(try await TestPlainHTTP.get(port: port, path: "/readyz").status == 200)
                    let served = try await TestHTTPSClient.request(
                        port: r.servingServer.port, caPEM: r.caBundlePEM, path: "/webhooks/validate",
                        body: Fixtures.review(Fixtures.shoot()).serialized())
                    #expect(served.status == 200)
                } catch {
                    await r.stop()
                    throw error
                }
                await r.stop()
            }
        }
    }

    @Test func caRotationKeepsOldCAUntilTheNewServingCertificateIsInUse() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            try await Self.createNamespace(client, Self.namespace)
            var tuning = Self.tuning()
            tuning.rotation.oldCAGracePeriod = 0
            let r = try await AdmissionRuntime.start(
                Self.options(certDir: try TestDirectories.make("adm-rot").path), client: client, manager: Self.manager(identity: "rot"),
                tuning: tuning)
            do {
                func registeredBundle() async throws -> String {
                    let vwc = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
                    return String(
                        decoding: Base64.decode(vwc["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? "") ?? [],
                        as: UTF8.self)
                }
                let firstCA = r.certificates.caCertificatePEM
                #expect(try pemCertificates(r.caBundlePEM).count == 1)
                // The CA validity is 30 days: nothing is due now.
                try await r.runLeaderPass()
                #expect(r.certificates.caCertificatePEM == firstCA)
                let caCert = try Certificate(pemEncoded: firstCA)
                #expect(abs(caCert.notValidAfter.timeIntervalSince(caCert.notValidBefore) - (30 * 86400 + 300)) < 5)

                // 25 days later (> 80 % of 30 days): a new CA; the bundle holds new + old.
                try await r.runLeaderPass(now: Date().addingTimeInterval(25 * 86400))
                let secondCA = r.certificates.caCertificatePEM
                #expect(secondCA != firstCA)
                let bundle = try pemCertificates(r.caBundlePEM)
                #expect(bundle.count == 2)
                #expect(bundle.first == (try Certificate(pemEncoded: secondCA)))
                #expect(bundle.last == caCert)
                #expect(try await registeredBundle() == r.caBundlePEM)
                // The new serving certificate is signed by the new CA, served at once, and verifies with the bundle.
                let served = try Certificate(pemEncoded: r.servingServer.servingCertificatePEM)
                #expect(CertificateGenerator.isSigned(served, by: try Certificate(pemEncoded: secondCA)))
                #expect(try r.servingServer.servingCertificatePEM == r.certificates.serverCertificatePEM)
                let review = Fixtures.review(Fixtures.shoot()).serialized()
                #expect(
                    try await TestHTTPSClient.request(port: r.servingServer.port, caPEM: r.caBundlePEM, path: "/webhooks/validate", body: review)
                        .status == 200)
                await #expect(throws: (any Error).self) {
                    _ = try await TestHTTPSClient.request(port: r.servingServer.port, caPEM: firstCA, path: "/webhooks/validate", body: review)
                }
                let caSecret = try await client.get(.secrets, namespace: Self.namespace, name: CertificateSecrets.caSecretName)
                #expect(caSecret["data"]?["ca-old.crt"] != nil)

                // A later pass: the new serving certificate is in use, so the old CA is dropped.
                try await r.runLeaderPass()
                #expect(r.certificates.caCertificatePEM == secondCA)
                #expect(try pemCertificates(r.caBundlePEM).count == 1)
                #expect(try await registeredBundle() == secondCA)
                #expect(
                    try await client.get(.secrets, namespace: Self.namespace, name: CertificateSecrets.caSecretName)["data"]?["ca-old.crt"] == nil)
                #expect(
                    try await TestHTTPSClient.request(port: r.servingServer.port, caPEM: secondCA, path: "/webhooks/validate", body: review).status
                        == 200)

                // Marking the CA Secret for rotation rotates at once (and the mark is consumed).
                var marked = try await client.get(.secrets, namespace: Self.namespace, name: CertificateSecrets.caSecretName)
                marked[path: "metadata", "annotations", CertificateSecrets.rotateAnnotation] = "true"
                _ = try await client.update(.secrets, namespace: Self.namespace, marked)
                try await r.runLeaderPass()
                #expect(r.certificates.caCertificatePEM != secondCA)
                #expect(try pemCertificates(r.caBundlePEM).count == 2)
                let after = try await client.get(.secrets, namespace: Self.namespace, name: CertificateSecrets.caSecretName)
                #expect(after[path: "metadata", "annotations", CertificateSecrets.rotateAnnotation] == nil)
            } catch {
                await r.stop()
                throw error
            }
            await r.stop()
        }
    }

    @Test func replicasPickUpRenewedServingCertificateFromSecrets() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            try await Self.createNamespace(client, Self.namespace)
            var tuning = Self.tuning()
            tuning.rotation.oldCAGracePeriod = 0
            tuning.rotation.serverValidity = 10 * 86400
            let a = try await AdmissionRuntime.start(
                Self.options(certDir: try TestDirectories.make("adm-ren-a").path), client: client, manager: Self.manager(identity: "ren-a"),
                tuning: tuning)
            let b: AdmissionRuntime
            do {
                b = try await AdmissionRuntime.start(
                    Self.options(certDir: try TestDirectories.make("adm-ren-b").path), client: client,
                    manager: Self.manager(identity: "ren-b"), tuning: tuning)
            } catch {
                await a.stop()
                throw error
            }
            // Serving certificate due (CA not yet): reissued by the leader; the other replica reloads it from disk.
            let before = try b.servingServer.servingCertificatePEM
            do {
                try await a.runLeaderPass(now: Date().addingTimeInterval(9 * 86400))
                #expect(try pemCertificates(a.caBundlePEM).count == 1)
                let renewed = a.certificates.serverCertificatePEM
                #expect(renewed != before)
                #expect(try await eventually { try b.servingServer.servingCertificatePEM == renewed })
            } catch {
                await a.stop()
                await b.stop()
                throw error
            }
            await a.stop()
            await b.stop()
        }
    }

    /// Losing the lease stops the admission binary's manager exactly as it stops the controller's:
    /// every service ends and `run` throws `LeaderElectionLostError` (the process exits non-zero).
    @Test func leaseLossStopsTheManager() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            try await Self.createNamespace(client, Self.namespace)
            let r = try await AdmissionRuntime.start(
                Self.options(certDir: try TestDirectories.make("adm-lost").path), client: client,
                manager: Self.manager(identity: "lost"), tuning: Self.tuning())
            #expect(r.isLeader)
            let port = try r.servingServer.port
            // Another holder takes the Lease over: renewals fail until the renew deadline passes.
            var lease = try await client.get(.leases, namespace: Self.namespace, name: AdmissionLease.leaseName)
            lease[path: "spec", "holderIdentity"] = "intruder"
            lease[path: "spec", "leaseDurationSeconds"] = 3600
            _ = try await client.update(.leases, namespace: Self.namespace, lease)
            await #expect(throws: LeaderElectionLostError.self) { try await r.wait() }
            #expect(r.manager?.isStopping == true)
            // The webhook server (a service that needs no leadership) stopped with the manager.
            let review = Fixtures.review(Fixtures.shoot()).serialized()
            await #expect(throws: (any Error).self) {
                _ = try await TestHTTPSClient.request(port: port, caPEM: r.caBundlePEM, path: "/webhooks/validate", body: review)
            }
            #expect(try await Self.leaseHolder(client, namespace: Self.namespace) == "intruder")
        }
    }
}
