import ArgumentParser
import CalicoAPI
import Foundation
import KubeJSON

/// `validate` benchmark: decode + default + validate one providerConfig (target ≤ 20 µs median).
struct ValidateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Decode + default + validate a providerConfig.")

    @Option(help: "Iterations.") var iterations: Int = 20000
    @Option(help: "Warm-up iterations.") var warmup: Int = 2000

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
        let stats = Stats(samples)
        print("validate (parse+decode+default+validate, \(bytes.count) bytes): median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99)), n=\(iterations)")
    }
}
