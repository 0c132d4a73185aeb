import Dispatch
import NIOCore
import NIOPosix
import NIOSSL

/// A closed-loop HTTPS/1.1 load generator (`calico-bench validate --webhook`, `calico-bench
/// apiserver`): every connection is kept alive and sends its next request as soon as the
/// previous answer is complete, as the API server's webhook client and client-go do. It runs
/// entirely in event-loop callbacks on few threads with pre-encoded requests, so on a small
/// machine the client takes as little CPU as possible from the server being measured.
enum HTTPLoadGenerator {
    /// The outcome of a run.
    struct Result: Sendable {
        /// Per-request latencies of the measured phase, in seconds.
        var latencies: [Double]
        /// Wall time of the measured phase, in seconds.
        var elapsed: Double
        /// Responses with a status outside 200–299.
        var failed: Int
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// How the connections pick their requests.
    enum Order: Sendable {
        /// Connection `i` sends `requests[i], requests[i+1], …`, cycling (the same bodies again and again).
        case cycle
        /// Connection `i` sends `requests[i], requests[i+connections], …`: every request once
        /// (creates of distinct objects); `requestsPerConnection` must fit.
        case each
    }

    /// An HTTP/1.1 request as bytes, with `Content-Length` and the given headers.
    static func encode(method: String, path: String, headers: [(String, String)], body: [UInt8] = []) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeString("\(method) \(path) HTTP/1.1\r\n")
        for (name, value) in headers { b.writeString("\(name): \(value)\r\n") }
        b.writeString("Content-Length: \(body.count)\r\n\r\n")
        b.writeBytes(body)
        return b
    }

    /// Opens `connections` TLS connections to `127.0.0.1:port` (trusting `caPEM`; `serverHostname`
    /// nil verifies the IP address), warms each up with `warmup` requests from `warmupRequests`
    /// (default: `requests`), then measures `requestsPerConnection` requests per connection.
    ///
    /// `rate` 0 = closed loop (each connection sends as soon as its previous answer arrived: the
    /// maximum throughput, where latency = connections / throughput). `rate` > 0 = open loop: the
    /// connections together send `rate` requests per second on a fixed schedule, and a latency is
    /// measured from the *scheduled* send time, so a server falling behind shows up in the
    /// percentiles (no coordinated omission).
    static func run(
        group: MultiThreadedEventLoopGroup, port: Int, caPEM: String, serverHostname: String? = "localhost",
        requests: [ByteBuffer], order: Order = .cycle, warmupRequests: [ByteBuffer]? = nil,
        connections: Int, requestsPerConnection: Int, warmup: Int = 20, rate: Double = 0
    ) async throws -> Result {
        guard !requests.isEmpty, connections > 0 else { throw LoadError(description: "nothing to send") }
        if order == .each && connections * requestsPerConnection > requests.count {
            throw LoadError(description: "\(connections) × \(requestsPerConnection) requests wanted, \(requests.count) given")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let ssl = try NIOSSLContext(configuration: tls)
        // Per connection: one request every `interval`, connections staggered evenly.
        let interval: UInt64 = rate > 0 ? UInt64(Double(connections) / rate * 1e9) : 0
        let warmupList = warmupRequests ?? requests
        var handlers: [(LoadHandler, any Channel)] = []
        for i in 0..<connections {
            let loop = group.next()
            let ready = loop.makePromise(of: Void.self)
            let done = loop.makePromise(of: [Double].self)
            let handler = LoadHandler(
                requests: requests, offset: i, step: order == .each ? connections : 1, warmupRequests: warmupList,
                warmup: warmup, measured: requestsPerConnection, ready: ready, done: done,
                interval: interval, stagger: interval / UInt64(connections) * UInt64(i))
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverHostname))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            handlers.append((handler, channel))
        }
        // Warm-up (TLS handshakes and first requests are not part of the steady state).
        for (h, _) in handlers { try await h.ready.futureResult.get() }
        let start = DispatchTime.now().uptimeNanoseconds
        for (h, c) in handlers {
            c.eventLoop.execute { h.startMeasured(at: start) }
        }
        var latencies: [Double] = []
        latencies.reserveCapacity(connections * requestsPerConnection)
        for (h, _) in handlers { latencies += try await h.done.futureResult.get() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var failed = 0
        for (h, c) in handlers { failed += try await c.eventLoop.submit { h.failedCount }.get() }
        for (_, c) in handlers { try? await c.close() }
        return Result(latencies: latencies, elapsed: elapsed, failed: failed)
    }
}

