import Testing

@testable import CalicoAPI

/// Edge cases of the allocation-free IPv4 parser and the Int64 fast path of binary quantities
/// (both rewritten for the webhook's speed; results must equal the exact slow paths).
@Suite struct ParsingFastPathTests {
    @Test(arguments: [
        ("1.2.3.4", true, [UInt8]([1, 2, 3, 4])), ("0.0.0.0", true, [0, 0, 0, 0]), ("255.255.255.255", true, [255, 255, 255, 255]),
        ("256.1.1.1", false, []), ("1.2.3", false, []), ("1.2.3.4.5", false, []), ("1..2.3", false, []), (".1.2.3", false, []),
        ("1.2.3.", false, []), ("1.2.3.a", false, []), ("", false, []), ("1.2.3.0000000004", false, []), ("01.2.3.4", false, []),
    ])
    func ipv4Strict(text: String, valid: Bool, bytes: [UInt8]) {
        let parsed = NetParsing.parseIPv4(Substring(text), allowLeadingZeros: false)
        #expect((parsed != nil) == valid)
        if valid { #expect(parsed == bytes) }
    }

    @Test func ipv4LeadingZerosOnlyWhenSloppy() {
        #expect(NetParsing.parseIPv4("010.0.0.1", allowLeadingZeros: true) == [10, 0, 0, 1])
        #expect(NetParsing.parseIPv4("010.0.0.1", allowLeadingZeros: false) == nil)
        #expect(NetParsing.parseIPv4("0.0.0.00", allowLeadingZeros: false) == nil)
        #expect(NetParsing.parseIP("::ffff:1.2.3.4", allowLeadingZeros: false)?.isIPv4Mapped == true)
    }

    @Test func binaryQuantities() throws {
        #expect(try Quantity(parsing: "100Mi").canonical == "100Mi")
        #expect(try Quantity(parsing: "1Pi").canonical == "1Pi")
        #expect(try Quantity(parsing: "0.5Ki").canonical == "512")
        #expect(try Quantity(parsing: "1536Ki").canonical == "1536Ki")
        // Beyond Int64 (fast path overflows): the exact path decides, as before.
        #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: "9Ei") }
        #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: "123456789012345678Ei") }
    }

    @Test func extendedResourceNames() {
        #expect(CalicoValidation.isIntegerResource("example.com/gpu"))
        #expect(!CalicoValidation.isIntegerResource("kubernetes.io/x"))
        #expect(!CalicoValidation.isIntegerResource("foo.kubernetes.io/x"))
        #expect(!CalicoValidation.isIntegerResource("requests.example.com/x"))
        #expect(!CalicoValidation.isIntegerResource("cpu"))
        #expect(CalicoValidation.isIntegerResource("pods"))
    }
}
