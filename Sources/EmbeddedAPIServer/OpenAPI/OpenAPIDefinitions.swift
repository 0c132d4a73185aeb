import Foundation
import KubeCore

/// OpenAPI v3 schemas by the names kube-apiserver gives them (`io.k8s.api.core.v1.Secret`), with
/// `$ref`s of the form `#/components/schemas/NAME`, and which schema describes which GVK.
///
/// The built-in catalogue (``builtin``) is parsed once from ``BuiltinDefinitionsSource``; the
/// documents served for CRDs extend a copy of it (see ``OpenAPIDocuments``). Other parts of the
/// server read schemas through ``schema(group:version:kind:)``, which resolves references lazily.
struct OpenAPIDefinitions: Sendable {
    /// Schema by full name.
    private(set) var schemas: [String: JSON] = [:]
    /// Schema by reference (`#/components/schemas/NAME`): resolving a `$ref` while walking a
    /// schema then takes no string slicing.
    private var referenced: [String: JSON] = [:]
    /// Full name by `group/version/Kind`.
    var names: [String: String] = [:]

    static let refPrefix = "#/components/schemas/"

    /// Short prefixes of the definition source and the packages they stand for.
    static let aliases: [String: String] = [
        "core": "io.k8s.api.core.v1", "apps": "io.k8s.api.apps.v1", "coord": "io.k8s.api.coordination.v1",
        "events": "io.k8s.api.events.v1", "admreg": "io.k8s.api.admissionregistration.v1",
        "apiext": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1", "meta": "io.k8s.apimachinery.pkg.apis.meta.v1",
        "intstr": "io.k8s.apimachinery.pkg.util.intstr", "resource": "io.k8s.apimachinery.pkg.api.resource",
        "rbac": "io.k8s.api.rbac.v1", "authz": "io.k8s.api.authorization.v1", "authn": "io.k8s.api.authentication.v1",
    ]

    /// The built-in kinds the server serves, their list kinds and the meta types.
    static let builtin: OpenAPIDefinitions = {
        var defs = OpenAPIDefinitions()
        defs.addScalars()
        defs.parse(BuiltinDefinitionsSource.text)
        for info in BuiltinResources.all { defs.addList(group: info.group, version: info.version, kind: info.kind, listKind: info.listKind) }
        return defs
    }()

    static func gvkKey(_ group: String, _ version: String, _ kind: String) -> String { "\(group)/\(version)/\(kind)" }

    static func fullName(_ short: String) -> String {
        guard let dot = short.firstIndex(of: "."), let prefix = aliases[String(short[..<dot])] else { return short }
        return prefix + short[dot...]
    }

    static func ref(_ name: String) -> JSON { ["$ref": .string(refPrefix + name)] }

    /// A property pointing at a named schema, as kube-apiserver writes it in v3 (`allOf` keeps the
    /// description next to the reference).
    static func refProperty(_ name: String, description: String) -> JSON {
        var p: JSONObject = ["allOf": [ref(name)]]
        if !description.isEmpty { p["description"] = .string(description) }
        return .object(p)
    }

    /// Adds a schema, registering its `x-kubernetes-group-version-kind`s.
    mutating func add(_ name: String, _ schema: JSON) {
        schemas[name] = schema
        referenced[Self.refPrefix + name] = schema
        for gvk in schema["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
            guard let v = gvk["version"]?.stringValue, let k = gvk["kind"]?.stringValue else { continue }
            names[Self.gvkKey(gvk["group"]?.stringValue ?? "", v, k)] = name
        }
    }

    static func gvkList(_ group: String, _ version: String, _ kind: String) -> JSON {
        [["group": .string(group), "kind": .string(kind), "version": .string(version)]]
    }

