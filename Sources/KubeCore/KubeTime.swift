import Foundation

/// Kubernetes time formats: `Time` (RFC 3339, UTC, whole seconds) and `MicroTime` (six
/// fractional digits), plus the age column of tables.
///
/// Fractions are parsed and formatted as integers (``Instant``): going through a `Double` loses
/// the last microsecond (`.654321` came back as `.654320`), see docs/kubeclient.md.
public enum KubeTime {
    /// A point in time as whole seconds since the Unix epoch plus nanoseconds, exact at the
    /// precision Kubernetes uses (a `Date` is a `Double` and cannot hold every microsecond).
    public struct Instant: Sendable, Hashable, Comparable {
        /// Whole seconds since 1970-01-01T00:00:00Z (floored, so negative before the epoch).
        public var seconds: Int
        /// The fraction of the second, `0..<1_000_000_000`.
        public var nanoseconds: Int

        /// An instant from seconds and nanoseconds; nanoseconds outside one second carry over.
        public init(seconds: Int, nanoseconds: Int = 0) {
            let carry = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
            self.seconds = seconds + carry
            self.nanoseconds = nanoseconds - carry * 1_000_000_000
        }

        /// The instant of `date`, rounded to the nearest microsecond (the precision a `Date`
        /// near the present holds reliably).
        public init(_ date: Date) {
            let t = date.timeIntervalSince1970
            let whole = t.rounded(.down)
            let micros = Int(((t - whole) * 1_000_000).rounded())
            self.init(seconds: Int(whole), nanoseconds: micros * 1000)
        }

        /// The nearest `Date`.
        public var date: Date { Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1_000_000_000) }

        /// Earlier instants sort first.
        public static func < (a: Instant, b: Instant) -> Bool {
            (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
        }
    }

    /// `2025-01-31T12:00:00Z` (the fraction is dropped, as Go's `metav1.Time` does).
    public static func format(_ date: Date) -> String { format(Instant(date)) }

    /// `2025-01-31T12:00:00Z` (the fraction is dropped).
    public static func format(_ instant: Instant) -> String { render(instant, micro: false) }

    /// `2025-01-31T12:00:00.123456Z`, the date rounded to the nearest microsecond.
    public static func formatMicro(_ date: Date) -> String { formatMicro(Instant(date)) }

    /// `2025-01-31T12:00:00.123456Z`; nanoseconds beyond the microsecond are truncated, as Go's
    /// `metav1.MicroTime` does.
    public static func formatMicro(_ instant: Instant) -> String { render(instant, micro: true) }

    /// Parses an RFC 3339 timestamp (fraction and offset allowed); `nil` if malformed.
    public static func parse(_ text: String) -> Date? { parseInstant(text)?.date }

    /// Parses an RFC 3339 timestamp exactly (up to nanoseconds; further digits are ignored);
    /// `nil` if malformed.
    public static func parseInstant(_ text: String) -> Instant? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            b[10] == 84 || b[10] == 116, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
            let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var nanos = 0
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            var scale = 100_000_000
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                nanos += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        return Instant(seconds: days * 86400 + h * 3600 + mi * 60 + s - offset, nanoseconds: nanos)
    }

    /// The age column of kubectl tables (`45s`, `3m20s`, `5h`, `2d3h`, `3y12d`), as
    /// kube-apiserver's table printer renders it; `<invalid>` for times in the future.
    public static func age(since date: Date, now: Date = Date()) -> String {
        let d = now.timeIntervalSince(date)
        if d < -1 { return "<invalid>" }
        let s = max(0, Int(d))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = s / 3600
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        let days = h / 24
        if h < 192 { return h % 24 == 0 ? "\(days)d" : "\(days)d\(h % 24)h" }
        if days < 730 { return "\(days)d" }
        let years = days / 365
        if years < 8 { return days % 365 == 0 ? "\(years)y" : "\(years)y\(days % 365)d" }
        return "\(years)y"
    }

    // Written by hand: `String(format:)` goes through Foundation's formatter on every status write.
    private static func render(_ instant: Instant, micro: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        var days = instant.seconds / 86400
        var rem = instant.seconds % 86400
        if rem < 0 {
            rem += 86400
            days -= 1
        }
        let (y, mo, d) = civilFromDays(days)
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(mo, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(rem / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits((rem % 3600) / 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(rem % 60, width: 2, to: &out)
        if micro {
            out.append(UInt8(ascii: "."))
            appendDigits(instant.nanoseconds / 1000, width: 6, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Zero-padded decimal of a non-negative value (wider values keep all their digits, as `%0Nd`).
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var v = max(0, value)
        repeat {
            digits.append(UInt8(48 + v % 10))
            v /= 10
        } while v > 0
        if digits.count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        out.append(contentsOf: digits.reversed())
    }

    // Howard Hinnant's civil-date algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
