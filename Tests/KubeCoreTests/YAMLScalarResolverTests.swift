import Testing
import Yams

@testable import KubeCore

/// `YAMLScalarResolver` must type every plain scalar exactly as Yams' regex rules did
/// (bool, int, float, null in that order, otherwise str).
@Suite struct YAMLScalarResolverTests {
    /// The rules KubeCore used before: Yams' NSRegularExpression patterns.
    static let reference = Resolver.basic.appending(.bool).appending(.int).appending(.float).appending(.null)

    static func referenceTag(_ text: String) -> Yams.Tag.Name { reference.resolveTag(of: Node(text)) }

    @Test(arguments: [
        "", "~", "null", "Null", "NULL", "nULL", "yes", "Yes", "YES", "yEs", "no", "on", "ON", "oN", "off", "OFF",
        "true", "True", "TRUE", "tRUE", "false", "y", "n", "0", "-0", "+0", "00", "0_", "017", "018", "0o17", "0o",
        "0o8", "0b", "0b101", "0b2", "0x", "0x1F", "0xg", "0X1F", "-0x1_f", "1", "12", "1_000", "-1", "+1", "1:30",
        "1:30:59", "1:60", "1:5", "1:059", "0:30", "190:20:30", "1:30.5", "1:30:00.", "1.5", "1.", ".5", "._",
        "1e3", "1E+3", "1e", "1e+", "1.5e-3", ".5e3", ".5e+3", ".inf", "-.inf", "+.Inf", ".INF", ".iNF", ".nan",
        "-.nan", ".NaN", ".NAN", "1.0.0", "1__", "_1", "1-2", "2024-01-01", "12:30", "1\n", "true\n", "true\r\n",
        "true\n\n", "1\r", "1\u{0B}", "1\u{0C}", "1\u{85}", "1\u{2028}", "1\u{2029}", "\n", "null\u{2029}",
        "１", "1 ", " 1", "=", "<<", "a", "1a", "0x1F\n", "-", "+", ".", ":", "1:", ":1", "1::30",
    ])
    func matchesYamsRules(text: String) {
        #expect(YAMLScalarResolver.resolve(text) == Self.referenceTag(text), "scalar \(text.debugDescription)")
    }

    /// Every string of up to four characters over the pattern's alphabet (~170,000 strings).
    @Test func matchesYamsRulesExhaustively() {
        let alphabet: [String] = ["0", "1", "5", "6", "8", "_", ":", ".", "e", "+", "-", "x", "b", "o", "a", "n", "i", "f", "\n"]
        var texts: [String] = [""]
        var layer: [String] = [""]
        for _ in 0..<4 {
            layer = layer.flatMap { prefix in alphabet.map { prefix + $0 } }
            texts += layer
        }
        var mismatches: [String] = []
        for text in texts where YAMLScalarResolver.resolve(text) != Self.referenceTag(text) {
            mismatches.append(text)
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(10).map(\.debugDescription))")
    }

    @Test func explicitTagsWinOverTheText() throws {
        let value = try JSON.parseYAML("a: !!str 1\nb: !!float 1\nc: ! true\nd: !!null x\ne: \"1\"\nf: 1\n")
        #expect(value["a"] == .string("1"))
        #expect(value["b"] == .double(1))
        #expect(value["c"] == .string("true"))
        #expect(value["d"] == .null)
        #expect(value["e"] == .string("1"))
        #expect(value["f"] == .int(1))
    }
}
