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
        prune(&value, s, &path, &unknown, typeMetaAllowed: root)
    }

    private static func prune(
        _ value: inout JSON, _ s: StructuralSchema, _ path: inout SchemaPath, _ unknown: inout [String]?, typeMetaAllowed: Bool
    ) {
        switch value {
        case .object(var o):
            value = .null  // o is now the only reference: changes below do not copy it
            var drop: [String] = []
            var i = o.elements.startIndex
            while i < o.elements.endIndex {
                let key = o.keys[i]
                if typeMetaAllowed && (key == "apiVersion" || key == "kind") {
                    // Kept as sent (the generic code checks them).
                } else if typeMetaAllowed && key == "metadata" {
                    pruneMetadata(&o.values[i], &path, &unknown)
                } else if let ps = s.properties[key] {
                    if o.values[i].isNull && !ps.nullable && ps.defaultValue == nil {
                        drop.append(key)  // kube-apiserver prunes nulls of non-nullable fields without a default
                    } else {
                        path.push(key)
                        prune(&o.values[i], ps, &path, &unknown, typeMetaAllowed: ps.embeddedResource)
                        path.pop()
                    }
                } else if let ap = s.additionalProperties {
                    path.push(key)
                    prune(&o.values[i], ap, &path, &unknown, typeMetaAllowed: ap.embeddedResource)
                    path.pop()
                } else if !(s.preserveUnknownFields || s.additionalPropertiesAllowed) {
                    drop.append(key)
                    if unknown != nil { unknown?.append(path.child(key)) }
                }
                i += 1
            }
            for k in drop { o.removeValue(forKey: k) }
            value = .object(o)
        case .array(var a):
            guard let items = s.items else { return }
            value = .null
            for i in a.indices {
                path.push(index: i)
                prune(&a[i], items, &path, &unknown, typeMetaAllowed: items.embeddedResource)
                path.pop()
            }
            value = .array(a)
        default:
            return
        }
    }

    private static func pruneMetadata(_ meta: inout JSON, _ path: inout SchemaPath, _ unknown: inout [String]?) {
        guard case .object(let o) = meta, o.keys.contains(where: { !objectMetaFields.contains($0) }) else { return }
        var kept = o
        for k in o.keys where !objectMetaFields.contains(k) {
            kept.removeValue(forKey: k)
            if unknown != nil { unknown?.append(path.child("metadata." + k)) }
        }
        meta = .object(kept)
    }

    /// Applies `default`s of missing (or null, non-nullable) fields, in place; walks only
    /// subtrees that have a default somewhere.
    static func applyDefaults(_ value: inout JSON, _ s: StructuralSchema) {
        guard s.hasDefaults else { return }
        switch value {
        case .object(var o):
            value = .null
            for (name, ps) in s.properties where ps.hasDefaults {
                if let d = ps.defaultValue, o[name] == nil || (o[name]?.isNull == true && !ps.nullable) {
                    o[name] = d
                }
                if let idx = o.index(forKey: name) { applyDefaults(&o.values[idx], ps) }
            }
            if let ap = s.additionalProperties, ap.hasDefaults {
                for i in o.values.indices where s.properties[o.keys[i]] == nil { applyDefaults(&o.values[i], ap) }
            }
            value = .object(o)
        case .array(var a):
            guard let items = s.items, items.hasDefaults else { return }
            value = .null
            for i in a.indices { applyDefaults(&a[i], items) }
            value = .array(a)
        default:
            return
        }
    }
}
