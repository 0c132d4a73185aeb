import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import LocalMode
import TestSupport
import Testing

@testable import NetworkingCalico

@Suite(.serialized) struct ReconcileTests {
    @Test func reconcileCreatesManagedResourceMonitoringAndStatus() async throws {
        try await Env.with { env in
            try await env.createExample()
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            let obj = try await env.waitReconciled()

            let op = try #require(obj[path: "status", "lastOperation"])
            // The first operation of a Network without lastOperation is Create.
            #expect(op["type"]?.stringValue == "Create")
            #expect(op["state"]?.stringValue == "Succeeded")
            #expect(op["progress"]?.intValue == 100)
            #expect(op["description"]?.stringValue == "Successfully reconciled Network")
            #expect(obj[path: "status", "observedGeneration"]?.intValue == obj[path: "metadata", "generation"]?.intValue)
            #expect(
                obj[path: "status", "providerStatus"] == [
                    "apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkStatus",
                ])
            #expect(obj[path: "status", "ipFamilies"] == ["IPv4"])
            #expect(obj[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            #expect(obj[path: "metadata", "annotations", "gardener.cloud/operation"] == nil)

            let (mr, secret, config) = try await env.managedResourceConfig()
            #expect(config == (try await env.expectedRender(network: obj)))
            let secretName = try #require(secret[path: "metadata", "name"]?.stringValue)
            #expect(
                secretName
                    == ManagedResources.secretName(
                        managedResourceName: CalicoNames.managedResourceName, data: [CalicoNames.configKey: config]))
            #expect(secret["immutable"]?.boolValue == true)
            #expect(secret[path: "metadata", "labels", "resources.gardener.cloud/garbage-collectable-reference"] == "true")
            #expect(mr[path: "metadata", "labels", "origin"] == "extension-networking-calico")
            #expect(mr[path: "spec", "class"] == nil)
            #expect(mr[path: "spec", "keepObjects"] == false)
            #expect(mr[path: "spec", "injectLabels"] == ["shoot.gardener.cloud/no-cleanup": "true"])
            #expect(mr[path: "metadata", "annotations", ManagedResources.secretReferenceAnnotation(secretName)]?.stringValue == secretName)

            for name in ["shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird"] {
                let sc = try await env.client.get(.scrapeConfigs, namespace: Env.namespace, name: name)
                #expect(sc[path: "metadata", "labels", "prometheus"] == "shoot")
            }
            let dashboards = try await env.client.get(.configMaps, namespace: Env.namespace, name: "calico-dashboards")
            #expect(dashboards["data"]?.objectValue?.count == 3)

