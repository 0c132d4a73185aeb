import CalicoManifests
import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import LocalMode
import TestSupport
import Testing

@testable import NetworkingCalico

/// Replacing a running Go extension (docs/deployment.md, "Switching from the Go extension"):
/// the Network, its ManagedResource, secret, finalizer and seed monitoring objects, written as
/// the Go extension writes them, are taken over in place.
@Suite(.serialized)
struct SwitchOverTests {
    /// The golden case `ipv4-default`: the Go extension's own rendering of its Network and Cluster,
    /// moved into the harness' namespace (the shoot manifests do not depend on it).
    static func goldenCase() throws -> (cluster: JSON, network: JSON, goManifests: [UInt8]) {
        let dir = try SharedFixtures.sharedDirectory().appendingPathComponent("golden/ipv4-default")
        var cluster = try JSON.parseYAML(String(contentsOf: dir.appendingPathComponent("cluster.yaml"), encoding: .utf8))
        var network = try JSON.parseYAML(String(contentsOf: dir.appendingPathComponent("network.yaml"), encoding: .utf8))
        cluster[path: "metadata", "name"] = .string(Env.namespace)
        network[path: "metadata", "name"] = .string(Env.name)
        network[path: "metadata", "namespace"] = .string(Env.namespace)
        let goManifests = Array(try Data(contentsOf: dir.appendingPathComponent("expected.yaml")))
        return (cluster, network, goManifests)
    }

    @Test func takesOverTheGoExtensionsObjectsWithoutRecreatingOrOrphaning() async throws {
        try await Env.with { env in
            let (cluster, golden, goManifests) = try Self.goldenCase()
            let ns = Env.namespace
            try await LocalBootstrap.apply(object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]], client: env.client)
            try await LocalBootstrap.apply(object: cluster, client: env.client)

            // The Network as the Go extension leaves it: its finalizer, a succeeded reconcile, no operation annotation.
            var network = golden
            network[path: "metadata", "annotations"] = nil
            network[path: "metadata", "finalizers"] = ["extensions.gardener.cloud/network"]
            var created = try await env.client.create(.networks, namespace: ns, network)
            created["status"] = [
                "observedGeneration": created[path: "metadata", "generation"] ?? 1,
                "lastOperation": [
                    "type": "Reconcile", "state": "Succeeded", "progress": 100, "description": "Successfully reconciled Network",
                    "lastUpdateTime": "2026-01-01T00:00:00Z",
                ],
            ]
            _ = try await env.client.update(.networks, namespace: ns, created, subresource: "status")

            // Its ManagedResource and secret, as Gardener's helper writes them for the Go extension.
            let data = ["config.yaml": goManifests]
            let goSecretName = ManagedResources.secretName(managedResourceName: CalicoNames.managedResourceName, data: data)
            _ = try await env.client.create(
                .secrets, namespace: ns,
                [
                    "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "immutable": true,
                    "metadata": [
                        "name": .string(goSecretName), "namespace": .string(ns),
                        "labels": ["resources.gardener.cloud/garbage-collectable-reference": "true"],
                    ],
                    "data": ["config.yaml": .string(Base64.encode(goManifests))],
                ])
            _ = try await env.client.create(
                .managedResources, namespace: ns,
                [
                    "apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource",
                    "metadata": [
                        "name": .string(CalicoNames.managedResourceName), "namespace": .string(ns),
                        "labels": ["origin": "extension-networking-calico"],
                        "annotations": [ManagedResources.secretReferenceAnnotation(goSecretName): .string(goSecretName)],
                    ],
                    "spec": [
                        "secretRefs": [["name": .string(goSecretName)]], "injectLabels": ["shoot.gardener.cloud/no-cleanup": "true"],
                        "keepObjects": false,
                    ],
                ])
            // The seed monitoring objects (dashboards ConfigMap, ScrapeConfigs) of the Go chart.
            for object in SeedMonitoring.objects(namespace: ns) {
                let resource: Resource = object["kind"]?.stringValue == "ScrapeConfig" ? .scrapeConfigs : .configMaps
                _ = try await env.client.create(resource, namespace: ns, object)
            }
            // The Go extension's heartbeat Lease (the heartbeat controller runs in both).
            _ = try await env.client.create(
                .leases, namespace: "kube-system",
                [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": "gardener-extension-heartbeat", "namespace": "kube-system"],
                    "spec": ["holderIdentity": "networking-calico", "leaseDurationSeconds": 30, "renewTime": "2026-01-01T00:00:00.000000Z"],
                ])
            func uid(_ resource: Resource, _ name: String) async throws -> String? {
                try await env.client.get(resource, namespace: ns, name: name)[path: "metadata", "uid"]?.stringValue
            }
            let monitoring = SeedMonitoring.objects(namespace: ns).map {
                ($0["kind"]?.stringValue == "ScrapeConfig" ? Resource.scrapeConfigs : .configMaps, $0[path: "metadata", "name"]?.stringValue ?? "")
            }
            let mrUID = try await uid(.managedResources, CalicoNames.managedResourceName)
            let heartbeatUID = try await env.client.get(.leases, namespace: "kube-system", name: "gardener-extension-heartbeat")[
                path: "metadata", "uid"]?.stringValue
            var monitoringUIDs: [String: String?] = [:]
            for (resource, name) in monitoring { monitoringUIDs[name] = try await uid(resource, name) }
            let logStart = env.server.requestLog.count

