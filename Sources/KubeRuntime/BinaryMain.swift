import ArgumentParser
import BuildInfo
import KubeClient
import Logging

// The start and the end of both binaries' `run()` (controller and admission webhook), written once.

extension LoggingOptions {
    /// Installs the process log in these settings and returns the binary's logger `label`, which
    /// has already logged `Starting <label>` with the build's version.
    public func startLogging(_ label: String) -> Logger {
        bootstrap()
        var logger = Logger(label: label)
        logger.logLevel = level
        logger.info("Starting \(label)", metadata: ["version": "\(BuildInfo.current.gitVersion)"])
        return logger
    }
}

extension Manager {
    /// Runs until SIGTERM or SIGINT, then shuts `client` down. A failed run (a lost lease
    /// included) is logged and exits 1, so that the pod restarts.
    public func runUntilSignalled(thenClosing client: KubernetesClient, logger: Logger) async throws {
        do {
            try await runUntilSignalled()
        } catch {
            logger.error("Manager stopped with error", metadata: ["error": "\(error)"])
            try? await client.shutdown()
            throw ExitCode(1)
        }
        try? await client.shutdown()
    }
}
