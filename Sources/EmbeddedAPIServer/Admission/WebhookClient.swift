import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Where a webhook is reached: the address to connect to, the name its serving certificate must
/// carry and the CA bundle that signed it (see docs/local.md, "Admission webhooks").
struct WebhookEndpoint: Sendable, Equatable {
    /// Host or IP to connect to (a service reference resolves to 127.0.0.1).
    var connectHost: String
    var port: Int
    /// The name verified against the certificate (nil: verify the connected IP address).
    var serverName: String?
    /// Path and query of the POST.
    var target: String
    /// The URL as kube-apiserver names it in errors (`https://svc.ns.svc:443/path?timeout=10s`).
    var url: String
    /// PEM bytes of the trusted CAs; empty means the system roots.
    var caBundle: [UInt8]

    /// The endpoint of a webhook's `clientConfig` (`url` or `service`), with kube's `timeout` query.
    init(clientConfig: JSON, timeoutSeconds: Int) throws(WebhookCallError) {
        let ca = clientConfig["caBundle"]?.stringValue ?? ""
        if ca.isEmpty {
            caBundle = []
        } else if let decoded = Base64.decode(ca) {
            caBundle = decoded
        } else {
            throw WebhookCallError("could not get REST client: caBundle is not valid base64")
        }
        let timeoutQuery = "timeout=\(timeoutSeconds)s"
        if let service = clientConfig["service"], service.objectValue != nil {
            let ns = service["namespace"]?.stringValue ?? ""
            let name = service["name"]?.stringValue ?? ""
            let port = service["port"]?.intValue ?? 443
            var path = service["path"]?.stringValue ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            let host = "\(name).\(ns).svc"
            // In this server every service is the local host (see docs/local.md).
            connectHost = "127.0.0.1"
            self.port = port
            serverName = host
            target = path + (path.contains("?") ? "&" : "?") + timeoutQuery
            url = "https://\(host):\(port)\(target)"
            return
        }
        guard let raw = clientConfig["url"]?.stringValue, let components = URLComponents(string: raw), components.scheme == "https",
            let host = components.host, !host.isEmpty
        else {
            throw WebhookCallError("could not get REST client: webhook clientConfig needs an https url or a service")
        }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        connectHost = bareHost
        port = components.port ?? 443
        serverName = Self.isIPAddress(bareHost) ? nil : bareHost
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let query = components.percentEncodedQuery.map { $0 + "&" + timeoutQuery } ?? timeoutQuery
        target = path + "?" + query
        url = "https://\(host)\(components.port.map { ":\($0)" } ?? "")\(target)"
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// Why a webhook could not be called (kube-apiserver's wording after `failed to call webhook: `).
struct WebhookCallError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One HTTPS POST per call on a fresh connection: TLS 1.2 or newer, the certificate verified
/// against the caBundle and the endpoint's name, the whole exchange bounded by the timeout.
enum WebhookClient {
    static func post(_ endpoint: WebhookEndpoint, body: [UInt8], timeout: Duration) async throws(WebhookCallError) -> (status: Int, body: [UInt8]) {
        let post = "Post \"\(endpoint.url)\""
        let context: NIOSSLContext
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if !endpoint.caBundle.isEmpty {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(endpoint.caBundle))
            }
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw WebhookCallError("could not get REST client: unable to load root certificates: \(error)")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: (Int, [UInt8]).self)
        let serverName = endpoint.serverName
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.target)
        head.headers.add(name: "Host", value: serverName ?? endpoint.connectHost)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Accept", value: "application/json, */*")
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        let request = head
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(APIConnectionHandler.nanoseconds(timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseCollector(promise: promise, request: request, body: body, expectedName: serverName))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.connectHost, port: endpoint.port).get()
        } catch {
            promise.fail(error)
            throw WebhookCallError("\(post): \(Self.describe(error))")
        }
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(APIConnectionHandler.nanoseconds(timeout))) {
            promise.fail(WebhookCallError("context deadline exceeded"))
            channel.close(promise: nil)
        }
        do {
            let answer = try await promise.futureResult.get()
            timer.cancel()
            channel.close(promise: nil)
            return answer
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw WebhookCallError("\(post): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? WebhookCallError { return e.description }
        if error is ChannelError, case .connectTimeout = error as? ChannelError { return "context deadline exceeded" }
        if let e = error as? NIOSSLError { return "tls: \(e)" }
        if let e = error as? NIOSSLExtraError { return "tls: failed to verify certificate: \(e)" }
        return "\(error)"
    }
}

/// Sends the request once the TLS handshake is done and the certificate names the endpoint,
/// then gathers the response and completes the promise with its status and body.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let promise: EventLoopPromise<(Int, [UInt8])>
    let request: HTTPRequestHead
    let requestBody: [UInt8]
    let expectedName: String?
    var status = 0
    var body: [UInt8] = []

    init(promise: EventLoopPromise<(Int, [UInt8])>, request: HTTPRequestHead, body: [UInt8], expectedName: String?) {
        self.promise = promise
        self.request = request
        requestBody = body
        self.expectedName = expectedName
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted = event as? TLSUserEvent else { return context.fireUserInboundEventTriggered(event) }
        // NIOSSL also accepts an IP SAN matching the peer address; Go checks only the name asked for.
        if let expectedName {
            let der = (try? context.pipeline.syncOperations.nioSSL_peerCertificate())?.flatMap { try? $0.toDERBytes() } ?? []
            let names = (try? Certificate(derEncoded: der).extensions.subjectAlternativeNames)??.compactMap { name -> String? in
                if case .dnsName(let d) = name { return d.lowercased() }
                return nil
            }
            guard let names, names.contains(where: { Self.nameMatches($0, expectedName.lowercased()) }) else {
                promise.fail(
                    WebhookCallError(
                        "tls: failed to verify certificate: x509: certificate is valid for \((names ?? []).joined(separator: ", ")), not \(expectedName)"
                    ))
                context.close(promise: nil)
                return
            }
        }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: requestBody)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// A DNS SAN matches exactly, or as a wildcard for the first label only.
    static func nameMatches(_ san: String, _ name: String) -> Bool {
        if san == name { return true }
        guard san.hasPrefix("*."), let dot = name.firstIndex(of: ".") else { return false }
        return name[dot...] == san.dropFirst()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(let buffer):
            if body.count + buffer.readableBytes <= Router.maxBody { body.append(contentsOf: buffer.readableBytesView) }
        case .end:
            promise.succeed((status, body))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookCallError("EOF"))
        context.fireChannelInactive()
    }
}
