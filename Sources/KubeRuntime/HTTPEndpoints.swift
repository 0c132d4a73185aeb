import ListenerLimits
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A `host:port` bind address in Go's notation: `:8080` = every interface, `127.0.0.1:0` = an
/// ephemeral loopback port, `0` (or empty) = disabled.
public struct BindAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host to bind (`0.0.0.0` = every interface).
    public var host: String
    /// Port to bind (0 = an ephemeral port).
    public var port: Int

    /// An address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a flag value; `nil` means "disabled" (`0` or empty).
    public static func parse(_ text: String) throws(BindAddressError) -> BindAddress? {
        if text.isEmpty || text == "0" { return nil }
        guard let colon = text.lastIndex(of: ":") else { throw BindAddressError(value: text) }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw BindAddressError(value: text)
        }
        // Go binds every interface for an empty host; a pod's probes need that.
        return BindAddress(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    /// The address as `host:port`.
    public var description: String { "\(host):\(port)" }
}

/// An unparseable bind address.
public struct BindAddressError: Error, Sendable, CustomStringConvertible {
    /// The flag value as given.
    public var value: String
    /// The message naming the value and the expected form.
    public var description: String { "invalid bind address \"\(value)\": expected host:port" }
}

/// A plain HTTP request as seen by an endpoint handler.
public struct EndpointRequest: Sendable {
    /// HTTP method (`GET`, ...).
    public var method: String
    /// Path without the query.
    public var path: String
    /// Query parameters (a key without `=` has the value "").
    public var query: [(String, String)]

    /// Whether the query has `key` (with or without a value).
    public func hasQuery(_ key: String) -> Bool { query.contains { $0.0 == key } }
    /// Every value of `key` in the query, in order.
    public func queryValues(_ key: String) -> [String] { query.filter { $0.0 == key }.map(\.1) }
}

/// The answer of an endpoint handler.
public struct EndpointResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// `Content-Type` of the body.
    public var contentType: String
    /// Response body.
    public var body: String

    /// A response; plain text unless `contentType` says otherwise.
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// A tiny HTTP/1.1 server for probes and metrics (no TLS; GET only in practice).
public final class EndpointServer: Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (EndpointRequest) async -> EndpointResponse

    private let channel: any Channel
    /// The port actually bound (useful with port 0).
    public let port: Int
    /// The bound host.
    public let host: String
    /// Timeouts and connection limit of the listener, with counters of what they enforced.
    public let listener: ListenerGuard

    /// Limits of a probe/metrics listener: probes and scrapes are single short requests, so a
    /// few hundred connections and a minute of idle time are plenty (see docs/operations.md).
    public static let defaultLimits = ListenerLimits(idleTimeout: .seconds(60), maxConnections: 256)

    private init(channel: any Channel, host: String, port: Int, listener: ListenerGuard) {
        self.channel = channel
        self.host = host
        self.port = port
        self.listener = listener
    }

    /// Binds and starts serving.
    public static func start(
        at address: BindAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        limits: ListenerLimits = defaultLimits, handler: @escaping Handler
    ) async throws -> EndpointServer {
        let listener = ListenerGuard(limits)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard try listener.configure(channel, tls: nil) else { return }
                    try channel.pipeline.syncOperations.addHandler(EndpointChannelHandler(handler: handler))
                }
            }
        let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
        let port = channel.localAddress?.port ?? address.port
        return EndpointServer(channel: channel, host: address.host, port: port, listener: listener)
    }

    /// Stops listening.
    public func stop() async {
        try? await channel.close()
    }
}

