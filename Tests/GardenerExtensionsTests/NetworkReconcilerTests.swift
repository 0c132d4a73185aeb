import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import TestSupport
import Testing

@testable import KubeRuntime

@Suite struct NetworkReconcilerIntegrationTests {
    /// The wrapper starts from the informer's copy of the Network, as the reference reads
    /// through its cache, but not from a copy older than its own last write: a reconcile queued
    /// by the event of that write would otherwise act on the state before it.
    @Test func readsTheCachedNetworkUnlessItPredatesOwnWrites() async throws {
        try await withShootNamespace { _, client in
            _ = try await client.create(.clusters, namespace: nil, clusterObject(shoot: shootObject()))
            let created = try await client.create(.networks, namespace: shootNamespace, networkObject())
            let store = Store()
            _ = store.upsert(created)
            let actuator = ScriptedActuator()
            let reconciler = NetworkReconciler(client: client, actuator: actuator, networks: store)
            let request = ReconcileRequest(namespace: shootNamespace, name: "demo")
            func waitingForState(_ object: JSON) -> JSON {
                var o = object
                o[path: "metadata", "annotations", "gardener.cloud/operation"] = "wait-for-state"
                return o
            }

            _ = try await reconciler.reconcile(request)
            #expect(actuator.calls.count == 1)

            // A copy from before the reconciler's own writes (here saying wait-for-state, while
            // the server says reconcile) is not trusted: the Network is read live and reconciled.
            _ = store.upsert(waitingForState(created))
            _ = try await client.patch(
                .networks, namespace: shootNamespace, name: "demo",
                ["metadata": ["annotations": ["gardener.cloud/operation": "reconcile"]]], type: .merge)
            _ = try await reconciler.reconcile(request)
            #expect(actuator.calls.count == 2)

            // A copy at the version of the last own write is used as it is: wait-for-state skips.
            let current = try await client.get(.networks, namespace: shootNamespace, name: "demo")
            _ = store.upsert(waitingForState(current))
            _ = try await reconciler.reconcile(request)
            #expect(actuator.calls.count == 2)
        }
    }

