import Foundation
import KubeJSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// I/O threads shared by several ``LoopbackHTTPClient``s (benchmarks: many connections, few threads).
public final class LoopbackEventLoops: Sendable {
    let group: MultiThreadedEventLoopGroup

    public init(threads: Int = 1) { group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads)) }

    /// Stops the threads (after the clients using them are closed).
    public func shutdown() async { try? await group.shutdownGracefully() }
}

/// A minimal HTTPS/1.1 client for tests and benchmarks of the embedded server: one persistent
/// connection, requests sent one at a time in order, plus streaming watches on their own
/// connections. It trusts the server's CA and sends its bearer token (or a client certificate).
public final class LoopbackHTTPClient: Sendable {
    /// A response.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// The body parsed as JSON (`.null` when it is not JSON).
        public var json: JSON { (try? JSON.parse(body)) ?? .null }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    public struct ClientError: Error, CustomStringConvertible {
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

    /// Connects lazily; `token` nil sends no Authorization header. Pass `eventLoops` to share
    /// I/O threads between many clients (benchmarks); otherwise each client has one thread.
    public init(host: String = "127.0.0.1", port: Int, caPEM: String, token: String?,
                clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil,
                eventLoops: LoopbackEventLoops? = nil) throws {
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
        group = eventLoops?.group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        ownsGroup = eventLoops == nil
    }

    /// A client for `server` authenticated with its token.
    public convenience init(server: EmbeddedAPIServer, token: String? = nil, eventLoops: LoopbackEventLoops? = nil) throws {
        try self.init(port: server.port, caPEM: server.caCertificatePEM, token: token ?? server.token, eventLoops: eventLoops)
    }

    func connect() async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let ssl = sslContext
        let host = host
        return try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
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
        var hs = HTTPHeaders()
        hs.add(name: "Host", value: "\(host):\(port)")
        if let token { hs.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { hs.add(name: k, value: v) }
        if !hs.contains(name: "Accept") { hs.add(name: "Accept", value: "application/json") }
        if bodyCount > 0 || ["POST", "PUT", "PATCH"].contains(method) { hs.add(name: "Content-Length", value: String(bodyCount)) }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: hs)
    }

    /// Opens a connection whose requests are answered by ``ResponseHandler`` on the event loop
    /// (one hop from the caller to the loop and one back per request).
    func connectRequestChannel() async throws -> Channel {
        let ssl = sslContext
        return try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: nil))
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
        let (stream, continuation) = AsyncThrowingStream<JSON, Error>.makeStream()
        let task = Task { [self] in
            do {
                let channel = try await connect()
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(requestHead(method: "GET", path: path, headers: headers, bodyCount: 0)))
                    try await outbound.write(.end(nil))
                    var buffer: [UInt8] = []
                    var status = 0
                    for try await part in inbound {
                        switch part {
                        case .head(let h): status = Int(h.status.code)
                        case .body(let b):
                            buffer.append(contentsOf: b.readableBytesView)
                            if status != 200 { continue }
                            while let nl = buffer.firstIndex(of: 10) {
                                let line = Array(buffer[..<nl])
                                buffer.removeSubrange(...nl)
                                if line.isEmpty { continue }
                                continuation.yield(try JSON.parse(line))
                            }
                        case .end:
                            if status != 200 {
                                throw ClientError(description: "watch failed with HTTP \(status): \(String(decoding: buffer, as: UTF8.self))")
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

    /// Opens a watch and yields, per received chunk, how many complete event lines it held,
    /// without parsing them (benchmarks counting deliveries at high rates). Non-200 answers throw.
    public func watchLineCounts(_ path: String) -> AsyncThrowingStream<Int, Error> {
        let (stream, continuation) = AsyncThrowingStream<Int, Error>.makeStream()
        let task = Task { [self] in
            do {
                let channel = try await connect()
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(requestHead(method: "GET", path: path, headers: [], bodyCount: 0)))
                    try await outbound.write(.end(nil))
                    var status = 0
                    for try await part in inbound {
                        switch part {
                        case .head(let h): status = Int(h.status.code)
                        case .body(let b):
                            let n = b.readableBytesView.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
                            if status == 200 && n > 0 { continuation.yield(n) }
                        case .end:
                            if status != 200 { throw ClientError(description: "watch failed with HTTP \(status)") }
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
        if let task = connection.withLock({ c in defer { c = nil }; return c }), let channel = try? await task.value {
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

    private var waiting: [EventLoopPromise<LoopbackHTTPClient.Response>] = []
    private var status = 0
    private var headers: [(String, String)] = []
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
            body = []
        case .body(let b):
            body.append(contentsOf: b.readableBytesView)
        case .end:
            let response = LoopbackHTTPClient.Response(status: status, headers: headers, body: body)
            body = []
            if !waiting.isEmpty { waiting.removeFirst().succeed(response) }
            if headers.contains(where: { $0.0.lowercased() == "connection" && $0.1.lowercased() == "close" }) {
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        let pending = waiting
        waiting = []
        for p in pending { p.fail(ConnectionLost()) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
