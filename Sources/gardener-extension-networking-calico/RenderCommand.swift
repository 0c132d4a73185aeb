import ArgumentParser
import CalicoAPI
import CalicoManifests
import Foundation
import KubeCore

/// `render` subcommand: the shoot manifests (or the seed monitoring objects) for a Network and
/// its Cluster, without any API server (docs/local.md); the golden render tests compare its output. Invalid input: message on stderr,
/// nothing on stdout, exit code 1.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render the shoot manifests for a Network and Cluster.")

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case yaml, json }

    @Option(name: .long, help: "Network object (YAML or JSON file, '-' for standard input).")
    var network: String

    @Option(name: .long, help: "Cluster object (YAML or JSON file).")
    var cluster: String

    @Option(name: .customLong("feature-gates"), help: "Feature gates, e.g. NonPrivilegedCalicoNode=true,SeamlessOverlaySwitch=false.")
    var featureGates: String = ""

    @Option(name: .long, help: "Output format: yaml (multi-document) or json (a v1 List).")
    var output: OutputFormat = .yaml

    @Flag(name: .customLong("seed-objects"), help: "Print the seed-side monitoring objects instead of the shoot manifests.")
    var seedObjects = false

    @Option(name: .long, help: "Render N times and print the median and p99 of render + serialize on stderr.")
    var `repeat`: Int = 1

    func run() async throws {
        do {
            let bytes = try render()
            FileHandle.standardOutput.write(Data(bytes))
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("render: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct CommandFailure: Error { var message: String }

    /// The `kind` document of `path` ('-' is standard input; multi-document files allowed).
    private func read(_ path: String, what: String, kind: String) throws -> (document: JSON, providerConfigDuplicates: [String]) {
        do { return try InputDocuments.readDocument(path, kind: kind) } catch let failure as InputDocuments.Failure {
            throw CommandFailure(message: "--\(what) \(failure.message)")
        }
    }

    func render() throws -> [UInt8] {
        guard `repeat` >= 1 else { throw CommandFailure(message: "--repeat must be at least 1") }
        let (networkJSON, duplicates) = try read(network, what: "network", kind: "Network")
        let clusterJSON = try read(cluster, what: "cluster", kind: "Cluster").document
        var gates = FeatureGates()
        do { try gates.set(featureGates) } catch { throw CommandFailure(message: "invalid --feature-gates: \(error.description)") }
        let images: ImageVector
        do { images = try ImageVector.fromEnvironment() } catch { throw CommandFailure(message: "\(error)") }

        if seedObjects {
            let namespace = networkJSON[path: "metadata", "namespace"]?.stringValue ?? ""
            guard !namespace.isEmpty else { throw CommandFailure(message: "metadata.namespace: Required value: the Network has no namespace") }
            let objects = SeedMonitoring.objects(namespace: namespace)
            return serialize(objects: objects)
        }

        var samples: [Double] = []
        samples.reserveCapacity(`repeat`)
        var result: [UInt8] = []
        for _ in 0..<`repeat` {
            let start = DispatchTime.now().uptimeNanoseconds
            let manifests: RenderedManifests
            do {
                manifests = try renderShootManifests(
                    network: networkJSON, cluster: clusterJSON, featureGates: gates, imageVector: images, providerConfigDuplicates: duplicates)
            } catch let error as RenderError {
                throw CommandFailure(message: error.field.map { "\(error.message) (field \($0))" } ?? error.message)
            } catch {
                throw CommandFailure(message: "\(error)")
            }
            result = output == .yaml ? manifests.yamlBytes() : manifests.jsonList().serialized(JSONWriteOptions(pretty: true))
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        if `repeat` > 1 {
            samples.sort()
            func pct(_ p: Double) -> Double { samples[min(samples.count - 1, Int((p / 100 * Double(samples.count - 1)).rounded()))] }
            let line = String(format: "render: median=%.3fms p99=%.3fms (n=%d)\n", pct(50) * 1e3, pct(99) * 1e3, samples.count)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if output == .json, result.last != UInt8(ascii: "\n") { result.append(UInt8(ascii: "\n")) }
        return result
    }

    private func serialize(objects: [JSON]) -> [UInt8] {
        switch output {
        case .yaml:
            return Array(YAMLWriter().stream(objects).utf8)
        case .json:
            let list: JSON = ["apiVersion": "v1", "kind": "List", "items": .array(objects)]
            var bytes = list.serialized(JSONWriteOptions(pretty: true))
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        }
    }
}
