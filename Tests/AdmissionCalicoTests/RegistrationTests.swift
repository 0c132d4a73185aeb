import Foundation
import KubeClient
import KubeCore
import TestSupport
import Testing

@testable import AdmissionCalico

@Suite(.serialized) struct RegistrationTests {
    static func client(kubeconfig path: String) throws -> KubernetesClient {
        return try KubernetesClient(configuration: try ClientConfiguration.fromKubeconfigFile(path))
    }

    static func options(certDir: String, namespace: String = "", mode: String = "url") -> AdmissionOptions {
        var o = AdmissionOptions()
        o.serverHost = "127.0.0.1"
        o.serverPort = 0
        o.certDirectory = certDir
        o.mode = mode
        o.url = mode == "url" ? "127.0.0.1:9443" : ""
        o.namespace = namespace
        return o
    }

    @Test func selfSignedRegistrationWithoutNamespace() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            let dir = try TestDirectories.make("admission-reg").path
            let first = try await AdmissionRuntime.start(Self.options(certDir: dir), client: client)
            let vwc = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
            let bundle = vwc["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? ""
            #expect(Base64.decode(bundle) == Array(first.certificates.caCertificatePEM.utf8))
            #expect(vwc["webhooks"]?[0]?[path: "clientConfig", "url"] == "https://127.0.0.1:9443/webhooks/validate")
            // The cert dir holds the pair and the served certificate verifies with the injected CA (IP SAN).
            let sans = try CertificateAuthority.subjectAlternativeNames(ofPEM: String(contentsOfFile: dir + "/tls.crt", encoding: .utf8))
            #expect(sans.contains("127.0.0.1"))
            let r = try await TestHTTPSClient.request(
                port: try first.servingServer.port, caPEM: first.certificates.caCertificatePEM,
                path: "/webhooks/validate", body: Fixtures.review(Fixtures.shoot()).serialized(), serverName: "localhost")
            #expect(r.status == 200)
            await first.stop()
            // A restart regenerates and updates the existing configuration in place.
            let second = try await AdmissionRuntime.start(Self.options(certDir: dir), client: client)
            let updated = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
            let bundle2 = updated["webhooks"]?[0]?[path: "clientConfig", "caBundle"]?.stringValue ?? ""
            #expect(Base64.decode(bundle2) == Array(second.certificates.caCertificatePEM.utf8))
            #expect(bundle2 != bundle)
            await second.stop()
        }
    }

    @Test func secretsReusedWithNamespace() async throws {
        try await withTestAPIServer { api in
            let client = try Self.client(kubeconfig: try api.writeTemporaryKubeconfig())
            _ = try await client.create(
                .namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "extension-admission-calico"]])
            let ns = try await client.get(.namespaces, namespace: nil, name: "extension-admission-calico")
            let dir = try TestDirectories.make("admission-reg").path
            let first = try await AdmissionRuntime.start(
                Self.options(certDir: dir, namespace: "extension-admission-calico", mode: "service"), client: client)
            await first.stop()
            let second = try await AdmissionRuntime.start(
                Self.options(certDir: dir, namespace: "extension-admission-calico", mode: "service"), client: client)
            await second.stop()
            #expect(first.certificates == second.certificates)
            let secret = try await client.get(.secrets, namespace: "extension-admission-calico", name: CertificateSecrets.caSecretName)
            #expect(secret["data"]?["ca.crt"] != nil)
            let vwc = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: "gardener-extension-admission-calico")
            let cc = vwc["webhooks"]?[0]?["clientConfig"]
            #expect(
                cc?["service"] == [
                    "namespace": "extension-admission-calico", "name": "gardener-extension-admission-calico", "path": "/webhooks/validate", "port": 0,
                ])
            #expect(Base64.decode(cc?["caBundle"]?.stringValue ?? "") == Array(first.certificates.caCertificatePEM.utf8))
            #expect(vwc[path: "metadata", "ownerReferences"]?[0]?["uid"] == ns[path: "metadata", "uid"])
        }
    }
}
