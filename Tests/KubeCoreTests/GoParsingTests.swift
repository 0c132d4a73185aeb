import KubeCore
import Testing

@Suite struct GoParsingTests {
    @Test func boolsParseLikeStrconv() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] { #expect(parseGoBool(t) == true) }
        for f in ["0", "f", "F", "false", "FALSE", "False"] { #expect(parseGoBool(f) == false) }
        for bad in ["yes", "", "tRuE", " true"] { #expect(parseGoBool(bad) == nil) }
    }

    @Test func durationsPrintLikeGo() {
        #expect(goDuration(.seconds(30)) == "30s")
        #expect(goDuration(.seconds(60)) == "1m0s")
        #expect(goDuration(.seconds(3600)) == "1h0m0s")
        #expect(goDuration(.milliseconds(1500)) == "1.5s")
        #expect(goDuration(.milliseconds(5)) == "5ms")
        #expect(goDuration(.zero) == "0s")
    }

    @Test func quotingLikePercentQ() {
        #expect(goQuote("plain") == #""plain""#)
        #expect(goQuote("a\"b\\c\n\t") == #""a\"b\\c\n\t""#)
        #expect(goQuote("\u{01}") == #""\x01""#)
    }
}