    /// The list kind of a kind (`SecretList`), unless the catalogue has it already.
    mutating func addList(group: String, version: String, kind: String, listKind: String) {
        guard let item = names[Self.gvkKey(group, version, kind)], names[Self.gvkKey(group, version, listKind)] == nil else { return }
        let prefix = item.dropLast(kind.count)
        let schema: JSON = [
            "description": .string("\(listKind) is a list of \(kind) objects."),
            "type": "object",
            "required": ["items"],
            "properties": [
                "apiVersion": ["type": "string", "description": .string(Self.apiVersionDescription)],
                "items": ["type": "array", "description": .string("List of \(kind) objects."), "items": Self.ref(item)],
                "kind": ["type": "string", "description": .string(Self.kindDescription)],
                "metadata": Self.refProperty(Self.fullName("meta.ListMeta"), description: "Standard list metadata."),
            ],
            "x-kubernetes-group-version-kind": Self.gvkList(group, version, listKind),
        ]
        add(prefix + listKind, schema)
    }

    static let apiVersionDescription = "APIVersion defines the versioned schema of this representation of an object."
    static let kindDescription = "Kind is a string value representing the REST resource this object represents."

    /// The types serialized as scalars (and the free-form ones) that the line format cannot express.
    mutating func addScalars() {
        let time = "A timestamp in RFC 3339 form, to the second (e.g. 2006-01-02T15:04:05Z)."
        add(Self.fullName("meta.Time"), ["description": .string(time), "type": "string", "format": "date-time"])
        add(
            Self.fullName("meta.MicroTime"),
            [
                "description": "A timestamp in RFC 3339 form with microseconds (e.g. 2006-01-02T15:04:05.000000Z).", "type": "string",
                "format": "date-time",
            ])
        add(
            Self.fullName("intstr.IntOrString"),
            [
                "description": "An integer or a string (e.g. a port number or name, a count or a percentage).",
                "oneOf": [["type": "integer"], ["type": "string"]], "format": "int-or-string",
            ])
        add(
            Self.fullName("resource.Quantity"),
            [
                "description": "A fixed-point number with an optional SI or binary suffix (e.g. 100m, 1Gi, 1.5).",
                "oneOf": [["type": "string"], ["type": "number"]],
            ])
        add(Self.fullName("meta.FieldsV1"), ["description": "A set of fields in the FieldsV1 trie format.", "type": "object"])
        add(
            Self.fullName("meta.Patch"),
            ["description": "The body of a PATCH request; its form depends on the Content-Type.", "type": "object"])
    }

