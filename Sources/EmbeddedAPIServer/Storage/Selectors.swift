import Foundation
import KubeCore

/// A parsed label selector: AND of requirements.
struct LabelSelector: Sendable {
    enum Op: Sendable { case eq, neq, `in`, notIn, exists, notExists, gt, lt }
    struct Requirement: Sendable {
        var key: String
        var op: Op
        var values: [String]
    }
    var requirements: [Requirement] = []
    var isEmpty: Bool { requirements.isEmpty }

    init() {}

    init(parsing text: String) throws(APIError) {
        let chars = Array(text)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }
        func readKey() -> String {
            var s = ""
            while i < chars.count, !" ,=!()<>".contains(chars[i]) {
                s.append(chars[i])
                i += 1
            }
            return s
        }
        func fail(_ why: String) -> APIError { APIError.badRequest("unable to parse requirement: \(why)") }
        skipSpaces()
        if i >= chars.count { return }
        while true {
            skipSpaces()
            var negate = false
            if i < chars.count, chars[i] == "!" {
                negate = true
                i += 1
                skipSpaces()
            }
            let key = readKey()
            guard !key.isEmpty else { throw fail("found '\(i < chars.count ? String(chars[i]) : "")', expected: identifier") }
            if !NameValidation.isQualifiedName(key) {
                throw fail(
                    "invalid label key \"\(key)\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
                )
            }
            skipSpaces()
            if negate {
                requirements.append(Requirement(key: key, op: .notExists, values: []))
            } else if i >= chars.count || chars[i] == "," {
                requirements.append(Requirement(key: key, op: .exists, values: []))
            } else {
                var op: Op
                if chars[i] == "=" {
                    i += 1
                    if i < chars.count, chars[i] == "=" { i += 1 }
                    op = .eq
                } else if chars[i] == "!", i + 1 < chars.count, chars[i + 1] == "=" {
                    i += 2
                    op = .neq
                } else if chars[i] == ">" {
                    i += 1
                    op = .gt
                } else if chars[i] == "<" {
                    i += 1
                    op = .lt
                } else {
                    let word = readKey()
                    if word == "in" {
                        op = .in
                    } else if word == "notin" {
                        op = .notIn
                    } else {
                        throw fail("found '\(word)', expected: in, notin, =, ==, !=, gt, lt")
                    }
                }
                skipSpaces()
                var values: [String] = []
                if op == .in || op == .notIn {
                    guard i < chars.count, chars[i] == "(" else { throw fail("found '\(i < chars.count ? String(chars[i]) : "")', expected: '('") }
                    i += 1
                    while true {
                        skipSpaces()
                        let v = readKey()
                        if !v.isEmpty || (i < chars.count && (chars[i] == "," || chars[i] == ")")) { values.append(v) }
                        skipSpaces()
                        guard i < chars.count else { throw fail("found '', expected: ')'") }
                        if chars[i] == "," {
                            i += 1
                            continue
                        }
                        if chars[i] == ")" {
                            i += 1
                            break
                        }
                        throw fail("found '\(chars[i])', expected: ',' or ')'")
                    }
                } else {
                    values = [readKey()]
                }
                for v in values where !NameValidation.isLabelValue(v) { throw fail("invalid label value: \"\(v)\"") }
                if op == .gt || op == .lt, Int64(values[0]) == nil { throw fail("for 'Gt', 'Lt' operators, the value must be an integer") }
                requirements.append(Requirement(key: key, op: op, values: values))
            }
            skipSpaces()
            if i >= chars.count { break }
            guard chars[i] == "," else { throw fail("found '\(chars[i])', expected: ',' or end of string") }
            i += 1
        }
    }

    func matches(_ labels: JSON?) -> Bool {
        for r in requirements {
            let value = labels?[r.key]?.stringValue
            switch r.op {
            case .eq: if value != r.values[0] { return false }
            case .neq: if value == r.values[0] { return false }
            case .in: guard let value, r.values.contains(value) else { return false }
            case .notIn: if let value, r.values.contains(value) { return false }
            case .exists: if value == nil { return false }
            case .notExists: if value != nil { return false }
            case .gt: guard let value, let a = Int64(value), let b = Int64(r.values[0]), a > b else { return false }
            case .lt: guard let value, let a = Int64(value), let b = Int64(r.values[0]), a < b else { return false }
            }
        }
        return true
    }
}

/// A parsed field selector: AND of `f=v`, `f==v`, `f!=v`.
struct FieldSelector: Sendable {
    struct Requirement: Sendable {
        var field: String
        var value: String
        var negated: Bool
    }
    var requirements: [Requirement] = []

    init() {}

    init(parsing text: String, allowed: [String]) throws(APIError) {
        let allowedAll = ["metadata.name", "metadata.namespace"] + allowed
        for part in text.split(separator: ",") {
            let s = String(part).trimmedSpaces()
            if s.isEmpty { continue }
            var field: Substring
            var value: Substring
            var negated = false
            if let r = s.range(of: "!=") {
                field = s[..<r.lowerBound]
                value = s[r.upperBound...]
                negated = true
            } else if let r = s.range(of: "==") {
                field = s[..<r.lowerBound]
                value = s[r.upperBound...]
            } else if let r = s.range(of: "=") {
                field = s[..<r.lowerBound]
                value = s[r.upperBound...]
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(s)'")
            }
            let f = String(field).trimmedSpaces()
            guard allowedAll.contains(f) else {
                let list =
                    allowedAll.count == 2 ? "\"metadata.name\", \"metadata.namespace\"" : allowedAll.map { "\"\($0)\"" }.joined(separator: ", ")
                throw APIError.badRequest("\"\(f)\" is not a known field selector: only \(list)")
            }
            requirements.append(Requirement(field: f, value: String(value).trimmedSpaces(), negated: negated))
        }
    }

    /// The name a selector pins (`metadata.name=N`), for single-object watches.
    var pinnedName: String? { requirements.first { $0.field == "metadata.name" && !$0.negated }?.value }

    func matches(_ object: JSON) -> Bool {
        for r in requirements {
            let actual = FieldSelector.value(of: r.field, in: object)
            if r.negated ? actual == r.value : actual != r.value { return false }
        }
        return true
    }

    static func value(of field: String, in object: JSON) -> String {
        let path = field.split(separator: ".").map(String.init)
        switch object[path: path] {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .bool(let b)?: return String(b)
        default: return ""
        }
    }
}

extension String {
    /// Substring test on UTF-8 bytes. (`contains` with a string argument resolves to Foundation's
    /// version, which goes through NSString and is slow on the request path.)
    package func containsBytes(_ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard let first = n.first else { return true }
        let h = Array(utf8)
        guard h.count >= n.count else { return false }
        var i = 0
        while i <= h.count - n.count {
            if h[i] == first && h[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }

    func trimmedSpaces() -> String {
        let set: Character = " "
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
