import EmbeddedAPIServer
import KubeClient
import KubeCore
import Logging
import Synchronization
import TestSupport
import Testing

@testable import KubeRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// A manager with one ConfigMap controller that records which manager reconciled what.
func makeManager(
    _ client: KubernetesClient, id: String, namespace: String, lease: String?, releaseOnCancel: Bool = true,
    reconciled: Recorder<String>, endpoints: Bool = false
) async -> Manager {
    let le = lease.map {
        LeaderElectionConfiguration(
            name: $0, namespace: namespace, identity: id, leaseDuration: .seconds(2), renewDeadline: .milliseconds(1500),
            retryPeriod: .milliseconds(200), releaseOnCancel: releaseOnCancel)
    }
    let options = ManagerOptions(
        leaderElection: le,
        metricsBindAddress: endpoints ? BindAddress(host: "127.0.0.1", port: 0) : nil,
        healthBindAddress: endpoints ? BindAddress(host: "127.0.0.1", port: 0) : nil,
        gracefulShutdownTimeout: .seconds(5))
    let manager = Manager(client: client, options: options, logger: Logger(label: "manager-\(id)"))
    let controller = Controller(
        name: "cm",
        reconciler: ClosureReconciler { req in
            reconciled.append("\(id):\(req.key)")
            return .done
        }, maxConcurrentReconciles: 2, metrics: manager.metrics)
    await controller.watch(manager.informer(for: .configMaps, namespace: namespace))
    manager.add(controller)
    return manager
}

