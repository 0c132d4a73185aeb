import EmbeddedAPIServer
import KubeClient
import KubeCore
import Logging
import TestSupport
import Testing

@testable import KubeRuntime

@Suite struct InformerTests {
    func describe(_ e: ObjectEvent) -> String {
        switch e {
        case .create(let o): return "create \(objectKey(o))"
        case .update(let old, let new):
            return "update \(objectKey(new)) \(old["data"]?["v"]?.stringValue ?? "-")->\(new["data"]?["v"]?.stringValue ?? "-")"
        case .delete(let o): return "delete \(objectKey(o))"
        case .generic(let o): return "generic \(objectKey(o))"
        }
    }

    @Test func seesEveryChangeAndRecoversFromDroppedConnectionsAndGone() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "inf")
            _ = try await client.create(.configMaps, namespace: "inf", configMap("pre", "inf", data: ["v": "0"]))

            let informer = Informer(
                name: "configmaps",
                listWatcher: ResourceListWatcher(client: client, resource: .configMaps, namespace: "inf"),
                indexers: ["team": { [$0[path: "metadata", "labels", "team"]?.stringValue ?? ""] }],
                initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200))
            let events = Recorder<String>()
            await informer.addHandler { events.append(describe($0)) }
            let task = Task { await informer.run() }
            defer { task.cancel() }
            await informer.waitForSync()
            #expect(informer.hasSynced)
            #expect(events.all == ["create inf/pre"])

            _ = try await client.create(.configMaps, namespace: "inf", configMap("a", "inf", data: ["v": "1"]))
            var b = configMap("b", "inf", data: ["v": "1"])
            b[path: "metadata", "labels"] = ["team": "blue"]
            _ = try await client.create(.configMaps, namespace: "inf", b)
            _ = try await client.patch(.configMaps, namespace: "inf", name: "a", ["data": ["v": "2"]], type: .merge)
            try await client.delete(.configMaps, namespace: "inf", name: "pre")
            #expect(await eventually { events.count >= 5 })
            #expect(events.all == ["create inf/pre", "create inf/a", "create inf/b", "update inf/a 1->2", "delete inf/pre"])
            #expect(informer.store.get(namespace: "inf", name: "a")?["data"]?["v"] == "2")
            #expect(informer.store.get(namespace: "inf", name: "pre") == nil)
            #expect(informer.store.byIndex("team", "blue").map(objectKey) == ["inf/b"])
            #expect(informer.store.byIndex(Store.namespaceIndex, "inf").count == 2)

            // 1. The server drops every connection: the watch resumes from the last resourceVersion.
            server.dropAllConnections()
            // The test's own pooled connection was dropped too: retry the write once.
            #expect(
                await eventually {
                    if (try? await client.create(.configMaps, namespace: "inf", configMap("c", "inf", data: ["v": "1"]))) != nil { return true }
                    return (try? await client.get(.configMaps, namespace: "inf", name: "c")) != nil
                })
            #expect(await eventually { informer.store.get(namespace: "inf", name: "c") != nil })
            _ = try await client.patch(.configMaps, namespace: "inf", name: "c", ["data": ["v": "9"]], type: .merge)
            #expect(await eventually { events.all.contains("update inf/c 1->9") })
            #expect(informer.relistCount == 0)

            // 2. Forced 410: writes the informer does not see move the global resourceVersion on,
            // history is compacted and watches closed, so resuming answers 410 Gone → relist.
            try await createNamespace(client, "other")
            _ = try await client.create(.configMaps, namespace: "other", configMap("noise", "other"))
            server.compactHistory()
            server.closeAllWatches()
            #expect(await eventually { informer.relistCount >= 1 })
            _ = try await client.create(.configMaps, namespace: "inf", configMap("d", "inf"))
            try await client.delete(.configMaps, namespace: "inf", name: "b")
            #expect(
                await eventually { informer.store.get(namespace: "inf", name: "d") != nil && informer.store.get(namespace: "inf", name: "b") == nil })
            #expect(events.all.contains("create inf/d"))
            #expect(events.all.contains("delete inf/b"))
            #expect(Set(informer.store.keys()) == ["inf/a", "inf/c", "inf/d"])
        }
    }

    /// A scripted list/watch: the first watch fails with 410, the relist misses one object.
    struct ScriptedListWatcher: ListWatcher {
        let lists = Recorder<Int>()
        func list() async throws -> (items: [JSON], resourceVersion: String) {
            lists.append(1)
            if lists.count == 1 {
                return (
                    [
                        ["metadata": ["name": "a", "namespace": "n", "resourceVersion": "1"]],
                        ["metadata": ["name": "b", "namespace": "n", "resourceVersion": "2"]],
                    ], "2"
                )
            }
            return ([["metadata": ["name": "a", "namespace": "n", "resourceVersion": "5"]]], "5")
        }
        func watch(resourceVersion: String) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
            if resourceVersion == "2" {
                return AsyncThrowingStream { c in
                    c.yield(WatchEvent(type: .bookmark, object: ["metadata": ["resourceVersion": "3"]]))
                    c.finish(throwing: KubeError(kind: .gone, code: 410, reason: "Expired", message: "too old resource version"))
                }
            }
            return AsyncThrowingStream { _ in }  // stays open
        }
    }

    /// A watch waiting for a cache that never syncs (e.g. missing RBAC) must not block shutdown.
    /// The server sends managedFields with every object; the cache and the handlers never see
    /// them (listed or watched), unless the informer is told to keep objects as they are.
    @Test func cachedObjectsHaveNoManagedFields() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "mf")
            let created = try await client.create(.configMaps, namespace: "mf", configMap("listed", "mf", data: ["v": "0"]))
            #expect(created[path: "metadata", "managedFields"] != nil)
            let stripping = Informer(name: "stripping", listWatcher: ResourceListWatcher(client: client, resource: .configMaps, namespace: "mf"))
            let keeping = Informer(
                name: "keeping", listWatcher: ResourceListWatcher(client: client, resource: .configMaps, namespace: "mf"), transform: nil)
            let seen = Recorder<Bool>()
            await stripping.addHandler { seen.append($0.object[path: "metadata", "managedFields"] != nil) }
            let tasks = [Task { await stripping.run() }, Task { await keeping.run() }]
            defer { for t in tasks { t.cancel() } }
            await stripping.waitForSync()
            await keeping.waitForSync()
            _ = try await client.create(.configMaps, namespace: "mf", configMap("watched", "mf", data: ["v": "1"]))
            #expect(await eventually { stripping.store.get(namespace: "mf", name: "watched") != nil && seen.count == 2 })
            #expect(await eventually { keeping.store.get(namespace: "mf", name: "watched") != nil })
            for name in ["listed", "watched"] {
                #expect(stripping.store.get(namespace: "mf", name: name)?[path: "metadata", "managedFields"] == nil)
                #expect(stripping.store.get(namespace: "mf", name: name)?[path: "data", "v"] != nil)
                #expect(keeping.store.get(namespace: "mf", name: name)?[path: "metadata", "managedFields"] != nil)
            }
            #expect(seen.all == [false, false])
        }
    }

    @Test func waitForSyncEndsWhenCancelled() async {
        let informer = Informer(name: "never-run", listWatcher: ScriptedListWatcher())
        let waiter = Task { await informer.waitForSync() }
        waiter.cancel()
        await waiter.value
        #expect(!informer.hasSynced)
    }

    @Test func relistAfterGoneDeliversUpdatesAndDeletes() async throws {
        let informer = Informer(name: "scripted", listWatcher: ScriptedListWatcher(), initialBackoff: .milliseconds(1))
        let events = Recorder<String>()
        await informer.addHandler { events.append(describe($0)) }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { events.count >= 4 })
        #expect(events.all == ["create n/a", "create n/b", "update n/a -->-", "delete n/b"])
        #expect(informer.relistCount == 1)
        #expect(informer.lastResourceVersion == "5")
        #expect(informer.store.keys() == ["n/a"])
    }

    @Test func resyncRedeliversCachedObjects() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "resync")
            _ = try await client.create(.configMaps, namespace: "resync", configMap("x", "resync"))
            let informer = Informer(
                name: "cm", listWatcher: ResourceListWatcher(client: client, resource: .configMaps, namespace: "resync"),
                resyncPeriod: .milliseconds(100))
            let updates = Recorder<String>()
            await informer.addHandler { e in if case .update = e { updates.append(objectKey(e.object)) } }
            let task = Task { await informer.run() }
            defer { task.cancel() }
            #expect(await eventually { updates.count >= 2 })
            #expect(Set(updates.all) == ["resync/x"])
        }
    }

    @Test func lateHandlerGetsReplayOfCache() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "late")
            _ = try await client.create(.configMaps, namespace: "late", configMap("x", "late"))
            let informer = Informer(client: client, resource: .configMaps, namespace: "late")
            let task = Task { await informer.run() }
            defer { task.cancel() }
            await informer.waitForSync()
            let seen = Recorder<String>()
            await informer.addHandler { seen.append(describe($0)) }
            #expect(seen.all == ["create late/x"])
        }
    }
}

