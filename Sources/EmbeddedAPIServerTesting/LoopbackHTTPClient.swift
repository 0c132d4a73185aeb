import EmbeddedAPIServer
import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// I/O threads shared by several ``LoopbackHTTPClient``s (benchmarks: many connections, few threads).
public final class LoopbackEventLoops: Sendable {
    let group: MultiThreadedEventLoopGroup

    /// Starts `threads` I/O threads (at least one).
    public init(threads: Int = 1) { group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads)) }

    /// Stops the threads (after the clients using them are closed).
    public func shutdown() async { try? await group.shutdownGracefully() }

    /// A task executor that runs jobs on one of these threads. Tasks that send requests through
    /// clients on these loops then resume on the thread that completed their response: no wake-up
    /// of a pool thread and no hop back per request (a benchmark's own cost shares the cores).
    public func makeTaskExecutor() -> any TaskExecutor { EventLoopTaskExecutor(loop: group.next()) }
}

/// Runs task jobs on a NIO event loop (see ``LoopbackEventLoops/makeTaskExecutor()``).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// A minimal HTTPS/1.1 client for tests and benchmarks of the embedded server: one persistent
/// connection, requests sent one at a time in order, plus streaming watches on their own
/// connections. It trusts the server's CA and sends its bearer token (or a client certificate).
public final class LoopbackHTTPClient: Sendable {
    /// A response.
    public struct Response: Sendable {
        /// HTTP status code.
        public var status: Int
        /// Header fields in the order received.
        public var headers: [(String, String)]
        /// The (de-chunked) body.
        public var body: [UInt8]
        /// The body parsed as JSON (`.null` when it is not JSON).
        public var json: JSON { (try? JSON.parse(body)) ?? .null }
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The first value of a header field (case-insensitive name).
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// A connection or protocol failure of the client itself (not an HTTP error status).
    public struct ClientError: Error, CustomStringConvertible {
        /// What failed.
        public var description: String
    }

    let host: String
    let port: Int
    let sslContext: NIOSSLContext
    let token: String?
    let group: MultiThreadedEventLoopGroup
    /// Whether ``close()`` shuts `group` down (false for a caller-provided group).
    let ownsGroup: Bool
    /// The keep-alive connection for ``request(_:_:body:headers:)`` (connecting or connected).
    let connection = Mutex<Task<Channel, Error>?>(nil)
    let closed = Mutex(false)
    /// Host and Authorization, built once (benchmarks send many requests).
    let baseHeaders: HTTPHeaders

