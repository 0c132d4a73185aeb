/// An IPv4 (4 bytes) or IPv6 (16 bytes) address, parsed with the leniency levels the Go
/// reference uses: `netip`/`net.ParseIP` reject IPv4 octets with leading zeros, Kubernetes'
/// legacy "sloppy" parser accepts them.
public struct IPAddress: Sendable, Hashable {
    /// The address bytes: 4 for IPv4, 16 for IPv6 (an IPv4-mapped address stays 16 bytes).
    public var bytes: [UInt8]

    /// An address from 4 or 16 bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses either family; nil when `text` is no address (zones such as `%eth0` are rejected).
    /// `allowLeadingZeros` selects the sloppy parser for IPv4 octets (also inside IPv6).
    public init?(_ text: some StringProtocol, allowLeadingZeros: Bool = false) {
        let s = Substring(text)
        if s.utf8.contains(UInt8(ascii: ":")) {
            guard let b = Self.parseIPv6(s, allowLeadingZeros: allowLeadingZeros) else { return nil }
            bytes = b
        } else {
            guard let b = Self.parseIPv4(s, allowLeadingZeros: allowLeadingZeros) else { return nil }
            bytes = b
        }
    }

    /// Written as IPv4 (4 bytes).
    public var isIPv4: Bool { bytes.count == 4 }

    /// An IPv6 address of the form `::ffff:a.b.c.d`.
    public var isIPv4Mapped: Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    /// IPv4 in Go's sense (`To4() != nil`): plain IPv4 or IPv4-mapped IPv6.
    public var isIPv4OrMapped: Bool { isIPv4 || isIPv4Mapped }

    /// Canonical text: dotted decimal; RFC 5952 for IPv6, IPv4-mapped as `::ffff:a.b.c.d`.
    public var canonical: String {
        if isIPv4 { return bytes.map { String($0) }.joined(separator: ".") }
        if isIPv4Mapped { return "::ffff:" + bytes[12...].map { String($0) }.joined(separator: ".") }
        var groups: [Int] = []
        for k in 0..<8 { groups.append(Int(bytes[2 * k]) << 8 | Int(bytes[2 * k + 1])) }
        // The longest run of at least two zero groups (the first on ties) becomes "::".
        var bestStart = -1
        var bestLength = 0
        var k = 0
        while k < 8 {
            guard groups[k] == 0 else {
                k += 1
                continue
            }
            var end = k
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - k > bestLength && end - k >= 2 {
                bestStart = k
                bestLength = end - k
            }
            k = end
        }
        var out = ""
        var g = 0
        while g < 8 {
            if g == bestStart {
                out += "::"
                g += bestLength
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[g], radix: 16)
            g += 1
        }
        return out
    }

    /// Parses dotted-decimal IPv4 into 4 bytes. `allowLeadingZeros` selects the sloppy parser.
    public static func parseIPv4(_ s: Substring, allowLeadingZeros: Bool) -> [UInt8]? {
        // One pass over the bytes, no splitting: this runs for every CIDR of every admission request and render.
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for c in s.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, out.count < 3, allowLeadingZeros || !(leadingZero && digits > 1), value <= 255 else { return nil }
                out.append(UInt8(value))
                value = 0
                digits = 0
                leadingZero = false
            } else if c >= 48 && c <= 57 {
                if digits == 0 { leadingZero = c == 48 }
                digits += 1
                guard digits <= 10 else { return nil }
                value = value * 10 + Int(c - 48)
            } else {
                return nil
            }
        }
        guard digits > 0, out.count == 3, allowLeadingZeros || !(leadingZero && digits > 1), value <= 255 else { return nil }
        out.append(UInt8(value))
        return out
    }

    /// Parses IPv6 text (no zone) into 16 bytes. `allowLeadingZeros` applies to an embedded IPv4 tail.
    public static func parseIPv6(_ s: Substring, allowLeadingZeros: Bool) -> [UInt8]? {
        guard !s.isEmpty, !s.utf8.contains(UInt8(ascii: "%")) else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var rest = s
        if rest.hasPrefix("::") {
            sawDoubleColon = true
            rest = rest.dropFirst(2)
            if rest.isEmpty { return [UInt8](repeating: 0, count: 16) }
        } else if rest.hasPrefix(":") {
            return nil
        }
        var groupCount = 0
        while !rest.isEmpty {
            if let colon = rest.firstIndex(of: ":") {
                guard let v = hexGroup(rest[..<colon]) else { return nil }
                if sawDoubleColon { tail.append(v) } else { head.append(v) }
                groupCount += 1
                rest = rest[rest.index(after: colon)...]
                if rest.hasPrefix(":") {
                    guard !sawDoubleColon else { return nil }
                    sawDoubleColon = true
                    rest = rest.dropFirst()
                    if rest.isEmpty { break }
                } else if rest.isEmpty {
                    return nil  // a trailing single colon
                }
            } else {
                // The last part: a hex group or an embedded IPv4 address.
                if rest.utf8.contains(UInt8(ascii: ".")) {
                    guard let v4 = parseIPv4(rest, allowLeadingZeros: allowLeadingZeros) else { return nil }
                    let pair = [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                    if sawDoubleColon { tail += pair } else { head += pair }
                    groupCount += 2
                } else {
                    guard let v = hexGroup(rest) else { return nil }
                    if sawDoubleColon { tail.append(v) } else { head.append(v) }
                    groupCount += 1
                }
                rest = ""
            }
            if groupCount > 8 { return nil }
        }
        let total = head.count + tail.count
        guard sawDoubleColon ? total <= 7 : total == 8 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for g in head + [UInt16](repeating: 0, count: 8 - total) + tail {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xFF))
        }
        return out
    }

    private static func hexGroup(_ g: Substring) -> UInt16? {
        // Hex digits only: `UInt16(_:radix:)` alone would also take a sign ("+1").
        guard !g.isEmpty, g.utf8.count <= 4, g.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        return UInt16(g, radix: 16)
    }

    /// Kubernetes' `IsValidIP` (apimachinery 1.33 and later): at most one message, nil when valid.
    public static func validationError(_ s: String) -> String? {
        guard let sloppy = IPAddress(s, allowLeadingZeros: true) else {
            return "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        }
        guard IPAddress(s) != nil else { return "must not have leading 0s" }
        if sloppy.isIPv4Mapped { return "must not be an IPv4-mapped IPv6 address" }
        let canonical = sloppy.canonical
        // Canonical text has no characters Go's %q would escape.
        if canonical != s { return "must be in canonical form (\"\(canonical)\")" }
        return nil
    }
}

