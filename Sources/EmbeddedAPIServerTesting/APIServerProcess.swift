import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded API server as a child process (`<executable> apiserver`) on a data directory, for
/// the durability tests and the soak, which kill it with SIGKILL and start it again (see
/// docs/reliability.md).
public final class APIServerProcess {
    /// The running server.
    public let process = Process()
    /// Where the server writes its kubeconfig once it serves.
    public let kubeconfig: String

    /// Starts `executable apiserver` on a free port with `dataDir`, its kubeconfig at `kubeconfig`
    /// (an old file there is removed first); standard error is shown with `showingErrors`, else
    /// discarded.
    public init(executable: String, dataDir: String, kubeconfig: String, showingErrors: Bool = false) throws {
        self.kubeconfig = kubeconfig
        try? FileManager.default.removeItem(atPath: kubeconfig)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["apiserver", "--port", "0", "--kubeconfig-out", kubeconfig, "--data-dir", dataDir]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = showingErrors ? FileHandle.standardError : FileHandle.nullDevice
        try process.run()
    }

    /// A client once the server has written its kubeconfig; throws when the server exits first or
    /// writes none within 30 s.
    public func client() async throws -> LoopbackHTTPClient {
        for _ in 0..<1200 {
            if let client = try LoopbackHTTPClient.forKubeconfig(at: kubeconfig) { return client }
            guard process.isRunning else {
                throw LoopbackHTTPClient.ClientError(description: "the server exited with status \(process.terminationStatus)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw LoopbackHTTPClient.ClientError(description: "the server wrote no kubeconfig at \(kubeconfig) within 30 s")
    }

    /// Kills the server with SIGKILL (no graceful stop) and waits until it is gone.
    public func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
