import KubeCore

/// Roles and ClusterRoles: kube's policy-rule validation. A ClusterRole's `aggregationRule` is
/// stored as sent; its rules are not aggregated (see docs/local.md).
struct RBACRoleStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
    func nameErrors(_ name: String, field: String) -> [FieldError] { Validation.pathSegmentErrors(name, field: field) }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.validate(object, info: info, name: name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.validate(object, info: info, name: name)
    }

    static func validate(_ object: JSON, info: ResourceInfo, name: String) throws(APIError) {
        var errors: [FieldError] = []
        for (i, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
            errors += ruleErrors(PolicyRule(rule), namespaced: info.namespaced, field: "rules[\(i)]")
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }

    static func ruleErrors(_ rule: PolicyRule, namespaced: Bool, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        if rule.verbs.isEmpty { errors.append(FieldError(.required, "\(field).verbs", nil, "verbs must contain at least one value")) }
        if !rule.nonResourceURLs.isEmpty {
            let urls = FieldBadValue.verbatim("[]string{" + rule.nonResourceURLs.map(RBACAuthorizer.quote).joined(separator: ", ") + "}")
            if namespaced {
                errors.append(
                    FieldError(
                        type: .invalid, field: "\(field).nonResourceURLs", badValue: urls,
                        detail: "namespaced rules cannot apply to non-resource URLs"))
            }
            if !rule.apiGroups.isEmpty || !rule.resources.isEmpty || !rule.resourceNames.isEmpty {
                errors.append(
                    FieldError(
                        type: .invalid, field: "\(field).nonResourceURLs", badValue: urls,
                        detail: "rules cannot apply to both regular resources and non-resource URLs"))
            }
            return errors
        }
        if rule.apiGroups.isEmpty {
            errors.append(FieldError(.required, "\(field).apiGroups", nil, "resource rules must supply at least one api group"))
        }
        if rule.resources.isEmpty {
            errors.append(FieldError(.required, "\(field).resources", nil, "resource rules must supply at least one resource"))
        }
        return errors
    }
}

/// RoleBindings and ClusterRoleBindings: kube's roleRef and subject validation; `roleRef` cannot change.
struct RBACBindingStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
    func nameErrors(_ name: String, field: String) -> [FieldError] { Validation.pathSegmentErrors(name, field: field) }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        let errors = Self.errors(object, info: info)
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        var errors: [FieldError] = []
        if let oldRef = old["roleRef"], object["roleRef"] != oldRef {
            errors.append(FieldError(type: .invalid, field: "roleRef", badValue: Self.goRoleRef(object["roleRef"]), detail: "cannot change roleRef"))
        }
        errors += Self.errors(object, info: info)
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }

    /// A roleRef as Go's `%#v` prints it in kube's message.
    static func goRoleRef(_ ref: JSON?) -> FieldBadValue {
        let r = ref ?? .emptyObject
        func q(_ k: String) -> String { RBACAuthorizer.quote(r[k]?.stringValue ?? "") }
        return .verbatim("rbac.RoleRef{APIGroup:\(q("apiGroup")), Kind:\(q("kind")), Name:\(q("name"))}")
    }

    static func errors(_ object: JSON, info: ResourceInfo) -> [FieldError] {
        var errors: [FieldError] = []
        let ref = object["roleRef"] ?? .emptyObject
        let group = ref["apiGroup"]?.stringValue ?? ""
        if group != RBACSnapshot.group {
            errors.append(FieldError.notSupported("roleRef.apiGroup", .string(group), [RBACSnapshot.group]))
        }
        let kinds = info.namespaced ? ["ClusterRole", "Role"] : ["ClusterRole"]
        let kind = ref["kind"]?.stringValue ?? ""
        if !kinds.contains(kind) { errors.append(FieldError.notSupported("roleRef.kind", .string(kind), kinds)) }
        let refName = ref["name"]?.stringValue ?? ""
        if refName.isEmpty {
            errors.append(FieldError(.required, "roleRef.name", nil, ""))
        } else {
            errors += Validation.pathSegmentErrors(refName, field: "roleRef.name")
        }
        for (i, s) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            let f = "subjects[\(i)]"
            let name = s["name"]?.stringValue ?? ""
            if name.isEmpty { errors.append(FieldError(.required, "\(f).name", nil, "")) }
            let apiGroup = s["apiGroup"]?.stringValue ?? ""
            switch s["kind"]?.stringValue ?? "" {
            case "ServiceAccount":
                if !name.isEmpty { errors += Validation.subdomainErrors(name, field: "\(f).name") }
                if !apiGroup.isEmpty { errors.append(FieldError.notSupported(FieldPath("\(f).apiGroup"), .string(apiGroup), [""])) }
                if !info.namespaced && (s["namespace"]?.stringValue ?? "").isEmpty {
                    errors.append(FieldError(.required, "\(f).namespace", nil, ""))
                }
            case "User", "Group":
                if apiGroup != RBACSnapshot.group {
                    errors.append(FieldError.notSupported(FieldPath("\(f).apiGroup"), .string(apiGroup), [RBACSnapshot.group]))
                }
            case let other:
                errors.append(FieldError.notSupported(FieldPath("\(f).kind"), .string(other), ["ServiceAccount", "User", "Group"]))
            }
        }
        return errors
    }
}

/// ServiceAccounts: generic rules; bodies may be protobuf (`kubectl create serviceaccount`). Tokens
/// of a deleted ServiceAccount stop working because every token check looks the account up.
struct ServiceAccountStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
}

/// The create-only review and token resources (SelfSubjectAccessReview and kin): never stored;
/// answered in the auth routes, listed in discovery with the `create` verb.
struct AuthReviewStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
}
