/// A syntax checker for Go RE2 regular expressions (`regexp.Compile`, Perl flags), used to
/// validate `interface=` / `skip-interface=` autodetection parameters without a regex engine.
/// Error messages follow Go's `regexp/syntax` (`error parsing regexp: <code>: `<expr>``).
public enum RE2Syntax {
    /// Returns nil when `pattern` compiles in Go, else Go's error text.
    public static func compileError(_ pattern: String) -> String? {
        var p = Parser(Array(pattern.unicodeScalars))
        if let e = p.parse() { return "error parsing regexp: \(e.code): `\(e.expr)`" }
        return nil
    }

    struct Failure {
        var code: String
        var expr: String
    }

    struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var depth = 0
        var names = Set<String>()

        init(_ s: [Unicode.Scalar]) { self.s = s }

        func text(_ from: Int, _ to: Int) -> String {
            var out = ""
            out.unicodeScalars.append(contentsOf: s[max(0, from)..<min(to, s.count)])
            return out
        }
        var whole: String { text(0, s.count) }

        mutating func parse() -> Failure? {
            // `canRepeat` tracks whether the previous item can take a repetition operator;
            // `lastRepeatStart` is where the previous repetition operator began (nested check).
            var canRepeat = false
            var lastRepeatStart: Int? = nil
            while i < s.count {
                let c = s[i]
                var thisRepeatStart: Int? = nil
                switch c {
                case "(":
                    depth += 1
                    if depth > 1000 { return Failure(code: "expression nests too deeply", expr: whole) }
                    if i + 1 < s.count && s[i + 1] == "?" {
                        if let f = parsePerlGroup() { return f }
                        canRepeat = false
                        lastRepeatStart = nil
                    } else {
                        i += 1
                        openParens += 1
                        canRepeat = false
                        lastRepeatStart = nil
                        continue
                    }
                    continue
                case ")":
                    guard openParens > 0 else { return Failure(code: "unexpected )", expr: whole) }
                    openParens -= 1
                    depth -= 1
                    i += 1
                    canRepeat = true
                case "|":
                    i += 1
                    canRepeat = false
                case "^", "$":
                    i += 1
                    canRepeat = true
                case "*", "+", "?":
                    let start = i
                    i += 1
                    if i < s.count && s[i] == "?" { i += 1 }  // non-greedy
                    if let last = lastRepeatStart {
                        return Failure(code: "invalid nested repetition operator", expr: text(last, i))
                    }
                    guard canRepeat else { return Failure(code: "missing argument to repetition operator", expr: text(start, i)) }
                    thisRepeatStart = start
                case "{":
                    let start = i
                    if let (lo, hi, end) = parseRepeat(at: i) {
                        i = end
                        if i < s.count && s[i] == "?" { i += 1 }
                        if let last = lastRepeatStart {
                            return Failure(code: "invalid nested repetition operator", expr: text(last, i))
                        }
                        guard canRepeat else { return Failure(code: "missing argument to repetition operator", expr: text(start, i)) }
                        if lo > 1000 || (hi ?? lo) > 1000 || (hi != nil && hi! < lo) {
                            return Failure(code: "invalid repeat count", expr: text(start, end))
                        }
                        thisRepeatStart = start
                    } else {
                        i += 1  // literal {
                        canRepeat = true
                    }
                case "[":
                    if let f = parseClass() { return f }
                    canRepeat = true
                case "\\":
                    if let f = parseEscapeAtom() { return f }
                    canRepeat = true
                default:
                    i += 1
                    canRepeat = true
                }
                lastRepeatStart = thisRepeatStart
            }
            if openParens > 0 { return Failure(code: "missing closing )", expr: whole) }
            return nil
        }

