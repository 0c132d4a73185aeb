import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

@Suite struct TransportAndDiscoveryTests {
    @Test func unauthenticatedRequestsGet401Status() async throws {
        try await withTestAPIServer { server in
            let anonymous = try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: nil)
            let wrong = try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: "wrong")
            for c in [anonymous, wrong] {
                let r = try await c.request("GET", "/api/v1/namespaces")
                #expect(r.status == 401)
                #expect(r.json["reason"] == "Unauthorized")
                #expect(r.json["code"] == 401)
                #expect(r.header("Content-Type") == "application/json")
                await c.close()
            }
        }
    }

    @Test func clientCertificateAuthenticates() async throws {
        try await withTestAPIServer { server in
            let (cert, key) = try server.issueClientCertificate(commonName: "alice", groups: ["system:masters"])
            let c = try LoopbackHTTPClient(
                port: server.port, caPEM: server.caCertificatePEM, token: nil, clientCertificatePEM: cert, clientKeyPEM: key)
            let r = try await c.request("GET", "/api/v1/namespaces/default")
            #expect(r.status == 200)
            #expect(r.json[path: "metadata", "name"] == "default")
            await c.close()
        }
    }

    @Test func kubeconfigCarriesServerCAAndToken() async throws {
        try await withTestAPIServer { server in
            let doc = try JSON.parseYAML(server.kubeconfig(namespace: "kube-system"))
            #expect(doc[path: "clusters"]?[0]?[path: "cluster", "server"]?.stringValue == server.baseURL)
            #expect(doc[path: "users"]?[0]?[path: "user", "token"]?.stringValue == server.token)
            #expect(doc[path: "contexts"]?[0]?[path: "context", "namespace"] == "kube-system")
            let path = try server.writeTemporaryKubeconfig()
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func versionAndDiscovery() async throws {
        try await withServer { _, c in
            let v = try await c.get("/version").json
            #expect(v["major"] == "1" && v["minor"] == "33")
            let api = try await c.get("/api").json
            #expect(api["kind"] == "APIVersions" && api["versions"] == ["v1"])
            let core = try await c.get("/api/v1").json
            let names = core["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            for r in ["namespaces", "namespaces/status", "secrets", "configmaps", "serviceaccounts", "services", "nodes", "events"] {
                #expect(names.contains(r), "missing \(r)")
            }
            let groups = try await c.get("/apis").json["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            for g in ["apps", "coordination.k8s.io", "events.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "demo.example.com"] {
                #expect(groups.contains(g), "missing group \(g)")
            }
            let demo = try await c.get("/apis/demo.example.com/v1").json
            let w = demo["resources"]?.arrayValue?.first { $0["name"] == "widgets" }
            #expect(w?["namespaced"] == true && w?["kind"] == "Widget" && w?["shortNames"] == ["wd"])
            #expect(demo["resources"]?.arrayValue?.contains { $0["name"] == "widgets/status" } == true)
            let group = try await c.get("/apis/demo.example.com").json
            #expect(group["kind"] == "APIGroup" && group[path: "preferredVersion", "version"] == "v1")
            let openapi = try await c.get("/openapi/v3").json
            #expect(
                openapi[path: "paths", "apis/demo.example.com/v1", "serverRelativeURL"]?.stringValue?.hasPrefix(
                    "/openapi/v3/apis/demo.example.com/v1?hash=") == true)
            let doc = try await c.get("/openapi/v3/apis/demo.example.com/v1").json
            let op = doc[path: "paths", "/apis/demo.example.com/v1/namespaces/{namespace}/widgets/{name}", "patch"]
            #expect(op?[path: "x-kubernetes-group-version-kind", "kind"] == "Widget")
            #expect(op?["parameters"]?.arrayValue?.contains { $0["name"] == "fieldValidation" } == true)
            #expect(try await c.get("/openapi/v2").json["swagger"] == "2.0")
        }
    }

    @Test func unknownPathsAndVerbs() async throws {
        try await withServer { _, c in
            let r = try await c.get("/apis/nope.example.com/v1/things")
            #expect(r.status == 404 && r.json["message"] == "the server could not find the requested resource")
            let m = try await c.request("POST", "/api/v1/namespaces/default/configmaps/x", json: ["metadata": ["name": "x"]])
            #expect(m.status == 405 && m.json["reason"] == "MethodNotAllowed")
            #expect(try await c.get("/api/v1/namespaces/default/configmaps/x/status").status == 404)
        }
    }

    @Test func badInputGetsStatus4xx() async throws {
        try await withServer { _, c in
            let cms = "/api/v1/namespaces/default/configmaps"
            let malformed = try await c.request("POST", cms, body: Array("{not json".utf8), headers: [("Content-Type", "application/json")])
            #expect(malformed.status == 400 && malformed.json["reason"] == "BadRequest")
            let yaml = try await c.request("POST", cms, body: Array("metadata: [".utf8), headers: [("Content-Type", "application/yaml")])
            #expect(yaml.status == 400)
            let wrongType = try await c.request("POST", cms, body: Array("{}".utf8), headers: [("Content-Type", "text/plain")])
            #expect(wrongType.status == 415 && wrongType.json["reason"] == "UnsupportedMediaType")
            let big = JSON.object(["metadata": ["name": "big"], "data": ["k": .string(String(repeating: "x", count: 3 * 1024 * 1024 + 10))]])
            let tooBig = try await c.post(cms, big)
            #expect(tooBig.status == 413 && tooBig.json["reason"] == "RequestEntityTooLarge")
            // The connection still works afterwards.
            #expect(try await c.get("/api/v1/namespaces/default").status == 200)
            let invalid = try await c.post(cms, ["metadata": ["name": "Not_Valid"]])
            #expect(invalid.status == 422 && invalid.json["reason"] == "Invalid")
            #expect(invalid.json["message"]?.stringValue?.contains("a lowercase RFC 1123 subdomain must consist of") == true)
            let noName = try await c.post(cms, ["metadata": .emptyObject])
            #expect(noName.json["message"]?.stringValue?.contains("metadata.name: Required value: name or generateName is required") == true)
            let wrongVersion = try await c.post(cms, ["apiVersion": "v2", "kind": "ConfigMap", "metadata": ["name": "a"]])
            #expect(
                wrongVersion.status == 400
                    && wrongVersion.json["message"] == "the API version in the data (v2) does not match the expected API version (v1)")
            let array = try await c.post(cms, [1, 2])
            #expect(array.status == 400)
            let badSelector = try await c.get("\(cms)?labelSelector=a%20in%20(b")
            #expect(badSelector.status == 400)
            let badField = try await c.get("\(widgets)?fieldSelector=spec.size%3D1")
            #expect(
                badField.status == 400
                    && badField.json["message"] == "\"spec.size\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
            let badPatch = try await c.request(
                "PATCH", "/api/v1/namespaces/default", body: Array("[".utf8), headers: [("Content-Type", "application/merge-patch+json")])
            #expect(badPatch.status == 400)
            let rvSet = try await c.post(cms, ["metadata": ["name": "rv", "resourceVersion": "12"]])
            #expect(
                rvSet.status == 500 && rvSet.json["message"] == "resourceVersion should not be set on objects to be created"
                    && rvSet.json["reason"] == nil)
        }
    }

    @Test func faultInjectionAndRequestLog() async throws {
        try await withServer(crd: false) { server, c in
            server.resetRequestLog()
            server.failNextRequests(2, status: 429, retryAfterSeconds: 1)
            let a = try await c.get("/api/v1/namespaces")
            #expect(a.status == 429 && a.header("Retry-After") == "1" && a.json["reason"] == "TooManyRequests")
            #expect(try await c.get("/api/v1/namespaces").status == 429)
            #expect(try await c.get("/api/v1/namespaces").status == 200)
            server.failNextRequests(1, status: 503, pathPrefix: "/api/v1/namespaces/default")
            #expect(try await c.get("/api/v1/namespaces").status == 200)
            #expect(try await c.get("/api/v1/namespaces/default").status == 503)
            #expect(server.requestCount(verb: "list", path: "/api/v1/namespaces") == 4)
            #expect(server.requestCount(verb: "get") == 1)
            server.dropAllConnections()
            // The client reconnects transparently for the next request.
            #expect(try await c.get("/api/v1/namespaces/default").status == 200)
        }
    }
}
