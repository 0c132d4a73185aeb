import Foundation
import KubeCore
import ListenerLimits
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Settings of the webhook's HTTPS server.
public struct WebhookServerConfiguration: Sendable {
    /// Listen host (`--webhook-config-server-host`; empty = all interfaces).
    public var host: String
    /// Listen port (`--webhook-config-server-port`; 0 picks a free port).
    public var port: Int
    /// Directory with `tls.crt` / `tls.key` (`--webhook-config-cert-dir`), watched for changes.
    public var certDirectory: String
    /// Largest accepted request body: 7 MiB (as controller-runtime's webhook server), so that
    /// an UPDATE review carrying a large object and its old version still fits.
    public var maxBodyBytes: Int
    /// Deadline for reading one complete request (header and body) once its header started.
    public var requestTimeout: TimeAmount
    /// How long an idle (keep-alive, or handshake done but no request yet) connection is kept.
    public var idleTimeout: TimeAmount
    /// How long a client may take to complete the TLS handshake.
    public var tlsHandshakeTimeout: TimeAmount
    /// How long a request's header may take from its first byte until it is complete.
    public var requestHeaderTimeout: TimeAmount
    /// Connections open at once; further ones are closed right after they are accepted.
    public var maxConnections: Int
    /// How often the certificate files are checked for changes.
    public var certificateReloadInterval: Duration
    /// `--disable-webhooks=validator` or `*`: the webhook path answers 404.
    public var webhookDisabled: Bool

    /// Settings with the defaults used by the binary; `certDirectory` is required.
    public init(
        host: String = "127.0.0.1", port: Int = 0, certDirectory: String, maxBodyBytes: Int = 7 * 1024 * 1024,
        requestTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60),
        certificateReloadInterval: Duration = .seconds(2), webhookDisabled: Bool = false,
        tlsHandshakeTimeout: TimeAmount = .seconds(10), requestHeaderTimeout: TimeAmount = .seconds(10), maxConnections: Int = 4_096
    ) {
        self.host = host
        self.port = port
        self.certDirectory = certDirectory
        self.maxBodyBytes = maxBodyBytes
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.certificateReloadInterval = certificateReloadInterval
        self.webhookDisabled = webhookDisabled
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.maxConnections = maxConnections
    }

    /// The listener limits these settings describe.
    var listenerLimits: ListenerLimits {
        ListenerLimits(
            tlsHandshakeTimeout: tlsHandshakeTimeout, requestHeaderTimeout: requestHeaderTimeout, idleTimeout: idleTimeout,
            maxConnections: maxConnections)
    }
}

/// The current TLS context, swapped when the certificate files change.
final class TLSContextBox: Sendable {
    private struct State {
        var context: NIOSSLContext
        var certBytes: [UInt8]
        var keyBytes: [UInt8]
    }
    private let state: Mutex<State>
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        let (cert, key) = try Self.readFiles(directory)
        state = Mutex(State(context: try Self.makeContext(cert: cert, key: key), certBytes: cert, keyBytes: key))
    }

    var context: NIOSSLContext { state.withLock { $0.context } }

    /// The PEM of the serving certificate (chain) in use.
    var certificatePEM: String { state.withLock { String(decoding: $0.certBytes, as: UTF8.self) } }

    static func readFiles(_ dir: String) throws -> ([UInt8], [UInt8]) {
        let cert = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + CertificateDirectory.certificateFile))
        let key = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + CertificateDirectory.keyFile))
        return (Array(cert), Array(key))
    }

    static func makeContext(cert: [UInt8], key: [UInt8]) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(cert).map { NIOSSLCertificateSource.certificate($0) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem)))
        ListenerLimits.harden(&tls)
        return try NIOSSLContext(configuration: tls)
    }

    /// Reloads when the files changed; returns whether a new context is in use. A broken pair
    /// (e.g. caught between two writes) keeps the old context and throws.
    @discardableResult
    func reloadIfChanged() throws -> Bool {
        let (cert, key) = try Self.readFiles(directory)
        let changed = state.withLock { $0.certBytes != cert || $0.keyBytes != key }
        guard changed else { return false }
        let context = try Self.makeContext(cert: cert, key: key)
        state.withLock { $0 = State(context: context, certBytes: cert, keyBytes: key) }
        return true
    }
}