private final class EndpointChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO confines a handler to its channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: EndpointServer.Handler
    var head: HTTPRequestHead?

    init(handler: @escaping EndpointServer.Handler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let request = Self.parse(head)
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: EndpointResponse.self)
            let handler = self.handler
            promise.completeWithTask { await handler(request) }
            promise.futureResult.whenSuccess { response in
                let context = loopContext.value
                var headers = HTTPHeaders()
                let body = Array(response.body.utf8)
                headers.add(name: "Content-Type", value: response.contentType)
                headers.add(name: "Content-Length", value: String(body.count))
                headers.add(name: "X-Content-Type-Options", value: "nosniff")
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                let respHead = HTTPResponseHead(
                    version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
                context.write(NIOAny(HTTPServerResponsePart.head(respHead)), promise: nil)
                var buffer = context.channel.allocator.buffer(capacity: body.count)
                buffer.writeBytes(body)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
                let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                if !keepAlive { done.whenComplete { _ in loopContext.value.close(promise: nil) } }
            }
        }
    }

    static func parse(_ head: HTTPRequestHead) -> EndpointRequest {
        let uri = head.uri
        var path = uri
        var query: [(String, String)] = []
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q])
            for part in uri[uri.index(after: q)...].split(separator: "&") where !part.isEmpty {
                if let eq = part.firstIndex(of: "=") {
                    query.append((String(part[..<eq]), String(part[part.index(after: eq)...])))
                } else {
                    query.append((String(part), ""))
                }
            }
        }
        return EndpointRequest(method: head.method.rawValue, path: path, query: query)
    }
}

/// A named health check; `nil` = healthy, otherwise the failure reason (logged, never served).
public typealias HealthCheck = @Sendable () async -> String?

/// controller-runtime-compatible `/healthz` and `/readyz` handling.
public final class HealthProbes: Sendable {
    private let checks = Mutex<(healthz: [String: HealthCheck], readyz: [String: HealthCheck])>(([:], [:]))

    /// Probes with no checks yet (both answer ok).
    public init() {}

    /// Adds a liveness check (served under `/healthz`).
    public func addHealthzCheck(_ name: String, _ check: @escaping HealthCheck) {
        checks.withLock { $0.healthz[name] = check }
    }

    /// Adds a readiness check (served under `/readyz`).
    public func addReadyzCheck(_ name: String, _ check: @escaping HealthCheck) {
        checks.withLock { $0.readyz[name] = check }
    }

    /// Answers a request for `/healthz`, `/readyz` and their `/<check>` sub-paths.
    public func handle(_ request: EndpointRequest) async -> EndpointResponse {
        let path = request.path
        let (healthz, readyz) = checks.withLock { ($0.healthz, $0.readyz) }
        for (prefix, set) in [("/healthz", healthz), ("/readyz", readyz)] {
            if path == prefix || path == prefix + "/" {
                return await aggregated(set, request)
            }
            if path.hasPrefix(prefix + "/") {
                let name = String(path.dropFirst(prefix.count + 1))
                guard let check = set[name] else { return EndpointResponse(status: 404, body: "404 page not found\n") }
                if let reason = await check() {
                    return EndpointResponse(status: 500, body: "internal server error: \(reason)\n")
                }
                return EndpointResponse(status: 200, body: "ok")
            }
        }
        return EndpointResponse(status: 404, body: "404 page not found\n")
    }

    private func aggregated(_ set: [String: HealthCheck], _ request: EndpointRequest) async -> EndpointResponse {
        var excluded = Set(request.queryValues("exclude").flatMap { $0.split(separator: ",").map(String.init) })
        var parts: [(String, Bool)] = []
        for name in set.keys.sorted() {
            if excluded.remove(name) != nil { continue }
            let ok = await set[name]!() == nil
            parts.append((name, ok))
        }
        if parts.isEmpty { parts.append(("ping", true)) }
        let failed = parts.contains { !$0.1 }
        if !failed && !request.hasQuery("verbose") {
            return EndpointResponse(status: 200, body: "ok")
        }
        var body = ""
        for (name, ok) in parts {
            body += ok ? "[+]\(name) ok\n" : "[-]\(name) failed: reason withheld\n"
        }
        if !excluded.isEmpty {
            body +=
                "warn: some health checks cannot be excluded: no matches for "
                + excluded.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "\n"
        }
        body += failed ? "healthz check failed\n" : "healthz check passed\n"
        return EndpointResponse(status: failed ? 500 : 200, body: body)
    }
}
