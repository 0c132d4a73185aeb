import EmbeddedAPIServer
import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

let gadgetSchema: JSON = [
    "type": "object",
    "properties": [
        "spec": [
            "type": "object", "required": ["size"],
            "properties": [
                "size": ["type": "integer", "minimum": 1, "maximum": 10],
                "mode": ["type": "string", "enum": ["a", "b"], "default": "a"],
                "name": ["type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 5],
                "port": ["x-kubernetes-int-or-string": true],
                "when": ["type": "string", "format": "date-time"],
                "id": ["type": "string", "format": "uuid"],
                "ip": ["type": "string", "format": "ipv4"],
                "ratio": ["type": "number", "multipleOf": 0.5, "maximum": 5, "exclusiveMaximum": true],
                "tags": ["type": "array", "maxItems": 3, "items": ["type": "string"], "x-kubernetes-list-type": "set"],
                "ports": [
                    "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": [
                        "type": "object", "required": ["name"],
                        "properties": ["name": ["type": "string"], "port": ["type": "integer", "default": 80]],
                    ],
                ],
                "labels": ["type": "object", "maxProperties": 2, "additionalProperties": ["type": "string"]],
                "extra": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                "template": [
                    "type": "object", "x-kubernetes-embedded-resource": true,
                    "properties": ["spec": ["type": "object", "properties": ["x": ["type": "string"]]]],
                ],
                "note": ["type": "string", "nullable": true],
                "replicas": ["type": "integer", "default": 1],
                "level": ["type": "integer", "anyOf": [["minimum": 10], ["maximum": 0]]],
                "code": ["type": "string", "not": ["enum": ["forbidden"]], "allOf": [["minLength": 2], ["maxLength": 4]]],
                "checked": ["type": "string", "x-kubernetes-validations": [["rule": "self.size() > 1"]]],
            ],
        ],
        "status": ["type": "object", "properties": ["phase": ["type": "string", "enum": ["Ready", "Failed"]]]],
    ],
]

/// The namespaced Gadget CRD (`gadgets.demo.example.com/v1`) with `schema`, and with its status
/// subresource unless `statusSubresource` is false.
func gadgetCRD(schema: JSON = gadgetSchema, statusSubresource: Bool = true) -> JSON {
    var version: JSON = ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": schema]]
    if statusSubresource { version["subresources"] = ["status": .emptyObject] }
    return [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "gadgets.demo.example.com"],
        "spec": [
            "group": "demo.example.com", "scope": "Namespaced",
            "names": ["plural": "gadgets", "singular": "gadget", "kind": "Gadget"],
            "versions": [version],
        ],
    ]
}

let gadgets = "/apis/demo.example.com/v1/namespaces/default/gadgets"

func gadget(_ name: String, _ spec: JSON) -> JSON {
    ["apiVersion": "demo.example.com/v1", "kind": "Gadget", "metadata": ["name": .string(name)], "spec": spec]
}

extension LoopbackHTTPClient.Response {
    var warnings: [String] { headers.filter { $0.0.lowercased() == "warning" }.map(\.1) }
    var causes: [String] {
        json[path: "details", "causes"]?.arrayValue?.map { "\($0["field"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" } ?? []
    }
}

/// Runs `body` with the Gadget CRD (a schema using every rule) registered.
func withGadgets(_ body: (EmbeddedAPIServer, LoopbackHTTPClient) async throws -> Void) async throws {
    try await withServer(crd: false) { server, c in
        let r = try await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadgetCRD())
        #expect(r.status == 201, "\(r.text)")
        try await body(server, c)
    }
}

