import KubeCore
import Testing

/// DNS-1123 and qualified-name checks with kube-apiserver's messages.
@Suite struct NameValidationTests {
    @Test func labels() {
        #expect(NameValidation.isDNS1123Label("a-1"))
        #expect(!NameValidation.isDNS1123Label(""))
        #expect(!NameValidation.isDNS1123Label("-a"))
        #expect(!NameValidation.isDNS1123Label("a."))
        #expect(!NameValidation.isDNS1123Label("A"))
        #expect(!NameValidation.isDNS1123Label(String(repeating: "a", count: 64)))
        #expect(NameValidation.dns1123LabelErrors("ok").isEmpty)
        #expect(
            NameValidation.dns1123LabelErrors(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
        #expect(
            NameValidation.dns1123LabelErrors("Bad") == [
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ])
    }

    @Test func subdomains() {
        #expect(NameValidation.isDNS1123SubdomainSyntax("a.b-c.d"))
        #expect(!NameValidation.isDNS1123SubdomainSyntax("a..b"))
        #expect(!NameValidation.isDNS1123SubdomainSyntax(".a"))
        #expect(NameValidation.dns1123SubdomainErrors("example.com").isEmpty)
        let long = String(repeating: "a.", count: 127) + "a"
        #expect(NameValidation.dns1123SubdomainErrors(long) == ["must be no more than 253 characters"])
        #expect(
            NameValidation.dns1123SubdomainErrors("Example.com") == [
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ])
    }

    @Test func qualifiedNamesAndLabelValues() {
        #expect(NameValidation.isQualifiedName("app.kubernetes.io/name"))
        #expect(NameValidation.isQualifiedName("My_Name.1"))
        #expect(!NameValidation.isQualifiedName("/name"))
        #expect(!NameValidation.isQualifiedName("a/b/c"))
        #expect(!NameValidation.isQualifiedName("Example.com/name"))
        #expect(!NameValidation.isQualifiedName("name_"))
        #expect(NameValidation.isLabelValue(""))
        #expect(NameValidation.isLabelValue("v1.2_3"))
        #expect(!NameValidation.isLabelValue("-v"))
        #expect(!NameValidation.isLabelValue(String(repeating: "x", count: 64)))
    }
}
