/// Writes JSON values as block-style YAML that Kubernetes tooling reads back to the same value.
/// Output is deterministic: object members in insertion order (or sorted when asked).
///
/// This is the project's only YAML emitter (the manifest renderer uses it too), so it is
/// written for speed: bytes go into a raw growable buffer (`ByteSink`), strings are classified in a single
/// pass over their UTF-8 bytes (no `Character` iteration, no intermediate `String`s), and
/// indentation is copied from a constant run of spaces. Strings with non-ASCII bytes take the
/// general Unicode-scalar path, which produces the same style as before.
public struct YAMLWriter: Sendable {
    /// Whether object members are written sorted by key instead of in their order.
    public var sortedKeys: Bool
    /// A writer; members keep their order unless `sortedKeys`.
    public init(sortedKeys: Bool = false) { self.sortedKeys = sortedKeys }

    /// One YAML document (no `---` marker), ending in a newline.
    public func document(_ value: JSON) -> String {
        String(decoding: documentBytes(value), as: UTF8.self)
    }

    /// One YAML document (no `---` marker) as UTF-8 bytes, ending in a newline.
    public func documentBytes(_ value: JSON) -> [UInt8] {
        let sink = ByteSink(capacity: 4096)
        write(value, to: sink)
        return sink.withBytes { Array($0) }
    }

    /// A multi-document stream: each document preceded by `---`.
    public func stream(_ values: [JSON]) -> String {
        String(decoding: streamBytes(values), as: UTF8.self)
    }

    /// A multi-document stream as UTF-8 bytes: each document preceded by `---`.
    public func streamBytes(_ values: [JSON]) -> [UInt8] {
        let sink = ByteSink(capacity: values.count * 1024)
        for value in values {
            sink.append(contentsOf: [0x2D, 0x2D, 0x2D, 0x0A] as [UInt8])  // "---\n"
            write(value, to: sink)
        }
        return sink.withBytes { Array($0) }
    }

    /// One document of a stream: a value to emit, or the bytes of a document emitted earlier
    /// (callers cache the YAML of objects that never change and pass it back verbatim).
    public enum StreamDocument: Sendable {
        case value(JSON)
        case bytes([UInt8])
    }

    /// A multi-document stream (each document preceded by `---`) built in one buffer of at
    /// least `reservingCapacity` bytes; `.bytes` documents are copied as they are.
    public func streamBytes(_ documents: [StreamDocument], reservingCapacity: Int = 0) -> [UInt8] {
        let sink = ByteSink(capacity: max(reservingCapacity, documents.count * 1024))
        for document in documents {
            sink.append(contentsOf: [0x2D, 0x2D, 0x2D, 0x0A] as [UInt8])  // "---\n"
            switch document {
            case .value(let value): write(value, to: sink)
            case .bytes(let bytes): sink.append(contentsOf: bytes)
            }
        }
        return sink.withBytes { Array($0) }
    }

    /// Appends the `---\n` that starts a document of a stream.
    @inlinable public static func appendDocumentSeparator(to out: inout [UInt8]) {
        out.append(contentsOf: [0x2D, 0x2D, 0x2D, 0x0A] as [UInt8])
    }

    /// Appends one document to `out`.
    public func write(_ value: JSON, to out: inout [UInt8]) {
        // Emit into a raw buffer (appends without Array's uniqueness and generic-copy
        // overhead), then copy the document over once.
        let sink = ByteSink(capacity: 8192)
        write(value, to: sink)
        sink.withBytes { out.append(contentsOf: $0) }
    }

    func write(_ value: JSON, to out: ByteSink) {
        switch value {
        case .object(let o) where !o.isEmpty:
            writeObject(o, indent: 0, firstInline: false, to: out)
        case .array(let a) where !a.isEmpty:
            writeArray(a, indent: 0, to: out)
        default:
            writeScalar(value, indent: 0, to: out)
            out.append(0x0A)
        }
    }

    // MARK: - Block structure

