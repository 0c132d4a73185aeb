import Synchronization
import TestSupport
import Testing

@testable import KubeRuntime

@Suite struct RateLimiterTests {
    @Test func exponentialBackoffDoublesFrom5msAndCapsAt1000s() {
        let limiter = ItemExponentialFailureRateLimiter()
        #expect(limiter.when("a") == .milliseconds(5))
        #expect(limiter.when("a") == .milliseconds(10))
        #expect(limiter.when("a") == .milliseconds(20))
        #expect(limiter.numRequeues("a") == 3)
        // Other keys are independent.
        #expect(limiter.when("b") == .milliseconds(5))
        for _ in 0..<40 { _ = limiter.when("a") }
        #expect(limiter.when("a") == .seconds(1000))
        limiter.forget("a")
        #expect(limiter.numRequeues("a") == 0)
        #expect(limiter.when("a") == .milliseconds(5))
    }

    @Test func bucketAllowsBurstThenSpacesByQPS() {
        let bucket = BucketRateLimiter(qps: 10, burst: 3)
        #expect(bucket.when("x") == .zero)
        #expect(bucket.when("y") == .zero)
        #expect(bucket.when("z") == .zero)
        let fourth = bucket.when("w")
        #expect(fourth > .milliseconds(80) && fourth <= .milliseconds(100))
        let fifth = bucket.when("v")
        #expect(fifth > .milliseconds(180) && fifth <= .milliseconds(200))
    }

    @Test func maxOfTakesTheLongerDelay() {
        let limiter = MaxOfRateLimiter([ItemExponentialFailureRateLimiter(), BucketRateLimiter(qps: 10, burst: 1)])
        #expect(limiter.when("a") == .milliseconds(5))  // bucket had a token
        let second = limiter.when("a")  // bucket empty: ~100 ms > 10 ms
        #expect(second > .milliseconds(50))
        #expect(limiter.numRequeues("a") == 2)
    }
}

@Suite struct WorkQueueTests {
    @Test func dedupesWaitingKeys() async {
        let q = WorkQueue(name: "t")
        q.add("a")
        q.add("a")
        q.add("b")
        q.add("a")
        #expect(q.count == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        #expect(q.count == 0)
    }

    @Test func keyInFlightIsNotHandedOutTwiceAndIsRequeuedOnDone() async {
        let q = WorkQueue(name: "t")
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")  // arrives while processing
        q.add("a")
        #expect(q.count == 0)  // held back, not queued
        q.add("b")
        #expect(await q.get() == "b")
        q.done("a")
        #expect(q.count == 1)
        #expect(await q.get() == "a")
        q.done("a")
        q.done("b")
        #expect(q.count == 0)
    }

    @Test func concurrentWorkersNeverProcessOneKeyTwice() async {
        let q = WorkQueue(name: "t")
        let active = LockedBox<Set<String>>([])
        let violations = LockedBox(0)
        let processed = LockedBox(0)
        for i in 0..<200 { q.add("k\(i % 10)") }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while let key = await q.get() {
                        let dup = active.withLock { !$0.insert(key).inserted }
                        if dup { violations.withLock { $0 += 1 } }
                        if Int.random(in: 0..<3) == 0 { q.add(key) }  // re-add while in flight
                        await Task.yield()  // let other workers run while this key is in flight
                        active.withLock { _ = $0.remove(key) }
                        processed.withLock { $0 += 1 }
                        q.done(key)
                    }
                }
            }
            // Let the workers drain, then stop them.
            _ = await eventually(interval: .milliseconds(5)) { q.count == 0 && q.inFlight == 0 }
            q.shutdown()
        }
        #expect(violations.withLock { $0 } == 0)
        #expect(processed.withLock { $0 } >= 10)
    }

    @Test func addAfterDelaysAndKeepsEarliestDeadline() async throws {
        let q = WorkQueue(name: "t")
        let start = ContinuousClock.now
        q.addAfter("a", .milliseconds(300))
        q.addAfter("a", .milliseconds(50))  // earlier wins
        q.addAfter("a", .seconds(10))  // later is ignored
        #expect(q.count == 0)
        #expect(await q.get() == "a")
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(45) && elapsed < .seconds(5))
        q.done("a")
        // No delayed add is left, so the superseded 300 ms and 10 s adds can never fire.
        #expect(q.delayedCount == 0)
        #expect(q.count == 0)
    }

    @Test func rateLimitedAddsBackOffAndForgetResets() async {
        let q = WorkQueue(name: "t", rateLimiter: ItemExponentialFailureRateLimiter(baseDelay: .milliseconds(20)))
        q.addRateLimited("a")
        q.addRateLimited("a")
        #expect(q.numRequeues("a") == 2)
        q.forget("a")
        #expect(q.numRequeues("a") == 0)
        #expect(await q.get() == "a")
    }

    @Test func shutdownWakesWaitersAndRefusesWork() async {
        let q = WorkQueue(name: "t")
        async let waiting = q.get()
        #expect(await eventually { q.waitingGets == 1 })
        q.shutdown()
        #expect(await waiting == nil)
        q.add("x")
        #expect(q.count == 0)
        #expect(await q.get() == nil)
    }

    @Test func waitForInFlightReturnsAfterDone() async {
        let q = WorkQueue(name: "t")
        q.add("a")
        _ = await q.get()
        q.shutdown()
        let finished = LockedBox(false)
        async let wait: Void = {
            await q.waitForInFlight()
            finished.withLock { $0 = true }
        }()
        // Parked behind the in-flight key: it cannot finish before `done`.
        #expect(await eventually { q.waitingForInFlight == 1 })
        #expect(finished.withLock { $0 } == false)
        q.done("a")
        await wait
        #expect(finished.withLock { $0 })
    }

    @Test func cancelledGetReturnsNil() async {
        let q = WorkQueue(name: "t")
        let task = Task { await q.get() }
        #expect(await eventually { q.waitingGets == 1 })
        task.cancel()
        #expect(await task.value == nil)
        q.add("a")
        #expect(await q.get() == "a")  // the cancelled waiter did not swallow it
    }

    @Test func metricsCountAddsAndDepth() async {
        let registry = MetricsRegistry()
        let q = WorkQueue(name: "demo", metrics: registry.workQueueMetrics(name: "demo"))
        q.add("a")
        q.add("b")
        q.add("a")
        let text = registry.exposition()
        #expect(text.contains(#"workqueue_adds_total{controller="demo",name="demo"} 2"#))
        #expect(text.contains(#"workqueue_depth{controller="demo",name="demo"} 2"#))
        _ = await q.get()
        q.addRateLimited("z")
        #expect(registry.exposition().contains(#"workqueue_retries_total{controller="demo",name="demo"} 1"#))
    }
}

final class LockedBox<T: Sendable>: Sendable {
    private let m: Mutex<T>
    init(_ value: T) { m = Mutex(value) }
    func withLock<R>(_ body: (inout T) -> R) -> R { m.withLock { body(&$0) } }
}
