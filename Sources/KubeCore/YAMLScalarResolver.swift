import Yams

/// Implicit typing of plain YAML scalars: YAML 1.1 bool, int, float and null as Kubernetes' YAML
/// decoder resolves them (timestamps stay strings).
///
/// These are exactly the patterns of Yams' `Resolver.Rule.bool/.int/.float/.null`, tried in that
/// order, but matched by hand: Yams' rules are `NSRegularExpression`s, and compiling them pulled
/// ICU's regex engine and data into every process that read a single YAML file (the controller
/// reads two at start: kubeconfig and component config), ~2 MiB of resident pages for the
/// process lifetime. Matching semantics follow `^(?:...)$` in ICU: the whole text must match,
/// except that `$` also matches before one final line terminator.
enum YAMLScalarResolver {
    static func resolve(_ text: String) -> Tag.Name {
        var bytes = Array(text.utf8)
        dropFinalLineTerminator(&bytes)
        if isBool(bytes) { return .bool }
        if isInt(bytes) { return .int }
        if isFloat(bytes) { return .float }
        if isNull(bytes) { return .null }
        return .str
    }

    /// ICU's `$` (without MULTILINE) matches at the end and before a line terminator that ends
    /// the input: \n \v \f \r, \r\n, U+0085, U+2028, U+2029.
    static func dropFinalLineTerminator(_ b: inout [UInt8]) {
        guard let last = b.last else { return }
        switch last {
        case 0x0A:
            b.removeLast()
            if b.last == 0x0D { b.removeLast() }
        case 0x0B, 0x0C, 0x0D:
            b.removeLast()
        case 0x85 where b.count >= 2 && b[b.count - 2] == 0xC2:
            b.removeLast(2)
        case 0xA8 where b.count >= 3 && b[b.count - 3] == 0xE2 && b[b.count - 2] == 0x80,
            0xA9 where b.count >= 3 && b[b.count - 3] == 0xE2 && b[b.count - 2] == 0x80:
            b.removeLast(3)
        default:
            break
        }
    }

    private static let boolWords: [[UInt8]] = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ].map { Array($0.utf8) }

    private static let nullWords: [[UInt8]] = ["~", "null", "Null", "NULL", ""].map { Array($0.utf8) }

    /// `yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`
    static func isBool(_ b: [UInt8]) -> Bool { boolWords.contains(b) }

    /// `~|null|Null|NULL|` (the empty scalar is null)
    static func isNull(_ b: [UInt8]) -> Bool { nullWords.contains(b) }

    /// ```
    /// [-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    /// | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    /// ```
    static func isInt(_ b: [UInt8]) -> Bool {
        var s = Scanner(b)
        s.skipSign()
        let body = s.i
        if s.take("0") {
            if s.atEnd { return true }  // 0
            if s.take("b") { return s.takeAll(oneOrMore: { $0 == 0x30 || $0 == 0x31 || $0 == 0x5F }) }
            if s.take("x") { return s.takeAll(oneOrMore: { isHexDigit($0) || $0 == 0x5F }) }
            _ = s.take("o")  // 0o17 and the bare-zero octal 017
            return s.takeAll(oneOrMore: { (0x30...0x37).contains($0) || $0 == 0x5F })
        }
        s.i = body
        guard s.take(where: { (0x31...0x39).contains($0) }) else { return false }
        s.skip(while: { isDigit($0) || $0 == 0x5F })
        if s.atEnd { return true }
        // Sexagesimal 1:30:00.
        return s.takeSexagesimalGroups() && s.atEnd
    }

    /// ```
    /// [-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    /// ```
    static func isFloat(_ b: [UInt8]) -> Bool {
        // \.(?:nan|NaN|NAN) and \.[0-9_]+(?:[eE][-+][0-9]+)? (no sign)
        if b.first == 0x2E {
            let rest = Array(b.dropFirst())
            if rest == Array("nan".utf8) || rest == Array("NaN".utf8) || rest == Array("NAN".utf8) { return true }
            var s = Scanner(rest)
            if s.takeAll(oneOrMore: { isDigit($0) || $0 == 0x5F }) { return true }
            s = Scanner(rest)
            if s.takeRun(oneOrMore: { isDigit($0) || $0 == 0x5F }), s.take(where: { $0 == 0x65 || $0 == 0x45 }),
                s.take(where: { $0 == 0x2B || $0 == 0x2D }), s.takeAll(oneOrMore: isDigit)
            {
                return true
            }
        }
        var s = Scanner(b)
        s.skipSign()
        let afterSign = s.i
        // [-+]?\.(?:inf|Inf|INF)
        if s.take(".") {
            let rest = Array(b[s.i...])
            return rest == Array("inf".utf8) || rest == Array("Inf".utf8) || rest == Array("INF".utf8)
        }
        s.i = afterSign
        guard s.take(where: isDigit) else { return false }
        s.skip(while: { isDigit($0) || $0 == 0x5F })
        let afterInteger = s.i
        // [0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        if s.take(".") { s.skip(while: { isDigit($0) || $0 == 0x5F }) }
        if s.atEnd { return true }
        if s.take(where: { $0 == 0x65 || $0 == 0x45 }) {
            _ = s.take(where: { $0 == 0x2B || $0 == 0x2D })
            if s.takeAll(oneOrMore: isDigit) { return true }
        }
        // [0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        s.i = afterInteger
        guard s.takeSexagesimalGroups(), s.take(".") else { return false }
        s.skip(while: { isDigit($0) || $0 == 0x5F })
        return s.atEnd
    }

    static func isDigit(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) }

    static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (0x61...0x66).contains(c) || (0x41...0x46).contains(c)
    }

    /// A cursor over the scalar's bytes; every pattern above is deterministic (no alternative
    /// needs backtracking once the prefix is known), so one forward pass per branch suffices.
    struct Scanner {
        let b: [UInt8]
        var i = 0

        init(_ b: [UInt8]) { self.b = b }

        var atEnd: Bool { i == b.count }

        mutating func skipSign() { _ = take(where: { $0 == 0x2B || $0 == 0x2D }) }

        mutating func take(_ ascii: Unicode.Scalar) -> Bool { take(where: { $0 == UInt8(ascii: ascii) }) }

        mutating func take(where predicate: (UInt8) -> Bool) -> Bool {
            guard i < b.count, predicate(b[i]) else { return false }
            i += 1
            return true
        }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while i < b.count, predicate(b[i]) { i += 1 }
        }

        /// At least one byte matching `predicate`.
        mutating func takeRun(oneOrMore predicate: (UInt8) -> Bool) -> Bool {
            guard take(where: predicate) else { return false }
            skip(while: predicate)
            return true
        }

        /// At least one byte, and every remaining byte, match `predicate`.
        mutating func takeAll(oneOrMore predicate: (UInt8) -> Bool) -> Bool {
            takeRun(oneOrMore: predicate) && atEnd
        }

        /// `(?::[0-5]?[0-9])+`. Two digits are taken when the first is 0-5: what may follow a
        /// group (`:`, `.` or the end) is never a digit, so the shorter choice could not match.
        mutating func takeSexagesimalGroups() -> Bool {
            var groups = 0
            while i < b.count, b[i] == 0x3A {
                let start = i
                i += 1
                guard take(where: isDigit) else {
                    i = start
                    break
                }
                if i < b.count, isDigit(b[i]), (0x30...0x35).contains(b[i - 1]) { i += 1 }
                groups += 1
            }
            return groups > 0
        }
    }
}
