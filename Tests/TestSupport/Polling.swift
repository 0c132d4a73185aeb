import EmbeddedAPIServer
import KubeClient

/// A Kubernetes client for `server` without client-side throttling (`qps` 0) or retries, so
/// that tests see every answer as the server gave it.
public func makeClient(_ server: EmbeddedAPIServer, qps: Double = 0) throws -> KubernetesClient {
    var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
    config.qps = qps
    config.maxRetries = 0
    return try KubernetesClient(configuration: config)
}

/// Polls `condition` until it holds or `timeout` passes; answers whether it held.
public func eventually(
    timeout: Duration = .seconds(10), interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