/// One keep-alive connection of the load generator (event-loop confined).
final class LoadHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all mutable state is touched on the channel's event loop only.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let requests: [ByteBuffer]
    var next: Int
    let step: Int
    let warmupRequests: [ByteBuffer]
    var nextWarmup: Int
    let warmup: Int
    let measured: Int
    let ready: EventLoopPromise<Void>
    let done: EventLoopPromise<[Double]>
    var context: ChannelHandlerContext?
    var received = ByteBuffer()
    var sent = 0
    var measuring = false
    var measuredSent = 0
    var sentAt: UInt64 = 0
    var latencies: [Double] = []
    var finished = false
    var readyDone = false
    /// Open loop: nanoseconds between this connection's requests (0 = closed loop).
    let interval: UInt64
    let stagger: UInt64
    var nextDue: UInt64 = 0
    private(set) var failedCount = 0

    init(
        requests: [ByteBuffer], offset: Int, step: Int, warmupRequests: [ByteBuffer], warmup: Int, measured: Int,
        ready: EventLoopPromise<Void>, done: EventLoopPromise<[Double]>, interval: UInt64 = 0, stagger: UInt64 = 0
    ) {
        self.requests = requests
        self.next = offset
        self.step = step
        self.warmup = warmup
        self.measured = measured
        self.warmupRequests = warmupRequests
        self.nextWarmup = offset
        self.interval = interval
        self.stagger = stagger
        self.ready = ready
        self.done = done
        latencies.reserveCapacity(measured)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        if warmup > 0 { send() } else { markReady() }
        context.fireChannelActive()
    }

    func startMeasured(at start: UInt64) {
        measuring = true
        nextDue = start + stagger
        if measured > 0 { sendMeasured() } else { finish() }
    }

    /// Closed loop: send now. Open loop: send at the next scheduled time (at once when late;
    /// the latency still counts from the scheduled time).
    func sendMeasured() {
        guard interval > 0 else { return send() }
        let due = nextDue
        nextDue += interval
        let now = DispatchTime.now().uptimeNanoseconds
        if now >= due {
            send(scheduledAt: due)
        } else if let context {
            context.eventLoop.scheduleTask(in: .nanoseconds(Int64(due - now))) { [self] in self.send(scheduledAt: due) }
        }
    }

    func send(scheduledAt: UInt64? = nil) {
        guard let context else { return }
        let request: ByteBuffer
        if measuring {
            request = requests[next % requests.count]
            next += step
        } else {
            request = warmupRequests[nextWarmup % warmupRequests.count]
            nextWarmup += 1
        }
        sentAt = scheduledAt ?? DispatchTime.now().uptimeNanoseconds
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        while let (status, length) = Self.completeResponse(in: received) {
            received.moveReaderIndex(forwardBy: length)
            if !(200..<300).contains(status) { failedCount += 1 }
            responseDone()
        }
        received.discardReadBytes()
    }

    func responseDone() {
        if measuring {
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sentAt) / 1e9)
            measuredSent += 1
            if measuredSent < measured { sendMeasured() } else { finish() }
        } else {
            sent += 1
            if sent < warmup { send() } else { markReady() }
        }
    }

    func markReady() {
        guard !readyDone else { return }
        readyDone = true
        ready.succeed(())
    }

    func fail(_ error: any Error) {
        if !readyDone {
            readyDone = true
            ready.fail(error)
        }
        if !finished {
            finished = true
            done.fail(error)
        }
    }

    func finish() {
        guard !finished else { return }
        finished = true
        done.succeed(latencies)
    }

    /// (status, total length) of the first complete response in `buffer`, if there is one.
    static func completeResponse(in buffer: ByteBuffer) -> (Int, Int)? {
        let view = buffer.readableBytesView
        guard view.count >= 16 else { return nil }
        var headerEnd = -1
        var i = view.startIndex
        let end = view.endIndex
        while i + 3 < end {
            if view[i] == 13 && view[i + 1] == 10 && view[i + 2] == 13 && view[i + 3] == 10 {
                headerEnd = i + 4
                break
            }
            i += 1
        }
        guard headerEnd >= 0 else { return nil }
        let s = view.startIndex
        let status = Int(view[s + 9] &- 48) * 100 + Int(view[s + 10] &- 48) * 10 + Int(view[s + 11] &- 48)
        // Content-Length (case-insensitive) within the header block.
        let key = Array("content-length:".utf8)
        var j = s
        var length = 0
        var found = false
        while j + key.count < headerEnd && !found {
            var k = 0
            while k < key.count && (view[j + k] | 0x20) == key[k] { k += 1 }
            if k == key.count {
                var p = j + k
                while p < headerEnd && view[p] == 32 { p += 1 }
                while p < headerEnd, view[p] >= 48, view[p] <= 57 {
                    length = length * 10 + Int(view[p] - 48)
                    p += 1
                }
                found = true
            }
            j += 1
        }
        let total = (headerEnd - s) + length
        return view.count >= total ? (status, total) : nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = HTTPLoadGenerator.LoadError(description: "connection closed by the server")
        fail(error)
        context.fireChannelInactive()
    }
}