            // Unchanged input → no write to any of the extension's objects.
            env.server.resetRequestLog()
            try await env.annotate("reconcile")
            try await env.waitForNetwork("reconciled again") { o in
                // Processing + Succeeded status patches = one full reconcile.
                let statusPatches = env.server.requestLog.filter { $0.verb == "patch" && $0.path.hasSuffix("/status") }.count
                return statusPatches >= 2 && (o.map(LocalBootstrap.isReconciled) ?? false)
            }
            try await env.settled(manager)
            // The ManagedResource comes from the informer cache, the ScrapeConfigs from one list.
            #expect(
                env.server.requestCount(
                    verb: "get",
                    path: "/apis/resources.gardener.cloud/v1alpha1/namespaces/\(Env.namespace)/managedresources/\(CalicoNames.managedResourceName)")
                    == 0)
            #expect(
                env.server.requestCount(verb: "list", path: "/apis/monitoring.coreos.com/v1alpha1/namespaces/\(Env.namespace)/scrapeconfigs") == 1)
            #expect(env.server.requestCount(verb: "get", path: "/api/v1/namespaces/\(Env.namespace)/configmaps/calico-dashboards") == 1)
            #expect(env.writes(containing: "/secrets") == 0)
            #expect(env.writes(containing: "/managedresources") == 0)
            #expect(env.writes(containing: "/configmaps") == 0)
            #expect(env.writes(containing: "/scrapeconfigs") == 0)
        }
    }

    @Test func changedProviderConfigIsRerendered() async throws {
        try await Env.with { env in
            try await env.createExample()
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            let (_, oldSecret, oldConfig) = try await env.managedResourceConfig()

            _ = try await env.client.patch(
                .networks, namespace: Env.namespace, name: Env.name,
                [
                    "metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]],
                    "spec": ["providerConfig": ["overlay": ["enabled": true], "typha": ["enabled": false]]],
                ], type: .merge)
            let obj = try await env.waitReconciled("re-rendered")
            let (_, newSecret, newConfig) = try await env.managedResourceConfig()
            #expect(newConfig != oldConfig)
            #expect(newSecret[path: "metadata", "name"] != oldSecret[path: "metadata", "name"])
            #expect(newConfig == (try await env.expectedRender(network: obj)))
            #expect(String(decoding: newConfig, as: UTF8.self).contains("FELIX_IPINIPENABLED"))
        }
    }

    /// An invalid providerConfig cannot be fixed by retrying: Error once, then no retry (the key
    /// is not requeued), while a transient API error is still retried.
    @Test func invalidProviderConfigIsATerminalErrorWithFieldPath() async throws {
        try await Env.with { env in
            try await env.createExample(network: { n in
                n[path: "spec", "providerConfig", "backend"] = "carrier-pigeon"
            })
            env.server.resetRequestLog()
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            let obj = try #require(
                try await env.waitForNetwork("Error") {
                    $0?[path: "status", "lastOperation", "state"]?.stringValue == "Error"
                })
            let lastError = obj[path: "status", "lastError", "description"]?.stringValue ?? ""
            #expect(lastError.contains("spec.providerConfig.backend"), "\(lastError)")
            #expect(
                obj[path: "status", "lastOperation", "description"]?.stringValue?.hasPrefix("Error reconciling Network: invalid network config")
                    == true)
            // No ManagedResource for an invalid config.
            await #expect(throws: KubeError.self) {
                _ = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            }
            // Not retried: once the controller is idle, the one Error status write is the last
            // write to the Network, and the controller counted one terminal error and no other.
            try await env.settled(manager)
            let controller = try #require(manager.controller(named: "network"))
            #expect(controller.statistics.terminalErrors == 1)
            #expect(controller.statistics.errors == 0)
            #expect(controller.queue.numRequeues("\(Env.namespace)/\(Env.name)") == 0)
            let path = "/apis/extensions.gardener.cloud/v1alpha1/namespaces/\(Env.namespace)/networks/\(Env.name)"
            let writes = env.server.requestLog.filter { $0.verb != "get" && ($0.path == path || $0.path == path + "/status") }
            let errorWrites = writes.filter { $0.path == path + "/status" }
            #expect(errorWrites.count == 2, "\(writes)")  // Processing, Error
            #expect(writes.last?.path == path + "/status")

            // A transient API error (the ManagedResource write answered 500) is retried with
            // backoff and the valid config then succeeds.
            env.server.failNextRequests(
                1, status: 500, pathPrefix: "/apis/resources.gardener.cloud/v1alpha1/namespaces/\(Env.namespace)/managedresources")
            _ = try await env.client.patch(
                .networks, namespace: Env.namespace, name: Env.name,
                [
                    "metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]],
                    "spec": ["providerConfig": ["backend": "bird"]],
                ], type: .merge)
            _ = try await env.waitReconciled("valid config reconciled")
            #expect(controller.statistics.errors >= 1)
            #expect(controller.statistics.terminalErrors == 1)
            #expect(env.server.faultCounters.errors[500] == 1)
        }
    }

    @Test func deleteRemovesEverythingAndFinalizer() async throws {
        try await Env.with { env in
            try await env.createExample(network: { n in n[path: "spec", "providerConfig", "birdExporter"] = ["enabled": true] })
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            let (_, secret, _) = try await env.managedResourceConfig()
            let secretName = try #require(secret[path: "metadata", "name"]?.stringValue)

            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            try await env.waitForNetwork("Network gone") { $0 == nil }
            for (resource, name) in [
                (Resource.managedResources, CalicoNames.managedResourceName), (.secrets, secretName),
                (.configMaps, "calico-dashboards"), (.scrapeConfigs, "shoot-calico-felix"),
                (.scrapeConfigs, "shoot-calico-typha"), (.scrapeConfigs, "shoot-calico-bird"),
            ] {
                await #expect(throws: KubeError.self, "\(name) still exists") {
                    _ = try await env.client.get(resource, namespace: Env.namespace, name: name)
                }
            }
        }
    }

    @Test func forceDeleteSkipsTheWait() async throws {
        try await Env.with { env in
            try await env.createExample()
            // A wait would time out after 2 s and fail the delete.
            let (manager, task) = try await env.startManager(deleteWait: .seconds(2))
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            // The MR cannot disappear (a finalizer nobody removes, as a stuck resource manager).
            try await env.holdManagedResource()
            var cluster = try await env.client.get(.clusters, namespace: nil, name: Env.namespace)
            cluster[path: "spec", "shoot", "metadata", "annotations"] = ["confirmation.gardener.cloud/force-deletion": "true"]
            _ = try await env.client.update(.clusters, namespace: nil, cluster)

            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            try await env.waitForNetwork("Network gone") { $0 == nil }
            let mr = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            #expect(mr[path: "metadata", "deletionTimestamp"] != nil)
        }
    }

    @Test func deleteWaitsForManagedResourceAndReportsTimeout() async throws {
        try await Env.with { env in
            try await env.createExample()
            let (manager, task) = try await env.startManager(deleteWait: .seconds(1))
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            try await env.holdManagedResource()
            try await env.client.delete(.networks, namespace: Env.namespace, name: Env.name)
            let obj = try #require(
                try await env.waitForNetwork("delete error") {
                    $0?[path: "status", "lastOperation", "type"]?.stringValue == "Delete"
                        && $0?[path: "status", "lastOperation", "state"]?.stringValue == "Error"
                })
            #expect(obj[path: "status", "lastOperation", "description"]?.stringValue?.contains("still exists") == true)
            #expect(obj[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            // Unblock: the next retry completes the deletion.
            try await env.releaseManagedResource()
            await #expect(throws: KubeError.self) {
                _ = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            }
            // Status writes of a deleting object do not pass the predicates, so the next attempt
            // is due to the backoff alone: 5 ms·2^k after k failures. On a loaded machine k can be
            // large enough to put it minutes away; an event on the Network (gardenlet's
            // annotation) triggers the next attempt at once, as in production.
            try await env.annotateUnlessGone("reconcile")
            try await env.waitForNetwork(timeout: .seconds(60), "Network gone") { $0 == nil }
        }
    }

    @Test func migrateKeepsShootObjectsThenRestore() async throws {
        try await Env.with { env in
            try await env.createExample(cluster: { c in
                // Skip the deletion wait so the MR (held by a finalizer) can be inspected afterwards.
                c[path: "spec", "shoot", "metadata", "annotations"] = ["confirmation.gardener.cloud/force-deletion": "true"]
            })
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            _ = try await env.waitReconciled()
            try await env.holdManagedResource(with: "test/hold")

            try await env.annotate("migrate")
            let migrated = try #require(
                try await env.waitForNetwork("Migrate Succeeded") {
                    $0?[path: "status", "lastOperation", "type"]?.stringValue == "Migrate"
                        && $0?[path: "status", "lastOperation", "state"]?.stringValue == "Succeeded"
                        && $0?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
                })
            #expect(migrated[path: "metadata", "finalizers"] == nil)
            let mr = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            #expect(mr[path: "spec", "keepObjects"] == true)
            #expect(mr[path: "metadata", "deletionTimestamp"] != nil)
            await #expect(throws: KubeError.self) {
                _ = try await env.client.get(.configMaps, namespace: Env.namespace, name: "calico-dashboards")
            }
            // A migrated object is not reconciled without restore.
            try await env.releaseManagedResource()

            let operations = env.recordOperations()
            defer { operations.stop() }
            try await env.annotate("restore")
            // The status writes of the restore arrive while the object still carries the `restore`
            // annotation, so they pass the predicates and queue the key once more: as in the
            // reference, a plain Reconcile (ComputeOperationType without annotation) may follow at
            // once. The watch proves the Restore itself succeeded, whatever ran last.
            let restored = try #require(
                try await env.waitForNetwork("Restore Succeeded") {
                    let type = $0?[path: "status", "lastOperation", "type"]?.stringValue
                    return (type == "Restore" || type == "Reconcile")
                        && $0?[path: "status", "lastOperation", "state"]?.stringValue == "Succeeded"
                        && $0?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
                        && operations.seen("Restore", "Succeeded")
                })
            #expect(operations.seen("Restore", "Processing"))
            #expect(!operations.seen("Restore", "Error"))
            #expect(restored[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            let (newMR, _, config) = try await env.managedResourceConfig()
            #expect(newMR[path: "spec", "keepObjects"] == false)
            #expect(config == (try await env.expectedRender(network: restored)))
            _ = try await env.client.get(.configMaps, namespace: Env.namespace, name: "calico-dashboards")
        }
    }

    @Test func failedShootIsSkipped() async throws {
        try await Env.with { env in
            try await env.createExample(cluster: { c in
                c[path: "spec", "shoot", "status", "lastOperation", "state"] = "Failed"
            })
            let (manager, task) = try await env.startManager()
            defer { Task { await stop(manager, task) } }
            await manager.waitUntilLeading()
            try await env.settled(manager)
            #expect(manager.controller(named: "network")?.statistics.acceptedEvents == 0)
            let obj = try await env.network()
            #expect(obj[path: "status", "lastOperation"] == nil)
            await #expect(throws: KubeError.self) {
                _ = try await env.client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
            }
        }
    }

    @Test func leaderElectionHandsOver() async throws {
        try await Env.with { env in
            let (m1, t1) = try await env.startManager(leaderElection: true)
            await m1.waitUntilLeading()
            let (m2, t2) = try await env.startManager(leaderElection: true)
            defer { Task { await stop(m2, t2) } }
            // The second manager has tried (and failed) to take the held lease.
            let elector = try #require(m2.leaderElector)
            #expect(await eventually { elector.attempts >= 2 })
            #expect(m1.isLeading)
            #expect(!m2.isLeading)

            try await env.createExample()
            _ = try await env.waitReconciled()
            // Stop the leader (releases the lease); the other takes over and handles new work.
            await stop(m1, t1)
            await m2.waitUntilLeading()
            #expect(m2.isLeading)
            try await env.annotate("reconcile")
            _ = try await env.waitReconciled("reconciled by the second manager")
            let lease = try await env.client.get(.leases, namespace: "kube-system", name: "networking-calico-leader-election")
            #expect(lease[path: "spec", "holderIdentity"]?.stringValue == m2.leaderElector?.configuration.identity)
            // Heartbeat lease written by the leader.
            let heartbeat = try await env.client.get(.leases, namespace: "kube-system", name: "gardener-extension-heartbeat")
            #expect(heartbeat[path: "spec", "holderIdentity"] == "networking-calico")
        }
    }

    @Test func unknownControllerNamesAreRejected() throws {
        #expect(try CalicoController.heartbeatEnabled(controllers: nil, disabled: []))
        #expect(try !CalicoController.heartbeatEnabled(controllers: nil, disabled: ["heartbeat"]))
        #expect(throws: MessageError.self) { try CalicoController.heartbeatEnabled(controllers: ["network"], disabled: []) }
        #expect(throws: MessageError.self) { try CalicoController.heartbeatEnabled(controllers: nil, disabled: ["x"]) }
    }
}
