import CalicoAPI
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import CalicoManifests

/// One folder of `shared/golden`.
struct GoldenCase: CustomStringConvertible, Sendable {
    var name: String
    var directory: URL
    var description: String { name }

    static func all() throws -> [GoldenCase] {
        let root = try SharedFixtures.sharedDirectory().appendingPathComponent("golden")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        return names.compactMap { name in
            let dir = root.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("network.yaml").path) else { return nil }
            return GoldenCase(name: name, directory: dir)
        }
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
    var isErrorCase: Bool { FileManager.default.fileExists(atPath: file("expected-error.txt").path) }

    func load(_ name: String) throws -> JSON { try JSON.parseYAML(String(contentsOf: file(name), encoding: .utf8)) }

    var featureGates: FeatureGates {
        get throws {
            var gates = FeatureGates()
            if let text = try? String(contentsOf: file("feature-gates.txt"), encoding: .utf8) {
                let joined = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ",")
                try gates.set(joined)
            }
            return gates
        }
    }

    func render() throws -> RenderedManifests {
        try renderShootManifests(network: load("network.yaml"), cluster: load("cluster.yaml"), featureGates: featureGates)
    }
}

/// The Python with PyYAML the compare tool needs: `TEST_PYTHON`, else the package's venv.
func testPython() -> String {
    if let env = ProcessInfo.processInfo.environment["TEST_PYTHON"], !env.isEmpty { return env }
    let venv = SharedFixtures.packageRoot.appendingPathComponent(".venv/bin/python3").path
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
}

/// Runs a process and returns (exit status, stdout + stderr).
func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("golden cases")
struct GoldenTests {
    @Test("golden case matches compare-manifests.py --crd-schemas with zero differences", arguments: try GoldenCase.all())
    func golden(_ c: GoldenCase) throws {
        if c.isErrorCase {
            #expect(throws: (any Error).self, "\(c.name) must be rejected") { try c.render() }
            return
        }
        let manifests = try c.render()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("calico-golden-\(c.name)-\(UUID().uuidString).yaml")
        try manifests.yaml().write(to: out, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: out) }
        let tool = try SharedFixtures.sharedDirectory().appendingPathComponent("tools/compare-manifests.py").path
        // CRDs are compared whole (schemas, printer columns, subresources), descriptions aside.
        let (status, report) = try run(testPython(), [tool, "--crd-schemas", c.file("expected.yaml").path, out.path])
        #expect(status == 0, "compare-manifests.py reported differences for \(c.name):\n\(report)")
    }

    @Test("error cases name the offending field")
    func errorMessages() throws {
        let cases = try GoldenCase.all().filter(\.isErrorCase)
        #expect(cases.count >= 2)
        for c in cases {
            do {
                _ = try c.render()
                Issue.record("\(c.name) rendered")
            } catch let error as RenderError {
                let expected = try String(contentsOf: c.file("expected-error.txt"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(error.message == expected, "\(c.name)")
                #expect(error.field != nil)
            }
        }
    }
}
