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
/// Both built-in kinds and custom resources are described by OpenAPI nodes: a built-in kind by its
/// definition in the built-in catalogue (``OpenAPIDefinitions/builtin``, the same one strategic
/// merge patch follows), a custom resource by its CRD's `openAPIV3Schema` (see
/// ``StoreState/applySchema(_:)``).
enum ApplySchema: Sendable {
    /// No schema: maps granular with undeclared keys, lists atomic (kube's "deduced" type).
    case untyped
    /// A node of an OpenAPI schema.
    case openAPI(OpenAPISchemaNode)
    /// The root of a custom resource: its schema plus the implicit `apiVersion`, `kind`, `metadata`.
    case customRoot(OpenAPISchemaNode)

    /// The standard object metadata, which the schema of a custom resource leaves out.
    static let objectMeta = ApplySchema.openAPI(
        OpenAPISchemaNode(OpenAPIDefinitions.ref(OpenAPIDefinitions.fullName("meta.ObjectMeta")), OpenAPIDefinitions.builtin))

    /// The schema of a map member, and whether it is a declared struct field.
    func child(_ key: String) -> (schema: ApplySchema, declared: Bool) {
        switch self {
        case .untyped: return (.untyped, false)
        case .customRoot(let node):
            if key == "metadata" { return (Self.objectMeta, true) }
            if key == "apiVersion" || key == "kind" { return (.untyped, true) }
            return Self.openAPIChild(node, key)
        case .openAPI(let node): return Self.openAPIChild(node, key)
        }
    }

    private static func openAPIChild(_ node: OpenAPISchemaNode, _ key: String) -> (schema: ApplySchema, declared: Bool) {
        if let p = node.property(key) { return (.openAPI(p), true) }
        if let values = node.additionalProperties { return (.openAPI(values), false) }
        return (.untyped, false)
    }

    /// The schema of a list's items.
    var item: ApplySchema {
        switch self {
        case .untyped, .customRoot: return .untyped
        case .openAPI(let node): return node.items.map(ApplySchema.openAPI) ?? .untyped
        }
    }

    /// How a list value at this node merges. Without `x-kubernetes-list-type` the patch strategy
    /// decides, as kube converts its built-in schemas: `merge` with a merge key is a map keyed by
    /// it, `merge` without one a set, anything else atomic.
    var listKind: ListKind {
        switch self {
        case .untyped, .customRoot: return .atomic
        case .openAPI(let node):
            switch node.listType {
            case "set": return .set
            case "map": return .map(node.listMapKeys)
            case nil:
                guard node.hasPatchStrategy("merge") else { return .atomic }
                return node.patchMergeKey.map { .map([$0]) } ?? .set
            default: return .atomic
            }
        }
    }

    /// An object value at this node is owned as a whole.
    var atomicMap: Bool {
        switch self {
        case .untyped, .customRoot: return false
        case .openAPI(let node): return node.isAtomicMap
        }
    }
}

extension StoreState {
    /// The apply schema of a resource: a custom resource's `openAPIV3Schema` (raw JSON of its CRD,
    /// read here rather than from a parsed structural schema so that it can be switched later), or
    /// the built-in kind's definition (see ``OpenAPIDefinitions/objectSchema(group:version:kind:)``
    /// for kinds served without one).
    func applySchema(_ info: ResourceInfo) -> ApplySchema {
        guard info.behavior == .custom else {
            return .openAPI(OpenAPIDefinitions.builtin.objectSchema(group: info.group, version: info.version, kind: info.kind))
        }
        let crd = collections["apiextensions.k8s.io/customresourcedefinitions"]?["\(info.plural).\(info.group)"]
        let version = crd?[path: "spec", "versions"]?.arrayValue?.first { $0["name"]?.stringValue == info.version }
        return .customRoot(OpenAPISchemaNode(version?[path: "schema", "openAPIV3Schema"] ?? .emptyObject, OpenAPIDefinitions.builtin))
    }
}
