import Foundation
import KubeJSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

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

    struct Pending: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        var continuation: CheckedContinuation<Response, Error>
    }

    let host: String
    let port: Int
    let sslContext: NIOSSLContext
    let token: String?
    let group: MultiThreadedEventLoopGroup
    let queue: AsyncStream<Pending>.Continuation
    let queueStream: AsyncStream<Pending>

    /// Connects lazily; `token` nil sends no Authorization header.
    public init(host: String = "127.0.0.1", port: Int, caPEM: String, token: String?,
                clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil) throws {
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
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (queueStream, queue) = AsyncStream<Pending>.makeStream()
        let stream = queueStream
        Task { [self] in await self.run(stream) }
    }

    /// A client for `server` authenticated with its token.
    public convenience init(server: EmbeddedAPIServer, token: String? = nil) throws {
        try self.init(port: server.port, caPEM: server.caCertificatePEM, token: token ?? server.token)
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

    private func run(_ stream: AsyncStream<Pending>) async {
        var iterator = stream.makeAsyncIterator()
        var carried: Pending?
        var carriedRetried = false
        while true {
            let next: Pending?
            if let carried { next = carried } else { next = await iterator.next() }
            guard let first = next else { break }
            let retried = carried != nil && carriedRetried
            carried = nil
            let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
            do { channel = try await connect() } catch { first.continuation.resume(throwing: error); continue }
            var current: Pending? = first
            var servedOnConnection = 0
            do {
                try await channel.executeThenClose { inbound, outbound in
                    var responses = inbound.makeAsyncIterator()
                    while let req = current {
                        try await outbound.write(.head(requestHead(method: req.method, path: req.path, headers: req.headers, bodyCount: req.body.count)))
                        if !req.body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: req.body)))) }
                        try await outbound.write(.end(nil))
                        var status = 0
                        var headers: [(String, String)] = []
                        var body: [UInt8] = []
                        var done = false
                        while !done, let part = try await responses.next() {
                            switch part {
                            case .head(let h): status = Int(h.status.code); headers = h.headers.map { ($0.name, $0.value) }
                            case .body(let b): body.append(contentsOf: b.readableBytesView)
                            case .end: done = true
                            }
                        }
                        guard done else { throw ClientError(description: "connection closed before the response ended") }
                        current = nil
                        servedOnConnection += 1
                        req.continuation.resume(returning: Response(status: status, headers: headers, body: body))
                        if headers.contains(where: { $0.0.lowercased() == "connection" && $0.1.lowercased() == "close" }) { return }
                        current = await iterator.next()
                    }
                }
            } catch {
                guard let req = current else { continue }
                // A reused keep-alive connection may have been closed by the server: retry once on a fresh one.
                if servedOnConnection > 0 && !retried {
                    carried = req
                    carriedRetried = true
                } else {
                    req.continuation.resume(throwing: error)
                }
                continue
            }
            carriedRetried = false
        }
    }

    /// Sends one request and waits for the full response.
    public func request(_ method: String, _ path: String, body: [UInt8] = [], headers: [(String, String)] = []) async throws -> Response {
        try await withCheckedThrowingContinuation { c in
            var hs = headers
            if !body.isEmpty && !hs.contains(where: { $0.0.lowercased() == "content-type" }) { hs.append(("Content-Type", "application/json")) }
            queue.yield(Pending(method: method, path: path, headers: hs, body: body, continuation: c))
        }
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
        queue.finish()
        try? await group.shutdownGracefully()
    }
}
