import Foundation
import KubeCore

extension AuthorizationAttributes {
    /// The check kube-apiserver makes before acting as another user, group or ServiceAccount.
    static func impersonation(_ resource: String, name: String, namespace: String = "") -> AuthorizationAttributes {
        AuthorizationAttributes(verb: "impersonate", isResourceRequest: true, resource: resource, namespace: namespace, name: name)
    }
}

extension EmbeddedAPIServer {
    /// The messages of the 403 Forbidden answers RBAC gave so far, oldest first (test hook: code
    /// running under a chart's RBAC must cause none).
    public var authorizationDenials: [String] { router.denials.withLock { $0 } }
}

extension Router {
    /// The requester, or nil (401): the kubeconfig token or a `system:masters` certificate is the
    /// admin (checked first, so admin requests pay one comparison); other certificates and
    /// TokenRequest tokens go through RBAC.
    func authenticate(_ request: APIRequest) -> UserInfo? {
        if let user = request.certificateUser {
            return request.certificateGroups.contains("system:masters") ? .admin : .certificate(user: user, groups: request.certificateGroups)
        }
        let header = request.headers.first(name: "Authorization") ?? ""
        guard header.hasPrefix("Bearer ") else { return nil }
        let presented = String(header.dropFirst(7)).trimmedSpaces()
        if constantTimeEqual(presented, token) { return .admin }
        guard let record = serviceAccountTokens.lookup(presented), record.audiences.contains(ServiceAccountTokens.apiAudience) else { return nil }
        // A token outlives neither its ServiceAccount nor a re-creation of it (new UID).
        let uid = store.read { s -> String? in
            guard let info = s.resource(group: "", version: "v1", plural: "serviceaccounts") else { return nil }
            return s.object(info, record.namespace, record.name)?[path: "metadata", "uid"]?.stringValue
        }
        guard uid == record.uid else { return nil }
        return .serviceAccount(namespace: record.namespace, name: record.name, uid: record.uid, credentialID: record.id)
    }

    /// The user a request acts as: its authenticated user, or (with `Impersonate-User`, as
    /// `kubectl --as`) the impersonated one when the authenticated user may `impersonate` it and
    /// every `Impersonate-Group`. Fails with 401, or kube's 403 for a denied impersonation.
    func identify(_ request: APIRequest) -> Result<UserInfo, APIError> {
        guard let user = authenticate(request) else { return .failure(.unauthorized) }
        guard let target = request.headers.first(name: "Impersonate-User") else { return .success(user) }
        let groups = request.headers["Impersonate-Group"]
        var checks: [AuthorizationAttributes] = []
        var impersonated = UserInfo(name: target, groups: [])
        let saPrefix = "system:serviceaccount:"
        let saParts = target.hasPrefix(saPrefix) ? target.dropFirst(saPrefix.count).split(separator: ":", maxSplits: 1).map(String.init) : []
        if saParts.count == 2 {
            checks.append(.impersonation("serviceaccounts", name: saParts[1], namespace: saParts[0]))
            impersonated.groups = ["system:serviceaccounts", "system:serviceaccounts:\(saParts[0])"]
        } else {
            checks.append(.impersonation("users", name: target))
        }
        for g in groups {
            checks.append(.impersonation("groups", name: g))
            if !impersonated.groups.contains(g) { impersonated.groups.append(g) }
        }
        if target != "system:anonymous" && !impersonated.groups.contains("system:authenticated") {
            impersonated.groups.append("system:authenticated")
        }
        if !user.isPrivileged {
            let rbac = store.read { RBACSnapshot($0) }
            for check in checks where !RBACAuthorizer.authorize(user, check, rbac).allowed {
                return .failure(RBACAuthorizer.forbidden(user, check))
            }
        }
        return .success(impersonated)
    }

    /// nil when the user may make the request, else kube's 403.
    func authorizationFailure(_ user: UserInfo, _ request: APIRequest, _ prepared: Prepared) -> APIError? {
        if user.isPrivileged { return nil }
        let attributes = AuthorizationAttributes.of(
            method: request.method, path: prepared.path, segments: prepared.segments, query: prepared.query, verb: prepared.verb)
        let rbac = store.read { RBACSnapshot($0) }
        if RBACAuthorizer.authorize(user, attributes, rbac).allowed { return nil }
        let forbidden = RBACAuthorizer.forbidden(user, attributes)
        denials.withLock { d in
            if d.count >= 10_000 { d.removeFirst(d.count / 2) }
            d.append(forbidden.message)
        }
        return forbidden
    }

