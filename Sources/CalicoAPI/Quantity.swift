import KubeCore

/// A Kubernetes resource quantity (`100m`, `128Mi`, `1.5`, `2e3`), parsed exactly enough to
/// compare with zero, check integrality and print the canonical form Kubernetes prints
/// (`0.1` → `100m`, `1000` → `1k`, `1.5Gi` → `1536Mi`).
///
/// The value is kept as `mantissa × 10^exponent` (decimal) with sub-nano precision rounded up
/// away from zero, as `resource.ParseQuantity` does.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// The suffix family of the original text; decides the canonical printing.
    public enum Format: String, Sendable, Hashable {
        case decimalSI = "DecimalSI"
        case binarySI = "BinarySI"
        case decimalExponent = "DecimalExponent"
    }

    /// The text as written by the user (numbers from JSON are rendered to text first).
    public let original: String
    /// The suffix style the quantity was written in (kept when serialising).
    public let format: Format
    /// value = mantissa × 10^exponent.
    let mantissa: Int64
    let exponent: Int32

    /// The regular expression quoted in Kubernetes' parse error.
    public static let syntaxMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

    /// A parse failure; `description` matches Kubernetes' message.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The message.
        public var description: String
    }

    /// Parses a quantity string.
    public init(parsing text: String) throws(ParseError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            throw ParseError(description: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        }
        var i = 0
        var negative = false
        if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        // Whole and fractional digits.
        var digits: [UInt8] = []
        var fractionDigits = 0
        var sawDot = false
        var sawDigit = false
        while i < bytes.count {
            let c = bytes[i]
            if c >= 48 && c <= 57 {
                digits.append(c - 48)
                if sawDot { fractionDigits += 1 }
                sawDigit = true
            } else if c == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else {
                break
            }
            i += 1
        }
        guard sawDigit else { throw ParseError(description: Quantity.syntaxMessage) }
        let suffix = String(decoding: bytes[i...], as: UTF8.self)
        var format: Format
        var base10Exponent: Int32 = 0
        var base2Exponent: Int = 0
        switch suffix {
        case "": format = .decimalSI
        case "n":
            format = .decimalSI
            base10Exponent = -9
        case "u":
            format = .decimalSI
            base10Exponent = -6
        case "m":
            format = .decimalSI
            base10Exponent = -3
        case "k":
            format = .decimalSI
            base10Exponent = 3
        case "M":
            format = .decimalSI
            base10Exponent = 6
        case "G":
            format = .decimalSI
            base10Exponent = 9
        case "T":
            format = .decimalSI
            base10Exponent = 12
        case "P":
            format = .decimalSI
            base10Exponent = 15
        case "E":
            format = .decimalSI
            base10Exponent = 18
        case "Ki":
            format = .binarySI
            base2Exponent = 10
        case "Mi":
            format = .binarySI
            base2Exponent = 20
        case "Gi":
            format = .binarySI
            base2Exponent = 30
        case "Ti":
            format = .binarySI
            base2Exponent = 40
        case "Pi":
            format = .binarySI
            base2Exponent = 50
        case "Ei":
            format = .binarySI
            base2Exponent = 60
        default:
            // Exponent form: e/E followed by an optional sign and digits.
            let s = Array(suffix.utf8)
            guard s.count >= 2, s[0] == UInt8(ascii: "e") || s[0] == UInt8(ascii: "E") else {
                throw ParseError(description: "unable to parse quantity's suffix")
            }
            var j = 1
            var expNegative = false
            if s[j] == UInt8(ascii: "+") || s[j] == UInt8(ascii: "-") {
                expNegative = s[j] == UInt8(ascii: "-")
                j += 1
            }
            guard j < s.count else { throw ParseError(description: "unable to parse quantity's suffix") }
            var e: Int32 = 0
            while j < s.count {
                let c = s[j]
                guard c >= 48 && c <= 57 else { throw ParseError(description: "unable to parse quantity's suffix") }
                guard e < 100_000 else { throw ParseError(description: "unable to parse quantity's suffix") }
                e = e * 10 + Int32(c - 48)
                j += 1
            }
            format = .decimalExponent
            base10Exponent = expNegative ? -e : e
        }
        // Strip leading zeros; trailing zeros move into the exponent.
        var start = 0
        while start < digits.count - 1 && digits[start] == 0 { start += 1 }
        var significant = Array(digits[start...])
        var exponent = base10Exponent - Int32(fractionDigits)
        while significant.count > 1 && significant.last == 0 {
            significant.removeLast()
            exponent += 1
        }
        if significant == [0] { exponent = 0 }
        // Binary suffixes multiply by 2^k: do it on a decimal digit array to stay exact.
        if base2Exponent > 0 && significant != [0] {
            // Fast path: the product fits an Int64 (any usual `100Mi`); else exact digit doubling.
            var product: Int64?
            if significant.count <= 18 {
                var v: Int64 = 0
                for d in significant { v = v * 10 + Int64(d) }
                let (r, overflow) = v.multipliedReportingOverflow(by: Int64(1) << base2Exponent)
                if !overflow { product = r }
            }
            if let product {
                significant = String(product).utf8.map { $0 - 48 }
            } else {
                for _ in 0..<base2Exponent { significant = Quantity.double(significant) }
            }
            while significant.count > 1 && significant.last == 0 {
                significant.removeLast()
                exponent += 1
            }
        }
        // Round sub-nano precision up (away from zero), as Kubernetes does.
        if exponent < -9 {
            let drop = Int(-9 - exponent)
            if drop >= significant.count {
                significant = [1]
            } else {
                let kept = Array(significant[..<(significant.count - drop)])
                let rest = significant[(significant.count - drop)...]
                significant = kept
                if rest.contains(where: { $0 != 0 }) { significant = Quantity.increment(significant) }
            }
            exponent = -9
            while significant.count > 1 && significant.last == 0 {
                significant.removeLast()
                exponent += 1
            }
        }
        guard significant.count <= 18 else {
            throw ParseError(description: "quantity too large or too precise to represent: \(text)")
        }
        var m: Int64 = 0
        for d in significant { m = m * 10 + Int64(d) }
        guard exponent <= 36 else {
            throw ParseError(description: "quantity too large to represent: \(text)")
        }
        self.original = text
        self.format = format
        self.mantissa = negative ? -m : m
        self.exponent = m == 0 ? 0 : exponent
    }

    /// Parses a quantity from JSON: a string, or a number (as Kubernetes accepts unquoted numbers).
    public init(json: JSON) throws(ParseError) {
        switch json {
        case .string(let s): try self.init(parsing: s)
        case .int(let i): try self.init(parsing: String(i))
        case .double(let d):
            guard d.isFinite else { throw ParseError(description: Quantity.syntaxMessage) }
            var text = "\(d)"
            if text.hasSuffix(".0") { text.removeLast(2) }
            try self.init(parsing: text)
        default:
            throw ParseError(description: Quantity.syntaxMessage)
        }
    }

    private static func double(_ digits: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digits.count + 1)
        var carry: UInt8 = 0
        for (k, d) in digits.enumerated().reversed() {
            let v = d * 2 + carry
            out[k + 1] = v % 10
            carry = v / 10
        }
        out[0] = carry
        return out[0] == 0 ? Array(out.dropFirst()) : out
    }

    private static func increment(_ digits: [UInt8]) -> [UInt8] {
        var out = digits
        var k = out.count - 1
        while k >= 0 {
            if out[k] == 9 {
                out[k] = 0
                k -= 1
            } else {
                out[k] += 1
                return out
            }
        }
        return [1] + out
    }

    /// Whether the value is zero.
    public var isZero: Bool { mantissa == 0 }
    /// -1, 0 or 1.
    public var sign: Int { mantissa == 0 ? 0 : (mantissa < 0 ? -1 : 1) }
    /// Whether the value is a whole number.
    public var isInteger: Bool { exponent >= 0 || mantissa == 0 }

    /// The value as a Double (approximate; for comparisons and scaling only).
    public var doubleValue: Double {
        var v = Double(mantissa)
        if exponent >= 0 { for _ in 0..<exponent { v *= 10 } } else { for _ in 0..<(-exponent) { v /= 10 } }
        return v
    }

    /// The canonical Kubernetes string (`Quantity.String()`).
    public var canonical: String {
        if mantissa == 0 { return "0" }
        var fmt = format
        var integral: (digits: [UInt8], negative: Bool)?
        if fmt == .binarySI {
            let absSmall = abs(doubleValue) < 1024
            if absSmall {
                fmt = .decimalSI
            } else if exponent < 0 {
                fmt = .decimalSI  // not a whole number: would lose precision in binary form
            } else {
                var d = Quantity.digits(of: mantissa.magnitude)
                d += [UInt8](repeating: 0, count: Int(exponent))
                integral = (d, mantissa < 0)
            }
        }
        if fmt == .binarySI, let integral {
            // Divide by 1024 while exact, up to Ei.
            var d = integral.digits
            var steps = 0
            while steps < 6, let q = Quantity.divideExactly(d, by: 1024) {
                d = q
                steps += 1
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][steps]
            let number = String(d.map { Character(Unicode.Scalar($0 + 48)) })
            return (integral.negative ? "-" : "") + number + suffix
        }
        // Decimal: exponent becomes a multiple of 3.
        var m = mantissa.magnitude
        var e = exponent
        while m % 10 == 0 {
            m /= 10
            e += 1
        }
        var digitString = String(m)
        switch ((e % 3) + 3) % 3 {
        case 1:
            digitString += "0"
            e -= 1
        case 2:
            digitString += "00"
            e -= 2
        default: break
        }
        let sign = mantissa < 0 ? "-" : ""
        if fmt == .decimalExponent {
            return sign + digitString + (e == 0 ? "" : "e\(e)")
        }
        let suffixes: [Int32: String] = [-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"]
        if let s = suffixes[e] { return sign + digitString + s }
        if e > 18 {
            return sign + digitString + String(repeating: "0", count: Int(e - 18)) + "E"
        }
        return sign + digitString + "e\(e)"
    }

    private static func digits(of v: UInt64) -> [UInt8] {
        Array(String(v).utf8).map { $0 - 48 }
    }

    private static func divideExactly(_ digits: [UInt8], by divisor: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var rem = 0
        for d in digits {
            let cur = rem * 10 + Int(d)
            let q = cur / divisor
            rem = cur % divisor
            if !(out.isEmpty && q == 0) { out.append(UInt8(q)) }
        }
        guard rem == 0 else { return nil }
        return out.isEmpty ? [0] : out
    }

    /// The canonical text.
    public var description: String { canonical }

    /// The JSON form used when forwarding into chart values: the canonical string.
    public var json: JSON { .string(canonical) }

    /// Equal amounts, whatever the notation.
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.mantissa == rhs.mantissa && lhs.exponent == rhs.exponent
    }
    /// Hashes the amount, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(mantissa)
        hasher.combine(exponent)
    }
}