@Suite struct ManagerTests {
    @Test func onlyTheLeaderReconcilesAndFollowerTakesOverAfterLeaseExpiry() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "le1")
            let reconciled = Recorder<String>()
            let a = await makeManager(client, id: "a", namespace: "le1", lease: "lock", releaseOnCancel: false, reconciled: reconciled)
            let b = await makeManager(client, id: "b", namespace: "le1", lease: "lock", releaseOnCancel: false, reconciled: reconciled)
            let runA = Task { try await a.run() }
            await a.waitUntilLeading()
            let runB = Task { try await b.run() }
            _ = try await client.create(.configMaps, namespace: "le1", configMap("one", "le1"))
            #expect(await eventually { reconciled.all.contains("a:le1/one") })
            #expect(await eventually { (b.leaderElector?.attempts ?? 0) >= 3 })  // b had several chances to acquire
            #expect(!b.isLeading)
            #expect(!reconciled.all.contains { $0.hasPrefix("b:") })
            let lease = try await client.get(.leases, namespace: "le1", name: "lock")
            #expect(lease[path: "spec", "holderIdentity"] == "a")
            #expect(lease[path: "spec", "leaseDurationSeconds"] == 2)

            // Stop a without releasing: b must wait for the lease to expire (≈2 s), then lead.
            let stopped = ContinuousClock.now
            a.stop()
            try await runA.value
            #expect(await eventually(timeout: .seconds(6)) { b.isLeading })
            let takeover = ContinuousClock.now - stopped
            #expect(takeover >= .milliseconds(1000))  // not "at once": the lease was still valid
            #expect(takeover <= .milliseconds(4500))  // within lease duration + retry slack
            #expect(await eventually { reconciled.all.contains("b:le1/one") })  // b's informer replays existing objects
            let lease2 = try await client.get(.leases, namespace: "le1", name: "lock")
            #expect(lease2[path: "spec", "holderIdentity"] == "b")
            #expect(lease2[path: "spec", "leaseTransitions"] == 1)
            b.stop()
            try await runB.value
        }
    }

    @Test func leaseIsReleasedAtOnceOnSIGTERM() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "le2")
            let reconciled = Recorder<String>()
            let a = await makeManager(client, id: "a", namespace: "le2", lease: "lock", reconciled: reconciled)
            let b = await makeManager(client, id: "b", namespace: "le2", lease: "lock", reconciled: reconciled)
            let runA = Task { try await a.runUntilSignalled() }
            await a.waitUntilLeading()
            let runB = Task { try await b.run() }
            #expect(await eventually { (b.leaderElector?.attempts ?? 0) >= 2 })  // b tried the held lease
            #expect(!b.isLeading)

            let signalled = ContinuousClock.now
            kill(getpid(), SIGTERM)
            try await runA.value  // graceful stop: returns normally (exit code 0 for the binary)
            let lease = try await client.get(.leases, namespace: "le2", name: "lock")
            // Released (holder cleared) or already taken over by b.
            let holder = lease[path: "spec", "holderIdentity"]?.stringValue ?? ""
            #expect(holder == "" || holder == "b")
            #expect(await eventually(timeout: .seconds(3)) { b.isLeading })
            #expect(ContinuousClock.now - signalled < .milliseconds(1900))  // below the 2 s lease duration: released, not expired
            b.stop()
            try await runB.value
        }
    }

    @Test func healthAndMetricsEndpoints() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "ep")
            let reconciled = Recorder<String>()
            let m = await makeManager(client, id: "m", namespace: "ep", lease: "ep-lock", reconciled: reconciled, endpoints: true)
            // An informer that can never sync keeps /readyz failing.
            let bogus = Resource(group: "nothing.example.com", version: "v1", plural: "things", kind: "Thing", namespaced: true)
            _ = m.informer(for: bogus)
            let run = Task { try await m.run() }
            await m.waitUntilStarted()
            let hp = try #require(m.healthPort)
            let mp = try #require(m.metricsPort)

            let healthz = try await httpGet(port: hp, path: "/healthz")
            #expect(healthz.status == 200 && healthz.body == "ok")
            let readyz = try await httpGet(port: hp, path: "/readyz")
            #expect(readyz.status == 500)
            #expect(readyz.body == "[+]apiserver-reachable ok\n[-]informer-sync failed: reason withheld\nhealthz check failed\n")
            let verbose = try await httpGet(port: hp, path: "/healthz?verbose")
            #expect(verbose.body == "[+]ping ok\nhealthz check passed\n")
            m.stop()
            try await run.value
        }
    }

    /// A manager whose API server went away reports it on /readyz once the outage lasts longer than
    /// `apiServerUnreachableAfter`, and is ready again when the server is back.
    @Test func readinessReportsAnUnreachableAPIServer() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "down")
            let options = ManagerOptions(
                healthBindAddress: BindAddress(host: "127.0.0.1", port: 0), gracefulShutdownTimeout: .seconds(5),
                apiServerUnreachableAfter: .milliseconds(300))
            let m = Manager(client: client, options: options, logger: Logger(label: "down"))
            _ = m.informer(for: .configMaps, namespace: "down")
            let run = Task { try await m.run() }
            await m.waitUntilStarted()
            let hp = try #require(m.healthPort)
            #expect(await eventually { (try? await httpGet(port: hp, path: "/readyz").status) == 200 })
            let outage = Task { try await server.restart(downtime: .seconds(4)) }
            #expect(
                await eventually {
                    guard let r = try? await httpGet(port: hp, path: "/readyz/apiserver-reachable") else { return false }
                    return r.status == 500 && r.body.contains("list/watch failing for")
                })
            #expect(try await httpGet(port: hp, path: "/readyz").status == 500)
            try await outage.value
            #expect(await eventually { (try? await httpGet(port: hp, path: "/readyz").status) == 200 })
            m.stop()
            try await run.value
        }
    }

    @Test func metricsAfterReconciles() async throws {
        try await withTestAPIServer { server in
            let client = try makeClient(server)
            defer { Task { try? await client.shutdown() } }
            try await createNamespace(client, "mx")
            let reconciled = Recorder<String>()
            let m = await makeManager(client, id: "m", namespace: "mx", lease: "mx-lock", reconciled: reconciled, endpoints: true)
            let run = Task { try await m.run() }
            await m.waitUntilLeading()
            let hp = try #require(m.healthPort)
            let mp = try #require(m.metricsPort)
            let readyz = try await httpGet(port: hp, path: "/readyz")
            #expect(readyz.status == 200 && readyz.body == "ok")
            for i in 0..<3 { _ = try await client.create(.configMaps, namespace: "mx", configMap("c\(i)", "mx")) }
            #expect(await eventually { reconciled.count >= 3 })
            let metrics = try await httpGet(port: mp, path: "/metrics")
            #expect(metrics.status == 200)
            let body = metrics.body
            #expect(body.contains(#"controller_runtime_reconcile_total{controller="cm",result="success"} 3"#))
            #expect(body.contains(#"controller_runtime_reconcile_errors_total{controller="cm"} 0"#))
            #expect(body.contains("# TYPE controller_runtime_reconcile_time_seconds histogram"))
            #expect(body.contains(#"controller_runtime_reconcile_time_seconds_count{controller="cm"} 3"#))
            #expect(body.contains(#"controller_runtime_max_concurrent_reconciles{controller="cm"} 2"#))
            #expect(body.contains(#"workqueue_adds_total{controller="cm",name="cm"} 3"#))
            #expect(body.contains(#"workqueue_depth{controller="cm",name="cm"} 0"#))
            #expect(body.contains(#"workqueue_queue_duration_seconds_count{controller="cm",name="cm"} 3"#))
            #expect(body.contains(#"workqueue_retries_total{controller="cm",name="cm"} 0"#))
            #expect(body.contains(#"leader_election_master_status{name="mx-lock"} 1"#))
            // client-go's request metrics and the Go client's process metrics, as dashboards read them.
            let host = "127.0.0.1:\(server.port)"
            #expect(body.contains(#"rest_client_requests_total{code="201",host="\#(host)",method="POST"}"#))
            #expect(body.contains(#"rest_client_requests_total{code="200",host="\#(host)",method="GET"}"#))
            #expect(body.contains(#"rest_client_request_duration_seconds_count{host="\#(host)",verb="GET"}"#))
            for name in [
                "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
                "process_start_time_seconds",
            ] {
                let line = body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let value = line.flatMap { Double($0.split(separator: " ")[1]) }
                #expect((value ?? 0) > 0, "\(name): \(String(describing: line))")
            }
            #expect(try await httpGet(port: mp, path: "/other").status == 404)
            m.stop()
            try await run.value
            // The endpoints are gone after shutdown.
            await #expect(throws: (any Error).self) { _ = try await httpGet(port: mp, path: "/metrics") }
        }
    }
}

