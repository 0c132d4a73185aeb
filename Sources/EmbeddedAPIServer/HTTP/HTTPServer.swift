import Foundation
import KubeCore
import ListenerLimits
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
    /// Watch connections closed because their client left too many bytes unread.
    let slowWatchersClosed = Atomic<Int>(0)
    /// The most bytes seen waiting to be sent on one watch connection.
    let watchPendingHighWater = Atomic<Int>(0)

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
    /// Timeouts and connection limit of the listener (see docs/operations.md, "Limits").
    let listener: ListenerGuard

    var activeWatches: Int { registry.activeWatches.load(ordering: .acquiring) }

    init(
        host: String, port: Int, tls: TLSConfiguration, router: Router, threads: Int,
        watchBatchInterval: Duration = .milliseconds(5), watchBatchMaxInterval: Duration = .milliseconds(20),
        watchBookmarkInterval: Duration = .seconds(10), limits: ListenerLimits = .init(),
        maxWatchPendingBytes: Int = EmbeddedAPIServerConfiguration.defaultMaxWatchPendingBytes,
        maxWatchStall: Duration = .seconds(10)
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        self.router = router
        var tls = tls
        ListenerLimits.harden(&tls)
        let sslContext = try NIOSSLContext(configuration: tls)
        let registry = registry
        let listener = ListenerGuard(limits)
        self.listener = listener
        // One dispatcher per loop: watches are drained by the loop that owns their connection.
        let minInterval = TimeAmount.nanoseconds(APIConnectionHandler.nanoseconds(watchBatchInterval))
        let maxInterval = TimeAmount.nanoseconds(APIConnectionHandler.nanoseconds(watchBatchMaxInterval))
        let bookmarkInterval = TimeAmount.nanoseconds(APIConnectionHandler.nanoseconds(watchBookmarkInterval))
        var dispatchers: [ObjectIdentifier: WatchDispatcher] = [:]
        for loop in group.makeIterator() {
            dispatchers[ObjectIdentifier(loop)] = WatchDispatcher(
                loop: loop, minInterval: minInterval, maxInterval: maxInterval, bookmarkInterval: bookmarkInterval)
        }
        let byLoop = dispatchers
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let dispatcher =
                            byLoop[ObjectIdentifier(channel.eventLoop)]
                            ?? WatchDispatcher(
                                loop: channel.eventLoop, minInterval: minInterval, maxInterval: maxInterval,
                                bookmarkInterval: bookmarkInterval)
                        guard try listener.configure(channel, tls: sslContext, outer: [WriteCoalescer()]) else { return }
                        try channel.pipeline.syncOperations.addHandler(
                            APIConnectionHandler(
                                router: router, registry: registry, dispatcher: dispatcher, maxWatchPendingBytes: maxWatchPendingBytes,
                                maxWatchStall: maxWatchStall))
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
    static func eventLine(_ event: WatchEvent) -> ByteBuffer { eventLine(type: event.type, object: event.object.serialized()) }

    /// The event line of an object already serialized.
    static func eventLine(type: WatchEvent.EventType, object: [UInt8]) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(object.count + 40)
        bytes.append(contentsOf: #"{"type":""#.utf8)
        bytes.append(contentsOf: type.rawValue.utf8)  // a fixed upper-case word: nothing to escape
        bytes.append(contentsOf: #"","object":"#.utf8)
        bytes.append(contentsOf: object)
        bytes.append(contentsOf: "}\n".utf8)
        return ByteBuffer(bytes: bytes)
    }
}

/// Sits between TLS and the HTTP handlers and gathers the small writes made before a flush into
/// one buffer: a response's head and body (or a request's) then go out as one TLS record instead
/// of one per write (NIOSSL seals every write on its own). Large writes, such as watch batches,
/// pass through without a copy, after whatever was gathered before them.
final class WriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Writes up to this size are copied into the pending buffer; one TLS record holds 16 KiB.
    static let smallWrite = 4_096
    static let maxPending = 16_384

    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(var buffer) = unwrapOutboundIn(data), buffer.readableBytes <= Self.smallWrite,
            (pending?.readableBytes ?? 0) + buffer.readableBytes <= Self.maxPending
        {
            var gathered = pending ?? context.channel.allocator.buffer(capacity: 1_024)
            pending = nil  // keep the storage uniquely referenced while appending
            gathered.writeBuffer(&buffer)
            pending = gathered
            if let promise { promises.append(promise) }
            return
        }
        writePending(context: context)
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writePending(context: context)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        pending = nil
        let promise: EventLoopPromise<Void>?
        switch promises.count {
        case 0: promise = nil
        case 1: promise = promises[0]
        default:
            let all = context.eventLoop.makePromise(of: Void.self)
            for p in promises { all.futureResult.cascade(to: p) }
            promise = all
        }
        promises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}

