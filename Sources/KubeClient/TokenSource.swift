import Foundation
import Synchronization

/// A bearer token read from a file, re-read whenever the file changes.
///
/// The kubelet rotates projected service-account tokens by swapping a symlink, so the file's
/// identity (inode), size or modification time change; we `stat` it before each request (cheap)
/// and re-read on change. A 401 answer forces a re-read too. If a re-read fails (the file is
/// briefly missing during a swap) the last good token is kept, as client-go does.
final class TokenFileSource: Sendable {
    let path: String

    private struct Stamp: Equatable {
        var inode: UInt64
        var size: Int64
        var modified: Double
    }

    private struct State {
        var token: String?
        var stamp: Stamp?
    }

    private let state = Mutex(State())

    init(path: String) {
        self.path = path
    }

    /// The current token.
    /// - Parameter forceReload: re-read even if the file looks unchanged (after a 401).
    func token(forceReload: Bool = false) throws -> String {
        let stamp = Self.stamp(of: path)
        let cached: String? = state.withLock { st in
            if !forceReload, let token = st.token, stamp == nil || stamp == st.stamp { return token }
            return nil
        }
        if let cached { return cached }
        do {
            let text = try readText(path, file: path, field: nil, what: "token file")
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { throw ConfigurationError(file: path, "token file is empty") }
            state.withLock { st in
                st.token = token
                st.stamp = stamp
            }
            return token
        } catch {
            if let old = state.withLock({ $0.token }) { return old }
            throw KubeError.other("cannot read bearer token: \(error)")
        }
    }

    private static func stamp(of path: String) -> Stamp? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let inode = (attrs[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        let size = (attrs[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return Stamp(inode: inode, size: size, modified: modified)
    }
}

/// Client-side rate limiter: a token bucket refilled at `qps` tokens per second holding at
/// most `burst` tokens — the semantics of client-go's default `flowcontrol` limiter.
/// Callers reserve a token and sleep for the returned delay outside the lock, so waiting
/// requests are served in reservation order.
final class TokenBucket: Sendable {
    let qps: Double
    let burst: Double

    private struct State {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let state: Mutex<State>

    init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = Double(max(1, burst))
        self.state = Mutex(State(tokens: Double(max(1, burst)), last: .now))
    }

    /// Takes one token, returning how long to wait before using it.
    func reserve() -> Duration {
        state.withLock { st in
            let now = ContinuousClock.now
            let elapsed = st.last.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            st.tokens = min(burst, st.tokens + seconds * qps)
            st.last = now
            st.tokens -= 1
            if st.tokens >= 0 { return .zero }
            return .nanoseconds(Int64((-st.tokens / qps) * 1e9))
        }
    }

    func wait() async throws {
        let delay = reserve()
        if delay > .zero { try await Task.sleep(for: delay) }
    }
}
