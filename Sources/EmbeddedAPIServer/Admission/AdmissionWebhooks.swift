import KubeCore

/// The admission operation of a write, as webhooks see it.
enum AdmissionOperation: String, Sendable {
    case create = "CREATE"
    case update = "UPDATE"
    case delete = "DELETE"
    case connect = "CONNECT"
}

/// What a webhook is matched against: the request's resource and operation, and (once known)
/// the objects and the namespace's labels.
struct AdmissionAttributes: Sendable {
    var info: ResourceInfo
    var subresource: String?
    var operation: AdmissionOperation
    var namespace: String
    var name: String
    var object: JSON?
    var oldObject: JSON?
    /// Labels of the request's namespace (nil for cluster-scoped resources).
    var namespaceLabels: JSON?
}

/// One webhook of a Validating- or MutatingWebhookConfiguration, with kube-apiserver's defaults.
struct AdmissionWebhook: Sendable {
    struct Rule: Sendable {
        var operations: [String]
        var apiGroups: [String]
        var apiVersions: [String]
        var resources: [String]
        var scope: String
    }

    var mutating: Bool
    var configuration: String
    var name: String
    var rules: [Rule]
    /// nil when the selector cannot be evaluated (the call then fails under the failure policy).
    var namespaceSelector: LabelSelector?
    var objectSelector: LabelSelector?
    var equivalentMatch: Bool
    var failOpen: Bool
    var timeoutSeconds: Int
    var sideEffectsSafeForDryRun: Bool
    var reviewVersions: [String]
    var clientConfig: JSON

