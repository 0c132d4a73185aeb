import EmbeddedAPIServer
import Foundation
import KubeCore
import NIOCore
import NIOSSL
import TestSupport
import Testing

/// The API server's listener limits (see docs/operations.md, "Limits").
@Suite(.serialized) struct ListenerLimitsTests {
    /// A few hundred bytes whose aliases would expand to megabytes.
    static let aliasBomb = """
        apiVersion: demo.example.com/v1
        kind: Widget
        metadata: {name: bomb}
        spec:
          a: &a ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]
          b: &b [*a,*a,*a,*a,*a,*a,*a,*a]
          c: &c [*b,*b,*b,*b,*b,*b,*b,*b]
          d: &d [*c,*c,*c,*c,*c,*c,*c,*c]
          e: &e [*d,*d,*d,*d,*d,*d,*d,*d]
          f: &f [*e,*e,*e,*e,*e,*e,*e,*e]
          g: &g [*f,*f,*f,*f,*f,*f,*f,*f]
          h: &h [*g,*g,*g,*g,*g,*g,*g,*g]
        """

    @Test func yamlAliasBombIsRejectedAndNothingStored() async throws {
        #expect(Self.aliasBomb.utf8.count < 500)
        try await withServer { _, client in
            let r = try await client.request(
                "POST", widgets, body: Array(Self.aliasBomb.utf8), headers: [("Content-Type", "application/yaml")])
            #expect(r.status == 400, "\(r.text)")
            #expect(r.text.contains("excessive aliasing"), "\(r.text)")
            let list = try await client.get(widgets)
            #expect(list.json["items"]?.arrayValue?.isEmpty == true, "\(list.text)")
        }
    }

    @Test func silentAndHalfSpokenConnectionsAreClosed() async throws {
        var config = EmbeddedAPIServerConfiguration()
        config.listenerLimits = ListenerLimits(
            tlsHandshakeTimeout: .milliseconds(300), requestHeaderTimeout: .milliseconds(300), idleTimeout: .seconds(60))
        try await withServer(crd: false, config) { server, _ in
            // No TLS hello at all: closed by the handshake timeout.
            let silent = try await ListenerProbe.untilClosed(port: server.port)
            #expect(silent.isEmpty)
            // Handshake done, half a request header: closed by the header timeout, well before the idle timeout.
            let tls = try ListenerProbe.tlsContext(caPEM: server.caCertificatePEM)
            let partial = try await ListenerProbe.untilClosed(
                port: server.port, send: Array("GET /api HTTP/1.1\r\nHost: localhost\r\n".utf8), tls: tls)
            #expect(partial.isEmpty)
            #expect(server.listenerStatistics.timedOutConnections >= 2)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        var config = EmbeddedAPIServerConfiguration()
        config.listenerLimits = ListenerLimits(idleTimeout: .milliseconds(300))
        try await withServer(crd: false, config) { server, _ in
            let tls = try ListenerProbe.tlsContext(caPEM: server.caCertificatePEM)
            let request = "GET /version HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(server.token)\r\n\r\n"
            let reply = String(decoding: try await ListenerProbe.untilClosed(port: server.port, send: Array(request.utf8), tls: tls), as: UTF8.self)
            #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply)")
            #expect(!reply.lowercased().contains("connection: close"))
            #expect(server.listenerStatistics.timedOutConnections >= 1)
        }
    }

    @Test func watchOutlivesTheIdleTimeout() async throws {
        var config = EmbeddedAPIServerConfiguration()
        config.listenerLimits = ListenerLimits(idleTimeout: .milliseconds(200))
        try await withServer(config) { server, client in
            let stream = client.watch(widgets + "?watch=1")
            let first = try await client.post(widgets, widget("w1"))
            #expect(first.status == 201)
            // Several idle timeouts pass while the watch streams; the watch is not idle.
            for i in 2...6 {
                try await Task.sleep(for: .milliseconds(150))
                let r = try await client.post(widgets, widget("w\(i)"))
                #expect(r.status == 201)
            }
            let events = try await collect(stream, count: 6)
            #expect(eventSummary(events) == (1...6).map { "ADDED w\($0)" })
            #expect(server.listenerStatistics.timedOutConnections == 0)
        }
    }

    @Test func onlyTLS12AndLaterAreAccepted() async throws {
        try await withServer(crd: false) { server, _ in
            let ca = server.caCertificatePEM
            let tls11 = try await ListenerProbe.handshake(port: server.port, caPEM: ca, minimum: .tlsv1, maximum: .tlsv11)
            let tls12 = try await ListenerProbe.handshake(port: server.port, caPEM: ca, minimum: .tlsv12, maximum: .tlsv12)
            let tls13 = try await ListenerProbe.handshake(port: server.port, caPEM: ca, minimum: .tlsv13, maximum: .tlsv13)
            #expect(!tls11)
            #expect(tls12)
            #expect(tls13)
        }
    }

}
