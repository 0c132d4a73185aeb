import Foundation
import KubeCore

/// Name, label and metadata validation, with kube-apiserver's messages.
enum Validation {
    static func subdomainErrors(_ name: String, field: String) -> [FieldError] {
        NameValidation.dns1123SubdomainErrors(name).map { FieldError(.invalid, field, .string(name), $0) }
    }

    static func labelErrors(_ name: String, field: String) -> [FieldError] {
        NameValidation.dns1123LabelErrors(name).map { FieldError(.invalid, field, .string(name), $0) }
    }

    /// Path-segment safety for names of every kind.
    static func pathSegmentErrors(_ name: String, field: String) -> [FieldError] {
        if name == "." || name == ".." { return [FieldError(.invalid, field, .string(name), "may not be '\(name)'")] }
        // Byte checks: `contains("/")` would resolve to Foundation's slow substring search.
        if name.utf8.contains(UInt8(ascii: "/")) { return [FieldError(.invalid, field, .string(name), "may not contain '/'")] }
        if name.utf8.contains(UInt8(ascii: "%")) { return [FieldError(.invalid, field, .string(name), "may not contain '%'")] }
        return []
    }

    /// The errors of a labels or annotations map: not an object, a key that is no qualified name
    /// (checked lowercased for annotations), a value that is no string, then what `check` finds in
    /// each string entry, in the map's order.
    static func stringMapErrors(
        _ map: JSON, field: String, values noun: String, lowercasingKeys: Bool = false, check: (String, String) -> [FieldError]
    ) -> [FieldError] {
        guard let o = map.objectValue else { return [FieldError(.invalid, field, map, "must be an object")] }
        var errors: [FieldError] = []
        for (k, v) in o {
            if !NameValidation.isQualifiedName(lowercasingKeys ? k.lowercased() : k) {
                errors.append(FieldError(.invalid, field, .string(k), NameValidation.qualifiedNameMessage))
            }
            guard let s = v.stringValue else {
                errors.append(FieldError(.invalid, field, v, "\(noun) values must be strings"))
                continue
            }
            errors += check(k, s)
        }
        return errors
    }

    /// Validates client-settable metadata: labels, annotations, finalizers.
    static func metadataErrors(_ metadata: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let labels = metadata["labels"], !labels.isNull {
            errors += stringMapErrors(labels, field: "metadata.labels", values: "label") { _, value in
                NameValidation.isLabelValue(value)
                    ? [] : [FieldError(.invalid, "metadata.labels", .string(value), NameValidation.labelValueMessage)]
            }
        }
        if let annotations = metadata["annotations"], !annotations.isNull {
            var total = 0
            errors += stringMapErrors(annotations, field: "metadata.annotations", values: "annotation", lowercasingKeys: true) { key, value in
                total += key.utf8.count + value.utf8.count
                return []
            }
            if total > 262_144 {
                errors.append(FieldError(.tooLong, "metadata.annotations", nil, "may not be more than 262144 bytes"))
            }
        }
        if let finalizers = metadata["finalizers"], !finalizers.isNull {
            if let list = finalizers.arrayValue {
                var seen = Set<String>()
                for (i, f) in list.enumerated() {
                    guard let s = f.stringValue else {
                        errors.append(FieldError(.invalid, "metadata.finalizers[\(i)]", f, "must be a string"))
                        continue
                    }
                    if !NameValidation.isQualifiedName(s) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.finalizers[\(i)]", .string(s),
                                NameValidation.qualifiedNameMessage
                            ))
                    }
                    seen.insert(s)
                }
                if seen.contains("orphan") && seen.contains("foregroundDeletion") {
                    errors.append(
                        FieldError(.invalid, "metadata.finalizers", finalizers, "finalizer orphan and foregroundDeletion cannot be both set"))
                }
            } else {
                errors.append(FieldError(.invalid, "metadata.finalizers", finalizers, "must be a list of strings"))
            }
        }
        if let g = metadata["generation"], let gi = g.intValue, gi < 0 {
            errors.append(FieldError(.invalid, "metadata.generation", g, "must be greater than or equal to 0"))
        }
        return errors
    }
}
