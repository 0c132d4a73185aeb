import Foundation
import KubeCore

/// Name, label and metadata validation, with kube-apiserver's messages.
enum Validation {
    static let dns1123SubdomainRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    static let dns1123LabelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"

    static func isAlnumLower(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
    static func isAlnum(_ c: UInt8) -> Bool { isAlnumLower(c) || (c >= 65 && c <= 90) }

    static func isDNS1123Label(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= 63, isAlnumLower(b[0]), isAlnumLower(b[b.count - 1]) else { return false }
        return b.allSatisfy { isAlnumLower($0) || $0 == 45 }
    }

    static func isDNS1123SubdomainSyntax(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        for part in s.split(separator: ".", omittingEmptySubsequences: false) {
            let b = Array(part.utf8)
            guard !b.isEmpty, isAlnumLower(b[0]), isAlnumLower(b[b.count - 1]), b.allSatisfy({ isAlnumLower($0) || $0 == 45 }) else { return false }
        }
        return true
    }

    static func subdomainErrors(_ name: String, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        if name.utf8.count > 253 { errors.append(FieldError(.invalid, field, .string(name), "must be no more than 253 characters")) }
        if !isDNS1123SubdomainSyntax(name) {
            errors.append(
                FieldError(
                    .invalid, field, .string(name),
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '\(dns1123SubdomainRegex)')"
                ))
        }
        return errors
    }

    static func labelErrors(_ name: String, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        if name.utf8.count > 63 { errors.append(FieldError(.invalid, field, .string(name), "must be no more than 63 characters")) }
        let b = Array(name.utf8)
        if b.isEmpty || !isAlnumLower(b[0]) || !isAlnumLower(b[b.count - 1]) || !b.allSatisfy({ isAlnumLower($0) || $0 == 45 }) {
            errors.append(
                FieldError(
                    .invalid, field, .string(name),
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '\(dns1123LabelRegex)')"
                ))
        }
        return errors
    }

    /// Path-segment safety for names of every kind.
    static func pathSegmentErrors(_ name: String, field: String) -> [FieldError] {
        if name == "." || name == ".." { return [FieldError(.invalid, field, .string(name), "may not be '\(name)'")] }
        // Byte checks: `contains("/")` would resolve to Foundation's slow substring search.
        if name.utf8.contains(UInt8(ascii: "/")) { return [FieldError(.invalid, field, .string(name), "may not contain '/'")] }
        if name.utf8.contains(UInt8(ascii: "%")) { return [FieldError(.invalid, field, .string(name), "may not contain '%'")] }
        return []
    }

    /// Label-value / qualified-name part: ≤ 63, alphanumeric at both ends, `-_.` inside.
    static func isQualifiedNamePart(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= 63, isAlnum(b[0]), isAlnum(b[b.count - 1]) else { return false }
        return b.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isQualifiedNamePart(key)
        case 2:
            let prefix = String(parts[0])
            return !prefix.isEmpty && prefix.utf8.count <= 253 && isDNS1123SubdomainSyntax(prefix) && isQualifiedNamePart(String(parts[1]))
        default: return false
        }
    }

    static func isLabelValue(_ v: String) -> Bool { v.isEmpty || isQualifiedNamePart(v) }

    /// Validates client-settable metadata: labels, annotations, finalizers.
    static func metadataErrors(_ metadata: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let labels = metadata["labels"], !labels.isNull {
            if let o = labels.objectValue {
                for (k, v) in o {
                    if !isQualifiedName(k) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.labels", .string(k),
                                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                            ))
                    }
                    guard let s = v.stringValue else {
                        errors.append(FieldError(.invalid, "metadata.labels", v, "label values must be strings"))
                        continue
                    }
                    if !isLabelValue(s) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.labels", .string(s),
                                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                            ))
                    }
                }
            } else {
                errors.append(FieldError(.invalid, "metadata.labels", labels, "must be an object"))
            }
        }
        if let annotations = metadata["annotations"], !annotations.isNull {
            if let o = annotations.objectValue {
                var total = 0
                for (k, v) in o {
                    if !isQualifiedName(k.lowercased()) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.annotations", .string(k),
                                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                            ))
                    }
                    guard let s = v.stringValue else {
                        errors.append(FieldError(.invalid, "metadata.annotations", v, "annotation values must be strings"))
                        continue
                    }
                    total += k.utf8.count + s.utf8.count
                }
                if total > 262_144 {
                    errors.append(FieldError(.tooLong, "metadata.annotations", nil, "may not be more than 262144 bytes"))
                }
            } else {
                errors.append(FieldError(.invalid, "metadata.annotations", annotations, "must be an object"))
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
                    if !isQualifiedName(s) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.finalizers[\(i)]", .string(s),
                                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
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