    @Test func successfulCreateThenReconcileOnlyOnAnnotation() async throws {
        try await withNetworkController { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            let n = try await env.network()
            #expect(n[path: "status", "lastOperation", "type"] == "Create")
            #expect(n[path: "status", "lastOperation", "description"] == "Successfully reconciled Network")
            #expect(n[path: "status", "lastOperation", "progress"] == 100)
            #expect(n[path: "status", "lastError"] == nil)
            #expect(n[path: "status", "observedGeneration"] == n[path: "metadata", "generation"])
            #expect(n[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            #expect(n[path: "metadata", "annotations", "gardener.cloud/operation"] == nil)
            #expect(n[path: "metadata", "annotations", "gardener.cloud/timestamp"] != nil)
            let updated = try #require(n[path: "status", "lastOperation", "lastUpdateTime"]?.stringValue)
            #expect(KubeTime.parse(updated) != nil && !updated.contains("."))
            #expect(env.actuator.calls.all == ["reconcile \(shootNamespace)/demo"])

            // Default mode: spec changes and status writes do not retrigger.
            _ = try await env.client.patch(
                .networks, namespace: shootNamespace, name: "demo", ["spec": ["ipFamilies": ["IPv4", "IPv6"]]], type: .merge)
            #expect(await env.settled())
            #expect(env.actuator.calls.count == 1)

            // The operation annotation retriggers, as type Reconcile, and is removed.
            try await env.setOperation("reconcile")
            #expect(await eventually { env.actuator.calls.count == 2 })
            #expect(
                await eventually {
                    let n = try? await env.network()
                    return n?[path: "status", "lastOperation", "type"] == "Reconcile" && n?[path: "status", "lastOperation", "state"] == "Succeeded"
                        && n?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
                })
            let n2 = try await env.network()
            #expect(n2[path: "status", "observedGeneration"] == n2[path: "metadata", "generation"])
            #expect(n2[path: "metadata", "generation"] == 2)
        }
    }

    @Test func errorSetsStatusWithCodesBacksOffAndRecovers() async throws {
        try await withNetworkController { env in
            env.actuator.fail(with: ErrorWithCodes(MessageError("invalid network config: boom"), codes: [.configurationProblem]))
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Error" })
            let n = try await env.network()
            let text = "Error reconciling Network: invalid network config: boom"
            #expect(n[path: "status", "lastOperation", "description"] == .string(text))
            #expect(n[path: "status", "lastOperation", "progress"] == 50)
            #expect(n[path: "status", "lastOperation", "type"] == "Create")
            #expect(n[path: "status", "lastError", "description"] == .string(text))
            #expect(n[path: "status", "lastError", "codes"] == ["ERR_CONFIGURATION_PROBLEM"])
            #expect(n[path: "status", "lastError", "lastUpdateTime"] != nil)
            #expect(n[path: "status", "observedGeneration"] == 1)

            // A retryable error is retried, each time through the rate limiter (per-key exponential
            // backoff, see RateLimiter tests), never at once: every failure counts one requeue.
            #expect(await eventually { env.controller.statistics.errors >= 3 })
            let key = "\(shootNamespace)/demo"
            #expect(env.controller.queue.numRequeues(key) >= 3)
            #expect(env.controller.statistics.terminalErrors == 0)
            #expect(env.manager.metrics.exposition().contains(#"controller_runtime_reconcile_errors_total{controller="network"}"#))

            // The next retry succeeds, clears lastError and resets the backoff.
            env.actuator.fail(with: nil)
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            let ok = try await env.network()
            #expect(ok[path: "status", "lastError"] == nil)
            #expect(ok[path: "status", "lastOperation", "type"] == "Create")  // the failed Create is retried as Create
        }
    }

    /// Every outcome is an Event on the Network, as `kubectl describe` lists them: a Normal one
    /// per success, a Warning with lastError's text per error, repeats counted on one Event.
    @Test func recordsEventsOnTheNetwork() async throws {
        try await withNetworkController { env in
            func events() async throws -> [JSON] {
                try await env.client.list(
                    .events, namespace: shootNamespace,
                    options: ListOptions(fieldSelector: "involvedObject.kind=Network,involvedObject.name=demo")
                ).items
            }
            func event(_ reason: String) async throws -> JSON? {
                try await events().first { $0["reason"]?.stringValue == reason }
            }
            let created = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await event("CreateSucceeded")) != nil })
            let ok = try #require(try await event("CreateSucceeded"))
            #expect(ok["type"] == "Normal")
            #expect(ok["message"] == "Successfully reconciled Network")
            #expect(ok[path: "source", "component"] == "network-controller")
            #expect(ok["reportingComponent"] == "network-controller")
            #expect(ok[path: "involvedObject", "apiVersion"] == "extensions.gardener.cloud/v1alpha1")
            #expect(ok[path: "involvedObject", "uid"] == created[path: "metadata", "uid"])
            #expect(ok["count"] == 1)

            // The same error on every retry: one Warning Event whose count rises.
            env.actuator.fail(with: MessageError("boom"))
            try await env.setOperation("reconcile")
            #expect(await eventually { ((try? await event("ReconcileError"))?["count"]?.intValue ?? 0) >= 3 })
            let warnings = try await events().filter { $0["type"] == "Warning" }
            #expect(warnings.count == 1)
            #expect(warnings.first?["message"] == "Error reconciling Network: boom")
            #expect(warnings.first?["reason"] == "ReconcileError")

            env.actuator.fail(with: nil)
            try await env.client.delete(.networks, namespace: shootNamespace, name: "demo")
            #expect(await eventually { (try? await event("DeleteSucceeded")) != nil })
            #expect(try await event("DeleteSucceeded")?["message"] == "Successfully deleted Network")
        }
    }

    @Test func requeueAfterErrorRetriesAfterTheDelayWithErrorStatus() async throws {
        try await withNetworkController { env in
            env.actuator.fail(with: RequeueAfterError(cause: MessageError("waiting for routes"), requeueAfter: .milliseconds(300)))
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Error" })
            #expect(try await env.network()[path: "status", "lastError", "description"] == "Error reconciling Network: waiting for routes")
            // Retried after the fixed delay, not through the backoff: the key is never counted as
            // a rate-limited requeue and the results are requeues, not errors.
            #expect(await eventually { env.actuator.calls.count >= 3 })
            #expect(env.controller.statistics.requeues >= 2)
            #expect(env.controller.statistics.errors == 0)
            #expect(env.controller.queue.numRequeues("\(shootNamespace)/demo") == 0)
        }
    }

    @Test func deleteRunsActuatorAndRemovesFinalizer() async throws {
        try await withNetworkController { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            try await env.client.delete(.networks, namespace: shootNamespace, name: "demo")
            #expect(
                await eventually {
                    await env.networkGone()
                })
            #expect(env.actuator.calls.all == ["reconcile \(shootNamespace)/demo", "delete \(shootNamespace)/demo"])
        }
    }

    @Test func deleteErrorKeepsFinalizerAndShowsDeleteError() async throws {
        try await withNetworkController { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            env.actuator.fail(with: MessageError("managed resource still exists"))
            try await env.client.delete(.networks, namespace: shootNamespace, name: "demo")
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Error" })
            let n = try await env.network()
            #expect(n[path: "status", "lastOperation", "type"] == "Delete")
            #expect(n[path: "status", "lastOperation", "description"] == "Error deleting Network: managed resource still exists")
            #expect(n[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"])
            env.actuator.fail(with: nil)
            #expect(
                await eventually {
                    await env.networkGone()
                })
        }
    }

    @Test func forceDeleteWhenShootRequestsIt() async throws {
        try await withNetworkController(shoot: shootObject(forceDelete: true)) { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { env.actuator.calls.count == 1 })
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            try await env.client.delete(.networks, namespace: shootNamespace, name: "demo")
            #expect(await eventually { env.actuator.calls.count == 2 })
            #expect(env.actuator.calls.all.last == "forceDelete \(shootNamespace)/demo")
        }
    }

    @Test func migrateThenSkipThenRestore() async throws {
        try await withNetworkController { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })

            try await env.setOperation("migrate")
            #expect(
                await eventually {
                    let n = try? await env.network()
                    return n?[path: "status", "lastOperation", "type"] == "Migrate" && n?[path: "status", "lastOperation", "state"] == "Succeeded"
                        && n?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
                })
            let migrated = try await env.network()
            #expect(migrated[path: "status", "lastOperation", "description"] == "Successfully migrated Network")
            #expect(migrated[path: "metadata", "finalizers"] == nil)
            #expect(env.actuator.calls.all.last == "migrate \(shootNamespace)/demo")

            // A migrated object is skipped for reconcile (the wrapper still removes the annotation).
            try await env.setOperation("reconcile")
            #expect(await eventually { (try? await env.network())?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil })
            #expect(await env.settled())
            #expect(env.actuator.calls.count == 2)

            // Restore: actuator Restore, finalizer back, annotation removed. (The status writes of the
            // restore flow still carry the annotation, so — as in Gardener — the coalesced key runs
            // once more afterwards as a plain Reconcile.)
            try await env.setOperation("restore")
            #expect(await eventually { env.actuator.calls.all.contains("restore \(shootNamespace)/demo") })
            #expect(
                await eventually {
                    let n = try? await env.network()
                    return n?[path: "status", "lastOperation", "state"] == "Succeeded"
                        && n?[path: "metadata", "annotations", "gardener.cloud/operation"] == nil
                        && n?[path: "metadata", "finalizers"] == ["extensions.gardener.cloud/network"]
                })
            let calls = env.actuator.calls.all
            let restoreIndex = try #require(calls.firstIndex(of: "restore \(shootNamespace)/demo"))
            #expect(calls[..<restoreIndex] == ["reconcile \(shootNamespace)/demo", "migrate \(shootNamespace)/demo"])
            #expect(calls[(restoreIndex + 1)...].allSatisfy { $0 == "reconcile \(shootNamespace)/demo" })
        }
    }

    @Test func waitForStateDoesNothing() async throws {
        try await withNetworkController { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject(operation: "wait-for-state"))
            #expect(await env.settled())
            #expect(env.controller.statistics.successes == 1)
            let n = try await env.network()
            #expect(n["status"] == nil)
            #expect(n[path: "metadata", "annotations", "gardener.cloud/operation"] == "wait-for-state")
            #expect(env.actuator.calls.count == 0)
        }
    }

    @Test func failedShootIsSkipped() async throws {
        try await withNetworkController(shoot: shootObject(failed: true)) { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await env.settled())
            #expect(env.controller.statistics.acceptedEvents == 0)
            #expect(env.actuator.calls.count == 0)
            #expect(try await env.network()["status"] == nil)
            // The reconciler itself also skips (e.g. when triggered at start-up).
            let r = NetworkReconciler(client: env.client, actuator: env.actuator)
            #expect(try await r.reconcile(ReconcileRequest(namespace: shootNamespace, name: "demo")) == .done)
            #expect(env.actuator.calls.count == 0)
        }
    }

    @Test func otherTypesAndClassesAreIgnored() async throws {
        try await withNetworkController { env in
            var cilium = networkObject(name: "other")
            cilium[path: "spec", "type"] = "cilium"
            _ = try await env.client.create(.networks, namespace: shootNamespace, cilium)
            var seedClass = networkObject(name: "seedclass")
            seedClass[path: "spec", "class"] = "seed"
            _ = try await env.client.create(.networks, namespace: shootNamespace, seedClass)
            // Events are handled in order, so once the second one is, both are.
            #expect(await env.settled("seedclass"))
            #expect(env.controller.statistics.acceptedEvents == 0)
            #expect(env.actuator.calls.count == 0)
        }
    }

    @Test func ignoreOperationAnnotationModeReactsToGenerationChanges() async throws {
        try await withNetworkController(ignoreOperationAnnotation: true) { env in
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject(operation: nil))
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            #expect(env.actuator.calls.count == 1)
            // Annotation-only change: no generation change → no reconcile.
            _ = try await env.client.patch(
                .networks, namespace: shootNamespace, name: "demo",
                ["metadata": ["annotations": ["foo": "bar"]]], type: .merge)
            #expect(await env.settled())
            #expect(env.actuator.calls.count == 1)
            // Spec change bumps the generation → reconcile.
            _ = try await env.client.patch(
                .networks, namespace: shootNamespace, name: "demo", ["spec": ["ipFamilies": ["IPv4", "IPv6"]]], type: .merge)
            #expect(await eventually { env.actuator.calls.count == 2 })
            #expect(
                await eventually {
                    let n = try? await env.network()
                    return n?[path: "status", "observedGeneration"] == 2 && n?[path: "status", "lastOperation", "type"] == "Reconcile"
                })
        }
    }

    /// A terminal error shows the same status as any error but is not retried: once the
    /// controller is idle, the Network's requests end with the Error status write.
    @Test func terminalErrorSetsErrorOnceAndIsNotRetried() async throws {
        try await withNetworkController { env in
            env.actuator.fail(with: TerminalError(ErrorWithCodes(MessageError("invalid network config: boom"), codes: [.configurationProblem])))
            env.server.resetRequestLog()
            _ = try await env.client.create(.networks, namespace: shootNamespace, networkObject())
            #expect(await eventually { env.controller.statistics.terminalErrors == 1 })
            #expect(await env.settled())

            let n = try await env.network()
            let text = "Error reconciling Network: invalid network config: boom"
            #expect(n[path: "status", "lastOperation", "state"] == "Error")
            #expect(n[path: "status", "lastOperation", "description"] == .string(text))
            #expect(n[path: "status", "lastError", "description"] == .string(text))
            #expect(n[path: "status", "lastError", "codes"] == ["ERR_CONFIGURATION_PROBLEM"])
            #expect(env.actuator.calls.count == 1)
            #expect(env.controller.statistics.terminalErrors == 1)
            #expect(env.controller.statistics.errors == 0)
            #expect(env.controller.queue.numRequeues("\(shootNamespace)/demo") == 0)
            let metrics = env.manager.metrics.exposition()
            #expect(metrics.contains(#"controller_runtime_reconcile_total{controller="network",result="terminal_error"} 1"#))
            #expect(metrics.contains(#"controller_runtime_terminal_reconcile_errors_total{controller="network"} 1"#))

            // The Network's writes end with the Error status patch: no retry followed. (Reads are
            // not compared: the test's own GETs share the controller's client.)
            let path = "/apis/extensions.gardener.cloud/v1alpha1/namespaces/\(shootNamespace)/networks/demo"
            let writes = env.server.requestLog.filter { $0.verb != "get" && ($0.path == path || $0.path == path + "/status") }
            // annotation removal, finalizer, Processing, Error
            #expect(writes.map(\.path) == [path, path, path + "/status", path + "/status"], "\(writes)")

            // The user's fix (gardenlet's annotation) reconciles again.
            env.actuator.fail(with: nil)
            try await env.setOperation("reconcile")
            #expect(await eventually { (try? await env.network())?[path: "status", "lastOperation", "state"] == "Succeeded" })
            #expect(try await env.network()[path: "status", "lastError"] == nil)
        }
    }

    @Test func terminalIsFoundThroughWrappersButNotThroughRequeueAfter() {
        let terminal = TerminalError(MessageError("bad"))
        #expect(isTerminal(terminal))
        #expect(isTerminal(WrappedError.wrap("context", terminal)))
        #expect(isTerminal(ErrorWithCodes(terminal, codes: [.configurationProblem])))
        #expect(!isTerminal(MessageError("transient")))
        #expect(!isTerminal(RequeueAfterError(cause: terminal, requeueAfter: .seconds(1))))
        #expect(isTerminal(MultiError([terminal, terminal])))
        #expect(!isTerminal(MultiError([terminal, MessageError("transient")])))
        // Marking an error terminal changes neither its text nor its codes.
        #expect(errorText(WrappedError.wrap("context", terminal)) == "context: bad")
        #expect(errorCodes(of: TerminalError(ErrorWithCodes(MessageError("x"), codes: [.configurationProblem]))) == [.configurationProblem])
    }
}
