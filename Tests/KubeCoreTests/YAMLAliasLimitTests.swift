import Testing

@testable import KubeCore

/// The alias budget of the YAML bridge (see docs/operations.md, "Limits").
@Suite struct YAMLAliasLimitTests {
    /// Nine levels of ten aliases each: 10^9 strings if expanded.
    static let billionLaughs = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    @Test func billionLaughsIsRejectedFast() {
        let start = ContinuousClock.now
        #expect {
            try JSON.parseYAML(Self.billionLaughs)
        } throws: { error in
            "\(error)".contains("excessive aliasing")
        }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func fewAliasesOfLongStringsAreRejectedByTheByteBudget() {
        // A handful of nodes, but each level doubles a 64 KiB string: 2^7 copies = 8 MiB.
        let long = String(repeating: "x", count: 65_536)
        var text = "a: &a [\"\(long)\"]\n"
        for (level, previous) in zip(["b", "c", "d", "e", "f", "g", "h"], ["a", "b", "c", "d", "e", "f", "g"]) {
            text += "\(level): &\(level) [*\(previous), *\(previous)]\n"
        }
        #expect {
            try JSON.parseYAMLDocuments(text)
        } throws: { error in
            "\(error)".contains("excessive aliasing") && "\(error)".contains("bytes")
        }
    }

    @Test func ordinaryAliasesStillWork() throws {
        let value = try JSON.parseYAML(
            """
            defaults: &defaults {cpu: 100m, memory: 128Mi}
            requests: *defaults
            limits: *defaults
            """)
        #expect(value["requests"] == value["defaults"])
        #expect(value["limits"]?["memory"] == "128Mi")
    }

    @Test func anchorsWithoutAliasesAreNotCounted() throws {
        // Many distinct anchors, each used once as a definition only: no expansion at all.
        let text = (0..<20_000).map { "k\($0): &a\($0) v" }.joined(separator: "\n")
        let value = try JSON.parseYAML(text)
        #expect(value.objectValue?.count == 20_000)
    }
}