    /// Object members at `indent`; the first line's indentation is assumed written when
    /// `firstInline` is set (the `- ` of a sequence item).
    private func writeObject(_ o: JSONObject, indent: Int, firstInline: Bool, to out: ByteSink) {
        if sortedKeys {
            var first = true
            for key in o.keys.sorted() {
                guard let value = o[key] else { continue }
                if !(first && firstInline) { YAMLWriter.pad(indent, out) }
                first = false
                writeMember(key, value, indent: indent, to: out)
            }
            return
        }
        // Insertion order: walk the key and value storage side by side (no hashing).
        let keys = o.keys.elements
        let values = o.values.elements
        for i in keys.indices {
            if i != 0 || !firstInline { YAMLWriter.pad(indent, out) }
            writeMember(keys[i], values[i], indent: indent, to: out)
        }
    }

    @inline(__always)
    private func writeMember(_ key: String, _ value: JSON, indent: Int, to out: ByteSink) {
        YAMLWriter.writeString(key, indent: indent, allowBlock: false, to: out)
        switch value {
        case .object(let child) where !child.isEmpty:
            out.append(contentsOf: [0x3A, 0x0A] as [UInt8])  // ":\n"
            writeObject(child, indent: indent + 2, firstInline: false, to: out)
        case .array(let child) where !child.isEmpty:
            out.append(contentsOf: [0x3A, 0x0A] as [UInt8])
            writeArray(child, indent: indent, to: out)
        default:
            out.append(contentsOf: [0x3A, 0x20] as [UInt8])  // ": "
            writeScalar(value, indent: indent, to: out)
            out.append(0x0A)
        }
    }

    private func writeArray(_ a: [JSON], indent: Int, to out: ByteSink) {
        for element in a {
            YAMLWriter.pad(indent, out)
            switch element {
            case .object(let child) where !child.isEmpty:
                out.append(contentsOf: [0x2D, 0x20] as [UInt8])  // "- "
                writeObject(child, indent: indent + 2, firstInline: true, to: out)
            case .array(let child) where !child.isEmpty:
                // Nested sequence: start it on the next line.
                out.append(contentsOf: [0x2D, 0x0A] as [UInt8])
                writeArray(child, indent: indent + 2, to: out)
            default:
                out.append(contentsOf: [0x2D, 0x20] as [UInt8])
                writeScalar(element, indent: indent, to: out)
                out.append(0x0A)
            }
        }
    }