/// The HTTPS server of the admission webhook: `/webhooks/validate`, plus `/healthz`, `/readyz`
/// and `/metrics` (also served on the separate plain-HTTP health/metrics addresses by the binary).
public final class WebhookServer: Sendable {
    /// The bound port (useful with port 0).
    public let port: Int
    /// The bound host.
    public let host: String
    /// Request counters and latency served under `/metrics`.
    public let metrics: WebhookMetrics
    private let channel: any Channel
    private let tls: TLSContextBox
    private let reloadTask: Task<Void, Never>
    private let logger: Logger
    /// Timeouts and connection limit of the listener, with counters of what they enforced.
    public let listener: ListenerGuard

    private init(
        channel: any Channel, host: String, port: Int, tls: TLSContextBox, metrics: WebhookMetrics, reloadTask: Task<Void, Never>, logger: Logger,
        listener: ListenerGuard
    ) {
        self.listener = listener
        self.channel = channel
        self.host = host
        self.port = port
        self.tls = tls
        self.metrics = metrics
        self.reloadTask = reloadTask
        self.logger = logger
    }

    /// Loads the certificate from the cert dir, binds and starts serving.
    public static func start(
        _ configuration: WebhookServerConfiguration, metrics: WebhookMetrics = WebhookMetrics(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "admission-calico")
    ) async throws -> WebhookServer {
        let tls = try TLSContextBox(directory: configuration.certDirectory)
        let config = configuration
        let listener = ListenerGuard(configuration.listenerLimits)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // A TCP-level option: as `socketOption` it would be SOL_SOCKET option 1 (SO_DEBUG), which
            // needs CAP_NET_ADMIN, so as the image's non-root user every connection was closed
            // (`make image-check`, docs/deployment.md).
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard try listener.configure(channel, tls: tls.context) else { return }
                    try channel.pipeline.syncOperations.addHandler(WebhookHTTPHandler(configuration: config, metrics: metrics))
                }
            }
        let host = configuration.host.isEmpty ? "0.0.0.0" : configuration.host
        let channel = try await bootstrap.bind(host: host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        let interval = configuration.certificateReloadInterval
        let reloadTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                do {
                    if try tls.reloadIfChanged() { logger.info("reloaded webhook serving certificate") }
                } catch {
                    logger.warning("could not reload webhook serving certificate", metadata: ["error": "\(error)"])
                }
            }
        }
        logger.info("webhook server listening", metadata: ["address": "\(host):\(port)"])
        return WebhookServer(
            channel: channel, host: host, port: port, tls: tls, metrics: metrics, reloadTask: reloadTask, logger: logger, listener: listener)
    }

    /// The serving certificate (PEM, as read from `tls.crt`) presented to new connections.
    public var servingCertificatePEM: String { tls.certificatePEM }

    /// Checks the certificate files now (instead of waiting for the next poll).
    @discardableResult
    public func reloadCertificates() throws -> Bool { try tls.reloadIfChanged() }

    /// Stops listening (open connections finish their current request).
    public func stop() async {
        reloadTask.cancel()
        try? await channel.close()
    }
}

