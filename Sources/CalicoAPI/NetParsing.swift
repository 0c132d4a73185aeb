import KubeCore

/// IP address and CIDR parsing with the exact leniency levels the reference uses:
/// Go's `net.ParseCIDR` (rejects IPv4 leading zeros), Kubernetes' sloppy parser (accepts them)
/// and `netip` (strict, also rejects leading zeros in the prefix length).
public enum NetParsing {
    /// A parsed address: 4 or 16 bytes.
    public struct Address: Sendable, Hashable {
        public var bytes: [UInt8]
        /// An address from 4 or 16 bytes.
        public init(bytes: [UInt8]) { self.bytes = bytes }
        public var isIPv4: Bool { bytes.count == 4 }
        /// An IPv6 address of the form `::ffff:a.b.c.d`.
        public var isIPv4Mapped: Bool {
            bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        }
        /// Canonical text (dotted decimal; RFC 5952 for IPv6, IPv4-mapped as `::ffff:a.b.c.d`).
        public var canonical: String {
            if isIPv4 { return bytes.map { String($0) }.joined(separator: ".") }
            if isIPv4Mapped { return "::ffff:" + bytes[12...].map { String($0) }.joined(separator: ".") }
            var groups: [Int] = []
            for k in 0..<8 { groups.append(Int(bytes[2 * k]) << 8 | Int(bytes[2 * k + 1])) }
            // Longest run of >= 2 zero groups (first on ties) becomes "::".
            var bestStart = -1
            var bestLen = 0
            var k = 0
            while k < 8 {
                if groups[k] == 0 {
                    var e = k
                    while e < 8 && groups[e] == 0 { e += 1 }
                    if e - k > bestLen && e - k >= 2 {
                        bestStart = k
                        bestLen = e - k
                    }
                    k = e
                } else {
                    k += 1
                }
            }
            var out = ""
            var g = 0
            while g < 8 {
                if g == bestStart {
                    out += "::"
                    g += bestLen
                    continue
                }
                if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
                out += String(groups[g], radix: 16)
                g += 1
            }
            return out
        }
    }

