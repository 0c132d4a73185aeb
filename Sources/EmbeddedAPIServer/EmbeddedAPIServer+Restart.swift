import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// A lifecycle call that the server cannot honour (e.g. ``EmbeddedAPIServer/restart(downtime:)`` after shutdown).
public struct EmbeddedAPIServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
}

extension EmbeddedAPIServer {
    /// Simulates an API-server restart: stops listening and closes every connection and watch,
    /// flushes the state, waits `downtime`, then listens again on the **same port** with the same
    /// CA, serving certificate and token, and returns once it accepts connections.
    ///
    /// With a data directory the state is reloaded from disk (proving persistence); without one
    /// the in-memory objects are kept. Either way objects survive, resourceVersions keep
    /// increasing, and the watch history is gone (clients resuming an older resourceVersion get
    /// 410 Expired and relist), as after a real restart with a cold watch cache.
    /// Not to be called concurrently with itself or ``shutdown()``.
    public func restart(downtime: Duration = .zero) async throws {
        if stopped.withLock({ $0 }) { throw EmbeddedAPIServerError(description: "restart after shutdown") }
        let old = http.withLock { h in
            defer { h = nil }
            return h
        }
        router.store.read { s in
            for key in Array(s.watchers.keys) { s.finishWatchers(storageKey: key) }
        }
        // Like kube-apiserver's graceful termination: watches end cleanly, then connections close.
        await old?.shutdown(grace: .milliseconds(500))
        let configuration = configuration
        let persistence = try router.store.state.withLock { (s: inout StoreState) throws -> Persistence? in
            if let p = s.persistence {
                try p.compact(rv: s.rv, collections: s.collections)
                p.close()
                var reloaded = try Self.loadState(configuration)
                // Never go back, even if the clock did.
                if reloaded.rv < s.rv {
                    reloaded.rv = s.rv
                    reloaded.compactedRV = s.rv
                }
                s = reloaded
            } else {
                s.history.removeAll()
                s.compactedRV = s.rv
                s.watchers = [:]
            }
            router.store.publishResources(&s)
            return s.persistence
        }
        router.store.persistenceReplaced(persistence)
        if downtime > .zero { try? await Task.sleep(for: downtime) }
        // The old listener is closed; SO_REUSEADDR lets the port be bound again at once, but retry
        // briefly in case the kernel has not released it yet.
        var lastError: Error?
        for attempt in 0..<50 {
            do {
                let server = try await HTTPServer(
                    host: configuration.host, port: port, tls: tls, router: router, threads: configuration.threads,
                    watchBatchInterval: configuration.watchBatchInterval,
                    watchBatchMaxInterval: configuration.watchBatchMaxInterval,
                    watchBookmarkInterval: configuration.watchBookmarkInterval,
                    limits: configuration.listenerLimits, maxWatchPendingBytes: configuration.maxWatchPendingBytes,
                    maxWatchStall: configuration.maxWatchStall)
                http.withLock { $0 = server }
                server.start()
                router.faults.count { $0.restarts += 1 }
                return
            } catch {
                lastError = error
                if attempt < 49 { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
        throw EmbeddedAPIServerError(description: "could not listen on port \(port) again after restart: \(String(describing: lastError))")
    }
}
