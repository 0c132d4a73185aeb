import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore

/// Starts an embedded API server on a free loopback port, runs `body`, and shuts it down
/// (also when `body` throws).
public func withTestAPIServer<T>(
    _ configuration: EmbeddedAPIServerConfiguration = EmbeddedAPIServerConfiguration(),
    _ body: (EmbeddedAPIServer) async throws -> T
) async throws -> T {
    let server = try await EmbeddedAPIServer.start(configuration)
    do {
        let result = try await body(server)
        try await server.shutdown()
        return result
    } catch {
        try? await server.shutdown()
        throw error
    }
}

/// Temporary directories for tests.
public enum TestDirectories {
    /// A fresh, empty directory under the system temp directory.
    public static func make(_ prefix: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension EmbeddedAPIServer {
    /// Writes this server's kubeconfig into a new temp directory and returns the file's path.
    public func writeTemporaryKubeconfig() throws -> String {
        let dir = try TestDirectories.make("kubeconfig")
        let path = dir.appendingPathComponent("kubeconfig").path
        try writeKubeconfig(to: path)
        return path
    }

    /// A loopback HTTPS client authenticated with this server's token.
    public func makeTestClient() throws -> LoopbackHTTPClient {
        try LoopbackHTTPClient(server: self)
    }
}

/// Locations of the pinned Python tools (set by `make test`, else `<packageRoot>/.venv/bin`).
public enum TestTools {
    /// The venv's python3 (`TEST_PYTHON`).
    public static var python: String {
        ProcessInfo.processInfo.environment["TEST_PYTHON"] ?? SharedFixtures.packageRoot.appendingPathComponent(".venv/bin/python3").path
    }

    /// The pinned kubectl (`KUBECTL`).
    public static var kubectl: String {
        ProcessInfo.processInfo.environment["KUBECTL"] ?? SharedFixtures.packageRoot.appendingPathComponent(".venv/bin/kubectl").path
    }

    /// Runs a process to completion and returns (exit code, stdout, stderr). It inherits the test's
    /// environment with `environment` set and `unsetting` removed; standard input is `stdin`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = [],
        in directory: URL? = nil, stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        for k in unsetting { env[k] = nil }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