        /// `(?flags)`, `(?flags:`, `(?P<name>`, `(?<name>`.
        mutating func parsePerlGroup() -> Failure? {
            let start = i
            var j = i + 2
            // Named captures.
            var nameStart: Int? = nil
            if j + 1 < s.count && s[j] == "P" && s[j + 1] == "<" { nameStart = j + 2 } else if j < s.count && s[j] == "<" { nameStart = j + 1 }
            if let ns = nameStart {
                guard let close = s[ns...].firstIndex(of: ">") else {
                    return Failure(code: "invalid named capture", expr: text(start, s.count))
                }
                let name = text(ns, close)
                let valid =
                    !name.isEmpty
                    && name.unicodeScalars.allSatisfy {
                        $0 == "_" || ($0.properties.isAlphabetic || $0.properties.numericType != nil) && $0.isASCII || $0.properties.isAlphabetic
                    }
                if !valid { return Failure(code: "invalid named capture", expr: text(start, close + 1)) }
                if names.contains(name) { return Failure(code: "duplicate capture group name", expr: name) }
                names.insert(name)
                i = close + 1
                openGroup()
                return nil
            }
            // Flags.
            var sawFlag = false
            var negated = false
            while j < s.count {
                let c = s[j]
                switch c {
                case "i", "m", "s", "U":
                    sawFlag = true
                    j += 1
                case "-":
                    if negated { return Failure(code: "invalid or unsupported Perl syntax", expr: text(start, j + 1)) }
                    negated = true
                    sawFlag = false
                    j += 1
                case ":", ")":
                    if negated && !sawFlag { return Failure(code: "invalid or unsupported Perl syntax", expr: text(start, j + 1)) }
                    if c == ":" {
                        i = j + 1
                        openGroup()
                    } else {
                        i = j + 1
                        depth -= 1
                    }
                    return nil
                default:
                    return Failure(code: "invalid or unsupported Perl syntax", expr: text(start, j + 1))
                }
            }
            return Failure(code: "missing closing )", expr: text(start, s.count))
        }

        /// Number of groups opened and not yet closed.
        var openParens = 0
        mutating func openGroup() { openParens += 1 }

        /// `{n}`, `{n,}`, `{n,m}`; nil when not a repetition (then `{` is a literal).
        func parseRepeat(at start: Int) -> (Int, Int?, Int)? {
            var j = start + 1
            func number() -> Int? {
                let b = j
                var v = 0
                while j < s.count, let d = s[j].properties.numericType != nil && s[j].isASCII ? Int(String(s[j])) : nil {
                    v = min(v * 10 + d, 100_000)
                    j += 1
                }
                return j > b ? v : nil
            }
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if j < s.count && s[j] == "," {
                j += 1
                if j < s.count && s[j] == "}" {
                    hi = nil
                } else {
                    guard let h = number() else { return nil }
                    hi = h
                }
            }
            guard j < s.count && s[j] == "}" else { return nil }
            return (lo, hi == nil ? nil : hi, j + 1)
        }

        /// An escape outside a class.
        mutating func parseEscapeAtom() -> Failure? {
            let start = i
            guard i + 1 < s.count else { return Failure(code: "trailing backslash at end of expression", expr: "") }
            let c = s[i + 1]
            switch c {
            case "A", "z", "b", "B", "d", "D", "s", "S", "w", "W":
                i += 2
                return nil
            case "Q":
                // Literal text up to \E or the end.
                i += 2
                while i < s.count {
                    if s[i] == "\\" && i + 1 < s.count && s[i + 1] == "E" {
                        i += 2
                        return nil
                    }
                    i += 1
                }
                return nil
            case "p", "P":
                return parseUnicodeClass(start)
            default:
                if let f = parseEscape() { return f }
                _ = start
                return nil
            }
        }

        /// `\pL`, `\p{Greek}`, `\P{^Greek}`.
        mutating func parseUnicodeClass(_ start: Int) -> Failure? {
            var j = start + 2
            guard j < s.count else { return Failure(code: "invalid character class range", expr: text(start, j)) }
            var name: String
            if s[j] == "{" {
                guard let close = s[j...].firstIndex(of: "}") else {
                    return Failure(code: "invalid character class range", expr: text(start, s.count))
                }
                name = text(j + 1, close)
                j = close + 1
            } else {
                name = text(j, j + 1)
                j += 1
            }
            if name.hasPrefix("^") { name.removeFirst() }
            guard Self.unicodeClassNames.contains(name) else {
                return Failure(code: "invalid character class range", expr: text(start, j))
            }
            i = j
            return nil
        }