    private func writeScalar(_ value: JSON, indent: Int, to out: ByteSink) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C] as [UInt8])  // null
        case .bool(let b):
            if b {
                out.append(contentsOf: [0x74, 0x72, 0x75, 0x65] as [UInt8])  // true
            } else {
                out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65] as [UInt8])  // false
            }
        case .int(let i): YAMLWriter.appendInt(i, to: out)
        case .double(let d):
            var text: [UInt8] = []
            JSON.writeDouble(d, to: &text)
            out.append(contentsOf: text)
        case .string(let s): YAMLWriter.writeString(s, indent: indent, allowBlock: true, to: out)
        case .array: out.append(contentsOf: [0x5B, 0x5D] as [UInt8])  // []
        case .object: out.append(contentsOf: [0x7B, 0x7D] as [UInt8])  // {}
        }
    }

    /// Enough spaces for any realistic nesting; deeper levels append the rest in a loop.
    private static let spaces = [UInt8](repeating: 0x20, count: 128)

    @inline(__always)
    static func pad(_ n: Int, _ out: ByteSink) {
        guard n > 0 else { return }
        if n <= 128 {
            spaces.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<n])) }
        } else {
            for _ in 0..<n { out.append(0x20) }
        }
    }

    /// Decimal digits without going through `String`.
    static func appendInt(_ value: Int64, to out: ByteSink) {
        if value >= 0 && value < 10 {
            out.append(UInt8(truncatingIfNeeded: 0x30 &+ value))
            return
        }
        // 20 digits + sign cover Int64.min.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { buffer in
            var magnitude = value.magnitude
            var i = 21
            repeat {
                i -= 1
                buffer[i] = UInt8(truncatingIfNeeded: 0x30 &+ magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<21]))
        }
    }

    // MARK: - Strings

    /// Writes a string plain when that reads back as the same string, as a literal block for
    /// multi-line text, double-quoted otherwise.
    public static func writeString(_ s: String, indent: Int, allowBlock: Bool, to out: inout [UInt8]) {
        let sink = ByteSink(capacity: s.utf8.count + 16)
        writeString(s, indent: indent, allowBlock: allowBlock, to: sink)
        sink.withBytes { out.append(contentsOf: $0) }
    }

    static func writeString(_ s: String, indent: Int, allowBlock: Bool, to out: ByteSink) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { bytes in
            writeString(bytes, original: s, indent: indent, allowBlock: allowBlock, to: out)
        }
        if done == nil {
            // Not contiguous UTF-8 (bridged storage): make a native copy once.
            var copy = s
            copy.makeContiguousUTF8()
            _ = copy.utf8.withContiguousStorageIfAvailable { bytes in
                writeString(bytes, original: copy, indent: indent, allowBlock: allowBlock, to: out)
            }
        }
    }

    private static func writeString(
        _ bytes: UnsafeBufferPointer<UInt8>, original s: String, indent: Int, allowBlock: Bool, to out: ByteSink
    ) {
        let scan = ByteScan(bytes)
        if scan.isPlainSafe(bytes) {
            out.append(contentsOf: bytes)
            return
        }
        if !scan.isASCII {
            // Rare: the Unicode-aware original rules decide (grapheme-level splitting, escapes).
            writeNonASCII(s, indent: indent, allowBlock: allowBlock, to: out)
            return
        }
        if allowBlock, scan.hasNewline, !scan.literalBlockers, canUseLiteralBlockASCII(bytes) {
            writeLiteralBlock(bytes, indent: indent, to: out)
            return
        }
        writeDoubleQuotedASCII(bytes, to: out)
    }

    /// One pass over a string's bytes, collecting what the style decision needs.
    private struct ByteScan {
        var isASCII = true
        var hasNewline = false
        /// Something a literal block cannot hold: a control other than newline, DEL, or a
        /// space right before a newline (a line ending in a space).
        var literalBlockers = false
        /// No control or non-ASCII byte, no `: ` and no ` #`.
        var plainBytes = true
        /// Every byte is one a YAML number / timestamp / special float may contain.
        var numericBytes = true

        @inline(__always) init(_ bytes: UnsafeBufferPointer<UInt8>) {
            // Only strings that start like a number can look like one: check those (short) ones.
            if let first = bytes.first, YAMLWriter.startsNumeric(first) {
                numericBytes = bytes.allSatisfy(YAMLWriter.isNumericByte)
            } else {
                numericBytes = false
            }
            // Fast pass, 8 bytes at a time: identifier-like strings (no control, space, `#`,
            // `:`, DEL or non-ASCII byte) are done here.
            if !YAMLWriter.needsDetailedScan(bytes) { return }
            var previous: UInt8 = 0
            for b in bytes {
                if b >= 0x80 {
                    isASCII = false
                    plainBytes = false
                } else if b < 0x20 || b == 0x7F {
                    plainBytes = false
                    if b == 0x0A {
                        hasNewline = true
                        if previous == 0x20 { literalBlockers = true }
                    } else {
                        literalBlockers = true
                    }
                } else if (b == 0x20 && previous == 0x3A) || (b == 0x23 && previous == 0x20) {
                    plainBytes = false
                }
                previous = b
            }
        }

        /// The rules of `YAMLWriter.isPlainSafe`, on the scanned bytes.
        @inline(__always) func isPlainSafe(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard plainBytes, let first = bytes.first, let last = bytes.last else { return false }
            if last == 0x20 || last == UInt8(ascii: ":") { return false }
            let looksNumeric = numericBytes && YAMLWriter.startsNumeric(first)
            if YAMLWriter.isIndicator(first) {
                // "-foo" is plain-safe unless it could be a number or a sequence entry.
                guard first == UInt8(ascii: "-"), bytes.count > 1, !looksNumeric else { return false }
                let second = bytes[1]
                if second == 0x20 || second == UInt8(ascii: "-") { return false }
            }
            if looksNumeric { return false }
            if bytes.count <= 5 && YAMLWriter.isReserved(bytes) { return false }
            return true
        }
    }

    @inline(__always) static func isIndicator(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
            UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
            UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), 0x20:
            return true
        default:
            return false
        }
    }

    @inline(__always) static func startsNumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// Whether any byte needs the detailed rules (bit 0 of `byteClass`), tested a 64-bit word
    /// at a time with the classic "has a byte less than n / equal to c" bit tricks.
    @inline(__always) static func needsDetailedScan(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var i = 0
        while i + 8 <= count {
            if wordNeedsDetail(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
            i += 8
        }
        while i < count {
            if byteClass(base[i]) & 1 != 0 { return true }
            i += 1
        }
        return false
    }

    @inline(__always) static func wordNeedsDetail(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & high }
        var found = w & high  // non-ASCII
        found |= (w &- ones &* 0x21) & ~w & high  // a byte below 0x21: control or space
        found |= hasZeroByte(w ^ (ones &* 0x23)) | hasZeroByte(w ^ (ones &* 0x3A)) | hasZeroByte(w ^ (ones &* 0x7F))
        return found != 0
    }

    /// Class bits of a byte for `ByteScan`, from two 64-bit masks per half of ASCII (no table
    /// load): bit 0 = needs the detailed rules, bit 1 = never part of a number.
    @inline(__always) static func byteClass(_ b: UInt8) -> UInt8 {
        guard b < 0x80 else { return 3 }
        // Detailed rules: 0x00-0x1F, space, '#', ':' (low half); DEL (high half).
        let detailLow: UInt64 = 0x0400_0009_FFFF_FFFF
        let detailHigh: UInt64 = 0x8000_0000_0000_0000
        // Numeric bytes (see `isNumericByte`; a test checks both agree): digits + - . : space
        // (low half); _ a-f A-F x X o O i n I N T Z (high half).
        let numericLow: UInt64 = 0x07FF_6801_0000_0000
        let numericHigh: UInt64 = 0x0100_C27E_8510_C27E
        let bit = UInt64(b & 0x3F)
        let detail = b < 0x40 ? (detailLow >> bit) & 1 : (detailHigh >> bit) & 1
        let numeric = b < 0x40 ? (numericLow >> bit) & 1 : (numericHigh >> bit) & 1
        return UInt8(truncatingIfNeeded: detail | ((numeric ^ 1) << 1))
    }

    @inline(__always) static func isNumericByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: ":"), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "x"), UInt8(ascii: "X"),
            UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "a")...UInt8(ascii: "d"),
            UInt8(ascii: "A")...UInt8(ascii: "D"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "i"),
            UInt8(ascii: "n"), UInt8(ascii: "I"), UInt8(ascii: "N"), UInt8(ascii: "T"), UInt8(ascii: "Z"),
            UInt8(ascii: " "):
            return true
        default:
            return false
        }
    }

    /// Words a YAML 1.1 resolver reads as null / bool / merge key (all at most 5 bytes) and the
    /// empty string: `~ null Null NULL true True TRUE false False FALSE yes Yes YES no No NO on
    /// On ON off Off OFF y Y n N = <<`, compared as little-endian packed bytes (no hashing).
    @inline(__always) static func isReserved(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return true }
        guard bytes.count <= 5 else { return false }
        var packed: UInt64 = 0
        for (i, b) in bytes.enumerated() { packed |= UInt64(b) << (8 * UInt64(i)) }
        switch packed {
        case 0x7E,  // ~
            0x6C6C_756E,  // null
            0x6C6C_754E,  // Null
            0x4C4C_554E,  // NULL
            0x6575_7274,  // true
            0x6575_7254,  // True
            0x4555_5254,  // TRUE
            0x65_736C_6166,  // false
            0x65_736C_6146,  // False
            0x45_534C_4146,  // FALSE
            0x736579,  // yes
            0x736559,  // Yes
            0x534559,  // YES
            0x6F6E,  // no
            0x6F4E,  // No
            0x4F4E,  // NO
            0x6E6F,  // on
            0x6E4F,  // On
            0x4E4F,  // ON
            0x66666F,  // off
            0x66664F,  // Off
            0x46464F,  // OFF
            0x79,  // y
            0x59,  // Y
            0x6E,  // n
            0x4E,  // N
            0x3D,  // =
            0x3C3C:  // <<
            return true
        default:
            return false
        }
    }

    /// Whether `s` written plain reads back as this very string in YAML 1.1 and 1.2 parsers.
    public static func isPlainSafe(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in ByteScan(bytes).isPlainSafe(bytes) }
    }

    /// Literal blocks need every line free of leading/trailing whitespace surprises (ASCII
    /// text with a newline, no control but newline, no line ending in a space — `ByteScan`
    /// checked those; see `canUseLiteralBlock` for the general rules).
    private static func canUseLiteralBlockASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = b.count
        if end > 0 && b[end - 1] == 0x0A { end -= 1 }
        // Several trailing newlines: keep-chomping is fragile.
        if end == 0 || b[end - 1] == 0x0A { return false }
        if b[0] == 0x20 || b[0] == 0x0A { return false }
        return b[end - 1] != 0x20
    }

    /// `|` (one trailing newline) or `|-` (none), then the lines indented by `indent + 2`;
    /// empty lines stay empty. The caller ends the last line.
    private static func writeLiteralBlock(_ b: UnsafeBufferPointer<UInt8>, indent: Int, to out: ByteSink) {
        var end = b.count
        if b[end - 1] == 0x0A {
            out.append(contentsOf: [0x7C, 0x0A] as [UInt8])  // "|\n"
            end -= 1
        } else {
            out.append(contentsOf: [0x7C, 0x2D, 0x0A] as [UInt8])  // "|-\n"
        }
        var lineStart = 0
        while true {
            var lineEnd = lineStart
            while lineEnd < end && b[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd > lineStart {
                pad(indent + 2, out)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[lineStart..<lineEnd]))
            }
            if lineEnd >= end { break }
            out.append(0x0A)
            lineStart = lineEnd + 1
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeDoubleQuotedASCII(_ b: UnsafeBufferPointer<UInt8>, to out: ByteSink) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<b.count {
            let c = b[i]
            let escape: UInt8
            switch c {
            case UInt8(ascii: "\""): escape = UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x09: escape = UInt8(ascii: "t")
            case 0..<0x20, 0x7F: escape = 0
            default: continue
            }
            if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i])) }
            runStart = i + 1
            if escape != 0 {
                out.append(UInt8(ascii: "\\"))
                out.append(escape)
            } else {
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30] as [UInt8])
                out.append(hexDigits[Int(c >> 4)])
                out.append(hexDigits[Int(c & 0xF)])
            }
        }
        if b.count > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<b.count])) }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - Non-ASCII strings (Unicode-scalar rules)

    private static func writeNonASCII(_ s: String, indent: Int, allowBlock: Bool, to out: ByteSink) {
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
                    pad(indent + 2, out)
                    out.append(contentsOf: line.utf8)
                }
                out.append(0x0A)
            }
            out.removeLast()  // the caller ends the line
            return
        }
        writeDoubleQuoted(s, to: out)
    }

    static func writeDoubleQuoted(_ s: String, to out: ByteSink) {
        // Non-ASCII text only (rare): per-scalar escapes as before.
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

    /// Conservative: anything a YAML 1.1 or 1.2 resolver might read as a number, timestamp or
    /// special float is quoted.
    static func looksNumeric(_ s: String) -> Bool {
        let utf8 = s.utf8
        guard let first = utf8.first, startsNumeric(first) else { return false }
        return utf8.allSatisfy(isNumericByte)
    }
}

/// The emitter's output: a growable raw byte buffer. Appending is a capacity check and a store
/// or `memcpy`, without `Array`'s uniqueness checks and generic copying per call; the bytes are
/// copied into the caller's `[UInt8]` once per document.
final class ByteSink {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never) private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always) func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    func append(contentsOf text: String.UTF8View) {
        for b in text { append(b) }
    }

    func append(contentsOf text: Substring.UTF8View) {
        for b in text { append(b) }
    }

    func removeLast() {
        precondition(count > 0, "ByteSink.removeLast on an empty buffer")
        count -= 1
    }

    /// The bytes written so far (valid only during `body`).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}

extension JSON {
    /// This value as one YAML document.
    public func yamlString(sortedKeys: Bool = false) -> String {
        YAMLWriter(sortedKeys: sortedKeys).document(self)
    }
}
