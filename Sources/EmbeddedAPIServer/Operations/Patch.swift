import Foundation
import KubeCore

/// Patch algorithms: JSON patch, merge patch and strategic merge patch.
enum Patch {
    struct JSONPatchError: Error { var message: String }

    /// RFC 6902 JSON patch. Throws `JSONPatchError` for any failure while applying.
    static func jsonPatch(_ target: JSON, _ operations: [JSON]) throws -> JSON {
        var doc = target
        for op in operations {
            guard let name = op["op"]?.stringValue else { throw JSONPatchError(message: "missing op") }
            guard let pathText = op["path"]?.stringValue else { throw JSONPatchError(message: "missing path") }
            let path = try pointer(pathText)
            switch name {
            case "add":
                guard let value = op["value"] else { throw JSONPatchError(message: "missing value") }
                doc = try add(doc, path[...], value)
            case "remove":
                doc = try remove(doc, path[...]).0
            case "replace":
                guard let value = op["value"] else { throw JSONPatchError(message: "missing value") }
                _ = try get(doc, path[...])
                doc = try remove(doc, path[...]).0
                doc = try add(doc, path[...], value)
            case "move":
                guard let fromText = op["from"]?.stringValue else { throw JSONPatchError(message: "missing from") }
                let from = try pointer(fromText)
                let (d, v) = try remove(doc, from[...])
                doc = try add(d, path[...], v)
            case "copy":
                guard let fromText = op["from"]?.stringValue else { throw JSONPatchError(message: "missing from") }
                let v = try get(doc, try pointer(fromText)[...])
                doc = try add(doc, path[...], v)
            case "test":
                guard let value = op["value"] else { throw JSONPatchError(message: "missing value") }
                guard try get(doc, path[...]) == value else { throw JSONPatchError(message: "test failed") }
            default:
                throw JSONPatchError(message: "unknown op \(name)")
            }
        }
        return doc
    }

