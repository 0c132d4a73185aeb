import EmbeddedAPIServer
import Foundation
import KubeClient
import KubeCore

/// The RBAC a chart grants, applied to an embedded API server, and a client authenticated as the
/// chart's ServiceAccount through a TokenRequest token: for tests that run our code with exactly
/// the rights its chart installs (the server enforces RBAC for everyone but its admin).
public enum ChartRBAC {
    /// A template or answer this helper cannot use.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    static let group = "rbac.authorization.k8s.io"
    static let resources: [String: Resource] = [
        "ClusterRole": Resource(group: group, version: "v1", plural: "clusterroles", kind: "ClusterRole", namespaced: false),
        "ClusterRoleBinding": Resource(group: group, version: "v1", plural: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false),
        "Role": Resource(group: group, version: "v1", plural: "roles", kind: "Role", namespaced: true),
        "RoleBinding": Resource(group: group, version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true),
    ]

    /// A chart template's objects rendered with default values: `include "name"` and
    /// `.Release.Namespace` filled in, labels dropped, and every `if` false (its `else` branch
    /// taken), which is what the charts' RBAC templates need. Anything else left is an error.
    public static func render(template relativePath: String, name: String, namespace: String) throws -> [JSON] {
        let url = SharedFixtures.packageRoot.appendingPathComponent(relativePath)
        var lines: [String] = []
        // Per open `if`: whether the current branch is taken, whether one was.
        var branches: [(taking: Bool, taken: Bool)] = []
        for raw in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("{{- if ") || trimmed.hasPrefix("{{ if ") {
                branches.append((false, false))
                continue
            }
            if trimmed.hasPrefix("{{- else if ") || trimmed.hasPrefix("{{ else if ") { continue }
            if trimmed.hasPrefix("{{- else") || trimmed.hasPrefix("{{ else") {
                if let last = branches.popLast() { branches.append((!last.taken, true)) }
                continue
            }
            if trimmed.hasPrefix("{{- end") || trimmed.hasPrefix("{{ end") {
                _ = branches.popLast()
                continue
            }
            if trimmed.hasPrefix("{{- $") || trimmed.hasPrefix("{{/*") { continue }
            guard branches.allSatisfy(\.taking) else { continue }
            if line.contains("include \"labels\"") {
                if lines.last?.trimmingCharacters(in: .whitespaces) == "labels:" { lines.removeLast() }
                continue
            }
            lines.append(
                line.replacingOccurrences(of: "{{ include \"name\" . }}", with: name).replacingOccurrences(
                    of: "{{ .Release.Namespace }}", with: namespace))
        }
        let text = lines.joined(separator: "\n")
        guard !text.contains("{{") else {
            throw Failure("\(relativePath): template expressions this renderer does not know: \(text)")
        }
        return try JSON.parseYAMLDocuments(text).filter(\.isObject)
    }

    /// Creates the RBAC objects (namespaces first, when missing) as the admin.
    public static func apply(_ objects: [JSON], admin: KubernetesClient) async throws {
        for object in objects {
            guard let resource = resources[object["kind"]?.stringValue ?? ""] else {
                throw Failure("not an RBAC object: \(object.serializedString())")
            }
            let namespace = object[path: "metadata", "namespace"]?.stringValue
            if let namespace { try await ensureNamespace(namespace, admin: admin) }
            _ = try await admin.create(resource, namespace: namespace, object)
        }
    }

    static func ensureNamespace(_ name: String, admin: KubernetesClient) async throws {
        do {
            _ = try await admin.create(.namespaces, namespace: nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        } catch let e as KubeError where e.isAlreadyExists {}
    }

    /// Creates ServiceAccount `namespace/name` and answers a client using a token the server issued
    /// for it (TokenRequest API, one hour).
    public static func serviceAccountClient(
        server: EmbeddedAPIServer, admin: KubernetesClient, namespace: String, name: String, configure: (inout ClientConfiguration) -> Void = { _ in }
    ) async throws -> KubernetesClient {
        try await ensureNamespace(namespace, admin: admin)
        _ = try await admin.create(.serviceAccounts, namespace: namespace, ["metadata": ["name": .string(name)]])
        let tokenRequest = Resource(group: "", version: "v1", plural: "serviceaccounts/\(name)/token", kind: "TokenRequest", namespaced: true)
        let answer = try await admin.create(
            tokenRequest, namespace: namespace,
            ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 3600]])
        guard let token = answer[path: "status", "token"]?.stringValue else { throw Failure("TokenRequest answered no token: \(answer)") }
        var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
        config.authentication = .bearerToken(token)
        configure(&config)
        return try KubernetesClient(configuration: config)
    }
}
