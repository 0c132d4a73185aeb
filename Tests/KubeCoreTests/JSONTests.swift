import Testing

@testable import KubeCore

@Suite struct JSONParsingTests {
    @Test func parsesAllValueKinds() throws {
        let value = try JSON.parse(string: #"{"a":1,"b":-2.5,"c":"x\ny\u00e9\ud83d\ude00","d":[true,false,null],"e":{},"f":[]}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .double(-2.5))
        #expect(value["c"]?.stringValue == "x\nyé😀")
        #expect(value["d"] == [true, false, nil])
        #expect(value["e"] == .object([:]))
        #expect(value["f"] == .array([]))
    }

    @Test func keepsMemberOrderButEqualityIgnoresIt() throws {
        let a = try JSON.parse(string: #"{"z":1,"a":2}"#)
        let b = try JSON.parse(string: #"{"a":2,"z":1}"#)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.serializedString() == #"{"z":1,"a":2}"#)
        #expect(a.serializedString(.init(sortedKeys: true)) == #"{"a":2,"z":1}"#)
    }

    @Test func integersStayIntegers() throws {
        let value = try JSON.parse(string: "[9091, 9091.0, 1e3, 9223372036854775807]")
        #expect(value[0] == .int(9091))
        #expect(value[3] == .int(Int64.max))
        #expect(value.serializedString() == "[9091,9091,1000,9223372036854775807]")
    }

    @Test(arguments: [
        ("", 0), ("{", 1), (#"{"a" 1}"#, 5), ("[1,]", 3), ("tru", 0), (#""abc"#, 4), ("01", 1), ("{} x", 3),
        (#""\x""#, 3), ("[1 2]", 3), ("-", 1), ("1.", 2),
    ])
    func rejectsMalformedInputWithOffset(text: String, offset: Int) {
        #expect(throws: JSONParseError.self) { try JSON.parse(string: text) }
        do {
            _ = try JSON.parse(string: text)
        } catch let error as JSONParseError {
            #expect(error.offset == offset, "\(text): \(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func reportsDuplicateKeysWithTheirPaths() throws {
        var dups: [String] = ["stale"]
        let value = try JSON.parse(Array(#"{"a":{"b":1,"b":2},"l":[{"x":1},{"x":2,"x":3}],"a2":0,"a2":1}"#.utf8), duplicateKeys: &dups)
        #expect(dups == ["a.b", "l[1].x", "a2"])
        #expect(value[path: "a", "b"] == 2 && value["l"]?[1]?["x"] == 3 && value["a2"] == 1)
        #expect(value.serializedString() == #"{"a":{"b":2},"l":[{"x":1},{"x":3}],"a2":1}"#)
        _ = try JSON.parse(Array(#"{"a":1}"#.utf8), duplicateKeys: &dups)
        #expect(dups.isEmpty)
    }

    @Test func rejectsDeepNesting() {
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSON.parse(string: text) }
        #expect((try? JSON.parse(string: text, maxDepth: 1000)) != nil)
    }

    @Test func escapesOnSerialization() throws {
        let value: JSON = ["k\"": "a\\b\n\t\u{01}"]
        #expect(value.serializedString() == #"{"k\"":"a\\b\n\t\u0001"}"#)
        #expect(try JSON.parse(string: value.serializedString()) == value)
    }

    /// The word-at-a-time scans of the writer and the parser against a byte-by-byte escaper, with
    /// the special bytes at every offset of long strings (both sides of each 8-byte word).
    @Test func longStringsEscapeAndParseLikeByteByByte() throws {
        func reference(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        var rng = SystemRandomNumberGenerator()
        let specials: [String] = ["\"", "\\", "\n", "\u{01}", "\u{1F}", "é", "😀", " ", "~", "\u{7F}"]
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200] {
            for position in Set([0, length / 2, max(0, length - 1)]) {
                for special in specials {
                    var text = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x41...0x5A, using: &rng))) })
                    if length > 0 {
                        let i = text.index(text.startIndex, offsetBy: position)
                        text.replaceSubrange(i...i, with: special)
                    }
                    let value: JSON = .string(text)
                    #expect(value.serializedString() == reference(text), "\(length) \(position) \(special.unicodeScalars.first!.value)")
                    #expect(try JSON.parse(string: value.serializedString()) == value)
                }
            }
        }
        // A raw control byte found by the word scan is still an error at its offset.
        let bad = "\"" + String(repeating: "a", count: 11) + "\u{01}" + "\""
        #expect(throws: JSONParseError.self) { try JSON.parse(string: bad) }
    }

    @Test func pathAccessCreatesIntermediateObjects() {
        var value: JSON = [:]
        value[path: "metadata", "labels", "app"] = "calico"
        #expect(value[path: "metadata", "labels", "app"]?.stringValue == "calico")
        value[path: "metadata", "labels", "app"] = nil
        #expect(value[path: "metadata", "labels"] == .object([:]))
        #expect(value[path: "missing", "deeper"] == nil)
    }
}

@Suite struct YAMLTests {
    @Test func parsesKubernetesScalars() throws {
        let value = try JSON.parseYAML(
            """
            a: 1
            b: "1"
            c: true
            d: yes
            e: null
            f: 2024-01-01
            g: 1.5
            h: ~
            i: 0x10
            j: 'quoted'
            """)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .string("1"))
        #expect(value["c"] == .bool(true))
        #expect(value["d"] == .bool(true))
        #expect(value["e"] == .null)
        #expect(value["f"] == .string("2024-01-01"))
        #expect(value["g"] == .double(1.5))
        #expect(value["h"] == .null)
        #expect(value["i"] == .int(16))
        #expect(value["j"] == .string("quoted"))
    }

    @Test func multiDocumentDropsEmptyDocuments() throws {
        let docs = try JSON.parseYAMLDocuments("---\na: 1\n---\n---\nb: 2\n")
        #expect(docs == [["a": 1], ["b": 2]])
    }

    @Test func invalidYAMLIsAnError() {
        #expect(throws: YAMLConversionError.self) { try JSON.parseYAML("a: [1, 2\nb: }") }
    }

    /// Every tricky string must read back as the same string.
    @Test(arguments: [
        "", "true", "yes", "No", "on", "null", "~", "1", "1.0", "-1", "0x1F", "1e3", "12:30", ".inf", "2024-01-01",
        "a: b", "a #b", "#x", "- x", "-x", "--x", "[x]", "{x}", "*x", "&x", "!x", "|x", ">x", "%x", "@x", "`x",
        "x:", " x", "x ", "line1\nline2", "line1\nline2\n", "trailing \nspace", "tab\there", "é", "quote\"s",
        "back\\slash", "\n", "a\n\nb", "a\n\n", "'single'", "\"double\"", "y", "n", "=", "<<", "0o17", "+1",
        "1_000", "cluster.local", "192.168.0.0/16", "IfNotPresent", "${VAR}", "a,b", "?x", "x?",
    ])
    func stringsRoundTripThroughYAML(text: String) throws {
        let value: JSON = ["k": .string(text), "list": [.string(text)], .init(stringLiteral: text.isEmpty ? "e" : text): 1]
        let yaml = value.yamlString()
        let back = try JSON.parseYAML(yaml)
        #expect(back == value, "YAML was:\n\(yaml)")
    }

    @Test func writesBlockStyleDeterministically() {
        let value: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "x", "labels": [:]],
            "data": ["script": "echo a\necho b\n", "port": "9091"],
            "items": [["name": "a", "value": 1], ["name": "b"], [1, 2], []],
        ]
        let expected = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: x
              labels: {}
            data:
              script: |
                echo a
                echo b
              port: "9091"
            items:
            - name: a
              value: 1
            - name: b
            -
              - 1
              - 2
            - []

            """
        #expect(value.yamlString() == expected)
    }

    @Test func streamRoundTrips() throws {
        let docs: [JSON] = [["a": 1], ["b": ["c": [1, "2", nil]]]]
        let text = YAMLWriter().stream(docs)
        #expect(try JSON.parseYAMLDocuments(text) == docs)
    }
}
