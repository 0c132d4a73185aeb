import Foundation
import KubeCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Name, label and metadata validation.
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

    /// Validates client-settable metadata: labels, annotations, finalizers.
    static func metadataErrors(_ metadata: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let labels = metadata["labels"], !labels.isNull {
            if let o = labels.objectValue {
                for (k, v) in o {
                    if !NameValidation.isQualifiedName(k) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.labels", .string(k),
                                NameValidation.qualifiedNameMessage
                            ))
                    }
                    guard let s = v.stringValue else {
                        errors.append(FieldError(.invalid, "metadata.labels", v, "label values must be strings"))
                        continue
                    }
                    if !NameValidation.isLabelValue(s) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.labels", .string(s),
                                NameValidation.labelValueMessage
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
                    if !NameValidation.isQualifiedName(k.lowercased()) {
                        errors.append(
                            FieldError(
                                .invalid, "metadata.annotations", .string(k),
                                NameValidation.qualifiedNameMessage
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

    /// Parses Go's boolean forms.
    static func parseBool(_ s: String?) -> Bool? {
        guard let s else { return nil }
        switch s {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }
}

/// Time formatting (spec §1).
enum KubeTime {
    /// The last formatted second: every create formats "now", and String(format:) is slow.
    private static let lastSecond = Mutex<(second: Int, text: String)>((Int.min, ""))

    static func format(_ date: Date) -> String {
        let t = time_t(date.timeIntervalSince1970.rounded(.down))
        if let cached = lastSecond.withLock({ $0.second == Int(t) ? $0.text : nil }) { return cached }
        let text = formatUncached(t)
        lastSecond.withLock { $0 = (Int(t), text) }
        return text
    }

    private static func formatUncached(_ t: time_t) -> String {
        var tmv = tm()
        var tt = t
        gmtime_r(&tt, &tmv)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
            Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }

    static func formatMicro(_ date: Date) -> String {
        let base = format(date)
        let micros = Int((date.timeIntervalSince1970 - date.timeIntervalSince1970.rounded(.down)) * 1_000_000)
        return String(base.dropLast()) + String(format: ".%06dZ", micros)
    }

    /// Parses RFC 3339 (with optional fraction and offset).
    static func parse(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2), b[10] == 84 || b[10] == 116,
            let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58, let sec = num(17, 2),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900)
        tmv.tm_mon = Int32(mo - 1)
        tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(h)
        tmv.tm_min = Int32(mi)
        tmv.tm_sec = Int32(sec)
        let epoch = timegm(&tmv)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }

    /// Human-readable age as kube-apiserver prints it in Tables (spec §13).
    static func age(since date: Date, now: Date = Date()) -> String {
        let d = now.timeIntervalSince(date)
        if d < -1 { return "<invalid>" }
        let s = max(0, Int(d))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = s / 3600
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        let days = h / 24
        if h < 192 { return h % 24 == 0 ? "\(days)d" : "\(days)d\(h % 24)h" }
        if days < 730 { return "\(days)d" }
        let years = days / 365
        if years < 8 { return days % 365 == 0 ? "\(years)y" : "\(years)y\(days % 365)d" }
        return "\(years)y"
    }
}