    /// Connects lazily; `token` nil sends no Authorization header. Pass `eventLoops` to share
    /// I/O threads between many clients (benchmarks); otherwise each client has one thread.
    public init(
        host: String = "127.0.0.1", port: Int, caPEM: String, token: String?,
        clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil,
        eventLoops: LoopbackEventLoops? = nil
    ) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)])
        tls.applicationProtocols = ["http/1.1"]
        if let c = clientCertificatePEM, let k = clientKeyPEM {
            tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(c.utf8), format: .pem))]
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(k.utf8), format: .pem))
        }
        sslContext = try NIOSSLContext(configuration: tls)
        self.host = host
        self.port = port
        self.token = token
        var base = HTTPHeaders()
        base.add(name: "Host", value: "\(host):\(port)")
        if let token { base.add(name: "Authorization", value: "Bearer \(token)") }
        baseHeaders = base
        group = eventLoops?.group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        ownsGroup = eventLoops == nil
    }

    /// A client for `server` authenticated with its token.
    public convenience init(server: EmbeddedAPIServer, token: String? = nil, eventLoops: LoopbackEventLoops? = nil) throws {
        try self.init(port: server.port, caPEM: server.caCertificatePEM, token: token ?? server.token, eventLoops: eventLoops)
    }

    /// A client for the server of the kubeconfig file at `path`, as a server in another process
    /// writes it (`--kubeconfig-out`): the first cluster's port and CA, the first user's token.
    /// Nil while the file is missing or incomplete (the server writes it once it serves).
    public static func forKubeconfig(at path: String) throws -> LoopbackHTTPClient? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let doc = try? JSON.parseYAML(text),
            let cluster = doc["clusters"]?.arrayValue?.first?["cluster"],
            let port = cluster["server"]?.stringValue?.split(separator: ":").last.flatMap({ Int($0) }),
            let ca = cluster["certificate-authority-data"]?.stringValue.flatMap({ Base64.decode($0) }),
            let token = doc["users"]?.arrayValue?.first?[path: "user", "token"]?.stringValue
        else { return nil }
        return try LoopbackHTTPClient(port: port, caPEM: String(decoding: ca, as: UTF8.self), token: token)
    }

    func connect() async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let ssl = sslContext
        let host = host
        return try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: ssl, serverHostname: nil)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    func requestHead(method: String, path: String, headers: [(String, String)], bodyCount: Int) -> HTTPRequestHead {
        var hs = baseHeaders
        for (k, v) in headers { hs.add(name: k, value: v) }
        if !hs.contains(name: "Accept") { hs.add(name: "Accept", value: "application/json") }
        if bodyCount > 0 || method == "POST" || method == "PUT" || method == "PATCH" { hs.add(name: "Content-Length", value: String(bodyCount)) }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: hs)
    }

    /// Opens a connection whose requests are answered by ``ResponseHandler`` on the event loop
    /// (one hop from the caller to the loop and one back per request).
    func connectRequestChannel() async throws -> Channel {
        let ssl = sslContext
        return try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: nil))
                    // A request's head and body in one TLS record.
                    try channel.pipeline.syncOperations.addHandler(ClientHandlers.writeCoalescer())
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler())
                }
            }
            .connect(host: host, port: port).get()
    }

    /// The current keep-alive connection (reused) or a new one.
    func requestChannel() async throws -> (Channel, reused: Bool) {
        let (task, reused) = connection.withLock { c -> (Task<Channel, Error>, Bool) in
            if let c { return (c, true) }
            let t = Task { try await self.connectRequestChannel() }
            c = t
            return (t, false)
        }
        do {
            let channel = try await task.value
            if channel.isActive { return (channel, reused) }
        } catch {
            connection.withLock { c in if c == task { c = nil } }
            throw error
        }
        // The server closed it (Connection: close, restart, dropped): replace it once.
        connection.withLock { c in if c == task { c = nil } }
        return try await requestChannel()
    }

    /// Sends one request and waits for the full response.
    public func request(_ method: String, _ path: String, body: [UInt8] = [], headers: [(String, String)] = []) async throws -> Response {
        if closed.withLock({ $0 }) { throw ClientError(description: "client closed") }
        var hs = headers
        if !body.isEmpty && !hs.contains(where: { $0.0.lowercased() == "content-type" }) { hs.append(("Content-Type", "application/json")) }
        var parts: [HTTPClientRequestPart] = [.head(requestHead(method: method, path: path, headers: hs, bodyCount: body.count))]
        if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        let outgoing = parts
        for attempt in 0..<2 {
            let (channel, reused) = try await requestChannel()
            let promise = channel.eventLoop.makePromise(of: Response.self)
            channel.writeAndFlush(ResponseHandler.Outgoing(parts: outgoing, promise: promise), promise: nil)
            do {
                return try await promise.futureResult.get()
            } catch let error as ResponseHandler.ConnectionLost where reused && attempt == 0 {
                // A reused keep-alive connection may have been closed by the server: retry once on a fresh one.
                _ = error
                continue
            }
        }
        throw ClientError(description: "connection closed before the response ended")
    }

    /// Sends JSON.
    public func request(_ method: String, _ path: String, json: JSON, contentType: String = "application/json") async throws -> Response {
        try await request(method, path, body: json.serialized(), headers: [("Content-Type", contentType)])
    }

    /// Opens a watch (`path` should carry `watch=true`) on its own connection and yields each
    /// event line parsed as JSON until the server ends the stream. Non-200 answers throw.
    public func watch(_ path: String, headers: [(String, String)] = []) -> AsyncThrowingStream<JSON, Error> {
        watchStream(path, headers: headers) { pending, chunk, continuation in
            pending.append(contentsOf: chunk.readableBytesView)
            while let nl = pending.firstIndex(of: 10) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                if line.isEmpty { continue }
                continuation.yield(try JSON.parse(line))
            }
        }
    }

    /// Opens a watch and yields, per received chunk, how many complete event lines it held,
    /// without parsing them (benchmarks counting deliveries at high rates). Non-200 answers throw.
    public func watchLineCounts(_ path: String) -> AsyncThrowingStream<Int, Error> {
        watchStream(path, headers: []) { _, chunk, continuation in
            let n = chunk.readableBytesView.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
            if n > 0 { continuation.yield(n) }
        }
    }

    /// One watch request on a connection of its own: each body chunk of a 200 answer goes to
    /// `consume` (with bytes it keeps between chunks); a non-200 answer throws with its body.
    func watchStream<Element: Sendable>(
        _ path: String, headers: [(String, String)],
        consume: @escaping @Sendable (_ pending: inout [UInt8], ByteBuffer, AsyncThrowingStream<Element, Error>.Continuation) throws -> Void
    ) -> AsyncThrowingStream<Element, Error> {
        let (stream, continuation) = AsyncThrowingStream<Element, Error>.makeStream()
        let task = Task { [self] in
            do {
                let channel = try await connect()
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(requestHead(method: "GET", path: path, headers: headers, bodyCount: 0)))
                    try await outbound.write(.end(nil))
                    var pending: [UInt8] = []
                    var status = 0
                    for try await part in inbound {
                        switch part {
                        case .head(let h): status = Int(h.status.code)
                        case .body(let b):
                            if status == 200 {
                                try consume(&pending, b, continuation)
                            } else {
                                pending.append(contentsOf: b.readableBytesView)
                            }
                        case .end:
                            if status != 200 {
                                throw ClientError(description: "watch failed with HTTP \(status): \(String(decoding: pending, as: UTF8.self))")
                            }
                            continuation.finish()
                            return
                        }
                    }
                    continuation.finish()
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Opens a watch and counts its event lines into `counter` on the client's event loop: no
    /// JSON parsing, no HTTP decoder objects and no task wake-up per received chunk (a small
    /// chunked-encoding reader counts newlines in the decrypted bytes), so a benchmark reading many
    /// fast streams on shared cores spends little CPU on it. Returns once the request is sent.
    public func countWatchLines(_ path: String, into counter: WatchLineCounter) async throws {
        let ssl = sslContext
        let channel = try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ChunkedLineCounter(counter: counter))
                }
            }
            .connect(host: host, port: port).get()
        var request = "GET \(path) HTTP/1.1\r\n"
        for h in baseHeaders { request += "\(h.name): \(h.value)\r\n" }
        request += "Accept: application/json\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
    }

    /// A watch whose response is not read until ``StalledWatch/drain()`` — simulates a client
    /// that falls behind (the server's writes back up through TCP).
    public final class StalledWatch: Sendable {
        let resume: AsyncStream<Void>.Continuation
        let result: Task<[JSON], Error>

        init(resume: AsyncStream<Void>.Continuation, result: Task<[JSON], Error>) {
            self.resume = resume
            self.result = result
        }

        /// Starts reading and returns every event until the server ends the stream.
        public func drain() async throws -> [JSON] {
            resume.yield()
            resume.finish()
            return try await result.value
        }
    }

    /// Opens a watch and does not read from it until drained.
    public func stalledWatch(_ path: String) async throws -> StalledWatch {
        let channel = try await connect()
        let (signal, resume) = AsyncStream<Void>.makeStream()
        let head = requestHead(method: "GET", path: path, headers: [], bodyCount: 0)
        let (sent, sentContinuation) = AsyncStream<Void>.makeStream()
        let task = Task<[JSON], Error> {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                sentContinuation.finish()
                for await _ in signal {}
                var events: [JSON] = []
                var buffer: [UInt8] = []
                for try await part in inbound {
                    if case .body(let b) = part {
                        buffer.append(contentsOf: b.readableBytesView)
                        while let nl = buffer.firstIndex(of: 10) {
                            let line = Array(buffer[..<nl])
                            buffer.removeSubrange(...nl)
                            if !line.isEmpty { events.append(try JSON.parse(line)) }
                        }
                    }
                    if case .end = part { break }
                }
                return events
            }
        }
        for await _ in sent {}
        return StalledWatch(resume: resume, result: task)
    }

    /// Closes the connection and the event loop.
    public func close() async {
        closed.withLock { $0 = true }
        if let task = connection.withLock({ c in
            defer { c = nil }
            return c
        }), let channel = try? await task.value {
            try? await channel.close()
        }
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}