    /// Parses an IPv4 address. `allowLeadingZeros` selects the sloppy (Kubernetes legacy) parser.
    public static func parseIPv4(_ s: Substring, allowLeadingZeros: Bool) -> [UInt8]? {
        // One pass over the bytes (no splitting): this runs for every CIDR of every admission request.
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for c in s.utf8 {
            if c == 46 {  // "."
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

    /// Parses an IPv6 address (no zone). `allowLeadingZeros` applies to an embedded IPv4 part.
    public static func parseIPv6(_ s: Substring, allowLeadingZeros: Bool) -> [UInt8]? {
        guard !s.isEmpty, !s.utf8.contains(37) else { return nil }  // no "%" zone
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
        var groupsCount = 0
        while !rest.isEmpty {
            // An embedded IPv4 address may end the address.
            if let colonIdx = rest.firstIndex(of: ":") {
                let g = rest[..<colonIdx]
                guard let v = hexGroup(g) else { return nil }
                if sawDoubleColon { tail.append(v) } else { head.append(v) }
                groupsCount += 1
                rest = rest[rest.index(after: colonIdx)...]
                if rest.hasPrefix(":") {
                    guard !sawDoubleColon else { return nil }
                    sawDoubleColon = true
                    rest = rest.dropFirst()
                    if rest.isEmpty { break }
                } else if rest.isEmpty {
                    return nil  // trailing single colon
                }
            } else {
                if rest.utf8.contains(46) {  // "."
                    guard let v4 = parseIPv4(rest, allowLeadingZeros: allowLeadingZeros) else { return nil }
                    let a = UInt16(v4[0]) << 8 | UInt16(v4[1])
                    let b = UInt16(v4[2]) << 8 | UInt16(v4[3])
                    if sawDoubleColon { tail += [a, b] } else { head += [a, b] }
                    groupsCount += 2
                } else {
                    guard let v = hexGroup(rest) else { return nil }
                    if sawDoubleColon { tail.append(v) } else { head.append(v) }
                    groupsCount += 1
                }
                rest = ""
            }
            if groupsCount > 8 { return nil }
        }
        let total = head.count + tail.count
        if sawDoubleColon {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var out: [UInt8] = []
        for g in groups {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xFF))
        }
        return out
    }

    private static func hexGroup(_ g: Substring) -> UInt16? {
        guard !g.isEmpty, g.count <= 4 else { return nil }
        return UInt16(g, radix: 16)
    }

    /// Parses an IP address of either family.
    public static func parseIP(_ s: Substring, allowLeadingZeros: Bool) -> Address? {
        if s.utf8.contains(58) {  // ":"
            return parseIPv6(s, allowLeadingZeros: allowLeadingZeros).map { Address(bytes: $0) }
        }
        return parseIPv4(s, allowLeadingZeros: allowLeadingZeros).map { Address(bytes: $0) }
    }

    /// A parsed CIDR.
    public struct CIDR: Sendable, Hashable {
        public var address: Address
        public var prefixLength: Int
        /// The address with host bits cleared.
        public var network: Address {
            var b = address.bytes
            for i in 0..<b.count {
                let bitsHere = max(0, min(8, prefixLength - i * 8))
                let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
                b[i] &= mask
            }
            return Address(bytes: b)
        }
        public var hasHostBits: Bool { network != address }
        /// Canonical `<network>/<prefix>`.
        public var canonical: String { "\(network.canonical)/\(prefixLength)" }
    }

    /// Parses `<ip>/<prefix>`. `strict` rejects leading zeros in IPv4 octets and in the prefix.
    /// `allowIPv4LeadingZeros` separately controls IPv4 octets (Go's `net.ParseCIDR` rejects
    /// them but accepts a zero-padded prefix length).
    public static func parseCIDR(_ s: String, allowIPv4LeadingZeros: Bool, allowPrefixLeadingZeros: Bool) -> CIDR? {
        guard let slash = s.firstIndex(of: "/") else { return nil }
        let ipPart = s[..<slash]
        let prefixPart = s[s.index(after: slash)...]
        guard let address = parseIP(ipPart, allowLeadingZeros: allowIPv4LeadingZeros) else { return nil }
        guard !prefixPart.isEmpty, prefixPart.count <= 10, prefixPart.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if !allowPrefixLeadingZeros && prefixPart.count > 1 && prefixPart.first == "0" { return nil }
        guard let n = Int(prefixPart), n >= 0, n <= address.bytes.count * 8 else { return nil }
        return CIDR(address: address, prefixLength: n)
    }

    /// Go's `net.ParseCIDR` acceptance (lenient: host bits allowed, IPv4 leading zeros rejected).
    public static func isGoParseableCIDR(_ s: String) -> Bool {
        parseCIDR(s, allowIPv4LeadingZeros: false, allowPrefixLeadingZeros: true) != nil
    }

    /// Kubernetes `IsValidCIDR` (apimachinery ≥ 1.33): at most one message, nil when valid.
    public static func strictCIDRError(_ s: String) -> String? {
        guard let sloppy = parseCIDR(s, allowIPv4LeadingZeros: true, allowPrefixLeadingZeros: true) else {
            return "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
        }
        guard parseCIDR(s, allowIPv4LeadingZeros: false, allowPrefixLeadingZeros: false) != nil else {
            return "must not have leading 0s in IP or prefix length"
        }
        if sloppy.address.isIPv4Mapped { return "must not have an IPv4-mapped IPv6 address" }
        if sloppy.hasHostBits { return "must not have bits set beyond the prefix length" }
        let canonical = sloppy.canonical
        if canonical != s { return "must be in canonical form (\(goQuote(canonical)))" }
        return nil
    }

    /// Kubernetes `IsValidIP` (apimachinery ≥ 1.33): at most one message, nil when valid.
    public static func strictIPError(_ s: String) -> String? {
        guard let sloppy = parseIP(Substring(s), allowLeadingZeros: true) else {
            return "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        }
        guard parseIP(Substring(s), allowLeadingZeros: false) != nil else { return "must not have leading 0s" }
        if sloppy.isIPv4Mapped { return "must not be an IPv4-mapped IPv6 address" }
        let canonical = sloppy.canonical
        if canonical != s { return "must be in canonical form (\(goQuote(canonical)))" }
        return nil
    }

    static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

    /// Kubernetes `IsDNS1123Subdomain`: the list of messages (empty when valid).
    public static func dns1123SubdomainErrors(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 253 { errs.append("must be no more than 253 characters") }
        if !isDNS1123Subdomain(s) { errs.append(dns1123SubdomainMessage) }
        return errs
    }

    private static func isDNS1123Subdomain(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            let u = Array(label.utf8)
            guard let f = u.first, let l = u.last else { return false }
            func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
            guard alnum(f), alnum(l), u.allSatisfy({ alnum($0) || $0 == 45 }) else { return false }
        }
        return true
    }
}
