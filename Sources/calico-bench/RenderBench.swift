import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import KubeCore

/// `render` benchmark: pre-processing + values + objects + YAML serialization of one full shoot
/// manifest set (target ≤ 0.25 ms median for the default case, release build). Inputs are the
/// golden cases (`SHARED_DIR` or `../shared`): the default case and the largest output. Also
/// reports the RSS over the measured loop (it stays flat: no leaks).
struct RenderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render + serialize the shoot manifests.")

    @Option(help: "Iterations per case.") var iterations: Int = 1000
    @Option(help: "Warm-up iterations per case.") var warmup: Int = 100
    @Option(help: "Folder holding golden/ (default: $SHARED_DIR or ../shared).") var shared: String?
    @Option(help: "Also write each case's rendered YAML to this folder (<case>.yaml), for checking what was measured.")
    var emit: String?

    func run() async throws {
        let root = URL(fileURLWithPath: shared ?? ProcessInfo.processInfo.environment["SHARED_DIR"] ?? "../shared")
            .appendingPathComponent("golden")
        func load(_ name: String, _ file: String) throws -> JSON {
            try JSON.parseYAML(String(contentsOf: root.appendingPathComponent(name).appendingPathComponent(file), encoding: .utf8))
        }
        var cases: [(String, JSON, JSON, Int)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(name).appendingPathComponent("expected.yaml").path)
            else { continue }
            let network = try load(name, "network.yaml")
            let cluster = try load(name, "cluster.yaml")
            let yaml = try renderShootManifests(network: network, cluster: cluster, featureGates: FeatureGates()).yamlBytes()
            let size = yaml.count
            if let emit {
                try Data(yaml).write(to: URL(fileURLWithPath: emit).appendingPathComponent("\(name).yaml"))
            }
            cases.append((name, network, cluster, size))
        }
        guard let defaultCase = cases.first(where: { $0.0 == "ipv4-default" }), let largest = cases.max(by: { $0.3 < $1.3 }) else {
            throw ValidationError("no golden cases under \(root.path)")
        }
        for (name, network, cluster, size) in [defaultCase, largest] {
            // Written up front so the RSS check below does not count the samples' own pages.
            var samples = [Double](repeating: 0, count: iterations)
            var bytes = 0
            var rssAfterWarmup = 0
            var rssHalfway = 0
            for i in 0..<(warmup + iterations) {
                if i == warmup { rssAfterWarmup = currentRSSBytes() }
                if i == warmup + iterations / 2 { rssHalfway = currentRSSBytes() }
                let t0 = now()
                let manifests = try renderShootManifests(network: network, cluster: cluster, featureGates: FeatureGates())
                bytes &+= manifests.yamlBytes().count
                let t1 = now()
                if i >= warmup { samples[i - warmup] = t1 - t0 }
            }
            let rssEnd = currentRSSBytes()  // before the statistics allocate their sorted copy
            precondition(bytes > 0)
            let stats = Stats(samples)
            print("render \(name) (\(size) bytes YAML): median \(Stats.format(stats.median)), p99 \(Stats.format(stats.p99)), n=\(iterations)")
            // Leak check: every render's allocations are freed again, so the resident set does
            // not grow between warm-up, half-way and the end of the measured loop.
            print(
                "  RSS after warm-up \(rssAfterWarmup / 1024) KiB, half-way \(rssHalfway / 1024) KiB, end \(rssEnd / 1024) KiB (growth \((rssEnd - rssAfterWarmup) / 1024) KiB over \(iterations) renders)"
            )
        }
    }
}

/// Current resident set size in bytes (Linux `VmRSS`).
func currentRSSBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
    }
    return 0
}
