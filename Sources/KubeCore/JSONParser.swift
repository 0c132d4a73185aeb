/// A JSON syntax error, with the byte offset where it was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset where parsing failed.
    public var offset: Int
    /// What was wrong there.
    public var reason: String
    /// `invalid JSON at byte <offset>: <reason>`.
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSON {
    /// Parses a complete JSON text (RFC 8259). Nesting deeper than `maxDepth` is rejected so
    /// hostile input cannot exhaust the stack.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int = 512) throws -> JSON
    where Bytes.Element == UInt8 {
        if let result = try bytes.withContiguousStorageIfAvailable({ buffer in
            var parser = Parser(buffer, maxDepth: maxDepth)
            return try parser.parseDocument()
        }) {
            return result
        }
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer in
            var parser = Parser(buffer, maxDepth: maxDepth)
            return try parser.parseDocument()
        }
    }

    /// Parses like ``parse(_:maxDepth:)`` and also reports the paths of keys that occur twice in
    /// one object (`spec.size`, `spec.items[0].name`), for the API server's strict field
    /// validation; a form of ``parseReportingDuplicateKeys(_:maxDepth:)`` with the paths rendered.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int = 512, duplicateKeys: inout [String]) throws -> JSON
    where Bytes.Element == UInt8 {
        let (value, duplicates) = try parseReportingDuplicateKeys(bytes, maxDepth: maxDepth)
        duplicateKeys = duplicates.compactMap { $0.path(below: []) }
        return value
    }

    /// Parses a complete JSON text like `parse`, and also reports every key that occurs more than
    /// once in one object (the value keeps the last one, as `parse` does). Strict decoders use the
    /// report to reject duplicate fields the way Kubernetes' strict decoding does (docs/usage.md);
    /// the extra cost is one comparison per member while the document has no duplicate.
    public static func parseReportingDuplicateKeys<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int = 512) throws -> (
        value: JSON, duplicateKeys: [JSONDuplicateKey]
    ) where Bytes.Element == UInt8 {
        func run(_ buffer: UnsafeBufferPointer<UInt8>) throws -> (value: JSON, duplicateKeys: [JSONDuplicateKey]) {
            var parser = Parser(buffer, maxDepth: maxDepth)
            parser.duplicates = []
            let value = try parser.parseDocument()
            return (value, parser.duplicates ?? [])
        }
        if let result = try bytes.withContiguousStorageIfAvailable(run) { return result }
        return try Array(bytes).withUnsafeBufferPointer(run)
    }

    /// Parses a JSON text given as a string.
    public static func parse(string: String, maxDepth: Int = 512) throws -> JSON {
        var s = string
        return try s.withUTF8 { try parse($0, maxDepth: maxDepth) }
    }
}

/// A key given more than once in one JSON object (see `JSON.parseReportingDuplicateKeys`).
public struct JSONDuplicateKey: Sendable, Equatable, CustomStringConvertible {
    /// One step from the document root towards a value.
    public enum Step: Sendable, Equatable {
        /// The member of an object with this key.
        case key(String)
        /// The element of an array at this index.
        case index(Int)
    }

    /// The steps from the document root to the object that holds the key twice (empty: the root).
    public var parent: [Step]
    /// The repeated key.
    public var key: String

    /// Creates a report for `key` in the object at `parent`.
    public init(parent: [Step], key: String) {
        self.parent = parent
        self.key = key
    }

