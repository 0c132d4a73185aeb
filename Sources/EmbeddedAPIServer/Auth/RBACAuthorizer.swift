import KubeCore

/// One rule of a Role or ClusterRole.
struct PolicyRule: Sendable, Equatable {
    var verbs: [String] = []
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(_ json: JSON) {
        func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"), resourceNames: strings("resourceNames"),
            nonResourceURLs: strings("nonResourceURLs"))
    }

    var json: JSON {
        var o: JSON = ["verbs": .array(verbs.map(JSON.string))]
        if !apiGroups.isEmpty { o["apiGroups"] = .array(apiGroups.map(JSON.string)) }
        if !resources.isEmpty { o["resources"] = .array(resources.map(JSON.string)) }
        if !resourceNames.isEmpty { o["resourceNames"] = .array(resourceNames.map(JSON.string)) }
        if !nonResourceURLs.isEmpty { o["nonResourceURLs"] = .array(nonResourceURLs.map(JSON.string)) }
        return o
    }

    /// Whether the rule grants the request, matched the way kube's RBAC authorizer matches it.
    func allows(_ a: AuthorizationAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(a.verb) else { return false }
        guard a.isResourceRequest else {
            return nonResourceURLs.contains { url in
                url == "*" || url == a.path || (url.hasSuffix("*") && a.path.hasPrefix(url.dropLast()))
            }
        }
        guard apiGroups.contains("*") || apiGroups.contains(a.apiGroup) else { return false }
        let combined = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
        let resourceOK = resources.contains { r in
            r == "*" || r == combined || (!a.subresource.isEmpty && r == "*/\(a.subresource)")
        }
        guard resourceOK else { return false }
        return resourceNames.isEmpty || resourceNames.contains(a.name)
    }
}

/// The RBAC objects the authorizer reads, taken from the store in one short lock.
struct RBACSnapshot: Sendable {
    var roles: [String: JSON]
    var clusterRoles: [String: JSON]
    var roleBindings: [String: JSON]
    var clusterRoleBindings: [String: JSON]

    static let group = "rbac.authorization.k8s.io"

    init(_ state: StoreState) {
        roles = state.collections["\(Self.group)/roles"] ?? [:]
        clusterRoles = state.collections["\(Self.group)/clusterroles"] ?? [:]
        roleBindings = state.collections["\(Self.group)/rolebindings"] ?? [:]
        clusterRoleBindings = state.collections["\(Self.group)/clusterrolebindings"] ?? [:]
    }
}

/// The RBAC authorizer: allows a request when a rule of a role bound to the user (by a
/// ClusterRoleBinding, or a RoleBinding in the request's namespace) matches it. Denies otherwise.
/// ClusterRole `aggregationRule`s are stored but not aggregated (see docs/local.md).
enum RBACAuthorizer {
    /// A decision with kube's reason text (`RBAC: allowed by ...`, empty on a denial).
    struct Decision: Sendable, Equatable {
        var allowed: Bool
        var reason: String
    }

    /// One binding that applies to a user: the rules of its role and how kube describes it.
    struct Grant {
        var rules: [PolicyRule]
        var description: String
    }

    static func authorize(_ user: UserInfo, _ a: AuthorizationAttributes, _ rbac: RBACSnapshot) -> Decision {
        if user.isPrivileged { return Decision(allowed: true, reason: "") }
        for grant in grants(user, namespace: a.isResourceRequest ? a.namespace : "", rbac) where grant.rules.contains(where: { $0.allows(a) }) {
            return Decision(allowed: true, reason: "RBAC: allowed by \(grant.description)")
        }
        return Decision(allowed: false, reason: "")
    }

    /// The rules a user holds in a namespace (cluster-wide ones included), for SelfSubjectRulesReview.
    static func rules(_ user: UserInfo, namespace: String, _ rbac: RBACSnapshot) -> [PolicyRule] {
        grants(user, namespace: namespace, rbac).flatMap(\.rules)
    }

