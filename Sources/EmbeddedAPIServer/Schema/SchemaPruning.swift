import KubeCore

/// Pruning and defaulting of a custom resource by its ``StructuralSchema``, in place: what the
/// schema does not name goes (except under `x-kubernetes-preserve-unknown-fields` or a map's
/// `additionalProperties`), `metadata` keeps the fields of ObjectMeta, a null in a field that is
/// not nullable goes (or becomes its default), and missing fields with a `default` get it.
enum SchemaPruning {
    /// The fields of ObjectMeta; others under `metadata` are dropped (at the root and in embedded resources).
    static let objectMetaFields: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
    ]

    /// Prunes `value` (a whole object when `root`); the paths of dropped fields go to `unknown`
    /// when it is non-nil (fieldValidation Warn/Strict).
    static func prune(_ value: inout JSON, _ s: StructuralSchema, unknown: inout [String]?, root: Bool = true) {
        var path = SchemaPath()
        if let changed = pruned(value, s, &path, &unknown, typeMetaAllowed: root) { value = changed }
    }

    /// The pruned value, or nil when nothing changes: the walk only reads, and only the
    /// containers on the way to a change are copied (the usual write has nothing to prune).
    private static func pruned(
        _ value: JSON, _ s: StructuralSchema, _ path: inout SchemaPath, _ unknown: inout [String]?, typeMetaAllowed: Bool
    ) -> JSON? {
        switch value {
        case .object(let o):
            var drop: [String] = []
            var replaced: [(String, JSON)] = []
            for (key, child) in o {
                if typeMetaAllowed && (key == "apiVersion" || key == "kind") {
                    // Kept as sent (the generic code checks them).
                } else if typeMetaAllowed && key == "metadata" {
                    path.push(key)
                    if let m = prunedMetadata(child, &path, &unknown) { replaced.append((key, m)) }
                    path.pop()
                } else if let ps = s.properties[key] {
                    if child.isNull && !ps.nullable && ps.defaultValue == nil {
                        drop.append(key)  // kube-apiserver prunes nulls of non-nullable fields without a default
                    } else {
                        path.push(key)
                        if let c = pruned(child, ps, &path, &unknown, typeMetaAllowed: ps.embeddedResource) { replaced.append((key, c)) }
                        path.pop()
                    }
                } else if let ap = s.additionalProperties {
                    path.push(key)
                    if let c = pruned(child, ap, &path, &unknown, typeMetaAllowed: ap.embeddedResource) { replaced.append((key, c)) }
                    path.pop()
                } else if !(s.preserveUnknownFields || s.additionalPropertiesAllowed) {
                    drop.append(key)
                    if unknown != nil { unknown?.append(path.child(key)) }
                }
            }
            if drop.isEmpty && replaced.isEmpty { return nil }
            var out = o
            for (k, v) in replaced { out[k] = v }
            for k in drop { out.removeValue(forKey: k) }
            return .object(out)
        case .array(let a):
            guard let items = s.items else { return nil }
            var out: [JSON]?
            for (i, child) in a.enumerated() {
                path.push(index: i)
                if let c = pruned(child, items, &path, &unknown, typeMetaAllowed: items.embeddedResource) {
                    if out == nil { out = a }
                    out?[i] = c
                }
                path.pop()
            }
            return out.map(JSON.array)
        default:
            return nil
        }
    }

    private static func prunedMetadata(_ meta: JSON, _ path: inout SchemaPath, _ unknown: inout [String]?) -> JSON? {
        guard case .object(let o) = meta, o.keys.contains(where: { !objectMetaFields.contains($0) }) else { return nil }
        var kept = o
        for k in o.keys where !objectMetaFields.contains(k) {
            kept.removeValue(forKey: k)
            if unknown != nil { unknown?.append(path.child(k)) }
        }
        return .object(kept)
    }

    /// Applies `default`s of missing (or null, non-nullable) fields; walks only subtrees that
    /// have a default somewhere and copies only what changes.
    static func applyDefaults(_ value: inout JSON, _ s: StructuralSchema) {
        if let changed = defaulted(value, s) { value = changed }
    }

    /// The defaulted value, or nil when nothing changes.
    static func defaulted(_ value: JSON, _ s: StructuralSchema) -> JSON? {
        guard s.hasDefaults else { return nil }
        switch value {
        case .object(let o):
            var out: JSONObject?
            for (name, ps) in s.properties where ps.hasDefaults {
                let current = o[name]
                var next = current
                var changed = false
                if let d = ps.defaultValue, current == nil || (current?.isNull == true && !ps.nullable) {
                    next = d
                    changed = true
                }
                if let n = next, let deeper = defaulted(n, ps) {
                    next = deeper
                    changed = true
                }
                if changed, let n = next {
                    if out == nil { out = o }
                    out?[name] = n
                }
            }
            if let ap = s.additionalProperties, ap.hasDefaults {
                for (k, v) in o where s.properties[k] == nil {
                    if let d = defaulted(v, ap) {
                        if out == nil { out = o }
                        out?[k] = d
                    }
                }
            }
            return out.map(JSON.object)
        case .array(let a):
            guard let items = s.items, items.hasDefaults else { return nil }
            var out: [JSON]?
            for (i, v) in a.enumerated() {
                if let d = defaulted(v, items) {
                    if out == nil { out = a }
                    out?[i] = d
                }
            }
            return out.map(JSON.array)
        default:
            return nil
        }
    }
}
