import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore
import TestSupport
import Testing

/// Exec credential plugins (a small shell script as the plugin) against the embedded API server.
@Suite struct ExecPluginTests {
    /// Prints an ExecCredential with `$TOKEN` (or `wrong` on the first run when `$BAD_FIRST` is set),
    /// counting its runs in `$COUNT` and keeping the `KUBERNETES_EXEC_INFO` it got in `$INFO`.
    static let plugin = """
        #!/bin/sh
        n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$COUNT"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO"
        tok="$TOKEN"; if [ -n "$BAD_FIRST" ] && [ $n -eq 1 ]; then tok=wrong; fi
        printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"%s}}' "$tok" "$EXPIRY"
        """

    struct PluginRun {
        var dir: URL
        var runs: Int {
            Int(
                (try? String(contentsOf: dir.appendingPathComponent("count"), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            ) ?? 0
        }
        var info: JSON { (try? JSON.parse(Array((try? Data(contentsOf: dir.appendingPathComponent("info"))) ?? Data()))) ?? .null }
    }

    func withPlugin(
        _ server: EmbeddedAPIServer, badFirst: Bool = false, expiry: String = "", _ body: (KubernetesClient, PluginRun) async throws -> Void
    ) async throws {
        let dir = try TestDirectories.make("exec-plugin")
        let script = dir.appendingPathComponent("plugin.sh")
        try Data(Self.plugin.utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
        var env: [ClientConfiguration.ExecPlugin.EnvVar] = [
            .init(name: "COUNT", value: dir.appendingPathComponent("count").path),
            .init(name: "INFO", value: dir.appendingPathComponent("info").path),
            .init(name: "TOKEN", value: server.token),
            .init(name: "EXPIRY", value: expiry.isEmpty ? "" : ",\"expirationTimestamp\":\"\(expiry)\""),
        ]
        if badFirst { env.append(.init(name: "BAD_FIRST", value: "1")) }
        let plugin = ClientConfiguration.ExecPlugin(
            apiVersion: "client.authentication.k8s.io/v1", command: "./plugin.sh", env: env, interactiveMode: "Never", provideClusterInfo: true,
            baseDirectory: dir.path)
        let useExec: (inout ClientConfiguration) -> Void = { $0.authentication = .exec(plugin) }
        try await withClient(server, useExec) { client in try await body(client, PluginRun(dir: dir)) }
    }

    @Test func execPluginTokenIsCachedAndGetsClusterInfo() async throws {
        try await withTestAPIServer { server in
            try await withPlugin(server) { client, run in
                _ = try await client.list(.namespaces, namespace: nil)
                _ = try await client.list(.namespaces, namespace: nil)
                #expect(run.runs == 1)
                let info = run.info
                #expect(info["kind"] == "ExecCredential" && info[path: "spec", "interactive"] == false)
                #expect(info[path: "spec", "cluster", "server"]?.stringValue == "https://127.0.0.1:\(server.port)")
                #expect(info[path: "spec", "cluster", "certificate-authority-data"]?.stringValue?.isEmpty == false)
            }
        }
    }

    @Test func execPluginRunsAgainAfterA401() async throws {
        try await withTestAPIServer { server in
            try await withPlugin(server, badFirst: true) { client, run in
                _ = try await client.list(.namespaces, namespace: nil)
                #expect(run.runs == 2)
                #expect(server.requestLog.filter { $0.path == "/api/v1/namespaces" }.count == 2)
            }
        }
    }

    @Test func expiredExecCredentialIsFetchedAgain() async throws {
        try await withTestAPIServer { server in
            try await withPlugin(server, expiry: "2000-01-01T00:00:00Z") { client, run in
                _ = try await client.list(.namespaces, namespace: nil)
                _ = try await client.list(.namespaces, namespace: nil)
                #expect(run.runs == 2)
            }
        }
    }
}