        /// A single-character escape (shared by atoms and classes); advances `i`.
        mutating func parseEscape() -> Failure? {
            let start = i
            guard i + 1 < s.count else { return Failure(code: "trailing backslash at end of expression", expr: "") }
            let c = s[i + 1]
            i += 2
            switch c {
            case "a", "f", "t", "n", "r", "v":
                return nil
            case "1", "2", "3", "4", "5", "6", "7", "0":
                if c != "0" && !(i < s.count && ("0"..."7").contains(s[i])) {
                    return Failure(code: "invalid escape sequence", expr: text(start, i))
                }
                var k = 0
                while k < 2 && i < s.count && ("0"..."7").contains(s[i]) {
                    i += 1
                    k += 1
                }
                return nil
            case "x":
                guard i < s.count else { return Failure(code: "invalid escape sequence", expr: text(start, i)) }
                if s[i] == "{" {
                    var j = i + 1
                    var v = 0
                    var n = 0
                    while j < s.count, let d = Int(String(s[j]), radix: 16), s[j].isASCII {
                        v = v * 16 + d
                        n += 1
                        j += 1
                        if v > 0x10FFFF { return Failure(code: "invalid escape sequence", expr: text(start, j)) }
                    }
                    guard n > 0, j < s.count, s[j] == "}" else {
                        return Failure(code: "invalid escape sequence", expr: text(start, min(j + 1, s.count)))
                    }
                    i = j + 1
                    return nil
                }
                guard i + 1 < s.count, Int(String(s[i]), radix: 16) != nil, Int(String(s[i + 1]), radix: 16) != nil,
                    s[i].isASCII, s[i + 1].isASCII
                else {
                    return Failure(code: "invalid escape sequence", expr: text(start, min(i + 2, s.count)))
                }
                i += 2
                return nil
            default:
                // Punctuation may be escaped; letters and digits not listed above may not.
                if c.isASCII && !(c.properties.isAlphabetic || ("0"..."9").contains(c)) { return nil }
                return Failure(code: "invalid escape sequence", expr: text(start, i))
            }
        }

        /// `[...]` character class.
        mutating func parseClass() -> Failure? {
            let classStart = i
            i += 1
            if i < s.count && s[i] == "^" { i += 1 }
            var first = true
            while i >= s.count || s[i] != "]" || first {
                guard i < s.count else { return Failure(code: "missing closing ]", expr: text(classStart, s.count)) }
                first = false
                // POSIX class [:alpha:].
                if i + 1 < s.count && s[i] == "[" && s[i + 1] == ":" {
                    if let end = findPosixEnd(i) {
                        var name = text(i + 2, end)
                        if name.hasPrefix("^") { name.removeFirst() }
                        guard Self.posixNames.contains(name) else {
                            return Failure(code: "invalid character class range", expr: text(i, end + 2))
                        }
                        i = end + 2
                        continue
                    }
                }
                if s[i] == "\\" && i + 1 < s.count && (s[i + 1] == "p" || s[i + 1] == "P") {
                    if let f = parseUnicodeClass(i) { return f }
                    continue
                }
                if s[i] == "\\" && i + 1 < s.count && "dDsSwW".unicodeScalars.contains(s[i + 1]) {
                    i += 2
                    continue
                }
                let rangeStart = i
                guard let lo = classChar(classStart) else { return failure }
                if i + 1 < s.count && s[i] == "-" && s[i + 1] != "]" {
                    i += 1
                    guard let hi = classChar(classStart) else { return failure }
                    if hi < lo { return Failure(code: "invalid character class range", expr: text(rangeStart, i)) }
                }
            }
            i += 1
            return nil
        }

        var failure: Failure? = nil

        /// One class character (literal or escape); nil on failure (set in `failure`).
        mutating func classChar(_ classStart: Int) -> UInt32? {
            guard i < s.count else {
                failure = Failure(code: "missing closing ]", expr: text(classStart, s.count))
                return nil
            }
            if s[i] == "\\" {
                let start = i
                if let f = parseEscape() {
                    failure =
                        f.code == "trailing backslash at end of expression" ? Failure(code: "missing closing ]", expr: text(classStart, s.count)) : f
                    return nil
                }
                return escapeValue(start)
            }
            let v = s[i].value
            i += 1
            return v
        }

        /// The code point of an already validated escape between `start` and `i`.
        func escapeValue(_ start: Int) -> UInt32 {
            let body = text(start + 1, i)
            switch body {
            case "a": return 7
            case "f": return 12
            case "t": return 9
            case "n": return 10
            case "r": return 13
            case "v": return 11
            default: break
            }
            if body.hasPrefix("x{") { return UInt32(body.dropFirst(2).dropLast(), radix: 16) ?? 0 }
            if body.hasPrefix("x") { return UInt32(body.dropFirst(), radix: 16) ?? 0 }
            if let f = body.unicodeScalars.first, ("0"..."7").contains(f) { return UInt32(body, radix: 8) ?? 0 }
            return body.unicodeScalars.first?.value ?? 0
        }

        func findPosixEnd(_ from: Int) -> Int? {
            var j = from + 2
            while j + 1 < s.count {
                if s[j] == ":" && s[j + 1] == "]" { return j }
                j += 1
            }
            return nil
        }

        static let posixNames: Set<String> = [
            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit",
        ]
        static let unicodeClassNames: Set<String> = [
            "Any", "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
            "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Latin", "Greek", "Cyrillic", "Han", "Arabic",
            "Hebrew", "Hiragana", "Katakana", "Hangul", "Thai", "Armenian", "Georgian", "Devanagari", "Bengali", "Common", "Inherited",
        ]
    }
}
