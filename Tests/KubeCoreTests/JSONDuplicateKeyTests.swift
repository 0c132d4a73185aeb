import Testing

@testable import KubeCore

/// `JSON.parseReportingDuplicateKeys` and the YAML duplicate-key message: what strict decoding of
/// embedded provider configs builds on.
@Suite struct JSONDuplicateKeyTests {
    @Test func reportsEveryDuplicateWithItsPath() throws {
        let text = #"{"a":1,"b":{"c":[{"d":1,"d":2}],"e":3,"e":4},"a":5}"#
        let (value, duplicates) = try JSON.parseReportingDuplicateKeys(Array(text.utf8))
        #expect(value == (try JSON.parse(string: text)))
        #expect(value["a"] == 5)
        #expect(duplicates.map(\.description) == ["b.c[0].d", "b.e", "a"])
        #expect(duplicates[0].parent == [.key("b"), .key("c"), .index(0)])
        #expect(duplicates[1].path(below: ["b"]) == "e")
        #expect(duplicates[0].path(below: ["b", "c"]) == "[0].d")
        #expect(duplicates[1].path(below: ["x"]) == nil)
        #expect(duplicates[2].path(below: ["a"]) == nil)
    }

    @Test func noDuplicatesNoReport() throws {
        let (_, duplicates) = try JSON.parseReportingDuplicateKeys(Array(#"{"a":{"a":{"a":[1,{"a":2}]}}}"#.utf8))
        #expect(duplicates.isEmpty)
    }

    @Test func syntaxErrorsStillThrow() {
        #expect(throws: JSONParseError.self) { try JSON.parseReportingDuplicateKeys(Array(#"{"a":1,"a":}"#.utf8)) }
    }

    @Test func yamlDuplicateNamesThePath() {
        let yaml = """
            kind: Network
            spec:
              providerConfig:
                ipam:
                  type: host-local
                  type: calico-ipam
            """
        do {
            _ = try JSON.parseYAMLDocuments(yaml)
            Issue.record("expected an error")
        } catch {
            // The line of the first occurrence.
            #expect("\(error)" == "duplicate field \"spec.providerConfig.ipam.type\" (line 5)")
        }
        #expect(JSON.yamlBlockPath("a:\n  - b: 1\n    b: 2\n", line: 3, column: 5, key: "b") == "a.b")
        #expect(JSON.yamlBlockPath("x: 1\nx: 2\n", line: 2, column: 1, key: "x") == "x")
    }
}