/// Matches responses to requests on a client connection, in order, on its event loop.
final class ResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Outgoing
    typealias OutboundOut = HTTPClientRequestPart

    /// A request's parts and where its response goes.
    struct Outgoing {
        var parts: [HTTPClientRequestPart]
        var promise: EventLoopPromise<LoopbackHTTPClient.Response>
    }

    /// The connection ended before a response completed.
    struct ConnectionLost: Error, CustomStringConvertible {
        var description: String { "connection closed before the response ended" }
    }

    private var waiting: CircularBuffer<EventLoopPromise<LoopbackHTTPClient.Response>> = []
    private var status = 0
    private var headers: [(String, String)] = []
    private var closeAfter = false
    private var body: [UInt8] = []
    private var inactive = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outgoing = unwrapOutboundIn(data)
        if inactive {
            outgoing.promise.fail(ConnectionLost())
            promise?.succeed()
            return
        }
        waiting.append(outgoing.promise)
        for (i, part) in outgoing.parts.enumerated() {
            context.write(wrapOutboundOut(part), promise: i == outgoing.parts.count - 1 ? promise : nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
            headers = h.headers.map { ($0.name, $0.value) }
            // NIO's header lookup is case-insensitive: no lower-cased copies per response.
            closeAfter = h.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            body = []
        case .body(let b):
            body.append(contentsOf: b.readableBytesView)
        case .end:
            let response = LoopbackHTTPClient.Response(status: status, headers: headers, body: body)
            body = []
            if let next = waiting.popFirst() { next.succeed(response) }
            if closeAfter { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        let pending = waiting
        waiting.removeAll()
        for p in pending { p.fail(ConnectionLost()) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Totals of watch streams read by ``LoopbackHTTPClient/countWatchLines(_:into:)``.
public final class WatchLineCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let byteCount = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let ended = Atomic<Int>(0)

    /// A counter with nothing counted yet.
    public init() {}

    /// Event lines received by all streams.
    public var lines: Int { count.load(ordering: .relaxed) }
    /// Body bytes (event lines) received by all streams.
    public var bytes: Int { byteCount.load(ordering: .relaxed) }
    /// Streams answered with a non-200 status or cut before their end.
    public var failures: Int { failed.load(ordering: .relaxed) }
    /// Streams that ended (cleanly or not).
    public var streamsEnded: Int { ended.load(ordering: .relaxed) }

    func add(lines n: Int, bytes: Int) {
        count.add(n, ordering: .relaxed)
        byteCount.add(bytes, ordering: .relaxed)
    }
    func fail() { failed.add(1, ordering: .relaxed) }
    func end() { ended.add(1, ordering: .relaxed) }
}

/// Reads a watch response from the decrypted byte stream and counts its event lines (see
/// ``LoopbackHTTPClient/countWatchLines(_:into:)``): status line, headers up to the blank line,
/// then chunked framing; newlines are counted inside chunk data only.
final class ChunkedLineCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case head
        /// Reading a chunk-size line (hex digits, optional extensions, CRLF).
        case size
        case data(remaining: Int)
        /// The CRLF after chunk data.
        case dataEnd(remaining: Int)
        /// A stream that is not chunked: every byte is data until the connection closes.
        case raw
        case done
    }

    let counter: WatchLineCounter
    private var state = State.head
    private var head: [UInt8] = []
    private var size = 0
    private var ended = false

    init(counter: WatchLineCounter) { self.counter = counter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var lines = 0
        var dataBytes = 0
        var failed = false
        var finished = false
        buffer.withUnsafeReadableBytes { raw in
            guard var p = raw.baseAddress else { return }
            let end = p + raw.count
            while p < end {
                switch state {
                case .head:
                    head.append(p.load(as: UInt8.self))
                    p += 1
                    guard head.count >= 4, head.suffix(4).elementsEqual([13, 10, 13, 10]) else {
                        if head.count > 64 * 1024 {
                            failed = true
                            state = .done
                        }
                        continue
                    }
                    let text = String(decoding: head, as: UTF8.self)
                    let statusOK = text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200")
                    let chunked = text.lowercased().containsBytes("transfer-encoding: chunked")
                    head = []
                    if !statusOK {
                        failed = true
                        state = .done
                    } else {
                        state = chunked ? .size : .raw
                    }
                case .size:
                    let b = p.load(as: UInt8.self)
                    p += 1
                    switch b {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): size = size &* 16 &+ Int(b - 48)
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): size = size &* 16 &+ Int(b - 87)
                    case UInt8(ascii: "A")...UInt8(ascii: "F"): size = size &* 16 &+ Int(b - 55)
                    case 10:
                        if size == 0 {
                            finished = true
                            state = .done
                        } else {
                            state = .data(remaining: size)
                        }
                        size = 0
                    default: break  // CR, chunk extensions
                    }
                case .data(let remaining):
                    let n = min(remaining, end - p)
                    lines += Self.newlines(p, n)
                    dataBytes += n
                    p += n
                    state = remaining == n ? .dataEnd(remaining: 2) : .data(remaining: remaining - n)
                case .dataEnd(let remaining):
                    p += 1
                    state = remaining == 1 ? .size : .dataEnd(remaining: remaining - 1)
                case .raw:
                    let n = end - p
                    lines += Self.newlines(p, n)
                    dataBytes += n
                    p = end
                case .done:
                    p = end
                }
            }
        }
        if lines > 0 || dataBytes > 0 { counter.add(lines: lines, bytes: dataBytes) }
        if failed { counter.fail() }
        if failed || finished {
            finish()
            context.close(promise: nil)
        }
    }

    /// Newlines in `n` bytes at `p`; memchr skips through the line bytes with vector instructions.
    static func newlines(_ start: UnsafeRawPointer, _ n: Int) -> Int {
        var p = start
        let end = start + n
        var count = 0
        while p < end, let hit = memchr(p, 10, end - p) {
            count += 1
            p = UnsafeRawPointer(hit) + 1
        }
        return count
    }

    private func finish() {
        if !ended {
            ended = true
            counter.end()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .raw = state { finish() }
        if !ended { counter.fail() }
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
