import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore
import TestSupport

struct WatchTimeout: Error, CustomStringConvertible {
    var description: String { "timed out waiting for watch events" }
}

/// Runs `body` with a client for `server` built from its kubeconfig, shutting the client down after.
func withClient<T>(
    _ server: EmbeddedAPIServer, _ adjust: (inout ClientConfiguration) -> Void = { _ in },
    _ body: (KubernetesClient) async throws -> T
) async throws -> T {
    var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
    // Tests are not throttled unless they test throttling; retries fast.
    config.qps = -1
    config.retryBaseDelay = .milliseconds(10)
    config.retryMaxDelay = .milliseconds(50)
    adjust(&config)
    let client = try KubernetesClient(configuration: config)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// The first `count` non-bookmark events (or all events with `includeBookmarks`), failing after `timeout`.
func collectEvents(
    _ stream: AsyncThrowingStream<WatchEvent, Error>, count: Int, includeBookmarks: Bool = false,
    timeout: Duration = .seconds(15)
) async throws -> [WatchEvent] {
    try await withThrowingTaskGroup(of: [WatchEvent]?.self) { group in
        group.addTask {
            var out: [WatchEvent] = []
            for try await event in stream {
                if event.type == .bookmark && !includeBookmarks { continue }
                out.append(event)
                if out.count == count { return out }
            }
            return out
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next() else { throw WatchTimeout() }
        group.cancelAll()
        guard let events = first else { throw WatchTimeout() }
        return events
    }
}

/// Drains a stream until it ends or throws; returns the error it ended with (nil = clean end).
func streamEnd(_ stream: AsyncThrowingStream<WatchEvent, Error>, timeout: Duration = .seconds(15)) async throws -> Error? {
    try await withThrowingTaskGroup(of: (Bool, Error?).self) { group in
        group.addTask {
            do {
                for try await _ in stream {}
                return (true, nil)
            } catch {
                return (true, error)
            }
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return (false, nil)
        }
        guard let first = try await group.next() else { throw WatchTimeout() }
        group.cancelAll()
        if !first.0 { throw WatchTimeout() }
        return first.1
    }
}

func configMap(_ name: String, namespace: String = "default", data: [String: String] = [:], labels: [String: String] = [:]) -> JSON {
    var cm: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)]]
    if !data.isEmpty { cm["data"] = JSON(data) }
    if !labels.isEmpty { cm[path: "metadata", "labels"] = JSON(labels) }
    return cm
}

/// Runs `body` expecting a KubeError; returns it.
func kubeError<T>(_ body: () async throws -> T) async -> KubeError? {
    do {
        _ = try await body()
        return nil
    } catch let error as KubeError {
        return error
    } catch {
        return nil
    }
}

/// A custom resource with an open schema, like Gardener's extension kinds.
let widgets = Resource(group: "example.kubeclient.test", version: "v1", plural: "widgets", kind: "Widget", namespaced: true)

let widgetCRD: JSON = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.example.kubeclient.test"],
    "spec": [
        "group": "example.kubeclient.test", "scope": "Namespaced",
        "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true,
                "subresources": ["status": [:]],
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            ]
        ],
    ],
]

/// A typed view that models only `spec.size` of a Widget.
struct Widget: KubeObjectView {
    static let resource = widgets
    var raw: JSON
    init(raw: JSON) { self.raw = raw }
    var size: Int {
        get { raw[path: "spec", "size"]?.intValue ?? 0 }
        set { raw[path: "spec", "size"] = .int(Int64(newValue)) }
    }
}
