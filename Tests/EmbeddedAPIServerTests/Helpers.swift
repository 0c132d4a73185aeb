import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

/// Shorthands for talking JSON to the server in tests.
extension LoopbackHTTPClient {
    func get(_ path: String, accept: String? = nil) async throws -> Response {
        try await request("GET", path, headers: accept.map { [("Accept", $0)] } ?? [])
    }
    func post(_ path: String, _ body: JSON) async throws -> Response { try await request("POST", path, json: body) }
    func put(_ path: String, _ body: JSON) async throws -> Response { try await request("PUT", path, json: body) }
    func patch(_ path: String, _ body: JSON, type: String = "application/merge-patch+json") async throws -> Response {
        try await request("PATCH", path, json: body, contentType: type)
    }
    func delete(_ path: String, _ body: JSON? = nil) async throws -> Response {
        try await request("DELETE", path, body: body?.serialized() ?? [], headers: body == nil ? [] : [("Content-Type", "application/json")])
    }
}

let widgetCRD: JSON = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.demo.example.com"],
    "spec": [
        "group": "demo.example.com", "scope": "Namespaced",
        "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true,
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                "subresources": ["status": .emptyObject],
                "additionalPrinterColumns": [
                    ["name": "Size", "type": "integer", "jsonPath": ".spec.size"],
                    ["name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"],
                ],
            ]
        ],
    ],
]

let widgets = "/apis/demo.example.com/v1/namespaces/default/widgets"

func widget(_ name: String, size: Int = 1, labels: JSON = .emptyObject) -> JSON {
    [
        "apiVersion": "demo.example.com/v1", "kind": "Widget", "metadata": ["name": .string(name), "labels": labels],
        "spec": ["size": .int(Int64(size))],
    ]
}

/// Runs `body` with a started server, a client, and the Widget CRD registered.
func withServer<T>(
    crd: Bool = true, _ configuration: EmbeddedAPIServerConfiguration = .init(),
    _ body: (EmbeddedAPIServer, LoopbackHTTPClient) async throws -> T
) async throws -> T {
    try await withTestAPIServer(configuration) { server in
        let client = try server.makeTestClient()
        defer { Task { await client.close() } }
        if crd {
            let r = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
            #expect(r.status == 201, "\(r.text)")
        }
        return try await body(server, client)
    }
}

/// Collects watch events until `count` arrived or the stream ends.
func collect(_ stream: AsyncThrowingStream<JSON, Error>, count: Int) async throws -> [JSON] {
    var out: [JSON] = []
    for try await e in stream {
        out.append(e)
        if out.count >= count { break }
    }
    return out
}

func eventSummary(_ events: [JSON]) -> [String] {
    events.map { "\($0["type"]?.stringValue ?? "?") \($0[path: "object", "metadata", "name"]?.stringValue ?? "")" }
}