@Suite struct StructuralSchemaTests {
    @Test func wrongTypeIsInvalidInKubeWords() async throws {
        try await withGadgets { _, c in
            let r = try await c.post(gadgets, gadget("w1", ["size": "string"]))
            #expect(r.status == 422 && r.json["reason"] == "Invalid")
            #expect(
                r.json["message"]
                    == "Gadget.demo.example.com \"w1\" is invalid: spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
            )
            #expect(r.json[path: "details", "causes"]?[0]?["reason"] == "FieldValueTypeInvalid")
            #expect(r.json[path: "details", "causes"]?[0]?["field"] == "spec.size")
            let nested = try await c.post(gadgets, gadget("w2", ["size": 1, "ports": [["name": 5]]]))
            #expect(
                nested.causes == ["spec.ports[0].name: Invalid value: \"integer\": spec.ports[0].name in body must be of type string: \"integer\""])
        }
    }

    @Test func oneCausePerFieldForEveryRule() async throws {
        try await withGadgets { _, c in
            let spec: JSON = [
                "mode": "x", "name": "AB1xyz", "port": true, "when": "yesterday", "id": "nope", "ip": "1.2.3",
                "ratio": 0.7, "tags": ["a", "b", "a", "c"], "ports": [["name": "p"], ["name": "p"], ["port": 1]],
                "labels": ["a": "1", "b": "2", "c": "3"], "template": ["spec": .emptyObject],
            ]
            let r = try await c.post(gadgets, gadget("bad", spec))
            #expect(r.status == 422)
            let causes = Set(r.causes)
            let expected: Set<String> = [
                "spec.size: Required value",
                "spec.mode: Unsupported value: \"x\": supported values: \"a\", \"b\"",
                "spec.name: Too long: may not be more than 5 bytes",
                "spec.name: Invalid value: \"AB1xyz\": spec.name in body should match '^[a-z]+$'",
                "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"",
                "spec.when: Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\"",
                "spec.id: Invalid value: \"nope\": spec.id in body must be of type uuid: \"nope\"",
                "spec.ip: Invalid value: \"1.2.3\": spec.ip in body must be of type ipv4: \"1.2.3\"",
                "spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5",
                "spec.tags: Too many: 4: must have at most 3 items",
                "spec.tags[2]: Duplicate value: \"a\"",
                "spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"p\"}",
                "spec.ports[2].name: Required value",
                "spec.labels: Too many: 3: must have at most 2 items",
                "spec.template.apiVersion: Required value: must not be empty",
                "spec.template.kind: Required value: must not be empty",
            ]
            #expect(causes == expected, "\(causes.symmetricDifference(expected))")
            #expect(r.causes.count == expected.count)
            let bounds = try await c.post(gadgets, gadget("b", ["size": 0, "ratio": 5, "name": "a"]))
            #expect(
                Set(bounds.causes) == [
                    "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1",
                    "spec.ratio: Invalid value: 5: spec.ratio in body should be less than 5",
                    "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long",
                ])
            let junctors = try await c.post(gadgets, gadget("j", ["size": 1, "level": 5, "code": "forbidden", "mode": 5]))
            #expect(
                Set(junctors.causes) == [
                    ": Invalid value: \"\": \"spec.level\" must validate at least one schema (anyOf)",
                    "spec.level: Invalid value: 5: spec.level in body should be greater than or equal to 10",
                    ": Invalid value: \"\": \"spec.code\" must not validate the schema (not)",
                    ": Invalid value: \"\": \"spec.code\" must validate all the schemas (allOf)",
                    "spec.code: Too long: may not be more than 4 bytes",
                    "spec.mode: Invalid value: \"integer\": spec.mode in body must be of type string: \"integer\"",
                    "spec.mode: Unsupported value: 5: supported values: \"a\", \"b\"",
                ], "\(junctors.causes)")
            #expect(try await c.post(gadgets, gadget("j2", ["size": 1, "level": -1, "code": "ok"])).status == 201)
            let high = try await c.post(gadgets, gadget("h", ["size": 11]))
            #expect(high.causes == ["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"])
            let good = try await c.post(
                gadgets,
                gadget(
                    "good",
                    [
                        "size": 3, "port": "http", "when": "2024-01-02T03:04:05.123Z", "id": "0b0c3f0e-9d1a-4c8b-8a2e-0123456789ab",
                        "ip": "10.0.0.1", "ratio": 2.5, "tags": ["a", "b"], "note": nil,
                        "template": ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x", "bogus": 1], "spec": ["x": "y"]],
                    ]))
            #expect(good.status == 201, "\(good.text)")
            #expect(good.json[path: "spec", "template", "metadata"] == ["name": "x"])
            #expect(good.json[path: "spec", "note"] == .null)
        }
    }

    @Test func nullsAndDefaultsOnWrite() async throws {
        try await withGadgets { _, c in
            let r = try await c.post(gadgets, gadget("d", ["size": 2, "mode": nil, "name": nil, "ports": [["name": "http"]]]))
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json[path: "spec", "mode"] == "a" && r.json[path: "spec", "replicas"] == 1)
            #expect(r.json[path: "spec"]?["name"] == nil)  // null of a non-nullable field without default: pruned
            #expect(r.json[path: "spec", "ports"]?[0]?["port"] == 80)
            let patched = try await c.patch("\(gadgets)/d", ["spec": ["replicas": nil]])
            #expect(patched.status == 200 && patched.json[path: "spec", "replicas"] == 1)
        }
    }

    @Test func unknownFieldsArePrunedAndWarnedByDefault() async throws {
        try await withGadgets { server, c in
            var body = gadget("p", ["size": 2, "bogus": true, "extra": ["free": ["form": 1]], "labels": ["k": "v"]])
            body["topLevel"] = 1
            body[path: "metadata", "nonsense"] = "x"
            let r = try await c.post(gadgets, body)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json[path: "spec"]?["bogus"] == nil && r.json["topLevel"] == nil && r.json[path: "metadata"]?["nonsense"] == nil)
            #expect(r.json[path: "spec", "extra"] == ["free": ["form": 1]])
            #expect(
                r.warnings == [
                    "299 - \"unknown field \\\"metadata.nonsense\\\"\"", "299 - \"unknown field \\\"spec.bogus\\\"\"",
                    "299 - \"unknown field \\\"topLevel\\\"\"",
                ])
            let stored = try await c.get("\(gadgets)/p")
            #expect(stored.json[path: "spec"]?["bogus"] == nil)
            let ignore = try await c.request(
                "PATCH", "\(gadgets)/p?fieldValidation=Ignore", json: ["spec": ["bogus2": 1]], contentType: "application/merge-patch+json")
            #expect(ignore.status == 200 && ignore.warnings.isEmpty && ignore.json[path: "spec"]?["bogus2"] == nil)
        }
    }

    @Test func strictFieldValidationNamesUnknownAndDuplicateFields() async throws {
        try await withGadgets { server, c in
            let raw = #"{"apiVersion":"demo.example.com/v1","kind":"Gadget","metadata":{"name":"s"},"spec":{"size":1,"bogus":1,"size":2}}"#
            let r = try await c.request("POST", "\(gadgets)?fieldValidation=Strict", body: Array(raw.utf8))
            #expect(r.status == 400 && r.json["reason"] == "BadRequest")
            #expect(r.json["message"] == "strict decoding error: unknown field \"spec.bogus\", duplicate field \"spec.size\"")
            #expect(try await c.get("\(gadgets)/s").status == 404)
            let warn = try await c.request("POST", gadgets, body: Array(raw.utf8))
            #expect(warn.status == 201 && warn.json[path: "spec", "size"] == 2)
            #expect(warn.warnings == ["299 - \"unknown field \\\"spec.bogus\\\"\"", "299 - \"duplicate field \\\"spec.size\\\"\""])
            let patch = try await c.request(
                "PATCH", "\(gadgets)/s?fieldValidation=Strict", body: Array(#"{"spec":{"tags":["a"],"tags":["b"],"x":{}}}"#.utf8),
                headers: [("Content-Type", "application/merge-patch+json")])
            #expect(patch.status == 400 && patch.json["message"] == "strict decoding error: unknown field \"spec.x\", duplicate field \"spec.tags\"")
            let bad = try await c.request("POST", "\(gadgets)?fieldValidation=Loud", json: gadget("l", ["size": 1]))
            #expect(bad.status == 422)
            #expect(
                bad.json["message"]
                    == "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loud\": supported values: \"Ignore\", \"Strict\", \"Warn\""
            )
        }
    }

    @Test func updatesPatchesAndStatusAreValidated() async throws {
        try await withGadgets { _, c in
            let created = try await c.post(gadgets, gadget("u", ["size": 2]))
            #expect(created.status == 201)
            let patch = try await c.patch("\(gadgets)/u", ["spec": ["size": "big"]])
            #expect(
                patch.status == 422 && patch.causes == ["spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""]
            )
            var put = created.json
            put[path: "spec", "size"] = 100
            let updated = try await c.put("\(gadgets)/u", put)
            #expect(
                updated.status == 422 && updated.causes == ["spec.size: Invalid value: 100: spec.size in body should be less than or equal to 10"])
            let status = try await c.patch("\(gadgets)/u/status", ["status": ["phase": "Unknown", "bogus": 1]])
            #expect(
                status.status == 422 && status.causes == ["status.phase: Unsupported value: \"Unknown\": supported values: \"Ready\", \"Failed\""])
            let ok = try await c.patch("\(gadgets)/u/status", ["status": ["phase": "Ready", "bogus": 1]])
            #expect(ok.status == 200 && ok.json["status"] == ["phase": "Ready"])
            let jsonPatch = try await c.patch("\(gadgets)/u", [["op": "remove", "path": "/spec/size"]], type: "application/json-patch+json")
            #expect(jsonPatch.status == 422 && jsonPatch.causes == ["spec.size: Required value"])
        }
    }

    @Test func defaultsAddedLaterAreAppliedOnRead() async throws {
        try await withServer(crd: false) { _, c in
            let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
            let plain: JSON = ["type": "object", "properties": ["spec": ["type": "object", "properties": ["size": ["type": "integer"]]]]]
            let crd = try await c.post(crdPath, gadgetCRD(schema: plain))
            #expect(crd.status == 201)
            let obj = try await c.post(gadgets, gadget("r", ["size": 1]))
            #expect(obj.status == 201 && obj.json[path: "spec"]?["mode"] == nil)
            let rv = obj.json[path: "metadata", "resourceVersion"]
            var withDefault = plain
            withDefault[path: "properties", "spec", "properties", "mode"] = ["type": "string", "default": "fast"]
            var updated = crd.json
            updated[path: "spec", "versions"] = [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": withDefault]]]
            #expect(try await c.put("\(crdPath)/gadgets.demo.example.com", updated).status == 200)
            let got = try await c.get("\(gadgets)/r")
            #expect(got.json[path: "spec", "mode"] == "fast" && got.json[path: "metadata", "resourceVersion"] == rv)
            let list = try await c.get(gadgets)
            #expect(list.json["items"]?[0]?[path: "spec", "mode"] == "fast")
        }
    }

    @Test func unchangedValuesAreNotRecheckedOnUpdate() async throws {
        try await withServer(crd: false) { _, c in
            let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
            let loose: JSON = [
                "type": "object",
                "properties": [
                    "spec": [
                        "type": "object",
                        "properties": [
                            "size": ["type": "integer"], "name": ["type": "string"],
                            "ports": [
                                "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                "items": ["type": "object", "properties": ["name": ["type": "string"], "port": ["type": "integer"]]],
                            ],
                        ],
                    ]
                ],
            ]
            let crd = try await c.post(crdPath, gadgetCRD(schema: loose))
            #expect(try await c.post(gadgets, gadget("r", ["size": 1, "name": "toolong", "ports": [["name": "a", "port": 99]]])).status == 201)
            var strict = loose
            strict[path: "properties", "spec", "properties", "name"] = ["type": "string", "maxLength": 3]
            strict[path: "properties", "spec", "properties", "ports"] = [
                "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": ["type": "object", "properties": ["name": ["type": "string"], "port": ["type": "integer", "maximum": 10]]],
            ]
            var updated = crd.json
            updated[path: "spec", "versions"] = [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": strict]]]
            #expect(try await c.put("\(crdPath)/gadgets.demo.example.com", updated).status == 200)
            // Old values that the new schema rejects may stay while other fields change...
            let other = try await c.patch("\(gadgets)/r", ["spec": ["size": 2, "ports": [["name": "b", "port": 1], ["name": "a", "port": 99]]]])
            #expect(other.status == 200, "\(other.text)")
            // ...but a changed value is checked.
            let changed = try await c.patch("\(gadgets)/r", ["spec": ["name": "toolonger"]])
            #expect(changed.causes == ["spec.name: Too long: may not be more than 3 bytes"])
            let port = try await c.patch("\(gadgets)/r", ["spec": ["ports": [["name": "a", "port": 98]]]])
            #expect(port.causes == ["spec.ports[0].port: Invalid value: 98: spec.ports[0].port in body should be less than or equal to 10"])
        }
    }

    @Test func celRulesAreAcceptedWithAWarning() async throws {
        try await withServer(crd: false) { _, c in
            let r = try await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadgetCRD())
            #expect(r.status == 201)
            #expect(
                r.warnings == [
                    "299 - \"this API server does not evaluate CEL rules: the x-kubernetes-validations at spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[checked].x-kubernetes-validations are not enforced\""
                ])
            // The rule is not evaluated: "x" passes although the rule wants more than one character.
            #expect(try await c.post(gadgets, gadget("c", ["size": 1, "checked": "x"])).status == 201)
        }
    }

}
