import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Hostile and version-limited clients for the listeners' limits (see docs/operations.md, "Limits").
public enum ListenerProbe {
    /// Connects (over TLS when `tls` is given), sends `send` and returns every byte received
    /// until the server closes the connection. Throws when the server keeps it open longer
    /// than `giveUpAfter`: the close is what the tests observe.
    public static func untilClosed(
        port: Int, send: [UInt8] = [], tls: NIOSSLContext? = nil, serverName: String = "localhost",
        giveUpAfter: TimeAmount = .seconds(10)
    ) async throws -> [UInt8] {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try channel.pipeline.syncOperations.addHandler(CloseWatcher(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let giveUp = loop.scheduleTask(in: giveUpAfter) {
            promise.fail(ListenerProbeError(description: "the server kept the connection open for \(giveUpAfter)"))
            channel.close(promise: nil)
        }
        if !send.isEmpty { try await channel.writeAndFlush(ByteBuffer(bytes: send)) }
        defer { giveUp.cancel() }
        return try await promise.futureResult.get()
    }

    /// Whether a TLS handshake with a client limited to `minimum...maximum` succeeds.
    public static func handshake(port: Int, caPEM: String, minimum: TLSVersion, maximum: TLSVersion, serverName: String = "localhost") async throws
        -> Bool
    {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        config.minimumTLSVersion = minimum
        config.maximumTLSVersion = maximum
        let context = try NIOSSLContext(configuration: config)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Bool.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            promise.succeed(false)
            throw error
        }
        let ok = try await promise.futureResult.get()
        try? await channel.close()
        return ok
    }

    /// A client TLS context trusting `caPEM`.
    public static func tlsContext(caPEM: String) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        return try NIOSSLContext(configuration: config)
    }
}

/// The server kept a connection open past the probe's patience.
public struct ListenerProbeError: Error, CustomStringConvertible {
    /// What happened.
    public var description: String
}

private final class CloseWatcher: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: confined to the channel's event loop.
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<[UInt8]>
    var bytes: [UInt8] = []
    init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { bytes += unwrapInboundIn(data).readableBytesView }
    func channelInactive(context: ChannelHandlerContext) { promise.succeed(bytes) }
    func handlerRemoved(context: ChannelHandlerContext) { promise.succeed(bytes) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

private final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: confined to the channel's event loop.
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Bool>
    init(promise: EventLoopPromise<Bool>) { self.promise = promise }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { promise.succeed(true) }
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) { promise.succeed(false) }
    func handlerRemoved(context: ChannelHandlerContext) { promise.succeed(false) }
}
