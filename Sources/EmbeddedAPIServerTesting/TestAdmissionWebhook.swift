import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A small HTTPS admission webhook for tests of the embedded server's admission: serves on
/// 127.0.0.1 with a certificate from its own CA, records every AdmissionReview request and
/// answers each with what the handler returns.
public final class TestAdmissionWebhook: Sendable {
    /// The listening port.
    public let port: Int
    /// The CA that signed the serving certificate (PEM).
    public let caCertificatePEM: String
    /// The CA as a webhook configuration's `caBundle` (base64 of the PEM).
    public var caBundle: String { Base64.encode(Array(caCertificatePEM.utf8)) }
    let channel: any Channel
    let received: ReviewLog

    /// The `request` parts of the AdmissionReviews received so far, in order.
    public var requests: [JSON] { received.list.withLock { $0 } }

    /// Starts a webhook whose certificate carries `names` (DNS names or IPs). The handler gets the
    /// review's `request` and returns the `response` (its `uid` is filled in unless set), or a
    /// whole document under the key `"raw"` to send instead of an AdmissionReview.
    public static func start(
        names: [String] = ["127.0.0.1", "localhost"], handler: @escaping @Sendable (JSON) async -> JSON
    ) async throws -> TestAdmissionWebhook {
        let now = Date()
        let ca = try CertificateAuthority(
            subject: .init(commonName: "test-webhook-ca"), notValidBefore: now - 3600, notValidAfter: now + 86400)
        let issued = try ca.issue(
            subject: .init(commonName: names.first ?? "webhook"), usage: .server,
            subjectAlternativeNames: names.map(CertificateAuthority.SubjectAlternativeName.init(name:)), notValidBefore: now - 3600,
            notValidAfter: now + 86400)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.keyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: tls)
        let received = ReviewLog()
        let record: @Sendable (JSON) -> Void = { r in received.list.withLock { $0.append(r) } }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReviewHandler(handler: handler, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestAdmissionWebhook(port: channel.localAddress?.port ?? 0, ca: ca.certificatePEM, channel: channel, received: received)
    }

    init(port: Int, ca: String, channel: any Channel, received: ReviewLog) {
        self.port = port
        caCertificatePEM = ca
        self.channel = channel
        self.received = received
    }

    /// Stops listening.
    public func stop() async { try? await channel.close() }
}

final class ReviewLog: Sendable {
    let list = Mutex<[JSON]>([])
}

private final class ReviewHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let handler: @Sendable (JSON) async -> JSON
    let record: @Sendable (JSON) -> Void
    let body = Mutex<[UInt8]>([])

    init(handler: @escaping @Sendable (JSON) async -> JSON, record: @escaping @Sendable (JSON) -> Void) {
        self.handler = handler
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: body.withLock { $0 = [] }
        case .body(let b): body.withLock { $0.append(contentsOf: b.readableBytesView) }
        case .end:
            let bytes = body.withLock { $0 }
            let request = (try? JSON.parse(bytes))?["request"] ?? .null
            record(request)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let handler = handler
            Task {
                let response = await handler(request)
                var doc: JSON
                if let raw = response["raw"] {
                    doc = raw
                } else {
                    var r = response
                    if r["uid"] == nil { r["uid"] = request["uid"] ?? "" }
                    doc = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r]
                }
                let out = doc.serialized()
                loop.execute {
                    let context = bound.value
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: String(out.count))
                    context.write(
                        NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: out)))), promise: nil)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
            }
        }
    }
}