    /// Parses the line format described at ``BuiltinDefinitionsSource``.
    mutating func parse(_ text: String) {
        var current: (name: String, schema: JSONObject, properties: JSONObject)?
        func flush(_ c: (name: String, schema: JSONObject, properties: JSONObject)?, into defs: inout OpenAPIDefinitions) {
            guard var c else { return }
            if !c.properties.isEmpty { c.schema["properties"] = .object(c.properties) }
            defs.add(c.name, .object(c.schema))
        }
        for rawLine in text.split(separator: "\n") {
            let indented = rawLine.hasPrefix("  ")
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "|", maxSplits: 1)
            let description = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            var tokens = parts[0].split(separator: " ").map(String.init)
            guard !tokens.isEmpty else { continue }
            let name = tokens.removeFirst()
            var options: [String: String] = [:]
            var type: String?
            for t in tokens {
                if let eq = t.firstIndex(of: "=") {
                    options[String(t[..<eq])] = String(t[t.index(after: eq)...])
                } else {
                    type = t
                }
            }
            if !indented {
                flush(current, into: &self)
                var schema: JSONObject = [:]
                if !description.isEmpty { schema["description"] = .string(description) }
                schema["type"] = "object"
                if let r = options["required"] { schema["required"] = .array(r.split(separator: ",").map { .string(String($0)) }) }
                if let m = options["maptype"] { schema["x-kubernetes-map-type"] = .string(m) }
                if let g = options["gvk"] {
                    let p = g.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                    if p.count == 3 { schema["x-kubernetes-group-version-kind"] = Self.gvkList(p[0], p[1], p[2]) }
                }
                current = (Self.fullName(name), schema, [:])
            } else if current != nil {
                var prop = Self.typeSchema(type ?? "string", description: description)
                if let k = options["merge"] { prop["x-kubernetes-patch-merge-key"] = .string(k) }
                if let s = options["strategy"] { prop["x-kubernetes-patch-strategy"] = .string(s) }
                if let l = options["list"] { prop["x-kubernetes-list-type"] = .string(l) }
                if let k = options["keys"] { prop["x-kubernetes-list-map-keys"] = .array(k.split(separator: ",").map { .string(String($0)) }) }
                if let m = options["maptype"] { prop["x-kubernetes-map-type"] = .string(m) }
                current?.properties[name] = prop
            }
        }
        flush(current, into: &self)
    }

    /// The schema of a type of the line format.
    static func typeSchema(_ type: String, description: String) -> JSON {
        var s: JSON
        if type.hasPrefix("[]") {
            s = ["type": "array", "items": typeSchema(String(type.dropFirst(2)), description: "")]
        } else if type.hasPrefix("{}") {
            s = ["type": "object", "additionalProperties": typeSchema(String(type.dropFirst(2)), description: "")]
        } else {
            switch type {
            case "string": s = ["type": "string"]
            case "int32": s = ["type": "integer", "format": "int32"]
            case "int64": s = ["type": "integer", "format": "int64"]
            case "double": s = ["type": "number", "format": "double"]
            case "boolean": s = ["type": "boolean"]
            case "byte": s = ["type": "string", "format": "byte"]
            case "object": s = ["type": "object"]
            case "any": s = .emptyObject
            default: return description.isEmpty ? ref(fullName(type)) : refProperty(fullName(type), description: description)
            }
        }
        if !description.isEmpty { s["description"] = .string(description) }
        return s
    }

    /// The schema of a kind, or nil for a kind without one.
    func schema(group: String, version: String, kind: String) -> OpenAPISchemaNode? {
        guard let name = names[Self.gvkKey(group, version, kind)], let s = schemas[name] else { return nil }
        return OpenAPISchemaNode(s, self)
    }

    /// The schema a `$ref` points at.
    func schema(reference: String) -> JSON? { referenced[reference] }

    /// The schema merges and server-side apply follow for objects of a kind: its definition, or for
    /// a kind served without one (see `additionalBuiltinResources`) an object of which only the
    /// standard fields are known, so its lists are atomic (see docs/local.md).
    func objectSchema(group: String, version: String, kind: String) -> OpenAPISchemaNode {
        schema(group: group, version: version, kind: kind) ?? OpenAPISchemaNode(Self.schemalessObject, self)
    }

    /// An object of which only `apiVersion`, `kind` and the standard metadata are known.
    static let schemalessObject: JSON = [
        "type": "object",
        "properties": [
            "apiVersion": ["type": "string"], "kind": ["type": "string"], "metadata": ref(fullName("meta.ObjectMeta")),
        ],
        "x-kubernetes-preserve-unknown-fields": true,
    ]

    /// The names of the given schemas and of every schema they reference, directly or not.
    func closure(of roots: [String]) -> Set<String> {
        var seen = Set<String>()
        var todo = roots
        while let name = todo.popLast() {
            guard !seen.contains(name), let s = schemas[name] else { continue }
            seen.insert(name)
            Self.collectRefs(s, into: &todo)
        }
        return seen
    }

    static func collectRefs(_ value: JSON, into out: inout [String]) {
        switch value {
        case .object(let o):
            if let r = o["$ref"]?.stringValue, r.hasPrefix(refPrefix) { out.append(String(r.dropFirst(refPrefix.count))) }
            for (_, v) in o { collectRefs(v, into: &out) }
        case .array(let a):
            for v in a { collectRefs(v, into: &out) }
        default:
            break
        }
    }
}

