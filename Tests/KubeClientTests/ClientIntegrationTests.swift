import EmbeddedAPIServer
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import KubeClient

/// The client against the embedded API server over real HTTPS.
@Suite struct AuthenticationTests {
    @Test func tokenAuthenticationFromKubeconfig() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let list = try await client.list(.namespaces, namespace: nil)
                let names = list.items.compactMap { $0[path: "metadata", "name"]?.stringValue }
                #expect(names.contains("kube-system"))
                #expect(!list.resourceVersion.isEmpty)
                let version = try await client.getRaw(path: "/version")
                #expect(version["major"]?.stringValue == "1")
            }
        }
    }

    @Test func wrongOrMissingTokenIsUnauthorized() async throws {
        try await withTestAPIServer { server in
            try await withClient(server, { $0.authentication = .bearerToken("not-the-token") }) { client in
                let error = await kubeError { try await client.list(.namespaces, namespace: nil) }
                #expect(error?.isUnauthorized == true)
                #expect(error?.code == 401)
                #expect(error?.message == "Unauthorized")
            }
            try await withClient(server, { $0.authentication = .none }) { client in
                let error = await kubeError { try await client.get(.namespaces, namespace: nil, name: "default") }
                #expect(error?.isUnauthorized == true)
            }
        }
    }

    @Test func clientCertificateAuthentication() async throws {
        try await withTestAPIServer { server in
            let issued = try server.issueClientCertificate(commonName: "calico-admin", groups: ["system:masters"])
            let yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: embedded
                  cluster:
                    server: \(server.baseURL)
                    certificate-authority-data: \(Data(server.caCertificatePEM.utf8).base64EncodedString())
                users:
                - name: cert-user
                  user:
                    client-certificate-data: \(Data(issued.certificatePEM.utf8).base64EncodedString())
                    client-key-data: \(Data(issued.privateKeyPEM.utf8).base64EncodedString())
                contexts:
                - name: cert
                  context: {cluster: embedded, user: cert-user, namespace: kube-system}
                current-context: cert
                """
            let config = try ClientConfiguration.fromKubeconfig(yaml: yaml)
            #expect(config.authentication == .none)
            #expect(config.namespace == "kube-system")
            let client = try KubernetesClient(configuration: config)
            defer { Task { try? await client.shutdown() } }
            let ns = try await client.get(Namespace.self, namespace: nil, name: "kube-system")
            #expect(ns.name == "kube-system")
            // Namespace defaulting from the context: no namespace given → kube-system.
            let created = try await client.create(.configMaps, namespace: nil, configMap("via-cert", namespace: "").removingNamespace())
            #expect(created[path: "metadata", "namespace"]?.stringValue == "kube-system")
            try await client.shutdown()

            // A certificate from a CA the server does not trust is refused.
            var foreign = config
            foreign.tls.clientCertificatePEM = Array(TestPEM.certificate.utf8)
            foreign.tls.clientKeyPEM = Array(TestPEM.key.utf8)
            foreign.maxRetries = 0
            let other = try KubernetesClient(configuration: foreign)
            let error = await kubeError { try await other.get(.namespaces, namespace: nil, name: "default") }
            try await other.shutdown()
            #expect(error != nil)
            #expect(error?.isUnauthorized == true || error?.isTransport == true, "\(String(describing: error))")
        }
    }

    @Test func tokenFileRotationIsPickedUpWithoutRestart() async throws {
        try await withTestAPIServer { server in
            let dir = try ScratchDirectory()
            let tokenPath = try dir.write("token", "stale-token\n")
            try await withClient(server, { $0.authentication = .tokenFile(path: tokenPath) }) { client in
                // Stale token: 401 (after one forced re-read that still finds the stale token).
                server.resetRequestLog()
                let error = await kubeError { try await client.get(.namespaces, namespace: nil, name: "default") }
                #expect(error?.isUnauthorized == true)
                #expect(server.requestCount(path: "/api/v1/namespaces/default") == 2, "one retry after re-reading the token")

                // The kubelet rotates the token: the same client picks it up.
                try dir.write("token", server.token + "\n")
                let ns = try await client.get(.namespaces, namespace: nil, name: "default")
                #expect(ns[path: "metadata", "name"]?.stringValue == "default")

                // A change is noticed on the next request even without a 401 first: revoke it again.
                try dir.write("token", "revoked\n")
                let again = await kubeError { try await client.get(.namespaces, namespace: nil, name: "default") }
                #expect(again?.isUnauthorized == true)

                // Atomic swap as the kubelet does (new file renamed over the old one).
                let fresh = try dir.write("token.new", server.token)
                #expect(rename(fresh, tokenPath) == 0)
                _ = try await client.get(.namespaces, namespace: nil, name: "default")
            }
        }
    }

    @Test func inClusterConfigurationAgainstTheServer() async throws {
        try await withTestAPIServer { server in
            let sa = try ScratchDirectory()
            try sa.write("token", server.token)
            try sa.write("ca.crt", server.caCertificatePEM)
            try sa.write("namespace", "kube-public")
            let env = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(server.port)]
            var config = try ClientConfiguration.load(environment: env, serviceAccountDirectory: sa.path)
            config.qps = -1
            #expect(config.namespace == "kube-public")
            let client = try KubernetesClient(configuration: config)
            let created = try await client.create(.configMaps, namespace: nil, ["metadata": ["name": "in-cluster"]])
            #expect(created[path: "metadata", "namespace"]?.stringValue == "kube-public")
            #expect(created["kind"]?.stringValue == "ConfigMap")
            try await client.shutdown()
        }
    }

    @Test func tlsVerificationServerNameAndInsecure() async throws {
        try await withTestAPIServer { server in
            // tls-server-name: verify against "localhost" (in the serving certificate) while connecting to 127.0.0.1.
            try await withClient(server, { $0.tls.serverName = "localhost" }) { client in
                _ = try await client.get(.namespaces, namespace: nil, name: "default")
            }
            // (A negative tls-server-name case cannot be shown here: NIOSSL also accepts a SAN
            // matching the connected IP, and the embedded server's certificate carries 127.0.0.1.)
            // Wrong CA: TLS failure, reported at once and not retried.
            try await withClient(
                server,
                {
                    $0.tls.certificateAuthorityPEM = Array(TestPEM.certificate.utf8)
                    $0.maxRetries = 3
                }
            ) { client in
                server.resetRequestLog()
                let start = ContinuousClock.now
                let error = await kubeError { try await client.get(.namespaces, namespace: nil, name: "default") }
                #expect(error?.isTransport == true)
                #expect(server.requestCount() == 0)
                #expect(start.duration(to: .now) < .seconds(5), "a TLS verification failure must not wait for connect timeouts")
            }
            // insecure-skip-tls-verify: no CA needed.
            try await withClient(
                server,
                {
                    $0.tls.certificateAuthorityPEM = nil
                    $0.tls.insecureSkipVerify = true
                }
            ) { client in
                _ = try await client.get(.namespaces, namespace: nil, name: "default")
            }
        }
    }
}

extension JSON {
    func removingNamespace() -> JSON {
        var copy = self
        copy[path: "metadata", "namespace"] = nil
        return copy
    }
}

@Suite struct VerbTests {
    @Test func crudErrorsAndPatchTypes() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let created = try await client.create(.configMaps, namespace: "default", configMap("cm1", data: ["a": "1"], labels: ["app": "x"]))
                #expect(created[path: "metadata", "uid"]?.stringValue?.isEmpty == false)
                let dup = await kubeError { try await client.create(.configMaps, namespace: "default", configMap("cm1")) }
                #expect(dup?.isAlreadyExists == true)
                #expect(dup?.message == "configmaps \"cm1\" already exists")
                // Without decoding the answer: created all the same, errors still typed.
                try await client.createIgnoringAnswer(.configMaps, namespace: "default", configMap("cm-quiet", data: ["k": "v"]))
                #expect(try await client.get(.configMaps, namespace: "default", name: "cm-quiet")["data"] == ["k": "v"])
                let quietDup = await kubeError { try await client.createIgnoringAnswer(.configMaps, namespace: "default", configMap("cm-quiet")) }
                #expect(quietDup?.isAlreadyExists == true)

                let missing = await kubeError { try await client.get(.configMaps, namespace: "default", name: "nope") }
                #expect(missing?.isNotFound == true)
                #expect(missing?.message == "configmaps \"nope\" not found")
                #expect(missing?.detailsName == "nope")

                let merged = try await client.patch(.configMaps, namespace: "default", name: "cm1", ["data": ["b": "2"]], type: .merge)
                #expect(merged["data"] == ["a": "1", "b": "2"])
                let smp = try await client.patch(
                    .configMaps, namespace: "default", name: "cm1", ["metadata": ["finalizers": ["example.com/x"]]], type: .strategicMerge)
                #expect(smp[path: "metadata", "finalizers"] == ["example.com/x"])
                let jp = try await client.patch(.configMaps, namespace: "default", name: "cm1", [["op": "remove", "path": "/data/a"]], type: .json)
                #expect(jp["data"] == ["b": "2"])

                let selected = try await client.list(.configMaps, namespace: "default", options: .init(labelSelector: "app in (x,y)"))
                #expect(selected.items.count == 1)
                let none = try await client.list(.configMaps, namespace: nil, options: .init(labelSelector: "app=z"))
                #expect(none.items.isEmpty)
                let bad = await kubeError { try await client.list(.configMaps, namespace: nil, options: .init(fieldSelector: "spec.nonsense=1")) }
                #expect(bad?.isBadRequest == true)

                // Delete with finalizers: object returned with deletionTimestamp; removing the finalizer removes it.
                let deleting = try await client.delete(.configMaps, namespace: "default", name: "cm1", options: .init(propagationPolicy: .background))
                #expect(ConfigMap(raw: deleting).metadata.isBeingDeleted)
                _ = try await client.patch(.configMaps, namespace: "default", name: "cm1", ["metadata": ["finalizers": nil]], type: .merge)
                let gone = await kubeError { try await client.get(.configMaps, namespace: "default", name: "cm1") }
                #expect(gone?.isNotFound == true)

                // dryRun create persists nothing.
                _ = try await client.create(.configMaps, namespace: "default", configMap("dry"), dryRun: true)
                #expect(await kubeError { try await client.get(.configMaps, namespace: "default", name: "dry") }?.isNotFound == true)

                // Namespaced write into a missing namespace.
                let noNS = await kubeError { try await client.create(.configMaps, namespace: "absent", configMap("x", namespace: "absent")) }
                #expect(noNS?.isNotFound == true)
                #expect(noNS?.message == "namespaces \"absent\" not found")

                // Client-side refusal of an empty name (would otherwise address the collection).
                #expect(await kubeError { try await client.delete(.configMaps, namespace: "default", name: "") }?.kind == .other)
            }
        }
    }

    @Test func staleUpdateSurfacesAsConflict() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                let first = try await client.create(.configMaps, namespace: "default", configMap("race", data: ["v": "0"]))
                var a = first
                var b = first
                a["data"] = ["v": "a"]
                b["data"] = ["v": "b"]
                _ = try await client.update(.configMaps, namespace: "default", a)
                let error = await kubeError { try await client.update(.configMaps, namespace: "default", b) }
                #expect(error?.isConflict == true)
                #expect(error?.code == 409)
                #expect(error?.message.contains("the object has been modified") == true)

                // A merge patch carrying a stale resourceVersion is a precondition too.
                let stale = first[path: "metadata", "resourceVersion"] ?? .null
                let patchError = await kubeError {
                    try await client.patch(
                        .configMaps, namespace: "default", name: "race", ["metadata": ["resourceVersion": stale], "data": ["v": "c"]], type: .merge)
                }
                #expect(patchError?.isConflict == true)

                // Delete preconditions.
                let uidError = await kubeError {
                    try await client.delete(
                        .configMaps, namespace: "default", name: "race", options: .init(preconditionUID: "00000000-0000-0000-0000-000000000000"))
                }
                #expect(uidError?.isConflict == true)
                let rvError = await kubeError {
                    try await client.delete(
                        .configMaps, namespace: "default", name: "race", options: .init(preconditionResourceVersion: stale.stringValue))
                }
                #expect(rvError?.isConflict == true)
                let current = try await client.get(ConfigMap.self, namespace: "default", name: "race")
                try await client.delete(
                    .configMaps, namespace: "default", name: "race",
                    options: .init(preconditionUID: current.metadata.uid, preconditionResourceVersion: current.metadata.resourceVersion))
                #expect(try await client.getIfExists(ConfigMap.self, namespace: "default", name: "race") == nil)
            }
        }
    }

    @Test func modifyRetriesOnConflict() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                _ = try await client.create(.configMaps, namespace: "default", configMap("counter", data: ["n": "0"]))
                var interfered = false
                var calls = 0
                let result = try await client.modify(ConfigMap.self, namespace: "default", name: "counter") { cm in
                    calls += 1
                    if !interfered {
                        interfered = true
                        // Someone else writes between our GET and PUT.
                        _ = try await client.patch(.configMaps, namespace: "default", name: "counter", ["data": ["other": "yes"]], type: .merge)
                    }
                    cm.data["n"] = "1"
                    return true
                }
                #expect(result.data == ["n": "1", "other": "yes"])
                #expect(calls == 2, "the conflict made modify start over once")
            }
        }
    }

    @Test func unknownFieldsSurviveTypedReadModifyWrite() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                _ = try await client.create(.customResourceDefinitions, namespace: nil, widgetCRD)
                let original: JSON = [
                    "apiVersion": "example.kubeclient.test/v1", "kind": "Widget",
                    "metadata": ["name": "w1", "namespace": "default", "annotations": ["keep": "me"]],
                    "spec": ["size": 1, "color": "blue", "future": ["nested": [1, 2, ["deep": true]]]],
                    "topLevelUnknown": "still here",
                ]
                _ = try await client.create(widgets, namespace: "default", original)
                var widget = try await client.get(Widget.self, namespace: "default", name: "w1")
                widget.size = 2
                widget.metadata.labels["touched"] = "true"
                _ = try await client.update(widget)
                let stored = try await client.get(widgets, namespace: "default", name: "w1")
                #expect(stored[path: "spec", "size"] == 2)
                #expect(stored[path: "spec", "color"] == "blue")
                #expect(stored[path: "spec", "future"] == original[path: "spec", "future"])
                #expect(stored["topLevelUnknown"] == "still here")
                #expect(stored[path: "metadata", "annotations"] == ["keep": "me"])
                #expect(stored[path: "metadata", "labels"] == ["touched": "true"])
                #expect(stored[path: "metadata", "generation"]?.intValue == 2)

                // Status subresource write.
                var withStatus = stored
                withStatus["status"] = ["phase": "Ready", "unknownStatus": ["x": 1]]
                let afterStatus = try await client.update(widgets, namespace: "default", withStatus, subresource: "status")
                #expect(afterStatus[path: "status", "phase"] == "Ready")
                #expect(afterStatus[path: "metadata", "generation"]?.intValue == 2, "status writes do not bump generation")
                let patched = try await client.patch(
                    widgets, namespace: "default", name: "w1", ["status": ["phase": "Done"]], type: .merge, subresource: "status")
                #expect(patched[path: "status", "unknownStatus"] == ["x": 1])
                // Strategic merge patch is refused for custom resources (415).
                let smp = await kubeError {
                    try await client.patch(widgets, namespace: "default", name: "w1", ["spec": ["size": 3]], type: .strategicMerge)
                }
                #expect(smp?.kind == .unsupportedMediaType)
            }
        }
    }

    @Test func listAllFollowsContinueTokens() async throws {
        try await withTestAPIServer { server in
            try await withClient(server) { client in
                for i in 0..<5 {
                    _ = try await client.create(.configMaps, namespace: "default", configMap("page-\(i)", labels: ["paged": "yes"]))
                }
                let first = try await client.list(.configMaps, namespace: "default", options: .init(labelSelector: "paged=yes", limit: 2))
                #expect(first.items.count == 2)
                #expect(first.continueToken != nil)
                server.resetRequestLog()
                let all = try await client.listAll(.configMaps, namespace: "default", options: .init(labelSelector: "paged=yes", limit: 2))
                #expect(all.items.compactMap { $0[path: "metadata", "name"]?.stringValue } == (0..<5).map { "page-\($0)" })
                #expect(all.continueToken == nil)
                #expect(server.requestCount(verb: "list") == 3)
                let typed = try await client.list(ConfigMap.self, namespace: "default", options: .init(labelSelector: "paged=yes"))
                #expect(typed.items.count == 5)
            }
        }
    }
}
