import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import TestSupport
import Testing

@Suite struct ManagedResourceIntegrationTests {
    func withEnv(_ body: (KubernetesClient) async throws -> Void) async throws {
        try await withShootNamespace { _, client in try await body(client) }
    }

    @Test func createOrUpdateWritesOnlyWhenInputChanges() async throws {
        try await withEnv { client in
            let mrs = ManagedResources(client: client)
            let data1: [String: [UInt8]] = ["config.yaml": Array("kind: ConfigMap\n".utf8)]
            let first = try await mrs.createOrUpdateForShoot(
                namespace: shootNamespace, name: "extension-networking-calico-config", origin: "extension-networking-calico",
                keepObjects: false, data: data1)
            #expect(first.secretWritten && first.managedResourceWritten)
            let secretName = ManagedResources.secretName(managedResourceName: "extension-networking-calico-config", data: data1)
            #expect(first.secretName == secretName)

            let secret = try await client.get(.secrets, namespace: shootNamespace, name: secretName)
            #expect(secret["type"] == "Opaque")
            #expect(secret["immutable"] == true)
            #expect(secret[path: "metadata", "labels"] == ["resources.gardener.cloud/garbage-collectable-reference": "true"])
            #expect(secret[path: "data", "config.yaml"] == .string(Data("kind: ConfigMap\n".utf8).base64EncodedString()))

            let mr = try await client.get(.managedResources, namespace: shootNamespace, name: "extension-networking-calico-config")
            #expect(mr[path: "metadata", "labels", "origin"] == "extension-networking-calico")
            #expect(
                mr["spec"] == [
                    "secretRefs": [["name": .string(secretName)]],
                    "injectLabels": ["shoot.gardener.cloud/no-cleanup": "true"], "keepObjects": false,
                ])
            #expect(mr[path: "spec", "class"] == nil)
            #expect(mr[path: "metadata", "annotations", ManagedResources.secretReferenceAnnotation(secretName)] == .string(secretName))

            // Same input: nothing is written.
            let rvBefore = mr[path: "metadata", "resourceVersion"]
            let second = try await mrs.createOrUpdateForShoot(
                namespace: shootNamespace, name: "extension-networking-calico-config", origin: "extension-networking-calico",
                keepObjects: false, data: data1)
            #expect(!second.secretWritten && !second.managedResourceWritten)
            #expect(
                try await client.get(.managedResources, namespace: shootNamespace, name: "extension-networking-calico-config")[
                    path: "metadata", "resourceVersion"] == rvBefore)

            // New content: new secret, MR now references only it; the old one stays (GC'd by Gardener).
            let data2: [String: [UInt8]] = ["config.yaml": Array("kind: Secret\n".utf8)]
            let third = try await mrs.createOrUpdateForShoot(
                namespace: shootNamespace, name: "extension-networking-calico-config", origin: "extension-networking-calico",
                keepObjects: false, data: data2)
            #expect(third.secretWritten && third.managedResourceWritten && third.secretName != secretName)
            let mr3 = ManagedResource(
                raw: try await client.get(.managedResources, namespace: shootNamespace, name: "extension-networking-calico-config"))
            #expect(mr3.secretRefs == [third.secretName])
            #expect(mr3.metadata.annotations.keys.filter { $0.hasPrefix("reference.resources.gardener.cloud/") }.count == 1)
            let old = try await client.get(.secrets, namespace: shootNamespace, name: secretName)
            #expect(old[path: "metadata", "labels", "resources.gardener.cloud/garbage-collectable-reference"] == "true")

