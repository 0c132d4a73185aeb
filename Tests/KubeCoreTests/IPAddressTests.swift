import KubeCore
import Testing

/// The shared IP and CIDR parser: Go's acceptance rules, canonical text and Kubernetes' messages.
@Suite struct IPAddressTests {
    @Test(arguments: [
        ("1.2.3.4", true, [UInt8]([1, 2, 3, 4])), ("0.0.0.0", true, [0, 0, 0, 0]), ("255.255.255.255", true, [255, 255, 255, 255]),
        ("256.1.1.1", false, []), ("1.2.3", false, []), ("1.2.3.4.5", false, []), ("1..2.3", false, []), (".1.2.3", false, []),
        ("1.2.3.", false, []), ("1.2.3.a", false, []), ("", false, []), ("1.2.3.0000000004", false, []), ("01.2.3.4", false, []),
    ])
    func ipv4Strict(text: String, valid: Bool, bytes: [UInt8]) {
        let parsed = IPAddress.parseIPv4(Substring(text), allowLeadingZeros: false)
        #expect((parsed != nil) == valid)
        if valid { #expect(parsed == bytes) }
    }

    @Test func ipv4LeadingZerosOnlyWhenSloppy() {
        #expect(IPAddress.parseIPv4("010.0.0.1", allowLeadingZeros: true) == [10, 0, 0, 1])
        #expect(IPAddress.parseIPv4("010.0.0.1", allowLeadingZeros: false) == nil)
        #expect(IPAddress.parseIPv4("0.0.0.00", allowLeadingZeros: false) == nil)
        #expect(IPAddress("::ffff:1.2.3.4")?.isIPv4Mapped == true)
        #expect(IPAddress("::ffff:01.2.3.4") == nil)
        #expect(IPAddress("::ffff:01.2.3.4", allowLeadingZeros: true) != nil)
    }

    @Test func ipv6Forms() {
        #expect(IPAddress("::")?.bytes == [UInt8](repeating: 0, count: 16))
        #expect(IPAddress("::1")?.canonical == "::1")
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.canonical == "2001:db8::1")
        #expect(IPAddress("1:0:0:2:0:0:0:3")?.canonical == "1:0:0:2::3")
        #expect(IPAddress(bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]).canonical == "2001:db8::1:0:0:1")
        for bad in ["1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:", "fe80::1%eth0", "12345::", "+1::", "::g", "1:2:3:4:5:6:7::8:9"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func cidrParsingFollowsGo() {
        #expect(CIDR("10.250.0.0/16")?.isIPv4 == true)
        #expect(CIDR("2001:db8:1::/56")?.isIPv4 == false)
        #expect(CIDR("::ffff:10.0.0.0/104")?.isIPv4 == true)
        #expect(CIDR("0.0.0.0/0")?.prefixLength == 0)
        #expect(CIDR("10.0.0.1/032")?.prefixLength == 32)
        #expect(CIDR("10.250.0.0/16")?.address.bytes == [10, 250, 0, 0])
        for bad in [
            "1.2.3.4/", "1.2.3/8", "1.2.3.4.5/8", "256.1.1.1/8", "1..2.3/8", "10.0.0.0/33", "1.2.3.4/1x", "1.2.3.4/1234",
            "01.2.3.4/8", "1.2.3.0004/8", "a.b.c.d/8", "/8", "1.2.3.4./8", ".1.2.3/8", "010.1.0.0/16", "10.1.0.0",
            "1:2:3:4:5:6:7:8:9/64", "fe80::1/129", "10.0.0.0/-1",
        ] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
        #expect(CIDR.isGoParseable("10.0.0.1/8"))
        #expect(CIDR.isGoParseable("10.0.0.0/08"))
        #expect(!CIDR.isGoParseable("010.0.0.0/8"))
        #expect(!CIDR.isGoParseable("10.0.0.0"))
    }

    @Test func networkContainmentAndOverlap() throws {
        let net = try #require(CIDR("10.1.2.3/16"))
        #expect(net.network.canonical == "10.1.0.0")
        #expect(net.hasHostBits)
        #expect(net.canonical == "10.1.0.0/16")
        #expect(net.contains(try #require(IPAddress("10.1.255.255"))))
        #expect(!net.contains(try #require(IPAddress("10.2.0.0"))))
        #expect(!net.contains(try #require(IPAddress("::a01:0"))))
        #expect(net.overlaps(try #require(CIDR("10.0.0.0/8"))))
        #expect(!net.overlaps(try #require(CIDR("10.2.0.0/16"))))
        #expect(try #require(CIDR("2001:db8::/32")).overlaps(try #require(CIDR("2001:db8:1::/48"))))
    }

    @Test func kubernetesMessages() {
        #expect(CIDR.validationError("10.0.0.0/8") == nil)
        #expect(CIDR.validationError("::/0") == nil)
        #expect(CIDR.validationError("2001:db8:0:0:1::/80") == nil)
        #expect(CIDR.validationError("2001:db8::1:0:0:0/80") == #"must be in canonical form ("2001:db8:0:0:1::/80")"#)
        #expect(CIDR.validationError("10.0.0.0/33") == "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        #expect(CIDR.validationError("010.0.0.0/8") == "must not have leading 0s in IP or prefix length")
        #expect(CIDR.validationError("10.0.0.0/08") == "must not have leading 0s in IP or prefix length")
        #expect(CIDR.validationError("::ffff:10.0.0.0/104") == "must not have an IPv4-mapped IPv6 address")
        #expect(CIDR.validationError("10.0.0.1/8") == "must not have bits set beyond the prefix length")
        #expect(IPAddress.validationError("1.2.3.4") == nil)
        #expect(IPAddress.validationError("1.2.3") == "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        #expect(IPAddress.validationError("01.2.3.4") == "must not have leading 0s")
        #expect(IPAddress.validationError("::ffff:1.2.3.4") == "must not be an IPv4-mapped IPv6 address")
        #expect(IPAddress.validationError("2001:0db8::1") == #"must be in canonical form ("2001:db8::1")"#)
    }
}
