import KubeCore

// The YAML emitter as it was before it was tuned for speed (a verbatim copy of the former
// `YAMLWriter`), kept as the reference the fast emitter must match byte for byte.
// Do not "fix" it: its output is what rendered manifests and checksums were built from.

/// Reference emitter: block-style YAML that Kubernetes tooling reads back to the same value.
/// Output is deterministic: object members in insertion order (or sorted when asked).
struct ReferenceYAMLWriter: Sendable {
    var sortedKeys: Bool
    init(sortedKeys: Bool = false) { self.sortedKeys = sortedKeys }

    /// One YAML document (no `---` marker), ending in a newline.
    func document(_ value: JSON) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A multi-document stream: each document preceded by `---`.
    func stream(_ values: [JSON]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 1024)
        for value in values {
            out.append(contentsOf: "---\n".utf8)
            write(value, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one document to `out`.
    func write(_ value: JSON, to out: inout [UInt8]) {
        switch value {
        case .object(let o) where !o.isEmpty:
            writeObject(o, indent: 0, to: &out)
        case .array(let a) where !a.isEmpty:
            writeArray(a, indent: 0, to: &out)
        default:
            writeScalar(value, indent: 0, to: &out)
            out.append(0x0A)
        }
    }

    private func keys(_ o: JSONObject) -> [String] { sortedKeys ? o.keys.sorted() : Array(o.keys) }

    private func pad(_ n: Int, _ out: inout [UInt8]) {
        for _ in 0..<n { out.append(0x20) }
    }

    /// Object members at `indent`; the first line's indentation is assumed written when
    /// `firstInline` is set (the `- ` of a sequence item).
    private func writeObject(_ o: JSONObject, indent: Int, firstInline: Bool = false, to out: inout [UInt8]) {
        var first = true
        for key in keys(o) {
            let value = o[key]!
            if !(first && firstInline) { pad(indent, &out) }
            first = false
            ReferenceYAMLWriter.writeString(key, indent: indent, allowBlock: false, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .object(let child) where !child.isEmpty:
                out.append(0x0A)
                writeObject(child, indent: indent + 2, to: &out)
            case .array(let child) where !child.isEmpty:
                out.append(0x0A)
                writeArray(child, indent: indent, to: &out)
            default:
                out.append(0x20)
                writeScalar(value, indent: indent, to: &out)
                out.append(0x0A)
            }
        }
    }

    private func writeArray(_ a: [JSON], indent: Int, to out: inout [UInt8]) {
        for element in a {
            pad(indent, &out)
            out.append(contentsOf: "- ".utf8)
            switch element {
            case .object(let child) where !child.isEmpty:
                writeObject(child, indent: indent + 2, firstInline: true, to: &out)
            case .array(let child) where !child.isEmpty:
                // Nested sequence: start it on the next line.
                out.removeLast()
                out.append(0x0A)
                writeArray(child, indent: indent + 2, to: &out)
            default:
                writeScalar(element, indent: indent, to: &out)
                out.append(0x0A)
            }
        }
    }

    private func writeScalar(_ value: JSON, indent: Int, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): JSON.writeDouble(d, to: &out)
        case .string(let s): ReferenceYAMLWriter.writeString(s, indent: indent, allowBlock: true, to: &out)
        case .array: out.append(contentsOf: "[]".utf8)
        case .object: out.append(contentsOf: "{}".utf8)
        }
    }

    /// Writes a string plain when that reads back as the same string, as a literal block for
    /// multi-line text, double-quoted otherwise.
    static func writeString(_ s: String, indent: Int, allowBlock: Bool, to out: inout [UInt8]) {
        if isPlainSafe(s) {
            out.append(contentsOf: s.utf8)
            return
        }
        if allowBlock, canUseLiteralBlock(s) {
            var lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            if s.hasSuffix("\n") {
                out.append(contentsOf: "|\n".utf8)
                lines.removeLast()
            } else {
                out.append(contentsOf: "|-\n".utf8)
            }
            for line in lines {
                if !line.isEmpty {
                    for _ in 0..<(indent + 2) { out.append(0x20) }
                    out.append(contentsOf: line.utf8)
                }
                out.append(0x0A)
            }
            out.removeLast()  // the caller ends the line
            return
        }
        writeDoubleQuoted(s, to: &out)
    }

    static func writeDoubleQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0) || scalar.value == 0xFEFF {
                    let hex = String(scalar.value, radix: 16)
                    out.append(contentsOf: "\\u".utf8)
                    out.append(contentsOf: String(repeating: "0", count: max(0, 4 - hex.count)).utf8)
                    out.append(contentsOf: hex.utf8)
                } else {
                    out.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Literal blocks need every line free of leading/trailing whitespace surprises.
    static func canUseLiteralBlock(_ s: String) -> Bool {
        guard s.contains("\n") else { return false }
        let body = s.hasSuffix("\n") ? String(s.dropLast()) : s
        if body.isEmpty || body.hasSuffix("\n") { return false }  // several trailing newlines: keep-chomping is fragile
        if body.first == " " || body.first == "\n" { return false }
        for scalar in s.unicodeScalars {
            if scalar == "\t" || scalar == "\r" { return false }
            if scalar.value < 0x20 && scalar != "\n" { return false }
            if scalar.value == 0x7F || scalar.value == 0xFEFF || (scalar.value >= 0x80 && scalar.value < 0xA0) { return false }
        }
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) where line.last == " " {
            return false
        }
        return true
    }

    static var reservedWords: Set<String> { reserved }

    private static let reserved: Set<String> = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
        "y", "Y", "n", "N", "=", "<<",
    ]

    /// Whether `s` written plain reads back as this very string in YAML 1.1 and 1.2 parsers.
    static func isPlainSafe(_ s: String) -> Bool {
        if reserved.contains(s) { return false }
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        switch first {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
            UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
            UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), 0x20:
            // "-foo" is plain-safe in principle, but numbers like -1 are handled below anyway.
            if first == UInt8(ascii: "-"), utf8.count > 1, !looksNumeric(s) {
                let second = utf8[utf8.index(after: utf8.startIndex)]
                if second != 0x20 && second != UInt8(ascii: "-") { break }
            }
            return false
        default: break
        }
        if last == 0x20 || last == UInt8(ascii: ":") { return false }
        var previous: UInt8 = 0
        for b in utf8 {
            if b < 0x20 || b == 0x7F || b >= 0x80 { return false }
            if b == UInt8(ascii: " ") && previous == UInt8(ascii: ":") { return false }
            if b == UInt8(ascii: "#") && previous == UInt8(ascii: " ") { return false }
            previous = b
        }
        if looksNumeric(s) { return false }
        return true
    }

    /// Conservative: anything a YAML 1.1 or 1.2 resolver might read as a number, timestamp or
    /// special float is quoted.
    static func looksNumeric(_ s: String) -> Bool {
        let utf8 = s.utf8
        guard let first = utf8.first else { return false }
        let startsNumeric =
            (first >= 0x30 && first <= 0x39) || first == UInt8(ascii: "+")
            || first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
        guard startsNumeric else { return false }
        for b in utf8 {
            switch b {
            case 0x30...0x39, UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "x"), UInt8(ascii: "X"),
                UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "a")...UInt8(ascii: "d"),
                UInt8(ascii: "A")...UInt8(ascii: "D"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "i"),
                UInt8(ascii: "n"), UInt8(ascii: "I"), UInt8(ascii: "N"), UInt8(ascii: "T"), UInt8(ascii: "Z"),
                UInt8(ascii: " "):
                continue
            default:
                return false
            }
        }
        return true
    }
}
