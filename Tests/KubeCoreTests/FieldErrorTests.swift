import KubeCore
import Testing

@Suite struct FieldErrorTests {
    @Test func messagesFollowKubernetesFieldErrors() {
        let path = FieldPath("spec").child("pools").index(0).key("a.b")
        #expect(path.string == "spec.pools[0][a.b]")
        #expect(FieldError.invalid(path, .string("x"), "bad").description == #"spec.pools[0][a.b]: Invalid value: "x": bad"#)
        #expect(FieldError.required("spec.x", "needed").description == "spec.x: Required value: needed")
        #expect(
            FieldError.notSupported("mode", .string("foo"), ["a", "b"]).description == #"mode: Unsupported value: "foo": supported values: "a", "b""#)
        let list = FieldErrorList([.required("a", ""), .forbidden("b", "no")])
        #expect(list.description == "[a: Required value, b: Forbidden: no]")
    }

    @Test func positionalFormAndStatusCause() {
        // The API server's form: a JSON value (nil: none), required/forbidden never print one.
        let e = FieldError(.invalid, "spec.leaseDurationSeconds", .int(-1), "must be greater than 0")
        #expect(e.description == "spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0")
        #expect(
            e.statusCause == [
                "reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than 0", "field": "spec.leaseDurationSeconds",
            ])
        #expect(FieldError(.required, "spec.group").statusCause["message"] == "Required value")
        #expect(FieldError(.invalid, "metadata.labels", ["a": 1], "must be strings").body == #"Invalid value: {"a":1}: must be strings"#)
        #expect(FieldError(.notSupported, "dryRun", .array(["x"]), "supported values: \"All\"").statusCause["reason"] == "FieldValueNotSupported")
    }
}
