import Foundation
import TestSupport
import Testing

/// `plan`, `validate` and `render` input handling through the built executable: exit codes and messages.
@Suite struct PlanBinaryTests {
    static func golden(_ path: String) throws -> String {
        try SharedFixtures.sharedDirectory().appendingPathComponent("golden").appendingPathComponent(path).path
    }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try BinaryTests.run(args, in: FileManager.default.temporaryDirectory)
    }

    @Test func noChangeExitsZero() throws {
        let net = try Self.golden("ipv4-overlay-enabled/network.yaml")
        let r = try Self.run(["plan", "--from-network", net, "--network", net, "--cluster", try Self.golden("ipv4-overlay-enabled/cluster.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "No changes.\n")
    }

    @Test func overlaySwitchExitsThreeAndJSONNamesTheClass() throws {
        let r = try Self.run([
            "plan", "--from-network", try Self.golden("ipv4-overlay-enabled/network.yaml"), "--network",
            try Self.golden("ipv4-overlay-disabled/network.yaml"), "--cluster", try Self.golden("ipv4-overlay-enabled/cluster.yaml"), "-o", "json",
        ])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("\"disruption\" : \"outage-risk\"") || r.stdout.contains("\"disruption\": \"outage-risk\""))
    }

    @Test func shootModeAndRestartExitZero() throws {
        let dir = try TestDirectories.make("plan")
        let cluster = try String(contentsOfFile: try Self.golden("ipv4-overlay-enabled/cluster.yaml"), encoding: .utf8)
        // The Shoot embedded in the Cluster, moved to the top level.
        let lines = cluster.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("  shoot:") })
        let shoot = lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
        let old = dir.appendingPathComponent("old.yaml")
        try shoot.write(to: old, atomically: true, encoding: .utf8)
        let new = dir.appendingPathComponent("new.yaml")
        try shoot.replacingOccurrences(of: "        enabled: true\n", with: "        enabled: true\n      vethMTU: \"1400\"\n")
            .write(to: new, atomically: true, encoding: .utf8)
        let same = try Self.run(["plan", "--from-shoot", old.path, "--shoot", old.path])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout == "No changes.\n")
        let r = try Self.run(["plan", "--from-shoot", old.path, "--shoot", new.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("[restart] veth MTU 0 → 1400"), "\(r.stdout)")
    }

    @Test func badInputExitsOneAndUsageTwo() throws {
        let r = try Self.run(["plan", "--from-network", "/nonexistent.yaml", "--network", "/nonexistent.yaml", "--cluster", "/nonexistent.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot read"))
        let usage = try Self.run(["plan", "--network", "/x.yaml"])
        #expect(usage.status == 2)
        // Flag-parsing errors are usage errors too (exit 2, as Go's flag parsing exits).
        let unknown = try Self.run(["plan", "--bogus"])
        #expect(unknown.status == 2 && unknown.stderr.contains("--bogus"), "\(unknown.stderr)")
        let badBool = try Self.run(["--leader-election=maybe"])
        #expect(badBool.status == 2 && badBool.stderr.contains("--leader-election"), "\(badBool.stderr)")
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let url = try TestDirectories.make("validate").appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func validateReadsTheExampleInItsContext() throws {
        let example = SharedFixtures.packageRoot.appendingPathComponent("example/20-network.yaml").path
        let r = try Self.run(["validate", example])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("unsupported kind"))
    }

    @Test func validateRunsRenderChecksWithTheCluster() throws {
        // An ipv4 block with an unknown pool on the golden IPv4 Network: render refuses it.
        let cluster = try String(contentsOfFile: try Self.golden("ipv4-overlay-enabled/cluster.yaml"), encoding: .utf8)
        let network = try String(contentsOfFile: try Self.golden("error-unknown-ipv4-pool/network.yaml"), encoding: .utf8)
        let file = try Self.write(cluster + "\n---\n" + network, "both.yaml")
        let r = try Self.run(["validate", file])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("\(file):2: "), "\(r.stdout)")
    }

    @Test func validateSaysWhyItSkipsAShoot() throws {
        let shoot = """
            apiVersion: core.gardener.cloud/v1beta1
            kind: Shoot
            metadata: {name: a, namespace: garden-dev}
            spec:
              kubernetes: {version: 1.33.2}
              networking: {type: cilium}
            ---
            apiVersion: core.gardener.cloud/v1beta1
            kind: Shoot
            metadata: {name: b, namespace: garden-dev}
            spec:
              kubernetes: {version: 1.33.2}
              networking: {type: calico}
            ---
            apiVersion: core.gardener.cloud/v1beta1
            kind: Shoot
            metadata: {name: c, namespace: garden-dev}
            spec:
              kubernetes: {version: 1.33.2}
            """
        let file = try Self.write(shoot, "shoots.yaml")
        let r = try Self.run(["validate", file])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\(file):1: skipped: not calico"))
        #expect(r.stdout.contains("\(file):2: skipped: workerless shoot"))
        #expect(r.stdout.contains("\(file):3: skipped: no networking"))
    }

    @Test func validateRejectsAnEmptyFile() throws {
        let file = try Self.write("", "empty.yaml")
        let r = try Self.run(["validate", file])
        #expect(r.status != 0)
        #expect(r.stderr.contains("empty file"))
    }

    @Test func validateReportsAnIPv4BlockOnAnIPv6NetworkAsRenderDoes() throws {
        let cluster = try String(contentsOfFile: try Self.golden("ipv6-single-stack/cluster.yaml"), encoding: .utf8)
        let network = try String(contentsOfFile: try Self.golden("ipv6-single-stack/network.yaml"), encoding: .utf8)
        let config =
            "\n  providerConfig:\n    apiVersion: calico.networking.extensions.gardener.cloud/v1alpha1\n    kind: NetworkConfig\n    ipv4: {pool: vxlan}\n"
        let file = try Self.write(cluster + "\n---\n" + network.trimmingCharacters(in: .newlines) + config, "v6.yaml")
        let r = try Self.run(["validate", file])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\(file):2: spec.providerConfig.ipv4:"), "\(r.stdout)")
    }
}