    /// The key's path below the object at `prefix` (object keys from the root), as a strict
    /// decoder names fields: keys joined with `.`, array elements as `[i]`; nil when the key is
    /// not inside that object.
    public func path(below prefix: [String]) -> String? {
        guard parent.count >= prefix.count else { return nil }
        for (step, name) in zip(parent, prefix) {
            guard case .key(let k) = step, k == name else { return nil }
        }
        var out = ""
        for step in parent.dropFirst(prefix.count) {
            switch step {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let i): out += "[\(i)]"
            }
        }
        return out.isEmpty ? key : out + "." + key
    }

    /// The key's path from the document root.
    public var description: String { path(below: []) ?? key }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    let maxDepth: Int
    var depth = 0
    /// Duplicate keys found so far; nil when they are not looked for (`JSON.parse`).
    var duplicates: [JSONDuplicateKey]?

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func parseDocument() throws -> JSON {
        // Skip a UTF-8 byte order mark.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < bytes.count else { throw fail("empty input") }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected data after the value") }
        return value
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws -> JSON {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let start = literal.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] {
            throw fail("invalid literal")
        }
        index += count
    }

    mutating func parseObject() throws -> JSON {
        depth += 1
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        defer { depth -= 1 }
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            if duplicates == nil {
                // Later duplicates win, as in Go's encoding/json.
                object[key] = try parseValue()
            } else {
                let before = duplicates?.count ?? 0
                let value = try parseValue()
                prefixDuplicates(from: before, with: .key(key))
                if object.updateValue(value, forKey: key) != nil { duplicates?.append(JSONDuplicateKey(parent: [], key: key)) }
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input in object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray() throws -> JSON {
        depth += 1
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        defer { depth -= 1 }
        index += 1
        var array: [JSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            if duplicates == nil {
                array.append(try parseValue())
            } else {
                let before = duplicates?.count ?? 0
                array.append(try parseValue())
                prefixDuplicates(from: before, with: .index(array.count - 1))
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input in array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            throw fail("expected ',' or ']'")
        }
    }

    /// Puts `step` in front of the paths of the duplicates found inside the value just parsed (only
    /// when there are some: the common document costs one count comparison).
    mutating func prefixDuplicates(from before: Int, with step: JSONDuplicateKey.Step) {
        guard let count = duplicates?.count, count > before else { return }
        for i in before..<count { duplicates?[i].parent.insert(step, at: 0) }
    }

    mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes. Eight bytes at a time while none is a quote, a backslash or a
        // control byte (long base64 values and embedded manifests are common).
        skipPlainStringBytes()
        if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
            let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            index += 1
            return s
        }
        // Escapes (e.g. JSON documents embedded in ConfigMaps): the plain runs between them are
        // still copied in bulk.
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let runStart = index
            skipPlainStringBytes()
            if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            guard index < bytes.count else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("control character in string") }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // High surrogate: a low surrogate must follow, otherwise use U+FFFD.
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try parseHex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    scalar = 0xFFFD
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(Character(u)).utf8)
            default:
                throw fail("invalid escape sequence")
            }
        }
        throw fail("unterminated string")
    }

    /// Advances `index` to the next quote, backslash or control byte (or the end): eight bytes at
    /// a time while a word holds none of them.
    @inline(__always)
    mutating func skipPlainStringBytes() {
        guard let base = bytes.baseAddress, index < bytes.count else { return }
        index += JSONByteScan.plainPrefixLength(base + index, count: bytes.count - index)
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws -> JSON {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number: digit expected after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number: digit expected in exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

/// Word-at-a-time byte tests for the JSON string scanners.
enum JSONByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether `b` stands for itself inside a JSON string (not `"`, `\` or below 0x20).
    @inline(__always)
    static func isPlain(_ b: UInt8) -> Bool { b >= 0x20 && b != 0x22 && b != 0x5C }

    /// How many of the `count` bytes at `p` stand for themselves in a JSON string, up to the
    /// first that does not. Sixteen bytes per step (the compiler maps the lane-wise compares to
    /// SSE), then eight, then one: long values (base64 secret data, manifests) are mostly plain.
    @inline(__always)
    static func plainPrefixLength(_ p: UnsafePointer<UInt8>, count: Int) -> Int {
        var i = 0
        let quote = SIMD16<UInt8>(repeating: 0x22)
        let backslash = SIMD16<UInt8>(repeating: 0x5C)
        let space = SIMD16<UInt8>(repeating: 0x20)
        while i + 16 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<UInt8>.self)
            if any((v .< space) .| (v .== quote) .| (v .== backslash)) { break }
            i += 16
        }
        while i + 8 <= count, !hasQuoteBackslashOrControl(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) { i += 8 }
        while i < count, isPlain(p[i]) { i += 1 }
        return i
    }

    /// Whether any of the eight bytes of `w` is `"`, `\` or below 0x20.
    @inline(__always)
    static func hasQuoteBackslashOrControl(_ w: UInt64) -> Bool {
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5C)
        // A byte of x is zero iff its lane in (x - ones) & ~x has the high bit set; a byte is
        // below 0x20 iff its lane in (w - 0x20·ones) & ~w has it (bytes < 0x80).
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (w &- ones &* 0x20) & ~w
        return (zeroQuote | zeroBackslash | control) & highs != 0
    }
}
