import Foundation
import KubeCore
import Testing

@Suite struct Base64Tests {
    @Test func encodesLikeFoundationAndRoundTrips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{00}\u{FF}é"] {
            let bytes = Array(s.utf8)
            #expect(Base64.encode(bytes) == Data(s.utf8).base64EncodedString())
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test func rejectsWhatTheAPIServerRejects() {
        for bad in ["Zm9v!", "Zm9vY", "Zm9 v", "Zm9vYg", "-_-_"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }
}