    /// Answers the review resources and `serviceaccounts/NAME/token`; nil for every other path.
    func authRoute(_ request: APIRequest, segments: [String]) throws(APIError) -> APIResponse? {
        let user = request.user ?? .admin
        if segments.count == 7, segments[0] == "api", segments[1] == "v1", segments[2] == "namespaces", segments[4] == "serviceaccounts",
            segments[6] == "token"
        {
            guard request.method == "POST" else { throw APIError.methodNotAllowed(request.method, nil) }
            return try tokenRequest(request, namespace: segments[3], name: segments[5])
        }
        // Name check first: other requests pay no registry lookup here.
        guard segments.count == 4, segments[0] == "apis", segments[2] == "v1", AuthResources.reviewPlurals.contains(segments[3]) else { return nil }
        guard let info = store.read({ $0.resource(group: segments[1], version: "v1", plural: segments[3]) }), info.createOnly else { return nil }
        guard request.method == "POST" else { throw APIError.methodNotAllowed(request.method == "GET" ? "list" : request.method, info) }
        var review = try decodeBody(request, info: info)
        review["apiVersion"] = .string(info.groupVersion)
        review["kind"] = .string(info.kind)
        if review["metadata"] == nil { review["metadata"] = .emptyObject }
        let rbac = store.read { RBACSnapshot($0) }
        switch info.kind {
        case "SelfSubjectAccessReview":
            review["status"] = try accessReviewStatus(review["spec"] ?? .emptyObject, user: user, rbac: rbac, info: info)
        case "SelfSubjectRulesReview":
            let namespace = review[path: "spec", "namespace"]?.stringValue ?? ""
            var resourceRules: [JSON] = []
            var nonResourceRules: [JSON] = []
            for rule in RBACAuthorizer.rules(user, namespace: namespace, rbac) {
                if rule.nonResourceURLs.isEmpty {
                    var r: JSON = [
                        "verbs": .array(rule.verbs.map(JSON.string)), "apiGroups": .array(rule.apiGroups.map(JSON.string)),
                        "resources": .array(rule.resources.map(JSON.string)),
                    ]
                    if !rule.resourceNames.isEmpty { r["resourceNames"] = .array(rule.resourceNames.map(JSON.string)) }
                    resourceRules.append(r)
                } else {
                    nonResourceRules.append([
                        "verbs": .array(rule.verbs.map(JSON.string)), "nonResourceURLs": .array(rule.nonResourceURLs.map(JSON.string)),
                    ])
                }
            }
            review["status"] = ["resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": false]
        default:
            review["status"] = ["userInfo": user.json]
        }
        return Self.json(201, review)
    }

    private func accessReviewStatus(_ spec: JSON, user: UserInfo, rbac: RBACSnapshot, info: ResourceInfo) throws(APIError) -> JSON {
        let resource = spec["resourceAttributes"].flatMap { $0.isNull ? nil : $0 }
        let nonResource = spec["nonResourceAttributes"].flatMap { $0.isNull ? nil : $0 }
        guard (resource == nil) != (nonResource == nil) else {
            throw APIError.invalid(
                info, name: "",
                [FieldError(.invalid, "spec.resourceAttributes", nil, "exactly one of nonResourceAttributes or resourceAttributes must be specified")]
            )
        }
        var a: AuthorizationAttributes
        if let r = resource {
            a = AuthorizationAttributes(verb: r["verb"]?.stringValue ?? "", isResourceRequest: true)
            a.apiGroup = r["group"]?.stringValue ?? ""
            a.apiVersion = r["version"]?.stringValue ?? ""
            a.resource = r["resource"]?.stringValue ?? ""
            a.subresource = r["subresource"]?.stringValue ?? ""
            a.namespace = r["namespace"]?.stringValue ?? ""
            a.name = r["name"]?.stringValue ?? ""
        } else {
            a = AuthorizationAttributes(
                verb: nonResource?["verb"]?.stringValue ?? "", isResourceRequest: false, path: nonResource?["path"]?.stringValue ?? "")
        }
        let decision = RBACAuthorizer.authorize(user, a, rbac)
        var status: JSON = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return status
    }

    /// `POST .../serviceaccounts/NAME/token`: a TokenRequest answered with a new token.
    private func tokenRequest(_ request: APIRequest, namespace: String, name: String) throws(APIError) -> APIResponse {
        let info = AuthResources.tokenRequest
        var body = try decodeBody(request, info: info)
        guard let saInfo = store.read({ $0.resource(group: "", version: "v1", plural: "serviceaccounts") }) else { throw APIError.unknownPath }
        guard let sa = store.read({ $0.object(saInfo, namespace, name) }), let uid = sa[path: "metadata", "uid"]?.stringValue else {
            throw APIError.notFound(saInfo, name)
        }
        let requested = body[path: "spec", "expirationSeconds"]
        let seconds = requested?.intValue.map(Int64.init) ?? 3600
        var errors: [FieldError] = []
        if seconds < 600 {
            errors.append(FieldError(.invalid, "spec.expirationSeconds", .int(seconds), "may not specify a duration less than 10 minutes"))
        }
        if seconds > 1 << 32 {
            errors.append(FieldError(.invalid, "spec.expirationSeconds", .int(seconds), "may not specify a duration larger than 2^32 seconds"))
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
        var audiences = body[path: "spec", "audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if audiences.isEmpty { audiences = [ServiceAccountTokens.apiAudience] }
        let issued: (token: String, expires: Date)
        do {
            issued = try serviceAccountTokens.issue(namespace: namespace, name: name, uid: uid, audiences: audiences, seconds: seconds)
        } catch {
            throw APIError.internalError("storing the token failed: \(error)")
        }
        body["apiVersion"] = .string(info.groupVersion)
        body["kind"] = .string(info.kind)
        body[path: "metadata", "name"] = .string(name)
        body[path: "metadata", "namespace"] = .string(namespace)
        body[path: "metadata", "creationTimestamp"] = .string(KubeTime.format(Date()))
        body[path: "spec", "audiences"] = .array(audiences.map(JSON.string))
        body[path: "spec", "expirationSeconds"] = .int(seconds)
        if body[path: "spec", "boundObjectRef"] == nil { body[path: "spec", "boundObjectRef"] = .null }
        body["status"] = ["token": .string(issued.token), "expirationTimestamp": .string(KubeTime.format(issued.expires))]
        return Self.json(201, body)
    }
}