@Suite struct ControllerTests {
    @Test func errorsBackOffWithoutHotLoopAndRequeueAfterIsExact() async throws {
        let registry = MetricsRegistry()
        let attempts = Recorder<ContinuousClock.Instant>()
        let controller = Controller(
            name: "flaky",
            reconciler: ClosureReconciler { req in
                attempts.append(.now)
                if req.name == "fail" { throw HTTPTestError(description: "boom") }
                return .requeueAfter(.milliseconds(150))
            }, maxConcurrentReconciles: 3,
            rateLimiter: ItemExponentialFailureRateLimiter(baseDelay: .milliseconds(20), maxDelay: .seconds(10)),
            metrics: registry)
        let run = Task { await controller.run() }
        controller.enqueue(ReconcileRequest(namespace: "n", name: "fail"))
        // Retries keep coming, each after a doubled delay (20, 40, 80 ms...): never a hot loop.
        #expect(await eventually(timeout: .seconds(5)) { attempts.count >= 4 })
        controller.shutdown()
        await run.value
        let gaps = zip(attempts.all.dropFirst(), attempts.all).map { $0 - $1 }
        for (i, gap) in gaps.enumerated() { #expect(gap >= .milliseconds(20 << i) - .milliseconds(2)) }
        #expect(controller.queue.numRequeues("n/fail") == attempts.count)
        let text = registry.exposition()
        #expect(text.contains(#"controller_runtime_reconcile_errors_total{controller="flaky"} \#(attempts.count)"#))
    }

    @Test func requeueAfterUsesTheExactDelay() async throws {
        let registry = MetricsRegistry()
        let attempts = Recorder<ContinuousClock.Instant>()
        let controller = Controller(
            name: "periodic",
            reconciler: ClosureReconciler { _ in
                attempts.append(.now)
                return .requeueAfter(.milliseconds(200))
            }, metrics: registry)
        controller.enqueueOnStart(ReconcileRequest(namespace: nil, name: "tick"))
        let run = Task { await controller.run() }
        #expect(await eventually(timeout: .seconds(3)) { attempts.count >= 3 })
        controller.shutdown()
        await run.value
        let t = attempts.all
        try #require(t.count >= 3)
        for i in 1..<3 {
            let gap = t[i] - t[i - 1]
            #expect(gap >= .milliseconds(195) && gap < .seconds(2))
        }
        #expect(controller.queue.numRequeues("tick") == 0)
    }

    @Test func shutdownLetsInFlightReconcilesFinish() async throws {
        let finished = Recorder<String>()
        let started = Recorder<String>()
        let slowWork = Gate()
        let controller = Controller(
            name: "slow",
            reconciler: ClosureReconciler { req in
                started.append(req.key)
                try await slowWork.wait()
                finished.append(req.key)
                return .done
            }, maxConcurrentReconciles: 2, metrics: MetricsRegistry())
        let run = Task { await controller.run() }
        controller.enqueue(ReconcileRequest(namespace: "n", name: "a"))
        controller.enqueue(ReconcileRequest(namespace: "n", name: "b"))
        controller.enqueue(ReconcileRequest(namespace: "n", name: "c"))
        #expect(await eventually { started.count == 2 })
        controller.shutdown()
        slowWork.open()  // the in-flight work ends only after the shutdown request
        await run.value
        #expect(Set(finished.all) == Set(started.all))  // in-flight ones completed
        #expect(started.count == 2)  // no new work taken after shutdown
    }

    @Test func reconcileTimeoutCancelsAndCountsAsError() async throws {
        let registry = MetricsRegistry()
        let controller = Controller(
            name: "stuck",
            reconciler: ClosureReconciler { _ in
                try await Gate().wait()  // never opened: only the timeout ends it
                return .done
            }, rateLimiter: ItemExponentialFailureRateLimiter(baseDelay: .seconds(60)), reconcileTimeout: .milliseconds(100),
            metrics: registry)
        let run = Task { await controller.run() }
        controller.enqueue(ReconcileRequest(namespace: nil, name: "x"))
        #expect(
            await eventually(timeout: .seconds(3)) {
                registry.exposition().contains(#"controller_runtime_reconcile_errors_total{controller="stuck"} 1"#)
            })
        controller.shutdown()
        await run.value
    }
}