@Suite struct SecondaryWatchTests {
    @Test func secondaryObjectsMapToPrimaryKeysAndPredicatesFilter() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "sec")
            let reconciled = Recorder<String>()
            let controller = Controller(
                name: "owner",
                reconciler: ClosureReconciler { req in
                    reconciled.append(req.key)
                    return .done
                }, metrics: MetricsRegistry())
            let informer = Informer(client: client, resource: .configMaps, namespace: "sec")
            // Secondary watch: every ConfigMap labelled owner=<x> enqueues the primary "sec/<x>";
            // deletes are filtered out by the predicate.
            await controller.watch(
                informer,
                predicates: [
                    { event in
                        if case .delete = event { return false }
                        return true
                    }
                ],
                map: { obj in
                    guard let owner = obj[path: "metadata", "labels", "owner"]?.stringValue else { return [] }
                    return [ReconcileRequest(namespace: "sec", name: owner)]
                })
            let informerTask = Task { await informer.run() }
            let run = Task { await controller.run() }
            defer { informerTask.cancel() }
            var cm = configMap("child", "sec")
            cm[path: "metadata", "labels"] = ["owner": "parent"]
            _ = try await client.create(.configMaps, namespace: "sec", cm)
            _ = try await client.create(.configMaps, namespace: "sec", configMap("unowned", "sec"))
            #expect(await eventually { reconciled.all == ["sec/parent"] })
            try await client.delete(.configMaps, namespace: "sec", name: "child")
            // Three events handled (two creates, the delete) and nothing queued: the delete was
            // filtered out, not merely not yet processed.
            #expect(await eventually { controller.statistics.handledEvents == 3 && controller.queue.isIdle })
            #expect(controller.statistics.acceptedEvents == 1)
            #expect(reconciled.all == ["sec/parent"])
            controller.shutdown()
            await run.value
        }
    }
}
