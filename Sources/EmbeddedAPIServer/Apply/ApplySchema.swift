import KubeCore

/// How server-side apply identifies the items of a list.
enum ListKind: Equatable, Sendable {
    /// Replaced as a whole, owned as one field.
    case atomic
    /// Scalars merged as a set, each owned by its value (`v:`).
    case set
    /// Objects merged by the named key fields, each owned by its key (`k:`).
    case map([String])
}

/// What server-side apply needs of a type while it walks an object: which keys are declared
/// struct fields (as opposed to map entries), list kinds and atomic maps.
///
/// Custom resources read their CRD's `openAPIV3Schema` JSON directly (see
/// ``StoreState/applySchema(_:)``); built-in kinds use ``BuiltinApplyTypes``, a small table of the
/// fields of the kinds this server serves until their OpenAPI schemas carry the list types.
enum ApplySchema: Sendable {
    /// No schema: maps granular with undeclared keys, lists atomic (kube's "deduced" type).
    case untyped
    /// A built-in kind's node, by the name of the field that holds it.
    case builtin(String)
    /// A node of a CRD's structural schema.
    case openAPI(JSON)
    /// The root of a custom resource: its schema plus the implicit `apiVersion`, `kind`, `metadata`.
    case customRoot(JSON)

    /// The schema of a map member, and whether it is a declared struct field.
    func child(_ key: String) -> (schema: ApplySchema, declared: Bool) {
        switch self {
        case .untyped: return (.untyped, false)
        case .builtin: return (.builtin(key), true)
        case .customRoot(let node):
            if key == "metadata" { return (.builtin("metadata"), true) }
            if key == "apiVersion" || key == "kind" { return (.untyped, true) }
            return Self.openAPIChild(node, key)
        case .openAPI(let node): return Self.openAPIChild(node, key)
        }
    }

    private static func openAPIChild(_ node: JSON, _ key: String) -> (schema: ApplySchema, declared: Bool) {
        if let p = node[path: "properties", key] { return (.openAPI(p), true) }
        if let ap = node["additionalProperties"], ap.objectValue != nil { return (.openAPI(ap), false) }
        return (.untyped, false)
    }

    /// The schema of a list's items.
    var item: ApplySchema {
        switch self {
        case .untyped, .customRoot: return .untyped
        case .builtin: return .builtin("")
        case .openAPI(let node): return node["items"].map(ApplySchema.openAPI) ?? .untyped
        }
    }

    /// How a list value at this node merges.
    func listKind(_ items: [JSON]) -> ListKind {
        switch self {
        case .untyped, .customRoot: return .atomic
        case .builtin(let name): return BuiltinApplyTypes.listKind(name, items)
        case .openAPI(let node):
            switch node["x-kubernetes-list-type"]?.stringValue {
            case "set": return .set
            case "map": return .map(node["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            default: return .atomic
            }
        }
    }

    /// An object value at this node is owned as a whole.
    var atomicMap: Bool {
        switch self {
        case .untyped, .customRoot: return false
        case .builtin(let name): return BuiltinApplyTypes.atomicMaps.contains(name)
        case .openAPI(let node):
            return node["x-kubernetes-map-type"]?.stringValue == "atomic"
        }
    }
}

/// Temporary list and map semantics of the built-in kinds' fields, by field name, until the
/// built-in OpenAPI schemas (with `x-kubernetes-list-type`/`-list-map-keys`) are read instead.
/// The merge keys are the strategic-merge ones (``Patch/mergeKey(field:elements:)``); ports are
/// keyed by port and protocol as kube's schemas do.
enum BuiltinApplyTypes {
    /// LabelSelector-like structs and maps that kube declares atomic.
    static let atomicMaps: Set<String> = ["selector", "nodeSelector", "namespaceSelector", "objectSelector", "podSelector", "labelSelector"]

    static func listKind(_ name: String, _ items: [JSON]) -> ListKind {
        if Patch.isPrimitiveMergeList(name) { return .set }
        guard let key = Patch.mergeKey(field: name, elements: items), items.allSatisfy({ $0.objectValue != nil }) else { return .atomic }
        if name == "ports" { return .map([key, "protocol"]) }
        return .map([key])
    }
}

extension StoreState {
    /// The apply schema of a resource: a custom resource's `openAPIV3Schema` (raw JSON of its CRD,
    /// read here rather than from a parsed structural schema so that it can be switched later), or
    /// the built-in table.
    func applySchema(_ info: ResourceInfo) -> ApplySchema {
        guard info.behavior == .custom else { return .builtin("") }
        let crd = collections["apiextensions.k8s.io/customresourcedefinitions"]?["\(info.plural).\(info.group)"]
        let version = crd?[path: "spec", "versions"]?.arrayValue?.first { $0["name"]?.stringValue == info.version }
        return .customRoot(version?[path: "schema", "openAPIV3Schema"] ?? .emptyObject)
    }
}
