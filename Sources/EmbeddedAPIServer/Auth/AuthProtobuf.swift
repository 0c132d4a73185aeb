import KubeCore

/// Protobuf fields of the kinds the auth commands send (`kubectl create serviceaccount|token|role|
/// rolebinding|clusterrole|clusterrolebinding`, `kubectl auth can-i|whoami`), decoded into their
/// JSON form; field numbers as in kube's generated.proto files.
enum AuthProtobuf {
    typealias P = KubeProtobuf

    /// Decodes top-level field `number` of a `kind` object (metadata, field 1, is decoded by the caller).
    static func field(kind: String, number: Int, value v: P.Value, into obj: inout JSON) throws {
        switch (kind, number) {
        case ("ServiceAccount", 2):
            if case .bytes(let b) = v { append(&obj, "secrets", try objectReference(b)) }
        case ("ServiceAccount", 3):
            if case .bytes(let b) = v { append(&obj, "imagePullSecrets", try strings(b, [1: "name"])) }
        case ("ServiceAccount", 4):
            if case .varint(let b) = v { obj["automountServiceAccountToken"] = .bool(b != 0) }
        case ("Role", 2), ("ClusterRole", 2):
            if case .bytes(let b) = v {
                append(
                    &obj, "rules", try strings(b, [:], lists: [1: "verbs", 2: "apiGroups", 3: "resources", 4: "resourceNames", 5: "nonResourceURLs"]))
            }
        case ("ClusterRole", 3):
            if case .bytes(let b) = v {
                var selectors: [JSON] = []
                for (n, s) in try P.fields(b) where n == 1 { if case .bytes(let sb) = s { selectors.append(try labelSelector(sb)) } }
                obj["aggregationRule"] = ["clusterRoleSelectors": .array(selectors)]
            }
        case ("RoleBinding", 2), ("ClusterRoleBinding", 2):
            if case .bytes(let b) = v { append(&obj, "subjects", try strings(b, [1: "kind", 2: "apiGroup", 3: "name", 4: "namespace"])) }
        case ("RoleBinding", 3), ("ClusterRoleBinding", 3):
            if case .bytes(let b) = v { obj["roleRef"] = try strings(b, [1: "apiGroup", 2: "kind", 3: "name"], keepEmpty: true) }
        case ("TokenRequest", 2):
            if case .bytes(let b) = v { obj["spec"] = try tokenRequestSpec(b) }
        case ("SelfSubjectAccessReview", 2):
            if case .bytes(let b) = v {
                var spec: JSON = .emptyObject
                for (n, f) in try P.fields(b) {
                    guard case .bytes(let fb) = f else { continue }
                    if n == 1 {
                        spec["resourceAttributes"] = try strings(
                            fb, [1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"])
                    }
                    if n == 2 { spec["nonResourceAttributes"] = try strings(fb, [1: "path", 2: "verb"]) }
                }
                obj["spec"] = spec
            }
        case ("SelfSubjectRulesReview", 2):
            if case .bytes(let b) = v { obj["spec"] = try strings(b, [1: "namespace"]) }
        default:
            break
        }
    }

    static func append(_ obj: inout JSON, _ key: String, _ item: JSON) {
        var list = obj[key]?.arrayValue ?? []
        list.append(item)
        obj[key] = .array(list)
    }

    /// A message of string fields (`names`) and repeated string fields (`lists`); empty strings are unset.
    static func strings(_ data: ArraySlice<UInt8>, _ names: [Int: String], lists: [Int: String] = [:], keepEmpty: Bool = false) throws -> JSON {
        var o: JSON = .emptyObject
        for (n, f) in try P.fields(data) {
            guard let s = P.string(f) else { continue }
            if let key = names[n], keepEmpty || !s.isEmpty { o[key] = .string(s) }
            if let key = lists[n] { append(&o, key, .string(s)) }
        }
        return o
    }

    static func objectReference(_ data: ArraySlice<UInt8>) throws -> JSON {
        try strings(data, [1: "kind", 2: "namespace", 3: "name", 4: "uid", 5: "apiVersion", 6: "resourceVersion", 7: "fieldPath"])
    }

    static func labelSelector(_ data: ArraySlice<UInt8>) throws -> JSON {
        var o: JSON = .emptyObject
        for (n, f) in try P.fields(data) {
            if n == 1, let (k, val) = try P.mapEntry(f) { o[path: "matchLabels", k] = .string(String(decoding: val, as: UTF8.self)) }
            if n == 2, case .bytes(let b) = f { append(&o, "matchExpressions", try strings(b, [1: "key", 2: "operator"], lists: [3: "values"])) }
        }
        return o
    }

    static func tokenRequestSpec(_ data: ArraySlice<UInt8>) throws -> JSON {
        var spec: JSON = .emptyObject
        for (n, f) in try P.fields(data) {
            switch (n, f) {
            case (1, _): if let s = P.string(f) { append(&spec, "audiences", .string(s)) }
            case (4, .varint(let seconds)): spec["expirationSeconds"] = .int(Int64(bitPattern: seconds))
            case (3, .bytes(let b)): spec["boundObjectRef"] = try strings(b, [1: "kind", 2: "apiVersion", 3: "name", 4: "uid"])
            default: break
            }
        }
        return spec
    }
}
