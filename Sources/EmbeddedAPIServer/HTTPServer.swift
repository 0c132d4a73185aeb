import Foundation
import KubeJSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// HTTPS/1.1 transport: TLS with optional client certificates, keep-alive, chunked watch streams.
final class HTTPServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    let router: Router
    let connections = Mutex<[ObjectIdentifier: Channel]>([:])
    let acceptTask = Mutex<Task<Void, Never>?>(nil)
    let port: Int

    init(host: String, port: Int, tls: TLSConfiguration, router: Router, threads: Int) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        self.router = router
        let sslContext = try NIOSSLContext(configuration: tls)
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        self.port = serverChannel.channel.localAddress?.port ?? port
    }

    func start() {
        let task = Task { [self] in
            await withDiscardingTaskGroup { tasks in
                do {
                    try await serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            tasks.addTask { await self.serve(connection) }
                        }
                    }
                } catch {
                    // The listener closed (shutdown); connections finish on their own.
                }
            }
        }
        acceptTask.withLock { $0 = task }
    }

    /// Closes every open client connection (test hook: "drop all connections").
    func dropConnections() {
        let all = connections.withLock { Array($0.values) }
        for c in all { c.close(promise: nil) }
    }

    func shutdown() async {
        try? await serverChannel.channel.close()
        dropConnections()
        let task = acceptTask.withLock { $0 }
        await task?.value
        try? await group.shutdownGracefully()
    }

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let channel = connection.channel
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        defer { _ = connections.withLock { $0.removeValue(forKey: id) } }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                var certUser: String??  // resolved once per connection
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body = []
                        tooLarge = false
                    case .body(let buffer):
                        if tooLarge { continue }
                        if body.count + buffer.readableBytes > Router.maxBody {
                            tooLarge = true
                            body = []
                        } else {
                            body.append(contentsOf: buffer.readableBytesView)
                        }
                    case .end:
                        guard let h = head else { continue }
                        head = nil
                        if certUser == nil {
                            let cert = try? await channel.nioSSL_peerCertificate().get()
                            certUser = .some(cert.flatMap { try? $0.toDERBytes() }.flatMap { CertificateAuthority.identity(fromDER: $0)?.user })
                        }
                        let request = APIRequest(method: h.method.rawValue, uri: h.uri, headers: h.headers, body: body,
                                                 bodyTooLarge: tooLarge, certificateUser: certUser ?? nil)
                        body = []
                        let response = router.handle(request)
                        switch response {
                        case .full(let status, let headers, let responseBody):
                            var hs = HTTPHeaders()
                            for (k, v) in headers { hs.add(name: k, value: v) }
                            hs.add(name: "Content-Length", value: String(responseBody.count))
                            hs.add(name: "Cache-Control", value: "no-cache, private")
                            if !h.isKeepAlive { hs.add(name: "Connection", value: "close") }
                            try await outbound.write(.head(HTTPResponseHead(version: h.version, status: .init(statusCode: status), headers: hs)))
                            if h.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: responseBody)))) }
                            try await outbound.write(.end(nil))
                            if !h.isKeepAlive { return }
                        case .watch(let watch):
                            try await stream(watch, version: h.version, channel: channel, outbound: outbound)
                            // A watch ends its connection: clients open a new one for the next request.
                            return
                        }
                    }
                }
            }
        } catch {
            // Connection errors (client went away, TLS failures) end only this connection.
        }
    }

    static func eventLine(type: String, object: JSON) -> ByteBuffer {
        var bytes = JSON.object(["type": .string(type), "object": object]).serialized()
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    func stream(_ watch: WatchStream, version: HTTPVersion, channel: Channel,
                outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var hs = HTTPHeaders()
        hs.add(name: "Content-Type", value: "application/json")
        hs.add(name: "Cache-Control", value: "no-cache, private")
        hs.add(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: hs)))
        let info = watch.info
        var firstTable = true
        let store = router.store
        func render(_ item: WatchItem) -> ByteBuffer {
            switch item {
            case .event(let type, let object):
                let presented = Router.present(object, info)
                if watch.table {
                    let t = TableRenderer.table(info, objects: [presented], listMeta: ["resourceVersion": presented[path: "metadata", "resourceVersion"] ?? ""],
                                                include: watch.include, withColumns: firstTable)
                    firstTable = false
                    return Self.eventLine(type: type, object: t)
                }
                return Self.eventLine(type: type, object: presented)
            case .bookmark(let rv):
                return Self.eventLine(type: "BOOKMARK", object: ["kind": .string(info.kind), "apiVersion": .string(info.groupVersion),
                                                                 "metadata": ["resourceVersion": .string(String(rv))]])
            case .error(let status):
                return Self.eventLine(type: "ERROR", object: status)
            }
        }
        for item in watch.plan.initial {
            try await outbound.write(.body(.byteBuffer(render(item))))
        }
        if let watcher = watch.plan.watcher, let events = watch.plan.stream {
            // Closing the connection, the timeout or shutdown all finish the stream.
            channel.closeFuture.whenComplete { _ in watcher.continuation.finish() }
            let timeout = channel.eventLoop.scheduleTask(in: .seconds(watch.timeoutSeconds)) { watcher.continuation.finish() }
            let bookmarkTask: Task<Void, Never>? = watch.bookmarks ? Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(EmbeddedAPIServer.bookmarkInterval))
                    if Task.isCancelled { break }
                    store.read { s in watcher.send(.bookmark(rv: s.rv)) }
                }
            } : nil
            defer {
                timeout.cancel()
                bookmarkTask?.cancel()
                store.read { s in _ = s.watchers[watcher.storageKey]?.removeValue(forKey: watcher.id) }
            }
            if watch.bookmarks {
                // An initial bookmark lets clients resume at the current version even when nothing changes.
                store.read { s in watcher.send(.bookmark(rv: s.rv)) }
            }
            for await item in events {
                try await outbound.write(.body(.byteBuffer(render(item))))
            }
            if watcher.overflowed.load(ordering: .acquiring) {
                let status = APIError(code: 410, reason: "Expired",
                                      message: "watch closed: the client fell behind and the per-watcher buffer overflowed; resume from the last seen resourceVersion or relist").status
                try await outbound.write(.body(.byteBuffer(Self.eventLine(type: "ERROR", object: status))))
            }
        }
        try await outbound.write(.end(nil))
    }
}
