import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTPS client for the webhook tests (one connection per request).
struct TestResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: confined to the channel's event loop.
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<TestResponse>
    var status = 0
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var done = false

    init(promise: EventLoopPromise<TestResponse>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
            headers = h.headers.map { ($0.name, $0.value) }
        case .body(let b):
            body += Array(b.readableBytesView)
        case .end:
            done = true
            promise.succeed(TestResponse(status: status, headers: headers, body: body))
            context.close(promise: nil)
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(TestClientError(description: "connection closed before a response"))
        }
    }
}

/// Collects raw bytes until the peer closes (for hostile-client tests).
final class RawCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<[UInt8]>
    var bytes: [UInt8] = []
    var done = false
    init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { bytes += Array(unwrapInboundIn(data).readableBytesView) }
    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.succeed(bytes)
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.succeed(bytes)
        }
        context.close(promise: nil)
    }
}

enum TestHTTPSClient {
    static func context(caPEM: String) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        return try NIOSSLContext(configuration: tls)
    }

    static func request(
        port: Int, caPEM: String, method: HTTPMethod = .POST, path: String, body: [UInt8] = [],
        contentType: String = "application/json", serverName: String = "localhost"
    ) async throws -> TestResponse {
        let ssl = try context(caPEM: caPEM)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: TestResponse.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            // Connection refused: complete the promise so NIO does not report it as leaked.
            promise.fail(error)
            throw error
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(serverName):\(port)")
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }

    /// Sends raw bytes over TLS and returns everything received until the server closes.
    static func raw(port: Int, caPEM: String, send: [UInt8], serverName: String = "localhost") async throws -> [UInt8] {
        let ssl = try context(caPEM: caPEM)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHandler(RawCollector(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        if !send.isEmpty { try await channel.writeAndFlush(ByteBuffer(bytes: send)) }
        return try await promise.futureResult.get()
    }
}
