import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

/// `additionalBuiltinResources`: extra built-in kinds described like CRDs (local mode's shoot).
@Suite struct AdditionalBuiltinResourcesTests {
    @Test func extraKindsAreServedWithoutACRDAndBuiltinsStay() async throws {
        var configuration = EmbeddedAPIServerConfiguration()
        configuration.additionalBuiltinResources = [
            [
                "spec": [
                    "group": "policy", "scope": "Namespaced",
                    "names": ["kind": "PodDisruptionBudget", "plural": "poddisruptionbudgets"],
                    "versions": [["name": "v1", "served": true, "storage": true]],
                ]
            ],
            // Already served: left as it is.
            [
                "spec": [
                    "group": "", "scope": "Cluster", "names": ["kind": "Namespace", "plural": "namespaces"],
                    "versions": [["name": "v1", "served": true, "storage": true]],
                ]
            ],
        ]
        try await withTestAPIServer(configuration) { server in
            let client = try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: server.token)
            let pdb: JSON = [
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": ["name": "calico", "namespace": "kube-system"], "spec": ["maxUnavailable": 1],
            ]
            // A group without a dot cannot be a CRD; here it is served directly.
            let created = try await client.post("/apis/policy/v1/namespaces/kube-system/poddisruptionbudgets", pdb)
            #expect(created.status == 201)
            let got = try await client.get("/apis/policy/v1/namespaces/kube-system/poddisruptionbudgets/calico")
            #expect(got.status == 200 && got.json[path: "spec", "maxUnavailable"]?.intValue == 1)
            let crds = try await client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json
            #expect(crds["items"]?.arrayValue?.isEmpty ?? false)
            // Namespaces keep their own rules (phase Active, the kubernetes finalizer).
            let ns = try await client.post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "x"]])
            #expect(ns.json[path: "status", "phase"]?.stringValue == "Active")
        }
    }
}