    static func grants(_ user: UserInfo, namespace: String, _ rbac: RBACSnapshot) -> [Grant] {
        var out: [Grant] = []
        for key in rbac.clusterRoleBindings.keys.sorted() {
            guard let binding = rbac.clusterRoleBindings[key], let subject = matchingSubject(binding, user: user, bindingNamespace: "") else {
                continue
            }
            let ref = binding["roleRef"] ?? .emptyObject
            guard ref["kind"]?.stringValue == "ClusterRole", let roleName = ref["name"]?.stringValue,
                let role = rbac.clusterRoles[StoreState.objectKey("", roleName)]
            else { continue }
            let name = binding[path: "metadata", "name"]?.stringValue ?? ""
            out.append(
                Grant(rules: rules(of: role), description: "ClusterRoleBinding \(quote(name)) of ClusterRole \(quote(roleName)) to \(subject)"))
        }
        guard !namespace.isEmpty else { return out }
        let prefix = StoreState.objectKey(namespace, "")
        for key in rbac.roleBindings.keys.sorted() where key.hasPrefix(prefix) {
            guard let binding = rbac.roleBindings[key], let subject = matchingSubject(binding, user: user, bindingNamespace: namespace) else {
                continue
            }
            let ref = binding["roleRef"] ?? .emptyObject
            guard let kind = ref["kind"]?.stringValue, let roleName = ref["name"]?.stringValue else { continue }
            let role: JSON?
            switch kind {
            case "Role": role = rbac.roles[StoreState.objectKey(namespace, roleName)]
            case "ClusterRole": role = rbac.clusterRoles[StoreState.objectKey("", roleName)]
            default: role = nil
            }
            guard let role else { continue }
            let name = binding[path: "metadata", "name"]?.stringValue ?? ""
            out.append(
                Grant(rules: rules(of: role), description: "RoleBinding \(quote("\(name)/\(namespace)")) of \(kind) \(quote(roleName)) to \(subject)")
            )
        }
        return out
    }

    static func rules(of role: JSON) -> [PolicyRule] { (role["rules"]?.arrayValue ?? []).map(PolicyRule.init) }

    /// The first subject of a binding naming the user (described as kube describes it), or nil.
    static func matchingSubject(_ binding: JSON, user: UserInfo, bindingNamespace: String) -> String? {
        for s in binding["subjects"]?.arrayValue ?? [] {
            guard let kind = s["kind"]?.stringValue, let name = s["name"]?.stringValue else { continue }
            switch kind {
            case "User" where name == user.name:
                return "User \(quote(name))"
            case "Group" where user.groups.contains(name):
                return "Group \(quote(name))"
            case "ServiceAccount":
                var ns = s["namespace"]?.stringValue ?? ""
                if ns.isEmpty { ns = bindingNamespace }
                guard !ns.isEmpty, user.name == "system:serviceaccount:\(ns):\(name)" else { continue }
                return "ServiceAccount \(quote("\(name)/\(ns)"))"
            default:
                continue
            }
        }
        return nil
    }

    /// A Go `%q` of a plain string (names never need more than quote and backslash escapes).
    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The 403 kube-apiserver answers a denied request with (message, reason and details as it writes them).
    static func forbidden(_ user: UserInfo, _ a: AuthorizationAttributes) -> APIError {
        guard a.isResourceRequest else {
            return APIError(
                code: 403, reason: "Forbidden", message: "forbidden: User \(quote(user.name)) cannot \(a.verb) path \(quote(a.path))",
                details: .emptyObject)
        }
        let resource = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
        let scope = a.namespace.isEmpty ? "at the cluster scope" : "in the namespace \(quote(a.namespace))"
        let why = "User \(quote(user.name)) cannot \(a.verb) resource \(quote(resource)) in API group \(quote(a.apiGroup)) \(scope)"
        let qualified = a.apiGroup.isEmpty ? a.resource : "\(a.resource).\(a.apiGroup)"
        let message = a.name.isEmpty ? "\(qualified) is forbidden: \(why)" : "\(qualified) \(quote(a.name)) is forbidden: \(why)"
        return APIError(
            code: 403, reason: "Forbidden", message: message,
            details: APIError.resourceDetails(a.name.isEmpty ? nil : a.name, group: a.apiGroup, resource: a.resource))
    }
}