/// One connection: reads requests with size and time limits, answers them on the event loop
/// (validation takes microseconds, so no hop to another executor is needed).
final class WebhookHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let configuration: WebhookServerConfiguration
    let metrics: WebhookMetrics
    var head: HTTPRequestHead?
    var body: ByteBuffer?
    /// An early answer (413/408) was sent: ignore the rest of the request, the connection closes.
    var discarding = false
    var timer: Scheduled<Void>?
    var startedAt: NIODeadline = .now()

    init(configuration: WebhookServerConfiguration, metrics: WebhookMetrics) {
        self.configuration = configuration
        self.metrics = metrics
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        timerFiresAt = nil
    }

    /// When the request being read times out (idle connections are timed by the listener's
    /// `ListenerGuard`).
    var deadline: NIODeadline = .distantFuture
    /// When the scheduled timer fires (nil = none scheduled).
    var timerFiresAt: NIODeadline?

    /// (Re)arms the request deadline; when it passes an unfinished request gets 408. This
    /// bounds slow bodies (slow TLS, headers and idle time are bounded by the listener).
    /// Re-arming only moves `deadline`: the one timer per connection re-schedules itself lazily
    /// when it fires early, so a request costs no timer scheduling/cancellation on the hot path.
    func arm(context: ChannelHandlerContext, after amount: TimeAmount) {
        deadline = .now() + amount
        if let firesAt = timerFiresAt, firesAt <= deadline { return }
        schedule(context: context, at: deadline)
    }

    private func schedule(context: ChannelHandlerContext, at when: NIODeadline) {
        timer?.cancel()
        timerFiresAt = when
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: when) {
            handler.value.timerFired(context: loopContext.value)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerFiresAt = nil
        if deadline == .distantFuture { return }
        if deadline > .now() {
            schedule(context: context, at: deadline)
            return
        }
        if head != nil && !discarding {
            discarding = true
            respond(
                context: context, status: .requestTimeout, contentType: "text/plain; charset=utf-8",
                body: Array("request not received completely within the request timeout\n".utf8), close: true)
        } else {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            discarding = false
            startedAt = .now()
            arm(context: context, after: configuration.requestTimeout)
            if let lengthText = h.headers.first(name: "content-length"), let length = Int(lengthText), length > configuration.maxBodyBytes {
                tooLarge(context: context)
                return
            }
            body = nil
        case .body(var chunk):
            guard !discarding else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > configuration.maxBodyBytes {
                tooLarge(context: context)
                return
            }
            // The usual single-chunk body is kept as is (no copy).
            if var b = body, b.readableBytes > 0 {
                body = nil  // keep `b` uniquely referenced: append in place
                b.writeBuffer(&chunk)
                body = b
            } else {
                body = chunk
            }
        case .end:
            guard !discarding, let head else {
                self.head = nil
                return
            }
            let bytes = body ?? ByteBuffer()
            body = nil
            route(context: context, head: head, body: bytes)
        }
    }

    func tooLarge(context: ChannelHandlerContext) {
        discarding = true
        body = nil
        metrics.record(code: 413, outcome: .malformed, seconds: startedAt.secondsSince)
        let result = AdmissionReviewHandler.malformed("request body exceeds the limit of \(configuration.maxBodyBytes) bytes", httpStatus: 413)
        respond(
            context: context, status: .payloadTooLarge, contentType: "application/json",
            body: result.body.serialized(), close: true)
    }

    func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        switch path {
        case AdmissionReviewHandler.path where !configuration.webhookDisabled:
            guard head.method == .POST else {
                respond(
                    context: context, status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                    body: Array("only POST is allowed\n".utf8), close: false, extraHeaders: [("Allow", "POST")])
                return
            }
            metrics.requestStarted()
            let result = AdmissionReviewHandler.handle(bytes: body.readableBytesView)
            metrics.requestFinished()
            metrics.record(code: result.httpStatus, outcome: result.outcome, seconds: startedAt.secondsSince)
            respond(
                context: context, status: HTTPResponseStatus(statusCode: result.httpStatus), contentType: "application/json",
                body: result.body.serialized(), close: false)
        case "/healthz", "/readyz", "/livez":
            respond(context: context, status: .ok, contentType: "text/plain; charset=utf-8", body: Array("ok".utf8), close: false)
        case "/metrics":
            respond(
                context: context, status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: Array(metrics.exposition().utf8), close: false)
        default:
            respond(
                context: context, status: .notFound, contentType: "text/plain; charset=utf-8", body: Array("404 page not found\n".utf8), close: false)
        }
    }

    func respond(
        context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, body: [UInt8],
        close: Bool, extraHeaders: [(String, String)] = []
    ) {
        let keepAlive = !close && (head?.isKeepAlive ?? false)
        let version = head?.version ?? .http1_1
        head = nil
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        for (k, v) in extraHeaders { headers.add(name: k, value: v) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            deadline = .distantFuture
        } else {
            timer?.cancel()
            timer = nil
            timerFiresAt = nil
            deadline = .distantFuture
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopContext.value.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS failures, resets, HTTP parse errors (already answered by NIO's error handler).
        context.close(promise: nil)
    }
}

extension NIODeadline {
    /// Seconds elapsed since this deadline.
    var secondsSince: Double { Double((NIODeadline.now() - self).nanoseconds) / 1e9 }
}
