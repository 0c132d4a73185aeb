import Foundation
import KubeCore
import Synchronization

/// Runs an exec credential plugin and caches its token until the plugin's `expirationTimestamp`
/// (or, without one, until the server answers 401), as client-go's exec authenticator does. The
/// plugin gets `KUBERNETES_EXEC_INFO` (an `ExecCredential` with `spec.interactive: false` and, if
/// asked for, the cluster), no terminal, and our stderr for its messages. See docs/kubeclient.md.
final class ExecCredentialSource: Sendable {
    let plugin: ClientConfiguration.ExecPlugin
    let cluster: JSON
    private let cached = Mutex<(token: String, expires: Date?)?>(nil)
    /// Serializes runs: concurrent requests wait for one run instead of starting many.
    private let running = Mutex<Task<String, Error>?>(nil)

    init(plugin: ClientConfiguration.ExecPlugin, configuration: ClientConfiguration) {
        self.plugin = plugin
        var cluster: JSON = ["server": .string(configuration.server)]
        if let ca = configuration.tls.certificateAuthorityPEM { cluster["certificate-authority-data"] = .string(Base64.encode(ca)) }
        if configuration.tls.insecureSkipVerify { cluster["insecure-skip-tls-verify"] = true }
        if let name = configuration.tls.serverName { cluster["tls-server-name"] = .string(name) }
        if let proxy = configuration.proxyURL { cluster["proxy-url"] = .string(proxy) }
        self.cluster = cluster
    }

    /// The current token: the cached one unless it expired or `forceRefresh` (after a 401).
    func token(forceRefresh: Bool = false) async throws -> String {
        if !forceRefresh, let c = cached.withLock({ $0 }), c.expires.map({ $0 > Date() }) ?? true { return c.token }
        let task = running.withLock { r -> Task<String, Error> in
            if let r, !forceRefresh { return r }
            let t = Task { try await self.run() }
            r = t
            return t
        }
        defer { running.withLock { r in if r == task { r = nil } } }
        return try await task.value
    }

    /// The `ExecCredential` the plugin reads from `KUBERNETES_EXEC_INFO`.
    var execInfo: JSON {
        var spec: JSON = ["interactive": false]
        if plugin.provideClusterInfo { spec["cluster"] = cluster }
        return ["apiVersion": .string(plugin.apiVersion), "kind": "ExecCredential", "spec": spec]
    }

    /// The program to run: relative paths against the kubeconfig's directory, bare names on `PATH`.
    func executable() throws -> String {
        let command = plugin.command
        if command.contains("/") {
            return command.hasPrefix("/") ? command : (plugin.baseDirectory as NSString).appendingPathComponent(command)
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(command)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw KubeError.other("exec plugin: executable \(command) not found" + (plugin.installHint.map { "\n\n\($0)" } ?? ""))
    }

    private func run() async throws -> String {
        let path = try executable()
        var environment = ProcessInfo.processInfo.environment
        for variable in plugin.env { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo.serializedString()
        let output = try await Self.runProcess(path: path, arguments: plugin.args, environment: environment)
        guard output.status == 0 else {
            throw KubeError.other("exec plugin \(plugin.command) failed with exit code \(output.status)")
        }
        let credential: JSON
        do { credential = try JSON.parse(output.stdout) } catch {
            throw KubeError.other("exec plugin \(plugin.command): decoding stdout: \(error)")
        }
        guard credential["kind"]?.stringValue == "ExecCredential" else {
            throw KubeError.other("exec plugin \(plugin.command): stdout is not an ExecCredential")
        }
        let returned = credential["apiVersion"]?.stringValue ?? ""
        guard returned == plugin.apiVersion else {
            throw KubeError.other(
                "exec plugin is configured to use API version \(plugin.apiVersion), plugin returned version \(returned)")
        }
        guard let token = credential[path: "status", "token"]?.stringValue, !token.isEmpty else {
            if credential[path: "status", "clientCertificateData"] != nil {
                throw KubeError.other(
                    "exec plugin \(plugin.command) returned a client certificate; this client takes tokens from exec plugins only")
            }
            throw KubeError.other("exec plugin \(plugin.command): status.token is missing")
        }
        var expires: Date?
        if let text = credential[path: "status", "expirationTimestamp"]?.stringValue {
            guard let instant = KubeTime.parseInstant(text) else {
                throw KubeError.other("exec plugin \(plugin.command): invalid status.expirationTimestamp \"\(text)\"")
            }
            expires = instant.date
        }
        cached.withLock { $0 = (token, expires) }
        return token
    }

    /// Runs a program to its end on a thread of its own (never blocking the cooperative pool),
    /// with no standard input and our standard error.
    static func runProcess(path: String, arguments: [String], environment: [String: String]) async throws -> (status: Int32, stdout: [UInt8]) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                process.environment = environment
                process.standardInput = FileHandle.nullDevice
                process.standardError = FileHandle.standardError
                let pipe = Pipe()
                process.standardOutput = pipe
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: KubeError.other("exec plugin: running \(path): \(error)"))
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, Array(data)))
            }.start()
        }
    }
}
