import ArgumentParser
import CalicoAPI
import Foundation
import KubeCore

/// `validate` benchmark: decode + default + validate one providerConfig (target ≤ 20 µs median).
struct ValidateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Decode + default + validate a providerConfig.")

    @Option(help: "Iterations.") var iterations: Int = 20000
    @Option(help: "Warm-up iterations.") var warmup: Int = 2000
    @Flag(help: "Also run the webhook HTTPS load test.") var webhook = false
    @Option(help: "Concurrent webhook clients.") var clients: Int = 64
    @Option(help: "Requests per webhook client.") var requestsPerClient: Int = 300
    @Option(help: "Event-loop threads of the load generator.") var clientThreads: Int = 1
    @Option(help: "Webhook open-loop rate in requests/s over all clients (0 = closed loop: maximum throughput).") var rate: Double = 0
    @Option(help: "Event-loop threads of the webhook server (0 = one per core, as the binary runs).") var serverThreads: Int = 0

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
        print(
            "validate (parse+decode+default+validate, \(bytes.count) bytes): median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99)), n=\(iterations)"
        )
        #if canImport(AdmissionCalico)
            // The webhook's per-request work without the network: parse the AdmissionReview, decode
            // the Shoot, validate, build and serialize the answer.
            let reviewBytes = Self.review(providerConfig: Self.providerConfig).serialized()
            var handleSamples: [Double] = []
            handleSamples.reserveCapacity(iterations)
            for i in 0..<(warmup + iterations) {
                let t0 = now()
                let result = AdmissionReviewHandler.handle(body: reviewBytes)
                let out = result.body.serialized()
                let t1 = now()
                errorCount &+= result.outcome == .allowed && !out.isEmpty ? 0 : 1
                if i >= warmup { handleSamples.append(t1 - t0) }
            }
            precondition(errorCount == 0, "the benchmark review must be allowed")
            let h = Stats(handleSamples)
            print(
                "admission review (parse \(reviewBytes.count) bytes + decode Shoot + validate + warnings + serialize answer): median \(Stats.format(h.median)), p99 \(Stats.format(h.p99)), n=\(iterations)"
            )
            // An UPDATE that switches the overlay off: the warnings need a plan (two renders).
            let updateBytes = Self.overlaySwitchReview().serialized()
            var updateSamples: [Double] = []
            let updateIterations = max(1, iterations / 20)
            updateSamples.reserveCapacity(updateIterations)
            for i in 0..<(max(1, warmup / 20) + updateIterations) {
                let t0 = now()
                let result = AdmissionReviewHandler.handle(body: updateBytes)
                let out = result.body.serialized()
                let t1 = now()
                errorCount &+= result.outcome == .allowed && !out.isEmpty && result.warnings.contains { $0.hasPrefix("outage-risk") } ? 0 : 1
                if i >= max(1, warmup / 20) { updateSamples.append(t1 - t0) }
            }
            precondition(errorCount == 0, "the overlay switch must be allowed with an outage-risk warning")
            let u = Stats(updateSamples)
            print(
                "admission review, UPDATE switching the overlay off (+ plan warning, \(updateBytes.count) bytes): median \(Stats.format(u.median)), p99 \(Stats.format(u.p99)), n=\(updateIterations)"
            )
            if webhook {
                try await Self.webhookLoad(
                    clients: clients, requestsPerClient: requestsPerClient, clientThreads: clientThreads,
                    serverThreads: serverThreads, rate: rate)
            }
        #endif
    }
}

