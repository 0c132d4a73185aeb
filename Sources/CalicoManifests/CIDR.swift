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
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let address = String(text[..<slash])
        let prefix = text[text.index(after: slash)...]
        guard !prefix.isEmpty, prefix.count <= 3, prefix.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(prefix) else {
            return nil
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
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            if part.count > 1 && part.first == "0" { return nil }  // Go rejects leading zeros
            guard let n = Int(part), n <= 255 else { return nil }
            out.append(UInt8(n))
        }
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

