import KubeJSON

/// Multi-document YAML emission of rendered objects: the same style as `KubeJSON.YAMLWriter`
/// (block style, insertion order, strings plain when safe, literal blocks for multi-line text),
/// tuned for the render hot path: members are iterated in place and identifier-like strings
/// take a fast path. Static objects carry pre-serialized bytes (`ManifestEntry.yaml`).
enum ManifestYAML {
    static func writeStream(_ entries: [ManifestEntry], to out: inout [UInt8]) {
        for entry in entries {
            out.append(contentsOf: "---\n".utf8)
            if let cached = entry.yaml {
                out.append(contentsOf: cached)
            } else {
                writeDocument(entry.json, to: &out)
            }
        }
    }

    static func document(_ value: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        writeDocument(value, to: &out)
        return out
    }

    static func writeDocument(_ value: JSON, to out: inout [UInt8]) {
        switch value {
        case let .object(o) where !o.isEmpty: writeObject(o, indent: 0, firstInline: false, to: &out)
        case let .array(a) where !a.isEmpty: writeArray(a, indent: 0, to: &out)
        default:
            writeScalar(value, indent: 0, to: &out)
            out.append(0x0A)
        }
    }

    @inline(__always) static func pad(_ n: Int, _ out: inout [UInt8]) {
        if n > 0 { out.append(contentsOf: repeatElement(0x20, count: n)) }
    }

    static func writeObject(_ o: JSONObject, indent: Int, firstInline: Bool, to out: inout [UInt8]) {
        var first = true
        for (key, value) in o {
            if !(first && firstInline) { pad(indent, &out) }
            first = false
            writeString(key, indent: indent, allowBlock: false, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case let .object(child) where !child.isEmpty:
                out.append(0x0A)
                writeObject(child, indent: indent + 2, firstInline: false, to: &out)
            case let .array(child) where !child.isEmpty:
                out.append(0x0A)
                writeArray(child, indent: indent, to: &out)
            default:
                out.append(0x20)
                writeScalar(value, indent: indent, to: &out)
                out.append(0x0A)
            }
        }
    }

    static func writeArray(_ a: [JSON], indent: Int, to out: inout [UInt8]) {
        for element in a {
            pad(indent, &out)
            out.append(UInt8(ascii: "-"))
            switch element {
            case let .object(child) where !child.isEmpty:
                out.append(0x20)
                writeObject(child, indent: indent + 2, firstInline: true, to: &out)
            case let .array(child) where !child.isEmpty:
                out.append(0x0A)
                writeArray(child, indent: indent + 2, to: &out)
            default:
                out.append(0x20)
                writeScalar(element, indent: indent, to: &out)
                out.append(0x0A)
            }
        }
    }

    static func writeScalar(_ value: JSON, indent: Int, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .int(i): appendInt(i, to: &out)
        case .double: out.append(contentsOf: value.serialized())
        case let .string(s): writeString(s, indent: indent, allowBlock: true, to: &out)
        case .array: out.append(contentsOf: "[]".utf8)
        case .object: out.append(contentsOf: "{}".utf8)
        }
    }

    static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(UInt8(truncatingIfNeeded: 0x30 + value))
            return
        }
        out.append(contentsOf: String(value).utf8)
    }

    static func writeString(_ s: String, indent: Int, allowBlock: Bool, to out: inout [UInt8]) {
        if isIdentifierLike(s) {
            out.append(contentsOf: s.utf8)
        } else {
            YAMLWriter.writeString(s, indent: indent, allowBlock: allowBlock, to: &out)
        }
    }

    /// Strings of letters, digits and `-_./` starting with a letter that are no YAML 1.1
    /// keyword (`yes`, `on`, `null`, ...): plain-safe without the general checks.
    @inline(__always) static func isIdentifierLike(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let first = bytes.first, bytes.count > 5 || !mayBeKeyword(bytes) else { return false }
            guard (first >= 0x61 && first <= 0x7A) || (first >= 0x41 && first <= 0x5A) else { return false }
            for b in bytes {
                switch b {
                case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"):
                    continue
                default:
                    return false
                }
            }
            return true
        } ?? false
    }

    /// Short words a YAML 1.1 resolver may read as bool/null (`y`, `no`, `on`, `off`, `true`, `null`, ...).
    @inline(__always) static func mayBeKeyword(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first else { return true }
        switch first | 0x20 {
        case UInt8(ascii: "y"), UInt8(ascii: "n"), UInt8(ascii: "o"), UInt8(ascii: "t"), UInt8(ascii: "f"): return true
        default: return false
        }
    }
}

/// One rendered object with its sort key and, for static objects, its YAML bytes.
struct ManifestEntry: Sendable {
    var json: JSON
    var sortKey: String
    var yaml: [UInt8]?

    init(_ json: JSON, cacheYAML: Bool = false) {
        self.json = json
        func s(_ v: JSON?) -> String { v?.stringValue ?? "" }
        let meta = json["metadata"]
        sortKey = s(json["apiVersion"]) + "\u{1}" + s(json["kind"]) + "\u{1}" + s(meta?["namespace"]) + "\u{1}" + s(meta?["name"])
        yaml = cacheYAML ? ManifestYAML.document(json) : nil
    }

    init(json: JSON, yaml: [UInt8]) {
        self.init(json)
        self.yaml = yaml
    }
}
