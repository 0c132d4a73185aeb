import KubeCore

/// Pruning of unknown fields by an OpenAPI v3 schema given as JSON (the published schemas of
/// built-in kinds, with `$ref`s into `components.schemas`), for `fieldValidation` on built-in
/// kinds: `prune` drops what the schema does not name and returns the dropped paths
/// (`spec.bogus`, `spec.containers[0].bogus`), which the caller turns into a 400
/// (`strict decoding error: unknown field "spec.bogus"`) or `Warning`s as
/// ``StoreState/applySchema(_:_:name:)`` does for custom resources.
///
/// Kept: every field under a schema without `properties` (free-form objects, IntOrString,
/// RawExtension, Quantity, ...), under `x-kubernetes-preserve-unknown-fields`, and map values
/// under an `additionalProperties` schema are pruned by that schema. A `$ref` is followed,
/// also when wrapped in a one-element `allOf` as OpenAPI v3 documents write them.
/// See docs/local.md, "Custom resource schemas".
public struct OpenAPIPruner: Sendable {
    /// `components.schemas` of the document, by name.
    public let schemas: [String: JSON]

    /// A pruner over the schemas of an OpenAPI v3 document (`{"components": {"schemas": ...}}`)
    /// or of a bare `schemas` object.
    public init(document: JSON) {
        let table = document[path: "components", "schemas"]?.objectValue ?? document.objectValue ?? [:]
        var out: [String: JSON] = [:]
        for (k, v) in table { out[k] = v }
        schemas = out
    }

    /// Prunes `object` by the schema named `schemaName` (e.g. `io.k8s.api.apps.v1.Deployment`);
    /// returns the paths of the dropped fields in document order (empty when nothing was
    /// unknown or the schema is not known).
    public func prune(_ object: inout JSON, schemaName: String) -> [String] {
        guard let schema = schemas[schemaName] else { return [] }
        return prune(&object, schema: schema)
    }

    /// Prunes `object` by `schema` (which may `$ref` into ``schemas``); returns the dropped paths.
    public func prune(_ object: inout JSON, schema: JSON) -> [String] {
        var unknown: [String] = []
        var path = SchemaPath()
        walk(&object, schema, &path, &unknown, depth: 0)
        return unknown
    }

    /// The schema a `$ref` (maybe inside a one-element `allOf`) points to, or the schema itself.
    public func resolve(_ schema: JSON) -> JSON {
        var s = schema
        for _ in 0..<8 {
            if let ref = s["$ref"]?.stringValue, let name = ref.split(separator: "/").last, let target = schemas[String(name)] {
                s = target
            } else if let all = s["allOf"]?.arrayValue, all.count == 1, let only = all.first {
                s = only
            } else {
                break
            }
        }
        return s
    }

    private func walk(_ value: inout JSON, _ rawSchema: JSON, _ path: inout SchemaPath, _ unknown: inout [String], depth: Int) {
        guard depth < 64 else { return }
        let s = resolve(rawSchema)
        if s["x-kubernetes-preserve-unknown-fields"]?.boolValue == true && s["properties"] == nil { return }
        switch value {
        case .object(var o):
            let props = s["properties"]?.objectValue
            let additional = s["additionalProperties"]
            if props == nil && additional?.objectValue == nil { return }  // free-form
            value = .null
            var drop: [String] = []
            for i in o.values.indices {
                let key = o.keys[i]
                if let ps = props?[key] {
                    path.push(key)
                    walk(&o.values[i], ps, &path, &unknown, depth: depth + 1)
                    path.pop()
                } else if let ap = additional, ap.objectValue != nil {
                    path.push(key)
                    walk(&o.values[i], ap, &path, &unknown, depth: depth + 1)
                    path.pop()
                } else if additional?.boolValue != true && s["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                    drop.append(key)
                    unknown.append(path.child(key))
                }
            }
            for k in drop { o.removeValue(forKey: k) }
            value = .object(o)
        case .array(var a):
            guard let items = s["items"], items.objectValue != nil else { return }
            value = .null
            for i in a.indices {
                path.push(index: i)
                walk(&a[i], items, &path, &unknown, depth: depth + 1)
                path.pop()
            }
            value = .array(a)
        default:
            return
        }
    }
}
