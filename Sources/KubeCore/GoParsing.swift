// Go-compatible text forms shared by every module: messages and annotations must read exactly as
// the Go implementations print and parse them (error messages are compared byte for byte).

/// Go's `strconv.ParseBool`: `1`, `t`, `T`, `TRUE`, `true`, `True` are true; `0`, `f`, `F`,
/// `FALSE`, `false`, `False` are false; anything else is `nil` (invalid syntax).
public func parseGoBool(_ s: String) -> Bool? {
    switch s {
    case "1", "t", "T", "true", "TRUE", "True": return true
    case "0", "f", "F", "false", "FALSE", "False": return false
    default: return nil
    }
}

/// Go's `%q` formatting of a string (double quotes, backslash escapes for quotes, control and
/// non-printable characters).
public func goQuote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{0B}": out += "\\v"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + hex2(scalar.value)
            } else if (0x80...0x9F).contains(scalar.value) || scalar.value == 0xFFFD {
                out += scalar.value == 0xFFFD ? "\u{FFFD}" : "\\u00" + hex2(scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

private func hex2(_ v: UInt32) -> String {
    let digits = Array("0123456789abcdef")
    return String(digits[Int((v >> 4) & 0xF)]) + String(digits[Int(v & 0xF)])
}

/// Go's `time.Duration.String()` for non-negative durations (`500ms`, `30s`, `1m0s`, `1h0m0s`).
public func goDuration(_ d: Duration) -> String {
    let c = d.components
    let totalNanos = Int64(c.seconds) * 1_000_000_000 + c.attoseconds / 1_000_000_000
    if totalNanos == 0 { return "0s" }
    let negative = totalNanos < 0
    var n = negative ? -totalNanos : totalNanos
    var out: String
    if n < 1_000_000_000 {
        // Sub-second: pick the largest unit with a non-zero integer part.
        let (unit, div): (String, Int64) = n < 1000 ? ("ns", 1) : n < 1_000_000 ? ("µs", 1000) : ("ms", 1_000_000)
        out = fraction(n, div) + unit
    } else {
        let hours = n / 3_600_000_000_000
        n -= hours * 3_600_000_000_000
        let minutes = n / 60_000_000_000
        n -= minutes * 60_000_000_000
        out = fraction(n, 1_000_000_000) + "s"
        if hours > 0 {
            out = "\(hours)h\(minutes)m" + out
        } else if minutes > 0 {
            out = "\(minutes)m" + out
        }
    }
    return negative ? "-" + out : out
}

private func fraction(_ value: Int64, _ div: Int64) -> String {
    let whole = value / div
    var rest = value % div
    guard rest != 0 else { return String(whole) }
    var digits = ""
    var d = div
    while rest != 0 && d > 1 {
        d /= 10
        digits.append(String(rest / d))
        rest %= d
    }
    return "\(whole).\(digits)"
}