    static func pointer(_ text: String) throws -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw JSONPatchError(message: "invalid pointer \(text)") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSON, _ path: ArraySlice<String>) throws -> JSON {
        guard let key = path.first else { return doc }
        switch doc {
        case .object(let o):
            guard let child = o[key] else { throw JSONPatchError(message: "missing key \(key)") }
            return try get(child, path.dropFirst())
        case .array(let a):
            guard let i = Int(key), a.indices.contains(i) else { throw JSONPatchError(message: "bad index \(key)") }
            return try get(a[i], path.dropFirst())
        default:
            throw JSONPatchError(message: "path through a scalar")
        }
    }

    static func add(_ doc: JSON, _ path: ArraySlice<String>, _ value: JSON) throws -> JSON {
        guard let key = path.first else { return value }
        let last = path.count == 1
        switch doc {
        case .object(var o):
            if last {
                o[key] = value
                return .object(o)
            }
            guard let child = o[key] else { throw JSONPatchError(message: "missing key \(key)") }
            o[key] = try add(child, path.dropFirst(), value)
            return .object(o)
        case .array(var a):
            if last {
                if key == "-" {
                    a.append(value)
                    return .array(a)
                }
                guard let i = Int(key), i >= 0, i <= a.count else { throw JSONPatchError(message: "bad index \(key)") }
                a.insert(value, at: i)
                return .array(a)
            }
            guard let i = Int(key), a.indices.contains(i) else { throw JSONPatchError(message: "bad index \(key)") }
            a[i] = try add(a[i], path.dropFirst(), value)
            return .array(a)
        default:
            throw JSONPatchError(message: "path through a scalar")
        }
    }

    static func remove(_ doc: JSON, _ path: ArraySlice<String>) throws -> (JSON, JSON) {
        guard let key = path.first else { throw JSONPatchError(message: "cannot remove the root") }
        let last = path.count == 1
        switch doc {
        case .object(var o):
            guard let child = o[key] else { throw JSONPatchError(message: "missing key \(key)") }
            if last {
                o.removeValue(forKey: key)
                return (.object(o), child)
            }
            let (c, v) = try remove(child, path.dropFirst())
            o[key] = c
            return (.object(o), v)
        case .array(var a):
            guard let i = Int(key), a.indices.contains(i) else { throw JSONPatchError(message: "bad index \(key)") }
            if last {
                let v = a.remove(at: i)
                return (.array(a), v)
            }
            let (c, v) = try remove(a[i], path.dropFirst())
            a[i] = c
            return (.array(a), v)
        default:
            throw JSONPatchError(message: "path through a scalar")
        }
    }

    // MARK: Strategic merge patch

    struct SMPError: Error { var message: String }

    /// Kubernetes strategic merge patch, following the schema of the object's kind (see
    /// ``OpenAPIDefinitions/objectSchema(group:version:kind:)``): a list whose property has patch
    /// strategy `merge` merges by its patch merge key (primitives as a set), any other list is
    /// replaced; maps merge key by key. `schema` is nil where the kind's schema says nothing (a
    /// free-form object), so lists there are replaced.
    static func strategicMerge(_ target: JSON, _ patch: JSON, schema: OpenAPISchemaNode?) throws -> JSON {
        guard case .object(let p) = patch else { return patch }
        if let directive = p["$patch"]?.stringValue {
            switch directive {
            case "replace":
                var copy = p
                copy.removeValue(forKey: "$patch")
                return stripDirectives(.object(copy))
            case "delete": return .null
            case "merge": break
            default: throw SMPError(message: "unknown patch type \(directive)")
            }
        }
        var result: JSONObject = target.objectValue ?? [:]
        if let retain = p["$retainKeys"]?.arrayValue {
            let keep = Set(retain.compactMap(\.stringValue))
            for k in Array(result.keys) where !keep.contains(k) { result.removeValue(forKey: k) }
        }
        for (k, v) in p {
            if k == "$patch" || k == "$retainKeys" || k.hasPrefix("$setElementOrder/") { continue }
            if k.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(k.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = v.arrayValue ?? []
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if v.isNull {
                result.removeValue(forKey: k)
                continue
            }
            let existing = result[k] ?? .null
            switch v {
            case .object:
                let merged = try strategicMerge(existing, v, schema: schema.flatMap { member($0, k) })
                if merged.isNull { result.removeValue(forKey: k) } else { result[k] = merged }
            case .array(let items):
                result[k] = try mergeList(existing: existing.arrayValue, patch: items, schema: schema.flatMap { member($0, k) })
            default:
                result[k] = v
            }
        }
        return .object(result)
    }

    /// The schema of a member of an object: a declared property or a map value.
    private static func member(_ schema: OpenAPISchemaNode, _ key: String) -> OpenAPISchemaNode? {
        schema.property(key) ?? schema.additionalProperties
    }

    /// A patch list applied to a live list, by the list's schema (see ``strategicMerge(_:_:schema:)``).
    static func mergeList(existing: [JSON]?, patch: [JSON], schema: OpenAPISchemaNode?) throws -> JSON {
        // `$patch: replace` inside a list replaces the whole list.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"] == nil }.map(stripDirectives))
        }
        guard let schema, schema.hasPatchStrategy("merge") else { return .array(patch.map(stripDirectives)) }
        guard let key = schema.patchMergeKey else {
            var out = existing ?? []
            for item in patch where !out.contains(item) { out.append(item) }
            return .array(out)
        }
        guard patch.allSatisfy({ $0.objectValue != nil }) else { return .array(patch.map(stripDirectives)) }
        let itemSchema = schema.items
        var out = existing ?? []
        for item in patch {
            let keyValue = item[key]
            let index = out.firstIndex { $0[key] == keyValue && keyValue != nil }
            if item["$patch"]?.stringValue == "delete" {
                if let index { out.remove(at: index) }
                continue
            }
            if let index {
                out[index] = try strategicMerge(out[index], item, schema: itemSchema)
            } else {
                out.append(stripDirectives(item))
            }
        }
        return .array(out)
    }

    static func stripDirectives(_ value: JSON) -> JSON {
        switch value {
        case .object(let o):
            var r = JSONObject()
            for (k, v) in o where !k.hasPrefix("$") { r[k] = stripDirectives(v) }
            return .object(r)
        case .array(let a): return .array(a.map(stripDirectives))
        default: return value
        }
    }
}
