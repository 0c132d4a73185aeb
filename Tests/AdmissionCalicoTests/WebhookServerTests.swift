import CalicoAPI
import Foundation
import KubeCore
import NIOCore
import TestSupport
import Testing

@testable import AdmissionCalico

/// Starts a webhook server with fresh certificates in a temp dir.
func withWebhookServer<T>(
    requestTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60),
    _ body: (WebhookServer, WebhookCertificates, String) async throws -> T
) async throws -> T {
    let dir = try TestDirectories.make("admission-certs").path
    let certs = try CertificateGenerator.generate(names: ["localhost", "127.0.0.1"])
    try CertificateDirectory.write(certs, to: dir)
    let server = try await WebhookServer.start(
        WebhookServerConfiguration(
            host: "127.0.0.1", port: 0, certDirectory: dir, requestTimeout: requestTimeout, idleTimeout: idleTimeout,
            certificateReloadInterval: .milliseconds(200)))
    do {
        let r = try await body(server, certs, dir)
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
        return r
    } catch {
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
        throw error
    }
}

@Suite(.serialized) struct WebhookServerTests {
    @Test func allowedDeniedSkippedOverHTTPS() async throws {
        try await withWebhookServer { server, certs, _ in
            let ok = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Fixtures.review(Fixtures.shoot(providerConfig: ["typha": ["enabled": true]])).serialized())
            #expect(ok.status == 200)
            let okJSON = try JSON.parse(ok.body)
            #expect(okJSON[path: "response", "allowed"] == true)
            #expect(okJSON[path: "response", "uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")

            let bad = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Fixtures.review(
                    Fixtures.shoot(providerConfig: ["backend": "x", "ipv6": ["mode": "y"], "ipam": ["cidr": "1.2.3.4/8"]]), uid: "u-2"
                ).serialized())
            #expect(bad.status == 200)
            let badJSON = try JSON.parse(bad.body)
            #expect(badJSON[path: "response", "allowed"] == false)
            #expect(badJSON[path: "response", "uid"] == "u-2")
            #expect(badJSON[path: "response", "status", "code"] == 403)
            let message = badJSON[path: "response", "status", "message"]?.stringValue ?? ""
            #expect(message.contains("spec.networking.providerConfig.backend"))
            #expect(message.contains("spec.networking.providerConfig.ipv6.mode"))
            #expect(
                message.contains(
                    "spec.networking.providerConfig.ipam.cidr: Invalid value: \"1.2.3.4/8\": must not have bits set beyond the prefix length"))

            let skipped = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Fixtures.review(Fixtures.shoot(providerConfig: ["backend": "x"], workers: 0)).serialized())
            #expect(try JSON.parse(skipped.body)[path: "response", "allowed"] == true)

            let metrics = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/metrics")
            // controller-runtime's webhook metric names and labels, plus decisions by outcome.
            #expect(metrics.text.contains("controller_runtime_webhook_requests_total{code=\"200\",webhook=\"/webhooks/validate\"} 3\n"))
            #expect(metrics.text.contains("controller_runtime_webhook_latency_seconds_bucket{webhook=\"/webhooks/validate\",le=\"+Inf\"} 3\n"))
            #expect(metrics.text.contains("controller_runtime_webhook_latency_seconds_count{webhook=\"/webhooks/validate\"} 3\n"))
            #expect(metrics.text.contains("# TYPE controller_runtime_webhook_latency_seconds histogram"))
            #expect(metrics.text.contains("controller_runtime_webhook_requests_in_flight{webhook=\"/webhooks/validate\"} 0\n"))
            #expect(metrics.text.contains("admission_calico_webhook_decisions_total{outcome=\"denied\",webhook=\"/webhooks/validate\"} 1\n"))
            #expect(metrics.text.contains("admission_calico_webhook_decisions_total{outcome=\"allowed\",webhook=\"/webhooks/validate\"} 1\n"))
            #expect(metrics.text.contains("admission_calico_webhook_decisions_total{outcome=\"skipped\",webhook=\"/webhooks/validate\"} 1\n"))
            #expect(
                metrics.text.contains(
                    "admission_calico_webhook_decision_duration_seconds_count{outcome=\"denied\",webhook=\"/webhooks/validate\"} 1\n"))
            #expect(
                metrics.text.contains(
                    "admission_calico_webhook_decision_duration_seconds_bucket{outcome=\"allowed\",webhook=\"/webhooks/validate\",le=\"+Inf\"} 1\n"))
            #expect(!metrics.text.contains("admission_calico_webhook_requests_total"))
            let health = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/healthz")
            #expect(health.status == 200)
            let ready = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/readyz")
            #expect(ready.status == 200)
            let missing = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/nope")
            #expect(missing.status == 404)
            let get = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/webhooks/validate")
            #expect(get.status == 405)
        }
    }

    @Test func malformedAndOversize() async throws {
        try await withWebhookServer { server, certs, _ in
            let notJSON = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate", body: Array("hello".utf8))
            #expect(notJSON.status == 400)
            #expect(notJSON.text.contains("could not decode admission review"))
            let wrongKind = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Array(#"{"apiVersion":"v1","kind":"ConfigMap"}"#.utf8))
            #expect(wrongKind.status == 400)
            let noRequest = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.utf8))
            #expect(noRequest.status == 400)
            #expect(noRequest.text.contains("no request"))
            // Shoot that is not an object: a denied review (the format allows it), code 400.
            let notObject = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Fixtures.review(.array([1, 2])).serialized())
            #expect(notObject.status == 200)
            #expect(try JSON.parse(notObject.body)[path: "response", "status", "code"] == 400)
            // A 5 MiB UPDATE review (object and oldObject) is decided; an 8 MiB one gets 413 with an explanation.
            func update(totalMiB: Int) -> [UInt8] {
                var shoot = Fixtures.shoot()
                shoot[path: "metadata", "annotations"] = ["big": .string(String(repeating: "x", count: totalMiB * 1024 * 1024 / 2))]
                return Fixtures.review(shoot, operation: "UPDATE", oldObject: shoot).serialized()
            }
            let large = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate", body: update(totalMiB: 5))
            #expect(large.status == 200, "\(large.text.prefix(300))")
            #expect(try JSON.parse(large.body)[path: "response", "allowed"] != nil)
            let big = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate", body: update(totalMiB: 8))
            #expect(big.status == 413)
            #expect(big.text.contains("exceeds the limit"))
            // The server still works afterwards.
            let ok = try await TestHTTPSClient.request(
                port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
                body: Fixtures.review(Fixtures.shoot()).serialized())
            #expect(ok.status == 200)
        }
    }

    @Test func slowClientGetsTimeout() async throws {
        try await withWebhookServer(requestTimeout: .milliseconds(300), idleTimeout: .milliseconds(500)) { server, certs, _ in
            // Headers promise a body that never comes.
            let partial =
                "POST /webhooks/validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"apiVersion\""
            let start = ContinuousClock.now
            let reply = try await TestHTTPSClient.raw(port: server.port, caPEM: certs.caCertificatePEM, send: Array(partial.utf8))
            let text = String(decoding: reply, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
            #expect(ContinuousClock.now - start < .seconds(5))
            // A connection that never sends anything is closed after the idle timeout.
            let silent = try await TestHTTPSClient.raw(port: server.port, caPEM: certs.caCertificatePEM, send: [])
            #expect(silent.isEmpty)
        }
    }

    @Test func silentClientsAndOldTLSAreRefused() async throws {
        let dir = try TestDirectories.make("admission-certs").path
        let certs = try CertificateGenerator.generate(names: ["localhost", "127.0.0.1"])
        try CertificateDirectory.write(certs, to: dir)
        let server = try await WebhookServer.start(
            WebhookServerConfiguration(
                certDirectory: dir, tlsHandshakeTimeout: .milliseconds(300), requestHeaderTimeout: .milliseconds(300)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No TLS hello: closed by the handshake timeout (the idle timeout is a minute).
        let silent = try await ListenerProbe.untilClosed(port: server.port)
        #expect(silent.isEmpty)
        // Half a request header: closed by the header timeout.
        let tls = try ListenerProbe.tlsContext(caPEM: certs.caCertificatePEM)
        let partial = try await ListenerProbe.untilClosed(port: server.port, send: Array("POST /webhooks/validate HTTP/1.1\r\n".utf8), tls: tls)
        #expect(partial.isEmpty)
        #expect(server.listener.timedOutConnections == 2)
        let tls11 = try await ListenerProbe.handshake(port: server.port, caPEM: certs.caCertificatePEM, minimum: .tlsv1, maximum: .tlsv11)
        let tls12 = try await ListenerProbe.handshake(port: server.port, caPEM: certs.caCertificatePEM, minimum: .tlsv12, maximum: .tlsv12)
        let tls13 = try await ListenerProbe.handshake(port: server.port, caPEM: certs.caCertificatePEM, minimum: .tlsv13, maximum: .tlsv13)
        #expect(!tls11)
        #expect(tls12)
        #expect(tls13)
        await server.stop()
    }

    @Test func reloadsChangedCertificates() async throws {
        try await withWebhookServer { server, certs, dir in
            let fresh = try CertificateGenerator.generate(names: ["localhost"])
            try CertificateDirectory.write(fresh, to: dir)
            #expect(try server.reloadCertificates())
            // New connections present the new certificate: the old CA no longer verifies it.
            let ok = try await TestHTTPSClient.request(port: server.port, caPEM: fresh.caCertificatePEM, method: .GET, path: "/healthz")
            #expect(ok.status == 200)
            await #expect(throws: (any Error).self) {
                _ = try await TestHTTPSClient.request(port: server.port, caPEM: certs.caCertificatePEM, method: .GET, path: "/healthz")
            }
            #expect(try server.reloadCertificates() == false)
        }
    }

    @Test func disabledWebhookAnswers404() async throws {
        let dir = try TestDirectories.make("admission-certs").path
        let certs = try CertificateGenerator.generate(names: ["localhost"])
        try CertificateDirectory.write(certs, to: dir)
        let server = try await WebhookServer.start(WebhookServerConfiguration(certDirectory: dir, webhookDisabled: true))
        let r = try await TestHTTPSClient.request(
            port: server.port, caPEM: certs.caCertificatePEM, path: "/webhooks/validate",
            body: Fixtures.review(Fixtures.shoot()).serialized())
        #expect(r.status == 404)
        await server.stop()
    }
}

@Suite struct FuzzTests {
    static let interesting: [JSON] = [
        .null, true, false, 0, -1, 1.5, "", "calico", "IPv6", "Always", "vxlan", "bird", "usePodCIDR", "10.0.0.0/8", "::1",
        "interface=[", "can-reach=a..b", "cidr=1.2.3.4/33", "-1", "99999999999999999999", "100m", "-5Gi", [], [:], ["enabled": true],
        [1, "a", nil], .string(String(repeating: "(", count: 50)), "\u{0}\u{FFFF}", "first-found=", "(?P<n>a)(?P<n>b)",
    ]
    static let keys = [
        "backend", "ipam", "type", "cidr", "ipv4", "ipv6", "pool", "mode", "autoDetectionMethod", "vethMTU", "typha", "enabled",
        "overlay", "autoScaling", "resources", "node", "cpu", "memory", "ipip", "ipAutodetectionMethod", "serviceLoopPrevention",
        "apiVersion", "kind", "networking", "providerConfig", "pods", "ipFamilies", "kubeProxy", "workers", "request", "object",
        "uid", "operation", "spec", "foo",
    ]

    /// Replaces or inserts random values at random places.
    static func mutate(_ value: JSON, _ rng: inout SplitMix64, depth: Int = 0) -> JSON {
        let roll = Int(rng.next() % 100)
        if depth > 6 || roll < 8 { return interesting[Int(rng.next() % UInt64(interesting.count))] }
        switch value {
        case .object(var o):
            if roll < 20, !o.isEmpty {
                let k = o.keys[Int(rng.next() % UInt64(o.count))]
                o[k] = nil
            } else if roll < 35 {
                o[keys[Int(rng.next() % UInt64(keys.count))]] = interesting[Int(rng.next() % UInt64(interesting.count))]
            }
            for k in Array(o.keys) where rng.next() % 3 == 0 {
                o[k] = mutate(o[k] ?? .null, &rng, depth: depth + 1)
            }
            return .object(o)
        case .array(var a):
            if !a.isEmpty && roll < 50 {
                let i = Int(rng.next() % UInt64(a.count))
                a[i] = mutate(a[i], &rng, depth: depth + 1)
            } else {
                a.append(interesting[Int(rng.next() % UInt64(interesting.count))])
            }
            return .array(a)
        default:
            return roll < 50 ? interesting[Int(rng.next() % UInt64(interesting.count))] : value
        }
    }

    @Test func mutatedReviewsAlwaysGetAWellFormedAnswer() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let base = Fixtures.review(
            Fixtures.shoot(
                providerConfig: [
                    "backend": "bird", "ipam": ["type": "host-local", "cidr": "usePodCIDR"],
                    "ipv4": ["pool": "ipip", "mode": "Always", "autoDetectionMethod": "interface=eth0"],
                    "ipv6": ["pool": "vxlan"], "vethMTU": "1440", "autoScaling": ["mode": "static", "resources": ["node": ["cpu": "100m"]]],
                ], kubeProxyEnabled: true))
        var outcomes: [AdmissionOutcome: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        for i in 0..<5000 {
            let mutated = Self.mutate(base, &rng)
            var bytes = mutated.serialized()
            // Every 10th case: byte-level damage too.
            if i % 10 == 0, !bytes.isEmpty {
                for _ in 0..<3 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            let r = AdmissionReviewHandler.handle(body: bytes)
            outcomes[r.outcome, default: 0] += 1
            // Well-formed: serialisable, an AdmissionReview with a response carrying allowed and a status code.
            let parsed = try JSON.parse(r.body.serialized())
            #expect(parsed["kind"] == "AdmissionReview")
            #expect(parsed[path: "response", "allowed"]?.boolValue != nil)
            if parsed[path: "response", "allowed"] == false {
                #expect(parsed[path: "response", "status", "code"]?.intValue != nil)
                let message = parsed[path: "response", "status", "message"]?.stringValue ?? ""
                #expect(message.isEmpty == false)
            }
            if r.outcome != .malformed {
                #expect(r.httpStatus == 200)
                // Byte damage may hit the uid itself; compare with what was actually sent.
                let sent = try? JSON.parse(bytes)
                #expect(parsed[path: "response", "uid"] == sent?[path: "request", "uid"])
            } else {
                #expect(r.httpStatus == 400)
            }
            if ContinuousClock.now > deadline {
                Issue.record("fuzzing too slow")
                break
            }
        }
        // The mutations must reach every branch, or the test proves little.
        for o in [AdmissionOutcome.allowed, .denied, .skipped, .errored, .malformed] {
            #expect(outcomes[o, default: 0] > 0, "no \(o) outcome in \(outcomes)")
        }
    }

    @Test func mutatedProviderConfigsNeverCrash() {
        var rng = SplitMix64(seed: 42)
        let base: JSON = [
            "backend": "bird", "ipam": ["type": "calico-ipam", "cidr": "10.0.0.0/8"],
            "ipv4": ["pool": "vxlan", "mode": "Never", "autoDetectionMethod": "cidr=10.0.0.0/8"],
            "ipv6": ["autoDetectionMethod": "can-reach=example.com"], "vethMTU": "0", "ipAutodetectionMethod": "skip-interface=^veth",
            "autoScaling": ["mode": "vpa", "resources": ["node": ["cpu": "1", "memory": "1Gi"], "typha": ["cpu": "-1"]]],
        ]
        var decoded = 0
        var failed = 0
        for _ in 0..<5000 {
            let m = Self.mutate(base, &rng)
            do {
                let c = try NetworkConfig.decode(m)
                decoded += 1
                let errs = c.validate(ipFamilies: ["IPv4", "IPv6"])
                for e in errs { #expect(e.field.hasPrefix("spec.providerConfig")) }
                #expect(try NetworkConfig.decode(c.encode()) == c)
            } catch {
                failed += 1
                #expect(!error.errors.isEmpty)
            }
        }
        #expect(decoded > 100 && failed > 100)
    }
}
