import KubeCore

/// Unknown fields in objects of built-in kinds, handled as kube-apiserver's strict decoding does
/// (`fieldValidation`): Strict rejects the request with 400, Warn (the default) and Ignore drop
/// the fields, Warn with one `Warning` per field. kubectl relies on this: it finds
/// `fieldValidation` among the PATCH parameters of our OpenAPI v3 documents and then leaves
/// validation to the server. Custom resources are pruned against their CRD schema elsewhere.
enum BuiltinFieldValidation {
    /// The built-in catalogue as the walk reads it, resolved once (every write of a built-in kind
    /// walks its object; resolving references per node was most of a ConfigMap write's cost, see
    /// bench/results.md).
    static let builtin = FieldTree(OpenAPIDefinitions.builtin)

    /// The paths of the fields of `value` the schema does not declare (`spec.bogus`,
    /// `spec.template.spec.containers[0].bogus`), in document order.
    static func unknownFields(_ value: JSON, _ tree: FieldTree, _ node: Int) -> [String] {
        var out: [String] = []
        var path: [FieldTree.PathElement] = []
        tree.collectUnknown(value, node, &path, into: &out)
        return out
    }

    /// Applies the request's `fieldValidation` to an incoming object of a built-in kind (no-op for
    /// custom resources and for objects without unknown fields).
    static func apply(_ object: inout JSON, _ req: ResourceRequest) throws(APIError) {
        let info = req.info
        guard info.behavior != .custom, let root = builtin.root(group: info.group, version: info.version, kind: info.kind) else { return }
        let unknown = unknownFields(object, builtin, root)
        guard !unknown.isEmpty else { return }
        let messages = unknown.map { "unknown field \"\($0)\"" }
        switch req.query["fieldValidation"] ?? "" {
        case "Strict":
            throw APIError.badRequest(
                "\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): strict decoding error: "
                    + messages.joined(separator: ", "))
        case "Ignore":
            break
        default:
            for m in messages { req.warnings.add(m) }
        }
        object = builtin.pruned(object, root)
    }
}

/// What the unknown-field walk needs of an OpenAPI catalogue: per node its declared fields, map
/// values and list items, with every `$ref` resolved ahead (by ``OpenAPISchemaNode``'s rules).
/// Nodes live in one array and refer to each other by index, so recursive types (a CRD's
/// `JSONSchemaProps`) need no reference cycles.
struct FieldTree: Sendable {
    /// One schema node.
    struct Node: Sendable {
        /// The declared fields when the node closes its fields (others are unknown), by name.
        var fields: [String: Int]?
        /// The node of map values (`additionalProperties`), when the node does not close its fields.
        var values: Int?
        /// The node of list items.
        var items: Int?
    }

    /// A step of the path to a field, rendered only for unknown fields.
    enum PathElement {
        case key(String)
        case index(Int)
    }

    let nodes: [Node]
    /// Root node by `group/version/Kind`.
    let roots: [String: Int]

    init(_ definitions: OpenAPIDefinitions) {
        var builder = Builder(definitions: definitions)
        var roots: [String: Int] = [:]
        for (gvk, name) in definitions.names {
            if let schema = definitions.schemas[name] { roots[gvk] = builder.node(schema) }
        }
        nodes = builder.nodes
        self.roots = roots
    }

    /// Builds nodes once per distinct raw schema (a reference and the same inline schema share one).
    private struct Builder {
        let definitions: OpenAPIDefinitions
        var nodes: [Node] = []
        var index: [JSON: Int] = [:]

        mutating func node(_ raw: JSON) -> Int {
            if let i = index[raw] { return i }
            let i = nodes.count
            nodes.append(Node())
            index[raw] = i
            let resolved = OpenAPISchemaNode(raw, definitions)
            var n = Node()
            if resolved.closesFields, let props = resolved.properties {
                var fields: [String: Int] = [:]
                for (k, s) in props { fields[k] = node(s) }
                n.fields = fields
            } else if let values = resolved.type["additionalProperties"], values.objectValue != nil {
                n.values = node(values)
            }
            if let items = resolved.type["items"], items.objectValue != nil { n.items = node(items) }
            nodes[i] = n
            return i
        }
    }

    /// The root node of a kind, or nil for a kind without a schema.
    func root(group: String, version: String, kind: String) -> Int? { roots[OpenAPIDefinitions.gvkKey(group, version, kind)] }

    /// Appends the paths of undeclared fields under `value`, in document order.
    func collectUnknown(_ value: JSON, _ node: Int, _ path: inout [PathElement], into out: inout [String]) {
        let n = nodes[node]
        switch value {
        case .object(let o):
            if let fields = n.fields {
                for (k, v) in o {
                    path.append(.key(k))
                    if let child = fields[k] {
                        collectUnknown(v, child, &path, into: &out)
                    } else {
                        out.append(Self.render(path))
                    }
                    path.removeLast()
                }
            } else if let values = n.values {
                for (k, v) in o {
                    path.append(.key(k))
                    collectUnknown(v, values, &path, into: &out)
                    path.removeLast()
                }
            }
        case .array(let a):
            guard let items = n.items else { return }
            for (i, v) in a.enumerated() {
                path.append(.index(i))
                collectUnknown(v, items, &path, into: &out)
                path.removeLast()
            }
        default:
            break
        }
    }

    /// `spec.template.spec.containers[0].bogus`.
    static func render(_ path: [PathElement]) -> String {
        var s = ""
        for e in path {
            switch e {
            case .key(let k): s = s.isEmpty ? k : s + "." + k
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    /// `value` without the fields the schema does not declare.
    func pruned(_ value: JSON, _ node: Int) -> JSON {
        let n = nodes[node]
        switch value {
        case .object(let o):
            var out = JSONObject()
            if let fields = n.fields {
                for (k, v) in o {
                    guard let child = fields[k] else { continue }
                    out[k] = pruned(v, child)
                }
            } else if let values = n.values {
                for (k, v) in o { out[k] = pruned(v, values) }
            } else {
                return value
            }
            return .object(out)
        case .array(let a):
            guard let items = n.items else { return value }
            return .array(a.map { pruned($0, items) })
        default:
            return value
        }
    }
}
