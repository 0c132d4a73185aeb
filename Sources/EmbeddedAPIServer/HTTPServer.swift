import Foundation
import KubeJSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Open client connections (for "drop all connections" and shutdown).
final class ConnectionRegistry: Sendable {
    let channels = Mutex<[ObjectIdentifier: Channel]>([:])
    /// Watch streams currently being written (a graceful stop waits for them to end cleanly).
    let activeWatches = Atomic<Int>(0)

    func add(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = channels.withLock { $0.removeValue(forKey: id) } }
    }

    var all: [Channel] { channels.withLock { Array($0.values) } }
}

/// HTTPS/1.1 transport: TLS with optional client certificates, keep-alive, chunked watch streams.
///
/// Requests are answered on the connection's event loop by ``APIConnectionHandler`` (no hop to
/// another thread per request: the store operations are short and lock-protected); injected
/// delays are scheduled on the event loop, never slept on it.
final class HTTPServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let serverChannel: Channel
    let router: Router
    let registry = ConnectionRegistry()
    let port: Int

    var activeWatches: Int { registry.activeWatches.load(ordering: .acquiring) }

    init(host: String, port: Int, tls: TLSConfiguration, router: Router, threads: Int) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        self.router = router
        let sslContext = try NIOSSLContext(configuration: tls)
        let registry = registry
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(APIConnectionHandler(router: router, registry: registry))
                        registry.add(channel)
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        self.port = serverChannel.localAddress?.port ?? port
    }

    /// Kept for symmetry with `init`; the listener accepts as soon as it is bound.
    func start() {}

    /// Closes every open client connection (test hook: "drop all connections").
    func dropConnections() {
        for c in registry.all { c.close(promise: nil) }
    }

    /// Stops listening and closes every connection. With a `grace` period, watch streams (already
    /// told to finish) get that long to send their final chunk, so clients see a clean end.
    func shutdown(grace: Duration = .zero) async {
        try? await serverChannel.close()
        let deadline = ContinuousClock.now + grace
        while activeWatches > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let open = registry.all
        for c in open { c.close(promise: nil) }
        for c in open { try? await c.closeFuture.get() }
        try? await group.shutdownGracefully()
    }

    /// `{"type":"<type>","object":<object>}\n` without building a wrapper object.
    static func eventLine(type: String, object: JSON) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        bytes.append(contentsOf: #"{"type":""#.utf8)
        bytes.append(contentsOf: type.utf8)  // a fixed upper-case word: nothing to escape
        bytes.append(contentsOf: #"","object":"#.utf8)
        bytes.append(contentsOf: object.serialized())
        bytes.append(contentsOf: "}\n".utf8)
        return ByteBuffer(bytes: bytes)
    }
}