/// Batches the watch deliveries of one event loop. A change notifies each watcher it concerns
/// (once until that watcher takes its items); the dispatcher then drains every notified watcher
/// of its loop in one pass: one cross-thread wake-up and one timer per loop and pass, not per
/// watcher, and each busy watcher writes one chunk (one TLS record batch, one syscall) per pass.
///
/// Pacing: the first change after a quiet period goes out at once. While changes keep coming,
/// passes are at least `minInterval` apart and the spacing doubles per busy pass up to
/// `maxInterval`: a sustained write storm gets large batches (the per-chunk cost of TLS, syscall
/// and client wake-up is paid per pass, not per change), short bursts keep a low latency.
final class WatchDispatcher: Sendable {
    private struct State {
        var ready: [@Sendable () -> Void] = []
        /// A pass is queued or scheduled (further notifications only join the list).
        var passPending = false
        var lastPass = NIODeadline.distantPast
        var interval: TimeAmount
    }

    let loop: EventLoop
    let minInterval: TimeAmount
    let maxInterval: TimeAmount
    /// Spacing of BOOKMARK events on the loop's watches that allow them.
    let bookmarkInterval: TimeAmount
    private let state: Mutex<State>

    init(loop: EventLoop, minInterval: TimeAmount, maxInterval: TimeAmount, bookmarkInterval: TimeAmount = .seconds(10)) {
        self.loop = loop
        self.minInterval = minInterval
        self.maxInterval = max(minInterval, maxInterval)
        self.bookmarkInterval = bookmarkInterval
        state = Mutex(State(interval: minInterval))
    }

    /// Queues `drain` (run on the loop) for the next pass.
    func ready(_ drain: @escaping @Sendable () -> Void) {
        let wake = state.withLock { s -> Bool in
            s.ready.append(drain)
            if s.passPending { return false }
            s.passPending = true
            return true
        }
        if wake { loop.execute { self.pass(deferred: false) } }
    }

    private func pass(deferred: Bool) {
        let now = NIODeadline.now()
        let later = state.withLock { s -> NIODeadline? in
            let since = now - s.lastPass
            if !deferred {
                if since < s.interval { return s.lastPass + s.interval }
                // Quiet for two intervals: back to the short spacing.
                if since >= s.interval + s.interval { s.interval = minInterval }
            } else {
                // Changes arrived within the interval: a sustained stream, batch more.
                s.interval = min(maxInterval, s.interval + s.interval)
            }
            s.lastPass = now
            return nil
        }
        if let later {
            loop.scheduleTask(deadline: later) { self.pass(deferred: true) }
            return
        }
        let batch = state.withLock { s -> [@Sendable () -> Void] in
            s.passPending = false
            var out: [@Sendable () -> Void] = []
            out.reserveCapacity(s.ready.count)
            swap(&out, &s.ready)
            return out
        }
        for drain in batch { drain() }
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
        /// Closes the connection if the client still reads nothing when it fires (see `maxWatchStall`).
        var stallTimer: Scheduled<Void>?
        /// Where pre-framed chunks are written, below the HTTP encoder (nil: through the encoder, e.g. HTTP/1.0).
        let raw: ChannelHandlerContext?

        init(stream: WatchStream, watcher: Watcher, remaining: Int, raw: ChannelHandlerContext?) {
            self.stream = stream
            self.watcher = watcher
            self.remaining = remaining
            self.raw = raw
        }
    }

