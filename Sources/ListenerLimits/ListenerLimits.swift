// Module ListenerLimits: the time, connection and TLS limits shared by every HTTP(S) listener
// (embedded API server, admission webhook, health/metrics endpoints); see docs/operations.md.
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS
import Synchronization

/// Time and connection limits of one listener. Tests set them short.
public struct ListenerLimits: Sendable {
    /// How long a TLS client may take to complete the handshake after connecting.
    public var tlsHandshakeTimeout: TimeAmount
    /// How long a request's header may take from its first byte until it is complete.
    public var requestHeaderTimeout: TimeAmount
    /// How long a connection may sit without a request in progress (before the first request
    /// and between keep-alive requests). Responses being written, such as watch streams, are
    /// not idle.
    public var idleTimeout: TimeAmount
    /// Connections open at once; further ones are closed right after they are accepted.
    public var maxConnections: Int

    /// Limits with the defaults used by every listener unless configured otherwise.
    public init(
        tlsHandshakeTimeout: TimeAmount = .seconds(10), requestHeaderTimeout: TimeAmount = .seconds(20),
        idleTimeout: TimeAmount = .seconds(90), maxConnections: Int = 4_096
    ) {
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// Restricts a server TLS configuration to TLS 1.2 and later; the TLS 1.2 cipher suites are
    /// those Kubernetes enables by default (ECDHE key exchange with AES-GCM or ChaCha20-Poly1305),
    /// TLS 1.3 keeps its own suites.
    public static func harden(_ tls: inout TLSConfiguration) {
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuiteValues = [
            .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
    }
}

/// Applies ``ListenerLimits`` to the connections of one listener and counts what it enforced.
public final class ListenerGuard: Sendable {
    /// The limits in force.
    public let limits: ListenerLimits
    private let open = Atomic<Int>(0)
    private let timedOut = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    /// A guard for a listener with these limits.
    public init(_ limits: ListenerLimits) { self.limits = limits }

    /// Connections open now.
    public var openConnections: Int { open.load(ordering: .relaxed) }
    /// Connections closed because a handshake, request header or idle timeout passed.
    public var timedOutConnections: Int { timedOut.load(ordering: .relaxed) }
    /// Connections closed at once because `maxConnections` were open.
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }

    /// Builds a new connection's pipeline, to be called from the child channel initializer (on
    /// the channel's loop): `tls` (if any), then `outer` (handlers that see the raw bytes), the
    /// HTTP/1.1 server handlers, and the timeout tracking. The caller then adds its request
    /// handler. Returns false when the connection was refused (the caller adds nothing).
    public func configure(_ channel: any Channel, tls: NIOSSLContext?, outer: [any ChannelHandler] = []) throws -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { [self] _ in open.subtract(1, ordering: .relaxed) }
        let pipeline = channel.pipeline.syncOperations
        if count > limits.maxConnections {
            refused.add(1, ordering: .relaxed)
            try pipeline.addHandler(RefuseHandler())
            return false
        }
        let clock = ConnectionClock(limits: limits, guard: self, tls: tls != nil)
        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
        try pipeline.addHandlers(outer)
        try pipeline.addHandler(RequestStartHandler(clock: clock))
        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
        try pipeline.addHandler(RequestPhaseHandler(clock: clock))
        return true
    }

    fileprivate func countTimeout() { timedOut.add(1, ordering: .relaxed) }
}

/// Closes a connection over the listener's limit as soon as it is active.
private final class RefuseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
}

/// One connection's phase and deadline (confined to the connection's event loop). One timer
/// per connection at a time: moving the deadline later only records it, and the timer
/// re-schedules itself when it fires early.
private final class ConnectionClock {
    enum Phase { case handshake, idle, header, busy }

    let limits: ListenerLimits
    let listener: ListenerGuard
    var phase: Phase
    /// Requests whose head was read and whose response has not ended.
    var inFlight = 0
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?
    private var channel: (any Channel)?

    init(limits: ListenerLimits, guard listener: ListenerGuard, tls: Bool) {
        self.limits = limits
        self.listener = listener
        phase = tls ? .handshake : .idle
    }

    func start(_ channel: any Channel) {
        self.channel = channel
        enter(phase)
    }

    func stop() {
        timer?.cancel()
        timer = nil
        timerAt = nil
        deadline = nil
        channel = nil
    }

    func enter(_ next: Phase) {
        phase = next
        switch next {
        case .handshake: arm(limits.tlsHandshakeTimeout)
        case .idle: arm(limits.idleTimeout)
        case .header: arm(limits.requestHeaderTimeout)
        case .busy: deadline = nil
        }
    }

    private func arm(_ amount: TimeAmount) {
        let when = NIODeadline.now() + amount
        deadline = when
        if let timerAt, timerAt <= when { return }
        schedule(at: when)
    }

    private func schedule(at when: NIODeadline) {
        guard let channel else { return }
        timer?.cancel()
        timerAt = when
        let clock = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timer = channel.eventLoop.scheduleTask(deadline: when) { clock.value.fired() }
    }

    private func fired() {
        timer = nil
        timerAt = nil
        guard let deadline, let channel else { return }
        if deadline > .now() {
            schedule(at: deadline)
            return
        }
        listener.countTimeout()
        stop()
        channel.close(promise: nil)
    }
}

/// Sees the connection's (decrypted) bytes: the first byte of a request starts the header
/// timeout; the end of the TLS handshake starts the idle timeout.
private final class RequestStartHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let clock: ConnectionClock

    init(clock: ConnectionClock) { self.clock = clock }

    func handlerAdded(context: ChannelHandlerContext) { clock.start(context.channel) }

    func handlerRemoved(context: ChannelHandlerContext) { clock.stop() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if clock.phase == .idle { clock.enter(.header) }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, clock.phase == .handshake { clock.enter(.idle) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.stop()
        context.fireChannelInactive()
    }
}

/// Sees requests and responses: a request head ends the header timeout; once every response
/// has ended the connection is idle.
private final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let clock: ConnectionClock

    init(clock: ConnectionClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            clock.inFlight += 1
            clock.enter(.busy)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), clock.inFlight > 0 {
            clock.inFlight -= 1
            if clock.inFlight == 0 { clock.enter(.idle) }
        }
        context.write(data, promise: promise)
    }
}
