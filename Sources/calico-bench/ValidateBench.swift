import ArgumentParser
import CalicoAPI
import Foundation
import KubeJSON

/// `validate` benchmark: decode + default + validate one providerConfig (target ≤ 20 µs median).
struct ValidateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Decode + default + validate a providerConfig.")

    @Option(help: "Iterations.") var iterations: Int = 20000
    @Option(help: "Warm-up iterations.") var warmup: Int = 2000
    @Flag(help: "Also run the webhook HTTPS load test.") var webhook = false
    @Option(help: "Concurrent webhook clients.") var clients: Int = 64
    @Option(help: "Requests per webhook client.") var requestsPerClient: Int = 300

    static let providerConfig: JSON = [
        "apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig",
        "backend": "bird", "ipam": ["type": "host-local", "cidr": "usePodCIDR"],
        "ipv4": ["pool": "ipip", "mode": "Always", "autoDetectionMethod": "interface=eth.*"],
        "vethMTU": "1440", "typha": ["enabled": true], "overlay": ["enabled": false, "createPodRoutes": false],
        "snatToUpstreamDNS": ["enabled": true],
        "autoScaling": ["mode": "vpa", "resources": ["node": ["cpu": "100m", "memory": "100Mi"], "typha": ["cpu": "100m", "memory": "100Mi"]]],
    ]

    func run() async throws {
        let bytes = Self.providerConfig.serialized()
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        var errorCount = 0
        for i in 0..<(warmup + iterations) {
            let t0 = now()
            let json = try JSON.parse(bytes)
            let config = try NetworkConfig.decode(json).defaulted()
            errorCount &+= config.validate(root: CalicoValidation.controllerRoot, ipFamilies: ["IPv4"]).count
            let t1 = now()
            if i >= warmup { samples.append(t1 - t0) }
        }
        precondition(errorCount == 0, "the benchmark config must be valid")
        // Same without the byte parsing (the webhook parses the AdmissionReview once).
        var decodeOnly: [Double] = []
        decodeOnly.reserveCapacity(iterations)
        let parsed = Self.providerConfig
        for i in 0..<(warmup + iterations) {
            let t0 = now()
            let config = try NetworkConfig.decode(parsed).defaulted()
            errorCount &+= config.validate(root: CalicoValidation.controllerRoot, ipFamilies: ["IPv4"]).count
            let t1 = now()
            if i >= warmup { decodeOnly.append(t1 - t0) }
        }
        let d = Stats(decodeOnly)
        print("validate (decode+default+validate of parsed JSON): median \(Stats.format(d.median)), p99 \(Stats.format(d.p99)), n=\(iterations)")
        let stats = Stats(samples)
        print("validate (parse+decode+default+validate, \(bytes.count) bytes): median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99)), n=\(iterations)")
        #if canImport(AdmissionCalico)
        if webhook { try await Self.webhookLoad(clients: clients, requestsPerClient: requestsPerClient) }
        #endif
    }
}

#if canImport(AdmissionCalico)
import AdmissionCalico
import EmbeddedAPIServer

/// `validate --webhook`: load test of the admission webhook over HTTPS (keep-alive clients).
extension ValidateBench {
    static func webhookLoad(clients: Int, requestsPerClient: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calico-bench-webhook-\(UUID().uuidString)").path
        let certs = try CertificateGenerator.generate(names: ["localhost", "127.0.0.1"])
        try CertificateDirectory.write(certs, to: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await WebhookServer.start(WebhookServerConfiguration(host: "127.0.0.1", port: 0, certDirectory: dir))
        let allowed = Self.review(providerConfig: providerConfig).serialized()
        let denied = Self.review(providerConfig: ["backend": "x", "ipv4": ["pool": "y"]]).serialized()
        let httpClients = try (0..<clients).map { _ in try LoopbackHTTPClient(port: server.port, caPEM: certs.caCertificatePEM, token: nil) }
        // Warm up every connection (TLS handshakes are not part of the steady state).
        for c in httpClients { _ = try await c.request("POST", "/webhooks/validate", body: allowed) }
        let start = now()
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for (i, c) in httpClients.enumerated() {
                group.addTask {
                    var out: [Double] = []
                    out.reserveCapacity(requestsPerClient)
                    for j in 0..<requestsPerClient {
                        let t0 = now()
                        let r = try await c.request("POST", "/webhooks/validate", body: (i + j) % 10 == 0 ? denied : allowed)
                        guard r.status == 200 else { throw ValidationError("unexpected status \(r.status)") }
                        out.append(now() - t0)
                    }
                    return out
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = now() - start
        for c in httpClients { await c.close() }
        await server.stop()
        let stats = Stats(latencies)
        let rate = Double(latencies.count) / elapsed
        print("webhook (\(clients) concurrent HTTPS clients, \(latencies.count) requests, 10% denied): \(String(format: "%.0f", rate)) req/s, median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99))")
    }

    static func review(providerConfig: JSON) -> JSON {
        ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": [
            "uid": "bench", "kind": ["group": "core.gardener.cloud", "version": "v1beta1", "kind": "Shoot"], "operation": "UPDATE",
            "object": ["apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": ["name": "s", "namespace": "garden-p"],
                       "spec": ["kubernetes": ["version": "1.33.2"], "provider": ["type": "local", "workers": [["name": "w"]]],
                                "networking": ["type": "calico", "pods": "100.96.0.0/11", "services": "100.64.0.0/13", "nodes": "10.250.0.0/16",
                                               "ipFamilies": ["IPv4"], "providerConfig": providerConfig]]],
        ]]
    }
}
#endif
