import EmbeddedAPIServer
import KubeClient
import Synchronization

/// A Kubernetes client for `server` without client-side throttling (`qps` 0) or retries, so
/// that tests see every answer as the server gave it.
public func makeClient(_ server: EmbeddedAPIServer, qps: Double = 0) throws -> KubernetesClient {
    var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
    config.qps = qps
    config.maxRetries = 0
    return try KubernetesClient(configuration: config)
}

/// How long tests wait for something that must happen. Generous, because the suite must pass on
/// a loaded 2-core machine; a passing wait returns as soon as the condition holds, so only a
/// failing test pays it. Never use a wait to show that something did NOT happen: read a counter,
/// the server's request log or a queue instead.
public let positiveWaitTimeout: Duration = .seconds(60)

/// Polls `condition` until it holds or `timeout` passes; answers whether it held.
public func eventually(
    timeout: Duration = positiveWaitTimeout, interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await poll(timeout: timeout, interval: interval) { try await condition() ? true : nil } ?? false
}

/// Polls `produce` until it answers a value or `timeout` passes; answers that value (nil on
/// timeout).
public func poll<T>(
    timeout: Duration = positiveWaitTimeout, interval: Duration = .milliseconds(20), _ produce: () async throws -> T?
) async rethrows -> T? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await produce() { return value }
        try? await Task.sleep(for: interval)
    }
    return try await produce()
}

/// Waits until a component is idle at the current version of what it watches: `isIdle(version)`
/// holds and the version has not changed meanwhile (a write in between would carry an event the
/// component may not have handled yet). From then on nothing happens until the next change, so a
/// test can assert what did not happen. `currentVersion` is typically the object's
/// resourceVersion read from the server; `isIdle` e.g. `controller.isIdle(at:)`.
public func settled(currentVersion: () async -> String?, isIdle: (String) -> Bool) async -> Bool {
    await eventually {
        guard let before = await currentVersion(), isIdle(before) else { return false }
        return await currentVersion() == before
    }
}

/// An explicit synchronization point: tasks `wait()` until the test calls `open()`. Stands in
/// for work that takes a while (a slow or stuck reconcile) without depending on timing.
public final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// A closed gate.
    public init() {}

    /// Number of tasks waiting at the gate.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Lets every waiting and future `wait()` pass.
    public func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open; throws `CancellationError` when the task is cancelled first.
    public func wait() async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLock { s in
                    if s.open { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = c
                    return nil
                }
                if let result { c.resume(with: result) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
