import KubeRuntime
import ListenerLimits
import NIOCore
import TestSupport
import Testing

/// Timeouts of the health/metrics endpoints (see docs/operations.md, "Limits").
@Suite struct EndpointLimitsTests {
    @Test func halfSpokenAndIdleConnectionsAreClosed() async throws {
        let limits = ListenerLimits(requestHeaderTimeout: .milliseconds(300), idleTimeout: .milliseconds(300))
        let server = try await EndpointServer.start(at: BindAddress(host: "127.0.0.1", port: 0), limits: limits) { _ in
            EndpointResponse(status: 200, body: "ok")
        }
        // Half a request header: closed without an answer.
        let partial = try await ListenerProbe.untilClosed(port: server.port, send: Array("GET /healthz HTTP/1.1\r\n".utf8))
        #expect(partial.isEmpty)
        // A kept-alive connection after its answer: closed once idle.
        let reply = try await ListenerProbe.untilClosed(port: server.port, send: Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(server.listener.timedOutConnections == 2)
        await server.stop()
    }
}
