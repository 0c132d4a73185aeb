import Foundation
import KubeCore

/// The path of the value being checked, kept as parts and rendered only when an error needs it
/// (`spec.items[0].name`; map entries as `.key`, the way kube-apiserver names them in schema
/// errors).
struct SchemaPath {
    private enum Part {
        case key(String)
        case index(Int)
    }
    private var parts: [Part] = []

    mutating func push(_ key: String) { parts.append(.key(key)) }
    mutating func push(index: Int) { parts.append(.index(index)) }
    mutating func pop() { parts.removeLast() }

    var isEmpty: Bool { parts.isEmpty }

    var string: String {
        var s = ""
        for p in parts {
            switch p {
            case .key(let k): s += s.isEmpty ? k : "." + k
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    func child(_ key: String) -> String {
        let base = string
        return base.isEmpty ? key : base + "." + key
    }
}

/// Validation of a value against a ``StructuralSchema``, with kube-apiserver's field errors and
/// wording (`spec.size in body must be of type integer: "string"`, `Required value`, ...).
enum SchemaValidator {
    /// The errors of `value` (the whole object at the root; `metadata`, `apiVersion` and `kind`
    /// are the generic code's business). On update, `old` is the stored object: values equal to
    /// the old ones at the same place (properties, map keys, list-map keys, set members) are not
    /// checked again, as kube-apiserver ratchets validation, so a schema tightened later does
    /// not block writes that leave the old values alone.
    static func errors(_ value: JSON, _ schema: StructuralSchema, old: JSON? = nil) -> [FieldError] {
        var errors: [FieldError] = []
        var path = SchemaPath()
        validate(value, schema, &path, &errors, root: true, old: old)
        return errors
    }

    static func typeName(_ v: JSON) -> String { v.typeName }

    static func validate(
        _ value: JSON, _ s: StructuralSchema, _ path: inout SchemaPath, _ errors: inout [FieldError], root: Bool = false, old: JSON? = nil
    ) {
        if let old, old == value { return }  // unchanged: ratcheted
        if value.isNull {
            if s.nullable { return }
            if let t = s.type {
                errors.append(typeError(path, expected: t.rawValue, actual: "null"))
            } else if s.intOrString {
                errors.append(typeError(path, expected: "integer,string", actual: "null"))
            }
            return
        }
        if s.hasJunctors { junctors(value, s, &path, &errors, old: old) }
        var typeOK = true
        if let t = s.type, !matches(value, t) {
            errors.append(typeError(path, expected: t.rawValue, actual: typeName(value)))
            typeOK = false
        } else if s.intOrString {
            switch value {
            case .int, .string: break
            case .double(let d) where d == d.rounded(): break
            default:
                errors.append(typeError(path, expected: "integer,string", actual: typeName(value)))
                typeOK = false
            }
        }
        guard typeOK else {
            // The enum is checked independently of the type, as kube-apiserver does.
            if let allowed = s.enumValues, !allowed.contains(value) { errors.append(enumError(value, allowed, path)) }
            return
        }
        if s.hasValueChecks { valueChecks(value, s, &path, &errors) }
        switch value {
        case .object(let o):
            let oldObject = old?.objectValue
            for (key, child) in o {
                if root && (key == "metadata" || key == "apiVersion" || key == "kind") { continue }
                if let ps = s.properties[key] {
                    path.push(key)
                    validate(child, ps, &path, &errors, old: oldObject?[key])
                    path.pop()
                } else if let ap = s.additionalProperties {
                    path.push(key)
                    validate(child, ap, &path, &errors, old: oldObject?[key])
                    path.pop()
                }
            }
        case .array(let a):
            if let items = s.items {
                let correlated = correlate(a, old?.arrayValue, s)
                for (i, child) in a.enumerated() {
                    path.push(index: i)
                    validate(child, items, &path, &errors, old: correlated?(child))
                    path.pop()
                }
            }
        default: break
        }
    }

    /// The old item of a new list item, for ratcheting: by key in a list-map, by value in a set;
    /// items of other lists have none.
    static func correlate(_ new: [JSON], _ old: [JSON]?, _ s: StructuralSchema) -> ((JSON) -> JSON?)? {
        guard let old, !old.isEmpty else { return nil }
        if s.listType == "set" {
            let members = Set(old)
            return { members.contains($0) ? $0 : nil }
        }
        guard s.listType == "map", !s.listMapKeys.isEmpty else { return nil }
        let keys = s.listMapKeys
        var byKey: [[JSON]: JSON] = [:]
        for item in old { byKey[keys.map { item[$0] ?? .null }] = item }
        return { item in byKey[keys.map { item[$0] ?? .null }] }
    }

    static func matches(_ v: JSON, _ t: StructuralSchema.ValueType) -> Bool {
        switch (t, v) {
        case (.object, .object), (.array, .array), (.string, .string), (.boolean, .bool), (.integer, .int), (.number, .int), (.number, .double):
            return true
        case (.integer, .double(let d)): return d == d.rounded() && d.isFinite
        default: return false
        }
    }

    static func typeError(_ path: SchemaPath, expected: String, actual: String) -> FieldError {
        let p = path.string
        return FieldError(
            type: .typeInvalid, field: p, badValue: .string(actual), detail: "\(p) in body must be of type \(expected): \(goQuote(actual))")
    }

    static func invalid(_ path: SchemaPath, _ value: FieldBadValue, _ text: String) -> FieldError {
        let p = path.string
        return FieldError(type: .invalid, field: p, badValue: value, detail: "\(p) in body \(text)")
    }

    static func number(_ j: JSON) -> String { FieldBadValue(j).description }

    static func plural(_ n: Int, _ word: String) -> String { n == 1 ? word : word + "s" }

    /// Everything but type and children: enum, bounds, lengths, pattern, format, counts,
    /// required, list types, embedded resources.
    static func valueChecks(_ value: JSON, _ s: StructuralSchema, _ path: inout SchemaPath, _ errors: inout [FieldError]) {
        if let allowed = s.enumValues, !allowed.contains(value) { errors.append(enumError(value, allowed, path)) }
        switch value {
        case .int, .double:
            guard let d = value.doubleValue else { return }
            if let m = s.minimum, let md = m.doubleValue {
                if s.exclusiveMinimum ? d <= md : d < md {
                    let how = s.exclusiveMinimum ? "greater than" : "greater than or equal to"
                    errors.append(invalid(path, FieldBadValue(value), "should be \(how) \(number(m))"))
                }
            }
            if let m = s.maximum, let md = m.doubleValue {
                if s.exclusiveMaximum ? d >= md : d > md {
                    let how = s.exclusiveMaximum ? "less than" : "less than or equal to"
                    errors.append(invalid(path, FieldBadValue(value), "should be \(how) \(number(m))"))
                }
            }
            if let m = s.multipleOf, let md = m.doubleValue, md > 0 {
                let q = d / md
                if q != q.rounded() { errors.append(invalid(path, FieldBadValue(value), "should be a multiple of \(number(m))")) }
            }
        case .string(let str):
            if s.minLength != nil || s.maxLength != nil {
                let n = str.count
                if let max = s.maxLength, n > max {
                    errors.append(
                        FieldError(
                            type: .tooLong, field: path.string, badValue: .string(str), detail: "may not be more than \(max) \(plural(max, "byte"))"))
                }
                if let min = s.minLength, n < min {
                    errors.append(invalid(path, .string(str), "should be at least \(min) chars long"))
                }
            }
            if let re = s.pattern, let text = s.patternText {
                let range = NSRange(str.startIndex..<str.endIndex, in: str)
                if re.firstMatch(in: str, options: [], range: range) == nil {
                    errors.append(invalid(path, .string(str), "should match '\(text)'"))
                }
            }
            if let f = s.format, !SchemaFormats.isValid(str, format: f) {
                let p = path.string
                errors.append(
                    FieldError(type: .typeInvalid, field: p, badValue: .string(str), detail: "\(p) in body must be of type \(f): \(goQuote(str))"))
            }
        case .array(let a):
            if let max = s.maxItems, a.count > max {
                errors.append(
                    FieldError(
                        type: .tooMany, field: path.string, badValue: .int(Int64(a.count)), detail: "must have at most \(max) \(plural(max, "item"))")
                )
            }
            if let min = s.minItems, a.count < min {
                errors.append(invalid(path, .int(Int64(a.count)), "should have at least \(min) items"))
            }
            if s.listType == "set" || s.uniqueItems {
                var seen = Set<JSON>()
                for (i, item) in a.enumerated() where !seen.insert(item).inserted {
                    path.push(index: i)
                    errors.append(FieldError(type: .duplicate, field: path.string, badValue: FieldBadValue(item)))
                    path.pop()
                }
            } else if s.listType == "map", !s.listMapKeys.isEmpty {
                var seen = Set<[JSON]>()
                for (i, item) in a.enumerated() {
                    let key = s.listMapKeys.map { item[$0] ?? .null }
                    if !seen.insert(key).inserted {
                        path.push(index: i)
                        errors.append(FieldError(type: .duplicate, field: path.string, badValue: .verbatim(goMapLiteral(s.listMapKeys, key))))
                        path.pop()
                    }
                }
            }
        case .object(let o):
            for name in s.required where o[name] == nil {
                errors.append(FieldError(type: .required, field: path.child(name)))
            }
            if let max = s.maxProperties, o.count > max {
                errors.append(
                    FieldError(
                        type: .tooMany, field: path.string, badValue: .int(Int64(o.count)), detail: "must have at most \(max) \(plural(max, "item"))")
                )
            }
            if let min = s.minProperties, o.count < min {
                errors.append(invalid(path, .int(Int64(o.count)), "should have at least \(min) properties"))
            }
            if s.embeddedResource {
                for field in ["apiVersion", "kind"] where (o[field]?.stringValue ?? "").isEmpty {
                    errors.append(FieldError(type: .required, field: path.child(field), detail: "must not be empty"))
                }
            }
        default: break
        }
    }

    static func enumError(_ value: JSON, _ allowed: [JSON], _ path: SchemaPath) -> FieldError {
        let names = allowed.map { a in a.stringValue ?? FieldBadValue(a).description }
        return FieldError.notSupported(FieldPath(path.string), FieldBadValue(value), names)
    }

    /// `allOf`, `anyOf`, `oneOf` and `not`: the errors of the sub-schemas (all of them for
    /// `allOf`, the first with the fewest for `anyOf`/`oneOf` when none validates) and one error
    /// without a field naming the construct, as kube-apiserver reports them.
    static func junctors(_ value: JSON, _ s: StructuralSchema, _ path: inout SchemaPath, _ errors: inout [FieldError], old: JSON?) {
        let quoted = goQuote(path.string)
        func composite(_ text: String) -> FieldError { FieldError(type: .invalid, field: "", badValue: .string(""), detail: "\(quoted) \(text)") }
        func run(_ sub: StructuralSchema) -> [FieldError] {
            var e: [FieldError] = []
            validate(value, sub, &path, &e, old: old)
            return e
        }
        if !s.allOf.isEmpty {
            var valid = 0
            var all: [FieldError] = []
            for sub in s.allOf {
                let e = run(sub)
                if e.isEmpty { valid += 1 }
                all += e
            }
            if valid != s.allOf.count {
                errors.append(composite("must validate all the schemas (allOf)" + (valid == 0 ? ". None validated" : "")))
                errors += all
            }
        }
        for (list, isOneOf) in [(s.anyOf, false), (s.oneOf, true)] where !list.isEmpty {
            var valid = 0
            var best: [FieldError]?
            for sub in list {
                let e = run(sub)
                if e.isEmpty {
                    valid += 1
                } else if best == nil || e.count < (best?.count ?? 0) {
                    best = e
                }
            }
            if isOneOf && valid != 1 {
                let found = valid == 0 ? "Found none valid" : "Found \(valid) valid alternatives"
                errors.append(composite("must validate one and only one schema (oneOf). " + found))
                if valid == 0 { errors += best ?? [] }
            } else if !isOneOf && valid == 0 {
                errors.append(composite("must validate at least one schema (anyOf)"))
                errors += best ?? []
            }
        }
        if let not = s.not, run(not).isEmpty { errors.append(composite("must not validate the schema (not)")) }
    }

    /// The keys of a list-map entry the way Go prints a `map[string]interface{}` with `%#v`.
    static func goMapLiteral(_ names: [String], _ values: [JSON]) -> String {
        let pairs = zip(names, values).sorted { $0.0 < $1.0 }.map { "\(goQuote($0.0)):\(FieldBadValue($0.1).description)" }
        return "map[string]interface {}{" + pairs.joined(separator: ", ") + "}"
    }
}

/// The `format`s kube-apiserver checks in custom resources; other formats (`int32`, `int64`,
/// `double`, `password`, ...) are accepted as is, as there.
enum SchemaFormats {
    static func isValid(_ s: String, format: String) -> Bool {
        switch format {
        case "date-time", "datetime": return isDateTime(s)
        case "date": return isDate(Array(s.utf8)[...])
        case "byte": return Base64.decode(s) != nil
        case "uuid", "uuid3", "uuid4", "uuid5": return isUUID(s)
        case "ipv4": return s.utf8.contains(UInt8(ascii: ".")) && IPAddress(s, allowLeadingZeros: true) != nil
        case "ipv6": return s.utf8.contains(UInt8(ascii: ":")) && IPAddress(s, allowLeadingZeros: true) != nil
        case "cidr": return CIDR(s, allowIPv4LeadingZeros: true) != nil
        default: return true
        }
    }

    static func digits(_ b: ArraySlice<UInt8>) -> Int? {
        guard !b.isEmpty else { return nil }
        var n = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }

    /// `YYYY-MM-DD`.
    static func isDate(_ b: ArraySlice<UInt8>) -> Bool {
        let s = b.startIndex
        guard b.count == 10, b[s + 4] == UInt8(ascii: "-"), b[s + 7] == UInt8(ascii: "-"),
            digits(b[s..<s + 4]) != nil, let m = digits(b[s + 5..<s + 7]), let d = digits(b[s + 8..<s + 10])
        else { return false }
        return (1...12).contains(m) && (1...31).contains(d)
    }

    /// RFC 3339 date-times as the strfmt parser accepts them: a date, `T` (or `t`, or a space),
    /// `hh:mm:ss`, optional fraction, and `Z` or an offset (also none).
    static func isDateTime(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 19, isDate(b[0..<10]) else { return false }
        guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]) else { return false }
        guard b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), let h = digits(b[11..<13]), let mi = digits(b[14..<16]),
            let sec = digits(b[17..<19]), h < 24, mi < 60, sec < 61
        else { return false }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            if i == start { return false }
        }
        if i == b.count { return true }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return false }
        let rest = Array(b[(i + 1)...])
        if rest.count == 5, rest[2] == UInt8(ascii: ":"), let oh = digits(rest[0..<2]), let om = digits(rest[3..<5]) { return oh < 24 && om < 60 }
        if rest.count == 4, let oh = digits(rest[0..<2]), let om = digits(rest[2..<4]) { return oh < 24 && om < 60 }
        return false
    }

    static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                let hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
                guard hex else { return false }
            }
        }
        return true
    }
}
