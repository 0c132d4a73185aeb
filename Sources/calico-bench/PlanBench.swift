import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import KubeCore

/// `plan` benchmark: `Plan.make` (two renders, the object and field diff, classification) plus the text
/// output for the default golden case against the same case with the overlay switched off (target
/// ≤ 5 ms median, release build). Inputs as for `render` (`SHARED_DIR` or `../shared`).
struct PlanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Plan a change: two renders and the diff.")

    @Option(help: "Iterations.") var iterations: Int = 500
    @Option(help: "Warm-up iterations.") var warmup: Int = 50
    @Option(help: "Folder holding golden/ (default: $SHARED_DIR or ../shared).") var shared: String?

    func run() async throws {
        let root = URL(fileURLWithPath: shared ?? ProcessInfo.processInfo.environment["SHARED_DIR"] ?? "../shared")
            .appendingPathComponent("golden").appendingPathComponent("ipv4-default")
        func load(_ file: String) throws -> JSON {
            try JSON.parseYAML(String(contentsOf: root.appendingPathComponent(file), encoding: .utf8))
        }
        let network = try load("network.yaml")
        let cluster = try load("cluster.yaml")
        var changed = network
        var config = network[path: "spec", "providerConfig"] ?? [:]
        config[path: "overlay", "enabled"] = false
        changed[path: "spec", "providerConfig"] = config
        let old = Plan.Side(network: network, cluster: cluster)
        let new = Plan.Side(network: changed, cluster: cluster)
        var samples = [Double](repeating: 0, count: iterations)
        var bytes = 0
        var impacts = 0
        for i in 0..<(warmup + iterations) {
            let t0 = now()
            let plan = try Plan.make(from: old, to: new, featureGates: FeatureGates())
            bytes &+= plan.text().utf8.count
            impacts &+= plan.impacts.count
            let t1 = now()
            if i >= warmup { samples[i - warmup] = t1 - t0 }
        }
        precondition(bytes > 0 && impacts > 0, "the benchmark change must produce a plan")
        let stats = Stats(samples)
        print(
            "plan ipv4-default, overlay off (2 renders + diff + text): median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99)), n=\(iterations)"
        )
    }
}
