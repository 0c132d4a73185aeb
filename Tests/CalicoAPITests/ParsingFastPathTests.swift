import Testing

@testable import CalicoAPI

/// Edge cases of the Int64 fast path of binary quantities (rewritten for the webhook's speed;
/// results must equal the exact slow path).
@Suite struct ParsingFastPathTests {
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