/// An address with a prefix length (`10.0.0.0/8`, `2001:db8::/64`); host bits may be set.
public struct CIDR: Sendable, Hashable {
    /// The address as written (host bits kept).
    public var address: IPAddress
    /// The number of leading network bits.
    public var prefixLength: Int

    /// A CIDR from its parts.
    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `<ip>/<prefix>`. The defaults are Go's `net.ParseCIDR`: host bits allowed, IPv4
    /// octets without leading zeros, a zero-padded prefix length accepted.
    public init?(_ text: String, allowIPv4LeadingZeros: Bool = false, allowPrefixLeadingZeros: Bool = true) {
        let utf8 = text.utf8
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        guard let address = IPAddress(text[..<slash], allowLeadingZeros: allowIPv4LeadingZeros) else { return nil }
        let prefix = utf8[utf8.index(after: slash)...]
        guard !prefix.isEmpty, prefix.count <= 10 else { return nil }
        if !allowPrefixLeadingZeros && prefix.count > 1 && prefix.first == UInt8(ascii: "0") { return nil }
        var length = 0
        for b in prefix {
            guard b >= 48 && b <= 57 else { return nil }
            length = length * 10 + Int(b - 48)
        }
        guard length <= address.bytes.count * 8 else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// IPv4 in Go's sense: an IPv4 or IPv4-mapped IPv6 address.
    public var isIPv4: Bool { address.isIPv4OrMapped }

    /// The address with the host bits cleared.
    public var network: IPAddress {
        var b = address.bytes
        for i in 0..<b.count {
            let bitsHere = max(0, min(8, prefixLength - i * 8))
            b[i] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return IPAddress(bytes: b)
    }

    /// Bits set beyond the prefix length.
    public var hasHostBits: Bool { network != address }

    /// Canonical `<network>/<prefix>`.
    public var canonical: String { "\(network.canonical)/\(prefixLength)" }

    /// Whether `ip` lies inside this network (addresses of the other family never do).
    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        return CIDR(address: ip, prefixLength: prefixLength).network == network
    }

    /// Whether the two networks share at least one address.
    public func overlaps(_ other: CIDR) -> Bool {
        other.contains(network) || contains(other.network)
    }

    /// Go's `net.ParseCIDR` acceptance.
    public static func isGoParseable(_ s: String) -> Bool { CIDR(s) != nil }

    /// Kubernetes' `IsValidCIDR` (apimachinery 1.33 and later): at most one message, nil when valid.
    public static func validationError(_ s: String) -> String? {
        guard let sloppy = CIDR(s, allowIPv4LeadingZeros: true) else {
            return "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
        }
        guard CIDR(s, allowPrefixLeadingZeros: false) != nil else { return "must not have leading 0s in IP or prefix length" }
        if sloppy.address.isIPv4Mapped { return "must not have an IPv4-mapped IPv6 address" }
        if sloppy.hasHostBits { return "must not have bits set beyond the prefix length" }
        let canonical = sloppy.canonical
        // Canonical text has no characters Go's %q would escape.
        if canonical != s { return "must be in canonical form (\"\(canonical)\")" }
        return nil
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool { (self >= 48 && self <= 57) || (self >= 65 && self <= 70) || (self >= 97 && self <= 102) }
}
