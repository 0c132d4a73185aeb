import Foundation
import KubeCore

/// Who sent a request, as kube-apiserver's authenticators report it (see docs/local.md, "Authentication and RBAC").
struct UserInfo: Sendable, Equatable {
    var name: String
    var uid: String = ""
    var groups: [String]
    var extra: [String: [String]] = [:]

    /// The kubeconfig user the server writes: a member of `system:masters`, allowed everything.
    static let admin = UserInfo(name: "embedded-admin", groups: ["system:masters", "system:authenticated"])

    /// `system:masters` skips authorization, as kube-apiserver's privileged-group check does.
    var isPrivileged: Bool { groups.contains("system:masters") }

    /// A ServiceAccount's identity (`system:serviceaccount:NS:NAME` in the ServiceAccount groups).
    static func serviceAccount(namespace: String, name: String, uid: String, credentialID: String) -> UserInfo {
        UserInfo(
            name: "system:serviceaccount:\(namespace):\(name)", uid: uid,
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"],
            extra: ["authentication.kubernetes.io/credential-id": ["JTI=\(credentialID)"]])
    }

    /// A client certificate's identity (CN = user, O = groups), authenticated like any other.
    static func certificate(user: String, groups: [String]) -> UserInfo {
        UserInfo(name: user, groups: groups.contains("system:authenticated") ? groups : groups + ["system:authenticated"])
    }

    /// As `status.userInfo` of a SelfSubjectReview (and a TokenReview).
    var json: JSON {
        var o: JSON = ["username": .string(name), "groups": .array(groups.map(JSON.string))]
        if !uid.isEmpty { o["uid"] = .string(uid) }
        if !extra.isEmpty {
            var e: JSONObject = [:]
            for (k, v) in extra { e[k] = .array(v.map(JSON.string)) }
            o["extra"] = .object(e)
        }
        return o
    }
}

/// What a request asks to do, in the terms RBAC rules speak (kube-apiserver's request info).
struct AuthorizationAttributes: Sendable, Equatable {
    var verb: String
    var isResourceRequest: Bool
    var path: String = ""
    var apiGroup: String = ""
    var apiVersion: String = ""
    var resource: String = ""
    var subresource: String = ""
    var namespace: String = ""
    var name: String = ""

    /// The attributes of an HTTP request: API paths with three or more segments after `/api` (four after `/apis`)
    /// address resources, everything else (discovery, `/version`, `/healthz`) is a non-resource path.
    static func of(method: String, path: String, segments: [String], query: [String: String], verb: String) -> AuthorizationAttributes {
        let isCore = segments.first == "api"
        guard (isCore && segments.count >= 3) || (segments.first == "apis" && segments.count >= 4) else {
            return AuthorizationAttributes(verb: method.lowercased(), isResourceRequest: false, path: path)
        }
        var a = AuthorizationAttributes(verb: verb, isResourceRequest: true, path: path)
        a.apiGroup = isCore ? "" : segments[1]
        a.apiVersion = isCore ? segments[1] : segments[2]
        var rest = Array(segments.dropFirst(isCore ? 2 : 3))
        if rest.first == "watch" { rest.removeFirst() }
        if rest.first == "namespaces", rest.count > 1 {
            a.namespace = rest[1]
            // `namespaces/NAME/status|finalize` address the namespace itself.
            if rest.count > 2 && rest[2] != "status" && rest[2] != "finalize" { rest.removeFirst(2) }
        }
        a.resource = rest.first ?? ""
        if rest.count > 1 { a.name = rest[1] }
        if rest.count > 2 { a.subresource = rest[2] }
        if a.name.isEmpty && (verb == "list" || verb == "watch"), let selector = query["fieldSelector"] {
            // A list narrowed to one name counts as a request for that name (resourceNames rules apply).
            for term in selector.split(separator: ",") {
                let parts = term.split(separator: "=", omittingEmptySubsequences: false).filter { !$0.isEmpty }
                if parts.count == 2, parts[0] == "metadata.name", !term.contains("!=") { a.name = String(parts[1]) }
            }
        }
        return a
    }
}