            // Our controller starts; gardenlet's next shoot reconcile annotates the Network.
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            try await env.annotate("reconcile")
            let reconciled = try await env.waitForNetwork("reconciled by the new controller") {
                ($0.map(LocalBootstrap.isReconciled) ?? false) && $0?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
            }
            try await env.settled(manager)

            // Nothing was deleted or created anew except (possibly) the next content-addressed secret.
            let requests = env.server.requestLog.dropFirst(logStart)
            let writesByOthers = requests.filter { ["delete", "deletecollection"].contains($0.verb) }
            #expect(writesByOthers.isEmpty, "deletes during the takeover: \(writesByOthers.map(\.path))")
            // The heartbeat tries a create first and updates on 409: the Lease's uid shows it was kept.
            let creates = requests.filter {
                $0.verb == "create" && !$0.path.hasSuffix("/secrets") && !$0.path.contains("/events") && !$0.path.hasSuffix("/leases")
            }
            #expect(creates.isEmpty, "objects created anew: \(creates.map(\.path))")
            #expect(try await uid(.managedResources, CalicoNames.managedResourceName) == mrUID)
            let lease = try await env.client.get(.leases, namespace: "kube-system", name: "gardener-extension-heartbeat")
            #expect(lease[path: "metadata", "uid"]?.stringValue == heartbeatUID)
            for (resource, name) in monitoring { #expect(try await uid(resource, name) == monitoringUIDs[name], "\(name) recreated") }
            #expect(reconciled?[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])

            // The ManagedResource now points at our rendering; a different rendering gets its own
            // secret and the Go secret stays labelled garbage-collectable for the resource manager.
            let (mr, secret, ours) = try await env.managedResourceConfig()
            #expect(mr[path: "metadata", "labels", "origin"] == "extension-networking-calico")
            #expect(mr[path: "spec", "keepObjects"] == false)
            let goSecret = try await env.client.get(.secrets, namespace: ns, name: goSecretName)
            #expect(goSecret[path: "metadata", "labels", "resources.gardener.cloud/garbage-collectable-reference"] == "true")
            if ours == goManifests {
                #expect(secret[path: "metadata", "name"]?.stringValue == goSecretName, "same content, same secret")
            }

            // The shoot objects the takeover changes (docs/deployment.md lists them): the CRDs, whose
            // descriptions we do not carry, and calico-node's pod template, whose config checksum
            // annotation is computed over our template text, not the Go chart's (one rolling restart).
            let changed = try Self.changedObjects(from: goManifests, to: ours)
            #expect(changed.allSatisfy { $0.hasPrefix("CustomResourceDefinition/") || $0 == "DaemonSet/kube-system/calico-node" })
            let withoutChecksum = try Self.changedObjects(from: goManifests, to: ours, ignoringConfigChecksum: true)
            #expect(withoutChecksum.allSatisfy { $0.hasPrefix("CustomResourceDefinition/") }, "changed shoot objects: \(withoutChecksum)")
            print("switch-over: shoot objects changed by the takeover: \(changed.isEmpty ? "none" : changed.joined(separator: ", "))")
        }
    }

    /// `Kind/name` of the objects that differ between two manifest streams (compared as JSON).
    static func changedObjects(from old: [UInt8], to new: [UInt8], ignoringConfigChecksum: Bool = false) throws -> [String] {
        func index(_ bytes: [UInt8]) throws -> [String: JSON] {
            var out: [String: JSON] = [:]
            for var doc in try JSON.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self)) where !doc.isNull {
                if ignoringConfigChecksum { doc[path: "spec", "template", "metadata", "annotations", "checksum/configmap-calico"] = nil }
                let key =
                    "\(doc["kind"]?.stringValue ?? "")/\(doc[path: "metadata", "namespace"]?.stringValue.map { $0 + "/" } ?? "")"
                    + (doc[path: "metadata", "name"]?.stringValue ?? "")
                out[key] = doc
            }
            return out
        }
        let before = try index(old)
        let after = try index(new)
        return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
    }
}
