import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore
import Synchronization
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

func createNamespace(_ client: KubernetesClient, _ name: String, labels: [String: String] = [:]) async throws {
    var ns: JSON = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
    if !labels.isEmpty { ns[path: "metadata", "labels"] = JSON(labels) }
    _ = try await client.create(.namespaces, namespace: nil, ns)
}

func configMap(_ name: String, _ namespace: String, data: [String: String] = [:]) -> JSON {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)], "data": JSON(data)]
}

/// Plain HTTP GET against 127.0.0.1 on a dedicated thread (never blocks the cooperative pool).
func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<(status: Int, body: String), any Error>) in
        let thread = Thread {
            c.resume(with: Result { try blockingGet(port: port, path: path) })
        }
        thread.start()
    }
}

struct HTTPTestError: Error, CustomStringConvertible { var description: String }

private func blockingGet(port: Int, path: String) throws -> (status: Int, body: String) {
    guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: nil) else {
        throw HTTPTestError(description: "connect to \(port) failed")
    }
    defer { close(fd) }
    let response = LoopbackSocket.exchange(fd, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", limit: .max)
    let text = String(decoding: response, as: UTF8.self)
    guard let headerEnd = text.range(of: "\r\n\r\n") else { throw HTTPTestError(description: "no HTTP answer") }
    let statusLine = text[..<headerEnd.lowerBound].split(separator: "\r\n").first ?? ""
    let parts = statusLine.split(separator: " ")
    let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    return (status, String(text[headerEnd.upperBound...]))
}

/// Thread-safe counter / recorder.
final class Recorder<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}
