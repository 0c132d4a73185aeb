/// Options for writing JSON.
public struct JSONWriteOptions: Sendable {
    /// Two-space indentation and newlines.
    public var pretty: Bool
    /// Object members sorted by key instead of insertion order.
    public var sortedKeys: Bool
    /// A serializer; `pretty` indents, `sortedKeys` orders object members by key.
    public init(pretty: Bool = false, sortedKeys: Bool = false) {
        self.pretty = pretty
        self.sortedKeys = sortedKeys
    }
}

extension JSON {
    /// The JSON text as UTF-8 bytes.
    public func serialized(_ options: JSONWriteOptions = .init()) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, options: options, indent: 0)
        return out
    }

    /// The JSON text as a string.
    public func serializedString(_ options: JSONWriteOptions = .init()) -> String {
        String(decoding: serialized(options), as: UTF8.self)
    }

    /// Appends the JSON text to `out`.
    public func write(to out: inout [UInt8], options: JSONWriteOptions = .init(), indent: Int = 0) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): JSON.writeDouble(d, to: &out)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let a):
            if a.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if options.pretty { JSON.newline(&out, indent + 1) }
                element.write(to: &out, options: options, indent: indent + 1)
            }
            if options.pretty { JSON.newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            var first = true
            func member(_ key: String, _ value: JSON) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if options.pretty { JSON.newline(&out, indent + 1) }
                JSON.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if options.pretty { out.append(UInt8(ascii: " ")) }
                value.write(to: &out, options: options, indent: indent + 1)
            }
            if options.sortedKeys {
                for key in o.keys.sorted() { member(key, o[key]!) }
            } else {
                for (key, value) in o { member(key, value) }
            }
            if options.pretty { JSON.newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        for _ in 0..<(indent * 2) { out.append(0x20) }
    }

    /// Writes a double as JSON and YAML both read it (integral values without a fraction).
    public static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isNaN || d.isInfinite {
            out.append(contentsOf: "null".utf8)  // JSON has no NaN/Inf
        } else if d == d.rounded(.towardZero), abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes a quoted, escaped JSON string.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Long values (base64 secret data, embedded manifests) are mostly plain: copy runs that
        // need no escaping in bulk instead of byte by byte.
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { bytes in
            guard let base = bytes.baseAddress else { return }
            var i = 0
            while i < bytes.count {
                let run = JSONByteScan.plainPrefixLength(base + i, count: bytes.count - i)
                if run > 0 { out.append(contentsOf: UnsafeBufferPointer(start: base + i, count: run)) }
                i += run
                guard i < bytes.count else { break }
                writeEscaped(bytes[i], to: &out)
                i += 1
            }
        }
        if done == nil {
            for b in s.utf8 {
                if JSONByteScan.isPlain(b) { out.append(b) } else { writeEscaped(b, to: &out) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The escape of a quote, a backslash or a control byte.
    @inline(__always)
    static func writeEscaped(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""):
            out.append(0x5C)
            out.append(0x22)
        case UInt8(ascii: "\\"):
            out.append(0x5C)
            out.append(0x5C)
        case 0x0A:
            out.append(0x5C)
            out.append(UInt8(ascii: "n"))
        case 0x0D:
            out.append(0x5C)
            out.append(UInt8(ascii: "r"))
        case 0x09:
            out.append(0x5C)
            out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0xF)])
        }
    }
}
