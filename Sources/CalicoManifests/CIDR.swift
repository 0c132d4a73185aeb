import Foundation

/// A CIDR parsed like Go's `net.ParseCIDR`: host bits allowed, IPv4 octets without leading
/// zeros, IPv6 in any textual form (including an embedded dotted IPv4 tail).
struct CIDR: Sendable, Equatable {
    /// 16 address bytes (IPv4 as IPv4-mapped IPv6).
    var bytes: [UInt8]
    var prefixLength: Int
    /// Written as IPv4 (or an IPv4-mapped IPv6 address, which Go treats as IPv4).
    var isIPv4: Bool

    init?(_ text: String) {
        // Byte-level parsing: CIDRs are parsed on every render, Character iteration is slow.
        let utf8 = text.utf8
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let address = String(text[..<slash])
        let prefix = utf8[utf8.index(after: slash)...]
        guard !prefix.isEmpty, prefix.count <= 3 else { return nil }
        var length = 0
        for b in prefix {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            length = length * 10 + Int(b - 0x30)
        }
        if let v4 = CIDR.parseIPv4(address) {
            guard length <= 32 else { return nil }
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + v4
            prefixLength = length
            isIPv4 = true
        } else if let v6 = CIDR.parseIPv6(address) {
            guard length <= 128 else { return nil }
            bytes = v6
            prefixLength = length
            isIPv4 = v6[0..<10].allSatisfy { $0 == 0 } && v6[10] == 0xff && v6[11] == 0xff
        } else {
            return nil
        }
    }

    static func parseIPv4(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        func finishPart() -> Bool {
            // Empty parts, more than 3 digits, leading zeros (Go rejects them) and values > 255 fail.
            guard digits > 0, digits <= 3, !(leadingZero && digits > 1), value <= 255 else { return false }
            out.append(UInt8(value))
            value = 0
            digits = 0
            leadingZero = false
            return true
        }
        for b in s.utf8 {
            if b == UInt8(ascii: ".") {
                guard out.count < 3, finishPart() else { return nil }
            } else if b >= 0x30 && b <= 0x39 {
                if digits == 0 && b == 0x30 { leadingZero = true }
                digits += 1
                guard digits <= 3 else { return nil }
                value = value * 10 + Int(b - 0x30)
            } else {
                return nil
            }
        }
        guard out.count == 3, finishPart() else { return nil }
        return out
    }

    static func parseIPv6(_ s: String) -> [UInt8]? {
        guard s.contains(":") else { return nil }
        var text = Substring(s)
        var tail: [UInt8] = []
        // Embedded IPv4 tail (e.g. ::ffff:10.0.0.1).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseIPv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix("::") {
                // keep as is
            } else {
                text = text.dropLast()
            }
        }
        let halves = String(text).components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let value = UInt16(g, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        let rest = halves.count == 2 ? groups(halves[1]) : []
        guard let rest else { return nil }
        let totalGroups = 8 - tail.count / 2
        var all: [UInt16]
        if halves.count == 2 {
            guard head.count + rest.count < totalGroups else { return nil }
            all = head + Array(repeating: 0, count: totalGroups - head.count - rest.count) + rest
        } else {
            guard head.count == totalGroups else { return nil }
            all = head
        }
        var out: [UInt8] = []
        for g in all {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xff))
        }
        return out + tail
    }
}