    init(_ w: JSON, configuration: String, mutating: Bool) {
        self.mutating = mutating
        self.configuration = configuration
        name = w["name"]?.stringValue ?? ""
        rules = (w["rules"]?.arrayValue ?? []).map { r in
            func list(_ key: String) -> [String] { r[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            return Rule(
                operations: list("operations"), apiGroups: list("apiGroups"), apiVersions: list("apiVersions"),
                resources: list("resources"), scope: r["scope"]?.stringValue ?? "*")
        }
        namespaceSelector = Self.selector(w["namespaceSelector"])
        objectSelector = Self.selector(w["objectSelector"])
        equivalentMatch = (w["matchPolicy"]?.stringValue ?? "Equivalent") != "Exact"
        failOpen = w["failurePolicy"]?.stringValue == "Ignore"
        let timeout = w["timeoutSeconds"]?.intValue ?? 10
        timeoutSeconds = min(max(timeout, 1), 30)
        let sideEffects = w["sideEffects"]?.stringValue ?? "Unknown"
        sideEffectsSafeForDryRun = sideEffects == "None" || sideEffects == "NoneOnDryRun"
        reviewVersions = w["admissionReviewVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        clientConfig = w["clientConfig"] ?? .emptyObject
    }

    /// A metav1.LabelSelector (matchLabels and matchExpressions); null or `{}` selects everything.
    static func selector(_ s: JSON?) -> LabelSelector? {
        var out = LabelSelector()
        guard let s, !s.isNull else { return out }
        guard s.objectValue != nil else { return nil }
        for (k, v) in (s["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let value = v.stringValue else { return nil }
            out.requirements.append(.init(key: k, op: .eq, values: [value]))
        }
        for e in s["matchExpressions"]?.arrayValue ?? [] {
            guard let key = e["key"]?.stringValue else { return nil }
            let values = e["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch e["operator"]?.stringValue {
            case "In": out.requirements.append(.init(key: key, op: .in, values: values))
            case "NotIn": out.requirements.append(.init(key: key, op: .notIn, values: values))
            case "Exists": out.requirements.append(.init(key: key, op: .exists, values: []))
            case "DoesNotExist": out.requirements.append(.init(key: key, op: .notExists, values: []))
            default: return nil
            }
        }
        return out
    }

    /// Whether a rule covers the request: operation, group, one of `versions` (the request's
    /// version, plus the other served versions under matchPolicy Equivalent), resource with its
    /// subresource (`*`, `*/*`, `pods/*`, `*/status`) and scope.
    static func ruleMatches(_ rule: Rule, operation: AdmissionOperation, info: ResourceInfo, subresource: String?, versions: [String]) -> Bool {
        guard rule.operations.contains("*") || rule.operations.contains(operation.rawValue) else { return false }
        guard rule.apiGroups.contains("*") || rule.apiGroups.contains(info.group) else { return false }
        guard rule.apiVersions.contains("*") || versions.contains(where: rule.apiVersions.contains) else { return false }
        switch rule.scope {
        case "Cluster": if info.namespaced { return false }
        case "Namespaced": if !info.namespaced { return false }
        default: break
        }
        let sub = subresource ?? ""
        return rule.resources.contains { pattern in
            let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let res = parts[0]
            let patternSub = parts.count > 1 ? parts[1] : ""
            guard res == "*" || res == info.plural else { return false }
            if parts.count == 1 { return sub.isEmpty }
            return patternSub == "*" || patternSub == sub
        }
    }

    /// The rule part of matching (no objects needed). `servedVersions` are the versions this
    /// server serves of the request's group and resource.
    func rulesMatch(_ a: AdmissionAttributes, servedVersions: [String]) -> Bool {
        let versions = equivalentMatch ? [a.info.version] + servedVersions.filter { $0 != a.info.version } : [a.info.version]
        return rules.contains { Self.ruleMatches($0, operation: a.operation, info: a.info, subresource: a.subresource, versions: versions) }
    }

    /// The selector part of matching: nil when it cannot be evaluated.
    func selectorsMatch(_ a: AdmissionAttributes) -> Bool? {
        guard let namespaceSelector, let objectSelector else { return nil }
        if a.info.namespaced {
            if !namespaceSelector.matches(a.namespaceLabels?.objectValue == nil ? .emptyObject : a.namespaceLabels) { return false }
        } else if a.info.group.isEmpty && a.info.plural == "namespaces" && !namespaceSelector.isEmpty {
            // A Namespace is matched by its own labels; other cluster-scoped objects always match.
            let labels = (a.object ?? a.oldObject)?[path: "metadata", "labels"] ?? .emptyObject
            if !namespaceSelector.matches(labels) { return false }
        }
        if objectSelector.isEmpty { return true }
        let new = a.object.map { objectSelector.matches($0[path: "metadata", "labels"] ?? .emptyObject) } ?? false
        let old = a.oldObject.map { objectSelector.matches($0[path: "metadata", "labels"] ?? .emptyObject) } ?? false
        return new || old
    }
}

/// The registered webhooks, read from the stored configurations.
enum AdmissionWebhooks {
    static let validatingKey = "admissionregistration.k8s.io/validatingwebhookconfigurations"
    static let mutatingKey = "admissionregistration.k8s.io/mutatingwebhookconfigurations"

    /// Whether any webhook configuration is stored (the write fast path checks only this).
    static func anyRegistered(_ s: borrowing StoreState) -> Bool {
        !(s.collections[validatingKey]?.isEmpty ?? true) || !(s.collections[mutatingKey]?.isEmpty ?? true)
    }

    /// Webhook configurations themselves are never admitted by webhooks (as in kube-apiserver,
    /// so that a broken webhook cannot lock its own configuration).
    static func exempt(_ info: ResourceInfo) -> Bool { info.group == "admissionregistration.k8s.io" }

    /// The webhooks whose rules cover the request, mutating ones first, each kind ordered by
    /// configuration name and then by position, as kube-apiserver calls them.
    static func candidates(_ s: borrowing StoreState, _ a: AdmissionAttributes) -> [AdmissionWebhook] {
        guard !exempt(a.info) else { return [] }
        var out: [AdmissionWebhook] = []
        var served: [String]?
        for (key, mutating) in [(mutatingKey, true), (validatingKey, false)] {
            guard let configs = s.collections[key], !configs.isEmpty else { continue }
            for config in configs.values.sorted(by: { StoreState.names($0).name < StoreState.names($1).name }) {
                let configName = StoreState.names(config).name
                for w in config["webhooks"]?.arrayValue ?? [] {
                    let hook = AdmissionWebhook(w, configuration: configName, mutating: mutating)
                    if served == nil {
                        served = s.resources.values.filter { $0.group == a.info.group && $0.plural == a.info.plural }.map(\.version)
                    }
                    if hook.rulesMatch(a, servedVersions: served ?? []) { out.append(hook) }
                }
            }
        }
        return out
    }
}
