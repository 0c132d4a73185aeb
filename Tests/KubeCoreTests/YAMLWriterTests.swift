import Testing

@testable import KubeCore

/// The fast emitter must write exactly what the reference emitter writes (rendered manifests,
/// checksums over them and golden outputs depend on it).
@Suite struct YAMLWriterEquivalenceTests {
    /// Strings that hit every branch of the style decision: reserved words, indicators, numbers,
    /// `: ` / ` #`, literal-block edge cases, control characters, non-ASCII text.
    static let tricky: [String] = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
        "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "=", "<<", "nul", "nulls",
        "truee", "offf", "yess", "1", "1.0", "-1", "+1", ".5", "0x1F", "0o17", "1e3", "1_000", "12:30", ".inf",
        "-.inf", ".NaN", "2024-01-01", "2024-01-01T00:00:00Z", "100m", "1Gi", "9091", "0", "00", "1.2.3.4",
        "10.0.0.0/8", "2001:db8::/64", "::1", "a: b", "a #b", "a#b", "#x", "- x", "-x", "--x", "-", "--", "-1x",
        "-.", "-e", "[x]", "{x}", "*x", "&x", "!x", "|x", ">x", "%x", "@x", "`x", "'x", "\"x", ",x", "?x", ":x",
        " x", "x ", "x:", "x::y", "x: ", "x :y", "x?", "a,b", "http://x:80/y", "$(VAR)", "${VAR}", "kube-system",
        "calico-node", "k8s-app", "app.kubernetes.io/name", "checksum/configmap-calico", "IfNotPresent", "TCP",
        "line1\nline2", "line1\nline2\n", "line1\nline2\n\n", "\n", "\n\n", "a\n", "\nfoo", " foo\nbar",
        "foo \nbar", "foo\nbar ", "foo\nbar \n", "a\n\nb", "a\n\n", "a\n \nb", "a\n\tb", "a\r\nb", "tab\there",
        "x\u{1}y", "\u{7F}", "\u{1F}", "bell\u{7}", "é", "naïve", "naïve\nline", "line\né", "\u{85}", "x\u{9F}",
        "\u{FEFF}x", "a\u{301}", "a\n\u{301}b", "😀", "quote\"s", "back\\slash", "both\"\\\n", "'single'",
        "\"double\"", "set -e\necho \"a: b\" # c\nexit 0\n", "IFS=$'\\n';for i in $(ip route);do :;done",
        String(repeating: "long-text ", count: 40), String(repeating: "x", count: 200) + "\n",
    ]

    @Test func stringStylesMatchTheReference() {
        for s in Self.tricky {
            #expect(YAMLWriter.isPlainSafe(s) == ReferenceYAMLWriter.isPlainSafe(s), "isPlainSafe(\(s.debugDescription))")
            for allowBlock in [false, true] {
                for indent in [0, 2, 6] {
                    var fast: [UInt8] = []
                    var reference: [UInt8] = []
                    YAMLWriter.writeString(s, indent: indent, allowBlock: allowBlock, to: &fast)
                    ReferenceYAMLWriter.writeString(s, indent: indent, allowBlock: allowBlock, to: &reference)
                    #expect(
                        fast == reference,
                        "\(s.debugDescription) indent \(indent) block \(allowBlock): \(String(decoding: fast, as: UTF8.self).debugDescription) vs \(String(decoding: reference, as: UTF8.self).debugDescription)"
                    )
                }
            }
        }
    }

    /// Deterministic pseudo-random strings over an alphabet full of YAML-significant characters.
    @Test func randomStringsMatchTheReference() {
        let alphabet: [Character] = Array("aZy0159.-+_:# \n\t\r\"'\\/~=<,[]{}!&*|>%@`?eExXoOnNT\u{1}\u{7F}é\u{301}😀")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let length = Int(next() % 9)
            var s = ""
            for _ in 0..<length { s.append(alphabet[Int(next() % UInt64(alphabet.count))]) }
            var fast: [UInt8] = []
            var reference: [UInt8] = []
            YAMLWriter.writeString(s, indent: 4, allowBlock: true, to: &fast)
            ReferenceYAMLWriter.writeString(s, indent: 4, allowBlock: true, to: &reference)
            if fast != reference || YAMLWriter.isPlainSafe(s) != ReferenceYAMLWriter.isPlainSafe(s) {
                mismatches.append(s.debugDescription)
            }
        }
        #expect(mismatches.isEmpty, "differing strings: \(mismatches.prefix(20))")
    }

    static let documents: [JSON] = [
        .null, true, false, 0, 7, 10, -1, 9091, .int(Int64.max), .int(Int64.min), 1.5, 2.0, -0.25, "x", "yes", [], [:],
        [1, "2", nil, true, [], [:], ["a": 1], [[1, 2], []], [[[]]]],
        [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "calico-node", "namespace": "kube-system", "labels": [:], "annotations": ["a/b": "true"]],
            "spec": [
                "template": [
                    "spec": [
                        "containers": [
                            [
                                "name": "c", "command": ["/bin/sh", "-c", "set -e\necho hi\n"], "args": [],
                                "env": [["name": "A", "value": "1"], ["name": "B", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]]],
                                "ports": [["containerPort": 9091, "protocol": "TCP"]],
                                "resources": ["requests": ["cpu": "100m", "memory": "100Mi"]],
                            ]
                        ],
                        "nested": [[["a": 1, "b": [1, [2, 3]]]], [:], ["z": [:], "y": []]],
                    ]
                ]
            ],
            "zeta": 1, "alpha": ["q": "p", "b": "a"], "": "empty key", "yes": "no", "a: b": "key with colon",
        ],
    ]

    @Test func documentsAndStreamsMatchTheReference() {
        for sorted in [false, true] {
            let fast = YAMLWriter(sortedKeys: sorted)
            let reference = ReferenceYAMLWriter(sortedKeys: sorted)
            for doc in Self.documents {
                #expect(fast.document(doc) == reference.document(doc), "\(doc) sorted=\(sorted)")
                #expect(fast.documentBytes(doc) == Array(reference.document(doc).utf8))
            }
            #expect(fast.stream(Self.documents) == reference.stream(Self.documents))
            #expect(fast.streamBytes(Self.documents) == Array(reference.stream(Self.documents).utf8))
        }
    }

    @Test func byteClassesAgreeWithTheByteRules() {
        for value in 0...255 {
            let b = UInt8(value)
            let classes = YAMLWriter.byteClass(b)
            #expect((classes & 2 == 0) == (b < 0x80 && YAMLWriter.isNumericByte(b)), "numeric class of \(value)")
            let needsDetail = b < 0x20 || b == 0x7F || b >= 0x80 || b == 0x20 || b == UInt8(ascii: "#") || b == UInt8(ascii: ":")
            #expect((classes & 1 == 1) == needsDetail, "detail class of \(value)")
        }
    }

    @Test func reservedWordsMatchTheReferenceSet() {
        for word in ReferenceYAMLWriter.reservedWords + ["nul", "nulll", "tru", "falsey", "yES", "oN", "<", "<<<", "==", "~~", "Nope"] {
            var copy = word
            let packed = copy.withUTF8 { YAMLWriter.isReserved($0) }
            #expect(packed == ReferenceYAMLWriter.reservedWords.contains(word), "\(word)")
        }
    }

    /// The 8-bytes-at-a-time test finds exactly the bytes `byteClass` marks, wherever they are
    /// and whatever their neighbours (no false positives from borrows between bytes).
    @Test func wordScanAgreesWithTheByteClasses() {
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }
        var mismatches: [String] = []
        for a in 0...255 {
            for b in 0...255 {
                var bytes = [UInt8](repeating: UInt8(ascii: "k"), count: 8)
                bytes[1] = UInt8(a)
                bytes[6] = UInt8(b)
                bytes[2] = UInt8((a + b) & 0x7F)
                let expected = bytes.contains { YAMLWriter.byteClass($0) & 1 == 1 }
                if YAMLWriter.wordNeedsDetail(word(bytes)) != expected { mismatches.append("\(bytes)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func deepNestingBeyondTheSpaceRunIsIndented() throws {
        var value: JSON = ["leaf": "x\ny"]
        for i in 0..<80 { value = ["k\(i)": value] }
        #expect(YAMLWriter().document(value) == ReferenceYAMLWriter().document(value))
        #expect(try JSON.parseYAML(YAMLWriter().document(value)) == value)
    }
}
