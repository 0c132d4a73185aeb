import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import TestSupport
import Testing

/// `plan --kubeconfig`: the live Network and Cluster of the embedded API server against a new file,
/// through the built executable (exit codes as documented in docs/usage.md).
@Suite(.serialized) struct PlanLiveTests {
    static func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try BinaryTests.run(args, in: FileManager.default.temporaryDirectory)
    }

    @Test func liveNetworkAgainstAProviderConfigNetworkAndShoot() async throws {
        try await Env.with { env in
            try await env.createExample()
            let kubeconfig = try env.server.writeTemporaryKubeconfig()
            let live = try await env.network()
            let liveConfig = try #require(live[path: "spec", "providerConfig"])
            let base = ["plan", "--kubeconfig", kubeconfig, "--namespace", Env.namespace]

            // The live provider config itself: no change.
            let same = try PlanBinaryTests.write(liveConfig.serializedString(), "same.json")
            let unchanged = try Self.run(base + ["--provider-config", same])
            #expect(unchanged.status == 0, "\(unchanged.stderr)")
            #expect(unchanged.stdout == "No changes.\n")

            // The example runs without the overlay: turning it on is a dataplane change (exit 3).
            var on = liveConfig
            on[path: "overlay", "enabled"] = true
            let onFile = try PlanBinaryTests.write(on.serializedString(), "on.json")
            let switched = try Self.run(base + ["--name", Env.name, "--provider-config", onFile, "-o", "json"])
            #expect(switched.status == 3, "\(switched.stderr)")
            let json = try JSON.parse(string: switched.stdout)
            #expect(json["disruption"] == "dataplane")
            #expect(json["impacts"]?.arrayValue?.first?["change"] == "overlay off → IP-in-IP")

            // A whole Network file (the live one with the overlay on) plans the same.
            var network = live
            network[path: "spec", "providerConfig"] = on
            let networkFile = try PlanBinaryTests.write(network.serializedString(), "network.json")
            #expect(try Self.run(base + ["--network", networkFile]).status == 3)

            // A Shoot file: the Cluster's Shoot with the live networking, unchanged.
            let cluster = try await env.client.get(.clusters, namespace: nil, name: Env.namespace)
            var shoot = try #require(cluster[path: "spec", "shoot"])
            shoot[path: "metadata", "namespace"] = "garden-foo"
            shoot[path: "metadata", "name"] = "bar"
            shoot[path: "spec", "networking", "providerConfig"] = on
            shoot[path: "spec", "networking", "pods"] = live[path: "spec", "podCIDR"]
            shoot[path: "spec", "networking", "services"] = live[path: "spec", "serviceCIDR"]
            let shootFile = try PlanBinaryTests.write(shoot.serializedString(), "shoot.json")
            let viaShoot = try Self.run(base + ["--shoot", shootFile])
            #expect(viaShoot.status == 3, "\(viaShoot.stdout)\(viaShoot.stderr)")
            #expect(viaShoot.stdout.contains("[dataplane] overlay off → IP-in-IP"), "\(viaShoot.stdout)")
        }
    }

    @Test func errorsAndUsage() async throws {
        try await Env.with { env in
            try await env.createExample()
            let kubeconfig = try env.server.writeTemporaryKubeconfig()
            let config = try PlanBinaryTests.write("{}", "empty-config.json")
            // No such Network or namespace: an error (exit 1) naming it.
            let missing = try Self.run([
                "plan", "--kubeconfig", kubeconfig, "--namespace", Env.namespace, "--name", "nope", "--provider-config", config,
            ])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("nope"), "\(missing.stderr)")
            let noNetworks = try Self.run(["plan", "--kubeconfig", kubeconfig, "--namespace", "empty", "--provider-config", config])
            #expect(noNetworks.status == 1)
            #expect(noNetworks.stderr.contains("has 0 Networks"), "\(noNetworks.stderr)")
            // A duplicate field in the new provider config is an error too.
            let dup = try PlanBinaryTests.write(#"{"backend":"bird","backend":"none"}"#, "dup.json")
            let dupRun = try Self.run(["plan", "--kubeconfig", kubeconfig, "--namespace", Env.namespace, "--provider-config", dup])
            #expect(dupRun.status == 1)
            #expect(dupRun.stderr.contains("duplicate field \"backend\""), "\(dupRun.stderr)")
            // Usage (exit 2): no namespace, no new state, two new states, a file-mode flag mixed in.
            for args in [
                ["--kubeconfig", kubeconfig, "--provider-config", config],
                ["--kubeconfig", kubeconfig, "--namespace", Env.namespace],
                ["--kubeconfig", kubeconfig, "--namespace", Env.namespace, "--provider-config", config, "--network", config],
                ["--kubeconfig", kubeconfig, "--namespace", Env.namespace, "--provider-config", config, "--from-network", config],
                ["--namespace", Env.namespace, "--provider-config", config],
            ] {
                let r = try Self.run(["plan"] + args)
                #expect(r.status == 2, "\(args): \(r.stderr)")
            }
        }
    }

    @Test func unreachableClusterIsAnError() throws {
        let dir = try TestDirectories.make("plan-live")
        let kubeconfig = dir.appendingPathComponent("kubeconfig").path
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let config = try PlanBinaryTests.write("{}", "c.json")
        let r = try Self.run(["plan", "--kubeconfig", kubeconfig, "--namespace", "x", "--provider-config", config])
        #expect(r.status == 1, "\(r.stderr)")
    }
}