    let router: Router
    let registry: ConnectionRegistry
    let dispatcher: WatchDispatcher
    /// Unsent bytes a watch connection may hold before it is closed (see docs/operations.md).
    let maxWatchPendingBytes: Int
    /// How long a watch may wait for its client to read before it is closed.
    let maxWatchStall: Duration
    /// Event lines of the batch being written (kept to reuse its storage; batches move it into
    /// a local so appends are not checked for exclusive access one by one).
    private var lineStorage: [ByteBuffer] = []
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var certUser: (user: String, groups: [String])??  // resolved once per connection
    private var queue: [Pending] = []
    private var busy = false
    private var watch: ActiveWatch?
    /// Whether the connection stays open after the current watch ends (HTTP keep-alive, as kube-apiserver does).
    private var watchKeepAlive = false
    private var closed = false

    init(router: Router, registry: ConnectionRegistry, dispatcher: WatchDispatcher, maxWatchPendingBytes: Int, maxWatchStall: Duration) {
        self.router = router
        self.registry = registry
        self.dispatcher = dispatcher
        self.maxWatchPendingBytes = maxWatchPendingBytes
        self.maxWatchStall = maxWatchStall
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
            certUser = .some(cert.flatMap { try? $0.toDERBytes() }.flatMap { CertificateAuthority.identity(fromDER: $0) })
        }
        let request = APIRequest(
            method: next.head.method.rawValue, uri: next.head.uri, headers: next.head.headers, body: next.body,
            bodyTooLarge: next.tooLarge, certificateUser: (certUser ?? nil)?.user, certificateGroups: (certUser ?? nil)?.groups ?? [])
        let prepared = router.prepare(request)
        if let delay = prepared.delay {
            // Injected delay: scheduled on the event loop, which keeps serving other connections.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let router = router
            _ = context.eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(delay))) {
                let (handler, context) = bound.value
                handler.answer(router.respond(request, prepared), for: next.head, context: context)
            }
        } else {
            answer(router.respond(request, prepared), for: next.head, context: context)
        }
    }

    /// Sends an answer once the changes written before it are durable (fsync'd by the store's
    /// sync thread, never on this event loop; see docs/reliability.md); if they cannot be made
    /// durable, the answer is an InternalError instead.
    private func answer(_ response: APIResponse, for h: HTTPRequestHead, context: ChannelHandlerContext) {
        if case .deferred(let work) = response {
            // Off the event loop (webhook calls), then back to it with the answer.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            Task {
                let result = await work()
                loop.execute {
                    let (handler, context) = bound.value
                    handler.answer(result, for: h, context: context)
                }
            }
            return
        }
        guard case .full = response else { return send(response, for: h, context: context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let waiting = router.store.whenDurable { failure in
            loop.execute {
                let (handler, context) = bound.value
                let durable = failure.map { Router.error(APIError.internalError("storage failure: \($0)")) } ?? response
                handler.send(durable, for: h, context: context)
            }
        }
        if !waiting { send(response, for: h, context: context) }
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
            // A response with caching rules of its own (hashed OpenAPI documents) keeps them.
            if !hs.contains(name: "Cache-Control") { hs.add(name: "Cache-Control", value: "no-cache, private") }
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
            // Own chunk framing only where the encoder would chunk too (HTTP/1.1, a body is sent).
            // Writes on the encoder's context skip the HTTP handlers but still pass the coalescer,
            // so they stay in order with the head.
            let chunked = h.version.major == 1 && h.version.minor >= 1 && h.method != .HEAD
            let raw = chunked ? try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) : nil
            startWatch(stream, version: h.version, raw: raw, context: context)
        case .deferred:
            answer(response, for: h, context: context)
        }
    }

    // MARK: - watch streaming

    /// `plainEvents`: the stream has a resource and is not a table stream (events are the shared lines).
    private func render(_ item: WatchItem, _ stream: WatchStream, groupVersion: String, plainEvents: Bool, firstTable: inout Bool) -> ByteBuffer {
        // The common case first, without copying the resource info per event: every watcher of
        // this apiVersion reuses one encoding of the change.
        if case .event(let event) = item, plainEvents { return Self.plainLine(event, stream, groupVersion: groupVersion) }
        guard let info = stream.info else {
            if case .error(let status) = item { return HTTPServer.eventLine(WatchEvent(type: .error, object: status)) }
            return ByteBuffer()
        }
        switch item {
        case .event(let event):
            let presented = Router.present(event.object, info)
            let t = TableRenderer.table(
                info, objects: [presented], listMeta: ["resourceVersion": presented[path: "metadata", "resourceVersion"] ?? ""],
                include: stream.include, withColumns: firstTable)
            firstTable = false
            return HTTPServer.eventLine(WatchEvent(type: event.type, object: t))
        case .bookmark(let rv):
            return HTTPServer.eventLine(
                WatchEvent(
                    type: .bookmark,
                    object: [
                        "kind": .string(info.kind), "apiVersion": .string(info.groupVersion),
                        "metadata": ["resourceVersion": .string(String(rv))],
                    ]))
        case .error(let status):
            return HTTPServer.eventLine(WatchEvent(type: .error, object: status))
        }
    }

    /// Renders items into `lines` until the truncation limit; returns true when it was hit.
    private func render(
        _ items: [WatchItem], _ stream: WatchStream, remaining: inout Int, firstTable: inout Bool,
        into lines: inout [ByteBuffer]
    ) -> Bool {
        let groupVersion = stream.info?.groupVersion ?? ""
        let plainEvents = !stream.table && stream.info != nil
        for item in items {
            if remaining <= 0 { return true }
            let line = render(item, stream, groupVersion: groupVersion, plainEvents: plainEvents, firstTable: &firstTable)
            if line.readableBytes > 0 { lines.append(line) }
            if case .event = item { remaining -= 1 }
        }
        return remaining <= 0 && stream.truncateAfterEvents != nil
    }

    /// Writes `lines` (without flushing) as one chunk and empties it. With `raw`, the chunk is
    /// framed here and bypasses the HTTP encoder: one buffer instead of the encoder's three
    /// (size line, data, CRLF), so TLS seals one record per 16 KiB instead of three per batch.
    private func writeLines(_ lines: inout [ByteBuffer], raw: ChannelHandlerContext?, context: ChannelHandlerContext) {
        guard !lines.isEmpty else { return }
        defer { lines.removeAll(keepingCapacity: true) }
        if let raw {
            raw.write(NIOAny(IOData.byteBuffer(Self.framedChunk(lines, allocator: context.channel.allocator))), promise: nil)
            return
        }
        var out: ByteBuffer
        if lines.count == 1 {
            out = lines[0]
        } else {
            out = context.channel.allocator.buffer(capacity: lines.reduce(0) { $0 + $1.readableBytes })
            for l in lines { out.writeImmutableBuffer(l) }
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(out))), promise: nil)
    }

    /// A chunk size in lower-case hex without leading zeros.
    static func writeHex(_ n: Int, to out: inout ByteBuffer) {
        var digits = 1
        while digits < 16 && n >> (4 * digits) != 0 { digits += 1 }
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let d = UInt8((n >> (4 * i)) & 0xF)
            out.writeInteger(d < 10 ? 48 + d : 87 + d)
        }
    }

    private func startWatch(_ stream: WatchStream, version: HTTPVersion, raw: ChannelHandlerContext?, context: ChannelHandlerContext) {
        var hs = HTTPHeaders()
        hs.add(name: "Content-Type", value: "application/json")
        hs.add(name: "Cache-Control", value: "no-cache, private")
        hs.add(name: "Transfer-Encoding", value: "chunked")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: hs))), promise: nil)
        // Fault injection: a watch truncated after N events or T seconds ends cleanly, like a timeout.
        var remaining = stream.truncateAfterEvents ?? Int.max
        var firstTable = true
        var lines: [ByteBuffer] = []
        let truncated = render(stream.plan.initial, stream, remaining: &remaining, firstTable: &firstTable, into: &lines)
        writeLines(&lines, raw: raw, context: context)
        guard let watcher = stream.plan.watcher, !truncated else {
            if let watcher = stream.plan.watcher { deregister(watcher) }
            if truncated { router.faults.count { $0.truncatedWatches += 1 } }
            endStream(context: context)
            return
        }
        context.flush()
        let active = ActiveWatch(stream: stream, watcher: watcher, remaining: remaining, raw: raw)
        active.firstTable = firstTable
        watch = active
        registry.activeWatches.add(1, ordering: .relaxed)
        let loop = context.eventLoop
        // Timeout, truncation by time and shutdown all finish the queue; the drain then ends the stream.
        active.timers.append(loop.scheduleTask(in: .seconds(stream.timeoutSeconds)) { watcher.finish() })
        if let d = stream.truncateAfter {
            let flag = active.truncatedByTime
            active.timers.append(
                loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(d))) {
                    flag.set()
                    watcher.finish()
                })
        }
        let store = router.store
        if stream.bookmarks {
            let interval = dispatcher.bookmarkInterval
            active.bookmarks = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                store.read { s in watcher.send(.bookmark(rv: s.rv)) }
            }
            // An initial bookmark lets clients resume at the current version even when nothing changes.
            store.read { s in watcher.send(.bookmark(rv: s.rv)) }
        }
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let dispatcher = dispatcher
        let drain: @Sendable () -> Void = {
            let (handler, context) = bound.value
            handler.drainWatch(context: context)
        }
        watcher.setConsumer { dispatcher.ready(drain) }
    }

    /// Writes everything the watcher has pending as one chunk with one flush; ends the stream
    /// when done. Called by the loop's ``WatchDispatcher`` (batched) or when writable again.
    private func drainWatch(context: ChannelHandlerContext) {
        guard let active = watch, !closed else { return }
        if !context.channel.isWritable {
            // The client is not reading: leave the changes in the group's log (the watcher
            // overflows and ends with a 410 if it never reads); notifications stay suppressed
            // until `take`, writability resumes the drain. Writing on would only move the
            // backlog into this connection's buffers (see docs/operations.md, "Limits").
            active.waitingForWritability = true
            closeIfTooMuchUnsent(context: context)
            if !closed && active.stallTimer == nil {
                // Bytes waiting on the connection stay small (it stopped taking writes), but the
                // group log keeps every change for this member: a client that reads nothing for
                // `maxWatchStall` is closed, as kube-apiserver closes unresponsive watchers.
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                active.stallTimer = context.eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(maxWatchStall))) {
                    let (handler, context) = bound.value
                    handler.closeStalledWatch(context: context)
                }
            }
            return
        }
        let stream = active.stream
        // Plain JSON events without truncation: the pre-framed chunk of the taken changes is
        // the same for every member of the group, so it is built once and shared.
        let shareable: (raw: ChannelHandlerContext, info: ResourceInfo)? =
            if let raw = active.raw, let info = stream.info, !stream.table, stream.truncateAfterEvents == nil { (raw, info) } else { nil }
        let taken = active.watcher.take(sharing: shareable?.info.groupVersion)
        if let shareable, taken.extras.isEmpty, !taken.finished {
            guard taken.count > 0 else { return }
            let groupVersion = shareable.info.groupVersion
            let chunk =
                taken.chunk
                ?? active.watcher.group.chunk(start: taken.start, events: taken.events, groupVersion: groupVersion) {
                    Self.frameChunk(taken.events, stream: stream, groupVersion: groupVersion, allocator: context.channel.allocator)
                }
            shareable.raw.write(NIOAny(IOData.byteBuffer(chunk)), promise: nil)
            context.flush()
            closeIfTooMuchUnsent(context: context)
            return
        }
        var lines: [ByteBuffer] = []
        swap(&lines, &lineStorage)
        defer { swap(&lines, &lineStorage) }
        let truncated = render(taken.items, stream, remaining: &active.remaining, firstTable: &active.firstTable, into: &lines)
        if truncated || taken.finished {
            if truncated || active.truncatedByTime.isSet { router.faults.count { $0.truncatedWatches += 1 } }
            if active.watcher.overflowed {
                let status = APIError(
                    code: 410, reason: "Expired",
                    message:
                        "watch closed: the client fell behind and the per-watcher buffer overflowed; resume from the last seen resourceVersion or relist"
                ).status
                lines.append(HTTPServer.eventLine(WatchEvent(type: .error, object: status)))
            }
            writeLines(&lines, raw: active.raw, context: context)
            stopWatch()
            endStream(context: context)
        } else {
            writeLines(&lines, raw: active.raw, context: context)
            context.flush()
            closeIfTooMuchUnsent(context: context)
        }
    }

    /// Bounds the memory of a watcher whose client does not read: once the bytes waiting to be
    /// sent on its connection exceed `maxWatchPendingBytes`, the connection is closed and its
    /// buffers are released (the client re-watches from its last resourceVersion).
    private func closeIfTooMuchUnsent(context: ChannelHandlerContext) {
        guard let pending = try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes) else { return }
        var high = registry.watchPendingHighWater.load(ordering: .relaxed)
        while pending > high {
            let (exchanged, original) = registry.watchPendingHighWater.compareExchange(
                expected: high, desired: pending, ordering: .relaxed)
            if exchanged { break }
            high = original
        }
        guard pending > maxWatchPendingBytes else { return }
        closeSlowWatch(context: context)
    }

    /// Ends a watch whose client does not keep up, releasing its buffers and its part of the log.
    private func closeSlowWatch(context: ChannelHandlerContext) {
        registry.slowWatchersClosed.add(1, ordering: .relaxed)
        closed = true
        stopWatch()
        context.close(promise: nil)
    }

    /// Closes a watch whose client has read nothing since the stall timer was set.
    private func closeStalledWatch(context: ChannelHandlerContext) {
        guard let active = watch, !closed, active.waitingForWritability else { return }
        closeSlowWatch(context: context)
    }

    /// The event line of a change on a plain (non-table) stream, encoded once per apiVersion and
    /// shared by every watcher that writes it.
    static func plainLine(_ event: SharedWatchEvent, _ stream: WatchStream, groupVersion: String) -> ByteBuffer {
        event.line(groupVersion: groupVersion) { e in
            guard let info = stream.info else { return HTTPServer.eventLine(WatchEvent(type: e.type, object: e.object)) }
            let render = { Router.present(e.object, info).serialized() }
            return HTTPServer.eventLine(type: e.type, object: e.text?.bytes(for: info, render: render) ?? render())
        }
    }

    /// One HTTP chunk of plain watch events, framed for writing below the HTTP encoder.
    static func frameChunk(_ events: [SharedWatchEvent], stream: WatchStream, groupVersion: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        framedChunk(events.map { plainLine($0, stream, groupVersion: groupVersion) }, allocator: allocator)
    }

    /// `lines` as one HTTP chunk: size line, data, CRLF in one buffer.
    static func framedChunk(_ lines: [ByteBuffer], allocator: ByteBufferAllocator) -> ByteBuffer {
        let total = lines.reduce(0) { $0 + $1.readableBytes }
        var out = allocator.buffer(capacity: total + 12)
        writeHex(total, to: &out)
        out.writeStaticString("\r\n")
        for l in lines { out.writeImmutableBuffer(l) }
        out.writeStaticString("\r\n")
        return out
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
        router.store.read { s in s.deregisterWatcher(watcher) }
    }

    private func stopWatch() {
        guard let active = watch else { return }
        watch = nil
        for t in active.timers { t.cancel() }
        active.stallTimer?.cancel()
        active.bookmarks?.cancel()
        deregister(active.watcher)
        registry.activeWatches.subtract(1, ordering: .relaxed)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let active = watch, active.waitingForWritability {
            active.waitingForWritability = false
            active.stallTimer?.cancel()
            active.stallTimer = nil
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