/// One node of an OpenAPI v3 schema, its `$ref` (also wrapped in a one-element `allOf`) resolved,
/// so callers walk properties, items and map values without caring about references. This is the
/// one reader of the list and map semantics of built-in kinds: strategic merge patch
/// (``Patch/strategicMerge(_:_:schema:)``), server-side apply (``ApplySchema``) and unknown fields
/// (``BuiltinFieldValidation``) all walk these nodes. Making or walking a node copies no schema.
struct OpenAPISchemaNode: Sendable {
    /// The node where it is used (a property, list items or map values); its keywords describe
    /// this use (e.g. a property's `x-kubernetes-patch-strategy` next to its reference).
    let use: JSON
    /// The type of the node: `use` with its reference resolved (`use` itself without one).
    let type: JSON
    let definitions: OpenAPIDefinitions

    init(_ schema: JSON, _ definitions: OpenAPIDefinitions) {
        self.definitions = definitions
        use = schema
        var resolved = schema
        var depth = 0
        while depth < 8, let target = Self.reference(resolved).flatMap(definitions.schema(reference:)) {
            resolved = target
            depth += 1
        }
        type = resolved
    }

    /// The `$ref` of a node (`#/components/schemas/NAME`), nil without one.
    static func reference(_ s: JSON) -> String? {
        if let r = s["$ref"]?.stringValue { return r }
        if let all = s["allOf"]?.arrayValue, all.count == 1 { return reference(all[0]) }
        return nil
    }

    /// The schema of a named property, or nil when the node declares none of that name.
    func property(_ name: String) -> OpenAPISchemaNode? {
        type["properties"]?[name].map { OpenAPISchemaNode($0, definitions) }
    }

    /// The declared properties by name (nil when the node declares none).
    var properties: JSONObject? { type["properties"]?.objectValue }

    /// The schema of list items.
    var items: OpenAPISchemaNode? { type["items"].flatMap { $0.objectValue != nil ? OpenAPISchemaNode($0, definitions) : nil } }

    /// The schema of map values.
    var additionalProperties: OpenAPISchemaNode? {
        type["additionalProperties"].flatMap { $0.objectValue != nil ? OpenAPISchemaNode($0, definitions) : nil }
    }

    /// A keyword of the node: where it is used first, then of its type (a property's own
    /// extensions win over its type's).
    func keyword(_ name: String) -> JSON? { use[name] ?? type[name] }

    /// Whether the node lists its fields, so that other fields are unknown.
    var closesFields: Bool {
        type["properties"]?.objectValue != nil && keyword("x-kubernetes-preserve-unknown-fields")?.boolValue != true
            && type["additionalProperties"] == nil
    }

    // MARK: list and map semantics

    /// `x-kubernetes-list-type`: `atomic`, `set` or `map` (nil when not given).
    var listType: String? { keyword("x-kubernetes-list-type")?.stringValue }

    /// `x-kubernetes-list-map-keys`: the fields identifying the items of a `map` list.
    var listMapKeys: [String] { keyword("x-kubernetes-list-map-keys")?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// `x-kubernetes-patch-merge-key`: the field strategic merge patch matches list items by.
    var patchMergeKey: String? { keyword("x-kubernetes-patch-merge-key")?.stringValue }

    /// Whether `x-kubernetes-patch-strategy` (e.g. `merge,retainKeys`) includes `strategy`.
    func hasPatchStrategy(_ strategy: String) -> Bool {
        guard let value = keyword("x-kubernetes-patch-strategy")?.stringValue else { return false }
        // The values combine at most a few short names; comparing them so allocates nothing.
        return value == strategy || value.hasPrefix(strategy + ",") || value.hasSuffix("," + strategy)
            || value.contains("," + strategy + ",")
    }

    /// Whether an object at this node is one value (`x-kubernetes-map-type: atomic`), not a map
    /// of separately owned fields.
    var isAtomicMap: Bool { keyword("x-kubernetes-map-type")?.stringValue == "atomic" }
}