/// One HTTPS connection: collects requests, answers them in order, streams watches.
final class APIConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Pending {
        var head: HTTPRequestHead
        var body: [UInt8]
        var tooLarge: Bool
    }

    /// A watch being streamed on this connection.
    final class ActiveWatch {
        let stream: WatchStream
        let watcher: Watcher
        var remaining: Int
        var firstTable = true
        var timers: [Scheduled<Void>] = []
        var bookmarks: RepeatedTask?
        let truncatedByTime = AtomicFlag()
        var waitingForWritability = false
        /// When the last batch was written, and whether a deferred drain is scheduled.
        var lastDrain = NIODeadline.distantPast
        var drainScheduled = false

        init(stream: WatchStream, watcher: Watcher, remaining: Int) {
            self.stream = stream
            self.watcher = watcher
            self.remaining = remaining
        }
    }

    let router: Router
    let registry: ConnectionRegistry
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var certUser: String??  // resolved once per connection
    private var queue: [Pending] = []
    private var busy = false
    private var watch: ActiveWatch?
    /// Whether the connection stays open after the current watch ends (HTTP keep-alive, as kube-apiserver does).
    private var watchKeepAlive = false
    private var closed = false

    init(router: Router, registry: ConnectionRegistry) {
        self.router = router
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(let buffer):
            if tooLarge { return }
            if body.count + buffer.readableBytes > Router.maxBody {
                tooLarge = true
                body = []
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let h = head else { return }
            head = nil
            queue.append(Pending(head: h, body: body, tooLarge: tooLarge))
            body = []
            processNext(context: context)
        }
    }

    /// Answers queued requests one at a time, in order (HTTP/1.1 pipelining).
    private func processNext(context: ChannelHandlerContext) {
        guard !busy, !closed, watch == nil, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        busy = true
        if certUser == nil {
            let cert = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
            certUser = .some(cert.flatMap { try? $0.toDERBytes() }.flatMap { CertificateAuthority.identity(fromDER: $0)?.user })
        }
        let request = APIRequest(method: next.head.method.rawValue, uri: next.head.uri, headers: next.head.headers, body: next.body,
                                 bodyTooLarge: next.tooLarge, certificateUser: certUser ?? nil)
        let prepared = router.prepare(request)
        if let delay = prepared.delay {
            // Injected delay: scheduled on the event loop, which keeps serving other connections.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let router = router
            _ = context.eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(delay))) {
                let (handler, context) = bound.value
                handler.send(router.respond(request, prepared), for: next.head, context: context)
            }
        } else {
            send(router.respond(request, prepared), for: next.head, context: context)
        }
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (secs, atto) = d.components
        return secs * 1_000_000_000 + atto / 1_000_000_000
    }

    private func send(_ response: APIResponse, for h: HTTPRequestHead, context: ChannelHandlerContext) {
        guard !closed else { return }
        switch response {
        case .full(let status, let headers, let responseBody):
            var hs = HTTPHeaders()
            for (k, v) in headers { hs.add(name: k, value: v) }
            hs.add(name: "Content-Length", value: String(responseBody.count))
            hs.add(name: "Cache-Control", value: "no-cache, private")
            let keepAlive = h.isKeepAlive
            if !keepAlive { hs.add(name: "Connection", value: "close") }
            // One flush (one TLS record batch, one syscall) per response.
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .init(statusCode: status), headers: hs))), promise: nil)
            if h.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: responseBody)))), promise: nil) }
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                busy = false
                processNext(context: context)
            } else {
                closed = true
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        case .watch(let stream):
            watchKeepAlive = h.isKeepAlive
            startWatch(stream, version: h.version, context: context)
        }
    }

    // MARK: - watch streaming

    private func render(_ item: WatchItem, _ stream: WatchStream, firstTable: inout Bool) -> ByteBuffer {
        guard let info = stream.info else {
            if case .error(let status) = item { return HTTPServer.eventLine(type: "ERROR", object: status) }
            return ByteBuffer()
        }
        switch item {
        case .event(let type, let object, let shared):
            if stream.table {
                let presented = Router.present(object, info)
                let t = TableRenderer.table(info, objects: [presented], listMeta: ["resourceVersion": presented[path: "metadata", "resourceVersion"] ?? ""],
                                            include: stream.include, withColumns: firstTable)
                firstTable = false
                return HTTPServer.eventLine(type: type, object: t)
            }
            guard let shared else { return HTTPServer.eventLine(type: type, object: Router.present(object, info)) }
            return shared.line(groupVersion: info.groupVersion) { HTTPServer.eventLine(type: type, object: Router.present(object, info)) }
        case .bookmark(let rv):
            return HTTPServer.eventLine(type: "BOOKMARK", object: ["kind": .string(info.kind), "apiVersion": .string(info.groupVersion),
                                                                   "metadata": ["resourceVersion": .string(String(rv))]])
        case .error(let status):
            return HTTPServer.eventLine(type: "ERROR", object: status)
        }
    }

    /// Writes items (without flushing) until the truncation limit; returns true when it was hit.
    /// A batch goes out as one chunk: one HTTP chunk header and few TLS records for many events.
    private func write(_ items: [WatchItem], _ stream: WatchStream, remaining: inout Int, firstTable: inout Bool, context: ChannelHandlerContext) -> Bool {
        var out: ByteBuffer?
        var hit = false
        for item in items {
            if remaining <= 0 { hit = true; break }
            let line = render(item, stream, firstTable: &firstTable)
            if out == nil {
                if items.count == 1 { out = line } else {
                    out = context.channel.allocator.buffer(capacity: line.readableBytes * items.count)
                    out?.writeImmutableBuffer(line)
                }
            } else {
                out?.writeImmutableBuffer(line)
            }
            if case .event = item { remaining -= 1 }
        }
        if let out { context.write(wrapOutboundOut(.body(.byteBuffer(out))), promise: nil) }
        return hit || (remaining <= 0 && stream.truncateAfterEvents != nil)
    }

    private func startWatch(_ stream: WatchStream, version: HTTPVersion, context: ChannelHandlerContext) {
        var hs = HTTPHeaders()
        hs.add(name: "Content-Type", value: "application/json")
        hs.add(name: "Cache-Control", value: "no-cache, private")
        hs.add(name: "Transfer-Encoding", value: "chunked")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: hs))), promise: nil)
        // Fault injection: a watch truncated after N events or T seconds ends cleanly, like a timeout.
        var remaining = stream.truncateAfterEvents ?? Int.max
        var firstTable = true
        let truncated = write(stream.plan.initial, stream, remaining: &remaining, firstTable: &firstTable, context: context)
        guard let watcher = stream.plan.watcher, !truncated else {
            if let watcher = stream.plan.watcher { deregister(watcher) }
            if truncated { router.faults.count { $0.truncatedWatches += 1 } }
            endStream(context: context)
            return
        }
        context.flush()
        let active = ActiveWatch(stream: stream, watcher: watcher, remaining: remaining)
        active.firstTable = firstTable
        watch = active
        registry.activeWatches.add(1, ordering: .relaxed)
        let loop = context.eventLoop
        // Timeout, truncation by time and shutdown all finish the queue; the drain then ends the stream.
        active.timers.append(loop.scheduleTask(in: .seconds(stream.timeoutSeconds)) { watcher.finish() })
        if let d = stream.truncateAfter {
            let flag = active.truncatedByTime
            active.timers.append(loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(d))) {
                flag.set()
                watcher.finish()
            })
        }
        let store = router.store
        if stream.bookmarks {
            let interval = TimeAmount.seconds(Int64(EmbeddedAPIServer.bookmarkInterval))
            active.bookmarks = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                store.read { s in watcher.send(.bookmark(rv: s.rv)) }
            }
            // An initial bookmark lets clients resume at the current version even when nothing changes.
            store.read { s in watcher.send(.bookmark(rv: s.rv)) }
        }
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        watcher.queue.setConsumer {
            loop.execute {
                let (handler, context) = bound.value
                handler.drainWatch(context: context)
            }
        }
    }

    /// Minimum spacing of batches per watcher: under a write storm each watcher writes one batch
    /// (one flush, one syscall) per interval instead of one per change; an idle watcher still
    /// gets a change at once.
    static let drainInterval = TimeAmount.milliseconds(5)

    /// Writes everything the watcher has pending with one flush; ends the stream when done.
    private func drainWatch(context: ChannelHandlerContext, deferred: Bool = false) {
        guard let active = watch, !closed else { return }
        if deferred { active.drainScheduled = false } else if active.drainScheduled { return }
        let now = NIODeadline.now()
        if !deferred && now - active.lastDrain < Self.drainInterval {
            // Too soon after the last batch: gather more (notifications stay suppressed until takeAll).
            active.drainScheduled = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: active.lastDrain + Self.drainInterval) {
                let (handler, context) = bound.value
                handler.drainWatch(context: context, deferred: true)
            }
            return
        }
        active.lastDrain = now
        if !context.channel.isWritable {
            // The client is not reading: leave items queued (the bounded queue overflows if it never does).
            active.waitingForWritability = true
            return
        }
        let (items, finished) = active.watcher.queue.takeAll()
        let truncated = write(items, active.stream, remaining: &active.remaining, firstTable: &active.firstTable, context: context)
        if truncated || finished {
            if truncated || active.truncatedByTime.isSet { router.faults.count { $0.truncatedWatches += 1 } }
            if active.watcher.overflowed {
                let status = APIError(code: 410, reason: "Expired",
                                      message: "watch closed: the client fell behind and the per-watcher buffer overflowed; resume from the last seen resourceVersion or relist").status
                context.write(wrapOutboundOut(.body(.byteBuffer(HTTPServer.eventLine(type: "ERROR", object: status)))), promise: nil)
            }
            stopWatch()
            endStream(context: context)
        } else {
            context.flush()
        }
    }

    /// Ends a watch response. The connection stays usable for the next request when the client
    /// asked for keep-alive (clients such as client-go pool it), otherwise it is closed.
    private func endStream(context: ChannelHandlerContext) {
        if watchKeepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            busy = false
            processNext(context: context)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            closed = true
        }
    }

    private func deregister(_ watcher: Watcher) {
        watcher.queue.detach()
        router.store.read { s in _ = s.watchers[watcher.storageKey]?.removeValue(forKey: watcher.id) }
    }

    private func stopWatch() {
        guard let active = watch else { return }
        watch = nil
        for t in active.timers { t.cancel() }
        active.bookmarks?.cancel()
        deregister(active.watcher)
        registry.activeWatches.subtract(1, ordering: .relaxed)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let active = watch, active.waitingForWritability {
            active.waitingForWritability = false
            drainWatch(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        stopWatch()
        queue.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Connection errors (client went away, TLS failures) end only this connection.
        context.close(promise: nil)
    }
}