#if canImport(AdmissionCalico)
    import AdmissionCalico
    import NIOPosix

    /// `validate --webhook`: load test of the admission webhook over HTTPS (keep-alive clients).
    extension ValidateBench {
        static func webhookLoad(clients: Int, requestsPerClient: Int, clientThreads: Int, serverThreads: Int, rate: Double) async throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calico-bench-webhook-\(UUID().uuidString)").path
            let certs = try CertificateGenerator.generate(names: ["localhost", "127.0.0.1"])
            try CertificateDirectory.write(certs, to: dir)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let group: MultiThreadedEventLoopGroup = serverThreads > 0 ? MultiThreadedEventLoopGroup(numberOfThreads: serverThreads) : .singleton
            let server = try await WebhookServer.start(WebhookServerConfiguration(host: "127.0.0.1", port: 0, certDirectory: dir), group: group)
            // The allowed config warns (autoScaling vpa without VPA on the shoot).
            let allowed = Self.review(providerConfig: providerConfig).serialized()
            let denied = Self.review(providerConfig: ["backend": "x", "ipv4": ["pool": "y"]]).serialized()
            // In every ten: eight allowed with a warning, one UPDATE switching the overlay off (a plan
            // warning: two renders), one denied.
            let bodies = Array(repeating: allowed, count: 8) + [Self.overlaySwitchReview().serialized(), denied]
            let requests = bodies.map { body in
                HTTPLoadGenerator.encode(
                    method: "POST", path: AdmissionReviewHandler.path,
                    headers: [("Host", "localhost:\(server.port)"), ("Content-Type", "application/json"), ("Accept", "application/json")],
                    body: body)
            }
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: max(1, clientThreads))
            let result: HTTPLoadGenerator.Result
            do {
                result = try await HTTPLoadGenerator.run(
                    group: clientGroup, port: server.port, caPEM: certs.caCertificatePEM, requests: requests,
                    connections: clients, requestsPerConnection: requestsPerClient, rate: rate)
            } catch {
                try? await clientGroup.shutdownGracefully()
                await server.stop()
                throw error
            }
            try? await clientGroup.shutdownGracefully()
            await server.stop()
            if serverThreads > 0 { try? await group.shutdownGracefully() }
            guard result.failed == 0 else { throw ValidationError("\(result.failed) responses were not 2xx") }
            let denials = server.metrics.count(outcome: .denied)
            let stats = Stats(result.latencies)
            let achieved = Double(result.latencies.count) / result.elapsed
            let mode = rate > 0 ? "open loop at \(Int(rate)) req/s offered" : "closed loop"
            print(
                "webhook (\(mode), \(clients) concurrent keep-alive HTTPS clients on \(clientThreads) thread(s), server threads \(serverThreads == 0 ? "\(ProcessInfo.processInfo.activeProcessorCount) (one per core)" : "\(serverThreads)"), \(result.latencies.count) requests, \(denials) denied incl. warm-up): \(String(format: "%.0f", achieved)) req/s, median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99))"
            )
        }

        static func shoot(providerConfig: JSON) -> JSON {
            [
                "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": ["name": "s", "namespace": "garden-p"],
                "spec": [
                    "kubernetes": ["version": "1.33.2"], "provider": ["type": "local", "workers": [["name": "w"]]],
                    "networking": [
                        "type": "calico", "pods": "100.96.0.0/11", "services": "100.64.0.0/13", "nodes": "10.250.0.0/16",
                        "ipFamilies": ["IPv4"], "providerConfig": providerConfig,
                    ],
                ],
            ]
        }

        /// An UPDATE (with `oldObject`, when given) of the benchmark Shoot.
        static func review(providerConfig: JSON, old: JSON? = nil) -> JSON {
            var request: JSON = [
                "uid": "bench", "kind": ["group": "core.gardener.cloud", "version": "v1beta1", "kind": "Shoot"], "operation": "UPDATE",
                "object": shoot(providerConfig: providerConfig),
            ]
            if let old { request["oldObject"] = shoot(providerConfig: old) }
            return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request]
        }

        /// The benchmark config with the overlay on before and off after: an outage-risk warning.
        static func overlaySwitchReview() -> JSON {
            var before = providerConfig
            before[path: "overlay", "enabled"] = true
            return review(providerConfig: providerConfig, old: before)
        }
    }
#endif
