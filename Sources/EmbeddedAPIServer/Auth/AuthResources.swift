import KubeCore

/// The served RBAC and review resources, and kube's bootstrap policy (the cluster-admin role for
/// `system:masters` and the discovery roles every authenticated user holds).
enum AuthResources {
    static let rbacGroup = RBACSnapshot.group

    static var all: [ResourceInfo] {
        let age = BuiltinResources.age
        func review(_ group: String, _ plural: String, _ kind: String) -> ResourceInfo {
            ResourceInfo(
                group: group, version: "v1", plural: plural, singular: kind.lowercased(), kind: kind, listKind: "\(kind)List", namespaced: false,
                behavior: .authReview, createOnly: true)
        }
        return [
            ResourceInfo(
                group: rbacGroup, version: "v1", plural: "roles", singular: "role", kind: "Role", listKind: "RoleList", namespaced: true,
                behavior: .rbacRole, printerColumns: [column("Created At", ".metadata.creationTimestamp")]),
            ResourceInfo(
                group: rbacGroup, version: "v1", plural: "clusterroles", singular: "clusterrole", kind: "ClusterRole",
                listKind: "ClusterRoleList", namespaced: false, behavior: .rbacRole,
                printerColumns: [column("Created At", ".metadata.creationTimestamp")]),
            ResourceInfo(
                group: rbacGroup, version: "v1", plural: "rolebindings", singular: "rolebinding", kind: "RoleBinding",
                listKind: "RoleBindingList", namespaced: true, behavior: .rbacBinding,
                printerColumns: [BuiltinResources.column("Role", "string", ".roleRef.name"), age]),
            ResourceInfo(
                group: rbacGroup, version: "v1", plural: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding",
                listKind: "ClusterRoleBindingList", namespaced: false, behavior: .rbacBinding,
                printerColumns: [BuiltinResources.column("Role", "string", ".roleRef.name"), age]),
            review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
            review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
        ]
    }

    /// The review resources' plurals (answered by the auth routes, never stored).
    static let reviewPlurals: Set<String> = ["selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"]

    static func column(_ name: String, _ path: String) -> PrinterColumn { BuiltinResources.column(name, "date", path) }

    /// The TokenRequest kind, for decoding `serviceaccounts/NAME/token` bodies.
    static let tokenRequest = ResourceInfo(
        group: "authentication.k8s.io", version: "v1", plural: "tokenrequests", singular: "", kind: "TokenRequest", listKind: "",
        namespaced: true, behavior: .authReview, createOnly: true)

    /// Discovery entries of subresources served by the auth routes (`serviceaccounts/token`).
    static func subresourceEntries(_ r: ResourceInfo) -> [JSON] {
        guard r.group.isEmpty && r.plural == "serviceaccounts" else { return [] }
        return [
            [
                "name": "serviceaccounts/token", "singularName": "", "namespaced": true, "group": "authentication.k8s.io", "version": "v1",
                "kind": "TokenRequest", "verbs": ["create"],
            ]
        ]
    }

    /// kube-apiserver's bootstrap ClusterRoles and ClusterRoleBindings (recreated at start when missing).
    static var bootstrapPolicy: [(ResourceInfo, JSON)] {
        let meta: (String) -> JSON = { name in
            [
                "name": .string(name), "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"],
                "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"],
            ]
        }
        func role(_ name: String, _ rules: [PolicyRule]) -> JSON {
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(name), "rules": .array(rules.map(\.json))]
        }
        func binding(_ name: String, _ groups: [String]) -> JSON {
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(name),
                "roleRef": ["apiGroup": .string(rbacGroup), "kind": "ClusterRole", "name": .string(name)],
                "subjects": .array(groups.map { ["apiGroup": .string(rbacGroup), "kind": "Group", "name": .string($0)] }),
            ]
        }
        let infos = all
        guard let roles = infos.first(where: { $0.plural == "clusterroles" }),
            let bindings = infos.first(where: { $0.plural == "clusterrolebindings" })
        else { return [] }
        let publicInfo = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
        return [
            (
                roles,
                role(
                    "cluster-admin", [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])])
            ),
            (
                roles,
                role(
                    "system:discovery",
                    [PolicyRule(verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"] + publicInfo)])
            ),
            (
                roles,
                role(
                    "system:basic-user",
                    [
                        PolicyRule(
                            verbs: ["create"], apiGroups: ["authorization.k8s.io"],
                            resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                        PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
                    ])
            ),
            (roles, role("system:public-info-viewer", [PolicyRule(verbs: ["get"], nonResourceURLs: publicInfo)])),
            (bindings, binding("cluster-admin", ["system:masters"])),
            (bindings, binding("system:discovery", ["system:authenticated"])),
            (bindings, binding("system:basic-user", ["system:authenticated"])),
            (bindings, binding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"])),
        ]
    }

    /// Creates the bootstrap policy objects that are missing (as kube-apiserver does at start).
    static func ensureBootstrapPolicy(_ state: inout StoreState) {
        for (info, object) in bootstrapPolicy {
            guard let name = object[path: "metadata", "name"]?.stringValue, state.object(info, "", name) == nil else { continue }
            let req = ResourceRequest(info: info, namespace: "", name: nil, subresource: nil, query: [:], dryRun: false)
            _ = try? state.create(req, body: object)
        }
    }
}
