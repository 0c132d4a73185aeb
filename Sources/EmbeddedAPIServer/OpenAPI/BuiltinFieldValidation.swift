import KubeCore

/// Unknown fields in objects of built-in kinds, handled as kube-apiserver's strict decoding does
/// (`fieldValidation`): Strict rejects the request with 400, Warn (the default) and Ignore drop
/// the fields, Warn with one `Warning` per field. kubectl relies on this: it finds
/// `fieldValidation` among the PATCH parameters of our OpenAPI v3 documents and then leaves
/// validation to the server. Custom resources are pruned against their CRD schema elsewhere.
enum BuiltinFieldValidation {
    /// The paths of the fields of `value` the schema does not declare (`spec.bogus`,
    /// `spec.template.spec.containers[0].bogus`), in document order.
    static func unknownFields(_ value: JSON, _ node: OpenAPISchemaNode, path: String = "", into out: inout [String]) {
        switch value {
        case .object(let o):
            if node.closesFields, let props = node.properties {
                for (k, v) in o {
                    let p = path.isEmpty ? k : "\(path).\(k)"
                    if let s = props[k] {
                        unknownFields(v, OpenAPISchemaNode(s, node.definitions), path: p, into: &out)
                    } else {
                        out.append(p)
                    }
                }
            } else if let values = node.additionalProperties {
                for (k, v) in o { unknownFields(v, values, path: path.isEmpty ? k : "\(path).\(k)", into: &out) }
            }
        case .array(let a):
            guard let items = node.items else { return }
            for (i, v) in a.enumerated() { unknownFields(v, items, path: "\(path)[\(i)]", into: &out) }
        default:
            break
        }
    }

    /// `value` without the fields the schema does not declare.
    static func pruned(_ value: JSON, _ node: OpenAPISchemaNode) -> JSON {
        switch value {
        case .object(let o):
            var out = JSONObject()
            if node.closesFields, let props = node.properties {
                for (k, v) in o {
                    guard let s = props[k] else { continue }
                    out[k] = pruned(v, OpenAPISchemaNode(s, node.definitions))
                }
            } else if let values = node.additionalProperties {
                for (k, v) in o { out[k] = pruned(v, values) }
            } else {
                return value
            }
            return .object(out)
        case .array(let a):
            guard let items = node.items else { return value }
            return .array(a.map { pruned($0, items) })
        default:
            return value
        }
    }

    /// Applies the request's `fieldValidation` to an incoming object of a built-in kind (no-op for
    /// custom resources and for objects without unknown fields).
    static func apply(_ object: inout JSON, _ req: ResourceRequest) throws(APIError) {
        let info = req.info
        guard info.behavior != .custom,
            let node = OpenAPIDefinitions.builtin.schema(group: info.group, version: info.version, kind: info.kind)
        else { return }
        var unknown: [String] = []
        unknownFields(object, node, into: &unknown)
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
        object = pruned(object, node)
    }
}