            // keepObjects.
            try await mrs.setKeepObjects(namespace: shootNamespace, name: "extension-networking-calico-config", keepObjects: true)
            #expect(
                try await client.get(.managedResources, namespace: shootNamespace, name: "extension-networking-calico-config")[
                    path: "spec", "keepObjects"] == true)
            try await mrs.setKeepObjects(namespace: shootNamespace, name: "missing", keepObjects: true)  // NotFound ignored

            // Delete with its secrets; waiting returns at once.
            try await mrs.delete(namespace: shootNamespace, name: "extension-networking-calico-config")
            try await mrs.waitUntilDeleted(namespace: shootNamespace, name: "extension-networking-calico-config", timeout: .seconds(5))
            await #expect(throws: KubeError.self) { _ = try await client.get(.secrets, namespace: shootNamespace, name: third.secretName) }
            try await mrs.delete(namespace: shootNamespace, name: "extension-networking-calico-config")  // idempotent
        }
    }

    @Test func waitUntilDeletedTimesOutWithTheDeletionProblem() async throws {
        try await withEnv { client in
            let mrs = ManagedResources(client: client)
            _ = try await client.create(
                .managedResources, namespace: shootNamespace,
                [
                    "apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource",
                    "metadata": [
                        "name": "stuck", "namespace": .string(shootNamespace), "finalizers": ["resources.gardener.cloud/gardener-resource-manager"],
                    ],
                    "spec": ["secretRefs": []],
                ])
            _ = try await client.patch(
                .managedResources, namespace: shootNamespace, name: "stuck",
                [
                    "status": [
                        "conditions": [
                            [
                                "type": "ResourcesApplied", "status": "False", "reason": "DeletionFailed",
                                "message": "Error during apply of object \"apps/v1/DaemonSet\" is invalid: spec.x: Invalid value",
                                "lastTransitionTime": "2025-01-01T00:00:00Z", "lastUpdateTime": "2025-01-01T00:00:00Z",
                            ]
                        ]
                    ]
                ], type: .merge, subresource: "status")
            try await mrs.delete(namespace: shootNamespace, name: "stuck")
            do {
                try await mrs.waitUntilDeleted(namespace: shootNamespace, name: "stuck", timeout: .milliseconds(600), interval: .milliseconds(100))
                Issue.record("expected a timeout")
            } catch {
                let text = errorText(error)
                #expect(
                    text.hasPrefix(
                        "error while waiting for all resources to be deleted: retry failed with context deadline exceeded, last error: resource \(shootNamespace)/stuck still exists:\nError during apply"
                    ))
                #expect(errorCodes(of: error) == [.configurationProblem])
            }
        }
    }
}

@Suite struct HeartbeatAndEventsTests {
    @Test func heartbeatLeaseIsCreatedAndRenewed() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            _ = try await client.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ext"]])
            #expect(throws: MessageError.self) { try HeartbeatReconciler.validate(renewIntervalSeconds: 0) }
            let manager = Manager(client: client)
            HeartbeatReconciler.add(to: manager, namespace: "ext", extensionName: "networking-calico", renewInterval: .seconds(1))
            let run = Task { try await manager.run() }
            #expect(await eventually { (try? await client.get(.leases, namespace: "ext", name: "gardener-extension-heartbeat")) != nil })
            let first = try await client.get(.leases, namespace: "ext", name: "gardener-extension-heartbeat")
            #expect(first[path: "spec", "holderIdentity"] == "networking-calico")
            #expect(first[path: "spec", "leaseDurationSeconds"] == 1)
            let renew1 = try #require(first[path: "spec", "renewTime"]?.stringValue)
            #expect(renew1.count == 27)  // MicroTime
            #expect(
                await eventually {
                    (try? await client.get(.leases, namespace: "ext", name: "gardener-extension-heartbeat"))?[path: "spec", "renewTime"]?.stringValue
                        != renew1
                })
            manager.stop()
            try await run.value
            try? await client.shutdown()
        }
    }

    @Test func repeatedEventsAreCountedNotDuplicated() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            _ = try await client.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ev"]])
            let recorder = EventRecorder(client: client, component: "network-controller", instance: "test", aggregationThreshold: 3)
            let ref: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "namespace": "ev", "name": "cm", "uid": "u1"]
            await recorder.record(involved: ref, type: .normal, reason: "Reconciled", message: "done")
            await recorder.record(involved: ref, type: .normal, reason: "Reconciled", message: "done")
            await recorder.record(involved: ref, type: .normal, reason: "Reconciled", message: "done")
            var events = try await client.list(.events, namespace: "ev").items
            #expect(events.count == 1)
            #expect(events.first?["count"] == 3)
            #expect(events.first?["reason"] == "Reconciled")
            #expect(events.first?[path: "involvedObject", "name"] == "cm")
            #expect(events.first?[path: "source", "component"] == "network-controller")
            // Many different messages for one reason fold into one aggregate event.
            for i in 0..<6 { await recorder.record(involved: ref, type: .warning, reason: "Failed", message: "error \(i)") }
            events = try await client.list(.events, namespace: "ev").items
            let failed = events.filter { $0["reason"] == "Failed" }
            #expect(failed.count == 4)  // 3 distinct, then one aggregate
            let aggregate = failed.first { $0["message"]?.stringValue?.hasPrefix("(combined from similar events): ") == true }
            #expect(aggregate?["count"] == 3)
            try? await client.shutdown()
        }
    }
}
