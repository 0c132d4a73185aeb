import AsyncHTTPClient
import KubeCore
import NIOCore
import NIOHTTP1

extension KubernetesClient {
    /// Watches a collection (`nil` namespace = all namespaces). The stream yields events until
    /// the server ends the watch (its timeout), the consumer stops iterating, or an error:
    /// an `ERROR` event or an HTTP error ends it with a ``KubeError`` — kind `.gone` for 410
    /// (resourceVersion too old: relist). Establishing the watch follows the GET retry policy.
    public func watch(_ resource: Resource, namespace: String?, options: WatchOptions = .init()) -> AsyncThrowingStream<WatchEvent, Error> {
        let path = resource.collectionPath(namespace: resource.namespaced ? namespace : nil)
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, Error>.makeStream()
        let task = Task {
            do {
                // The server ends the watch after timeoutSeconds; allow slack before giving up
                // on our side. Without a timeout the server picks one (30-60 min).
                let timeout = options.timeoutSeconds.map { TimeAmount.seconds(Int64($0) + 30) }
                let response = try await self.send(
                    .GET, path: path, query: options.queryItems, body: nil, contentType: nil,
                    deadline: { timeout.map { .now() + $0 } ?? .distantFuture })
                var splitter = LineSplitter()
                for try await chunk in response.body {
                    for line in splitter.append(chunk) {
                        if let event = try Self.decodeWatchLine(line) { continuation.yield(event) }
                    }
                }
                if let rest = splitter.finish(), let event = try Self.decodeWatchLine(rest) {
                    continuation.yield(event)
                }
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch let error as KubeError {
                continuation.finish(throwing: error)
            } catch {
                if Task.isCancelled {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: KubeError.transport("watch \(path): \(Self.describe(error))"))
                }
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Decodes one line of a watch stream; `nil` for blank lines.
    static func decodeWatchLine(_ line: [UInt8]) throws -> WatchEvent? {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { return nil }
        let json: JSON
        do {
            json = try JSON.parse(line)
        } catch {
            throw KubeError.other("watch: undecodable event: \(error)")
        }
        guard let typeName = json["type"]?.stringValue else {
            throw KubeError.other("watch: event without type")
        }
        let object = json["object"] ?? .null
        if typeName == "ERROR" {
            throw KubeError.fromStatus(object)
        }
        guard let type = WatchEvent.EventType(rawValue: typeName) else {
            throw KubeError.other("watch: unknown event type \"\(typeName)\"")
        }
        return WatchEvent(type: type, object: object)
    }
}

/// Splits a byte stream into newline-terminated lines (a watch stream sends one JSON event per line).
struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func append(_ chunk: ByteBuffer) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        let view = chunk.readableBytesView
        var start = view.startIndex
        while let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if pending.isEmpty {
                lines.append(Array(view[start..<newline]))
            } else {
                pending += view[start..<newline]
                lines.append(pending)
                pending = []
            }
            start = view.index(after: newline)
        }
        pending += view[start...]
        return lines
    }

    mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return pending.isEmpty ? nil : pending
    }
}

extension KubernetesClient {
    /// A watch that survives ordinary stream ends: when the server closes the watch (timeout,
    /// connection loss) it is re-established from the last resourceVersion seen (events and
    /// bookmarks), like client-go's RetryWatcher. It ends with a ``KubeError`` of kind `.gone`
    /// when that resourceVersion has expired (the caller must relist), or any other non-transport
    /// error. Start from a list's resourceVersion; starting without one replays the current state
    /// only once (later reconnects continue from the last event).
    public func watchResuming(_ resource: Resource, namespace: String?, options: WatchOptions = .init()) -> AsyncThrowingStream<WatchEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, Error>.makeStream()
        let task = Task {
            var opts = options
            var failures = 0
            while !Task.isCancelled {
                do {
                    for try await event in self.watch(resource, namespace: namespace, options: opts) {
                        if let rv = event.resourceVersion, !rv.isEmpty { opts.resourceVersion = rv }
                        failures = 0
                        continuation.yield(event)
                    }
                    if Task.isCancelled { break }
                } catch let error as KubeError
                    where error.kind == .transport || error.kind == .internal || error.kind == .serverTimeout || error.kind == .tooManyRequests
                {
                    failures += 1
                    if failures > 10 {
                        continuation.finish(throwing: error)
                        return
                    }
                    let delay = self.backoff(attempt: failures - 1, retryAfter: error.retryAfterSeconds)
                    do { try await Task.sleep(for: delay) } catch { break }
                } catch {
                    continuation.finish(throwing: error)
                    return
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
