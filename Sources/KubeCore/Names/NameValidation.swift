/// Kubernetes' name syntax checks (DNS-1123 labels and subdomains, qualified names, label
/// values) with kube-apiserver's messages, shared by the embedded API server and the webhook.
public enum NameValidation {
    /// The regular expression kube-apiserver quotes for DNS-1123 subdomains.
    public static let dns1123SubdomainRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    /// The regular expression kube-apiserver quotes for DNS-1123 labels.
    public static let dns1123LabelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"

    /// The message for a name that is not DNS-1123 subdomain syntax.
    public static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '\(dns1123SubdomainRegex)')"
    /// The message for a name that is not DNS-1123 label syntax.
    public static let dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '\(dns1123LabelRegex)')"
    /// The message for a bad name part of a qualified name (label keys, annotation keys, finalizers).
    public static let qualifiedNameMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    /// The message for a bad label value.
    public static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    /// A lower-case letter or a digit.
    public static func isAlphanumericLower(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
    /// A letter of either case or a digit.
    public static func isAlphanumeric(_ c: UInt8) -> Bool { isAlphanumericLower(c) || (c >= 65 && c <= 90) }

    /// A DNS-1123 label: at most 63 characters of `[a-z0-9-]`, alphanumeric at both ends.
    public static func isDNS1123Label(_ s: String) -> Bool {
        s.utf8.count <= 63 && isLabelSyntax(s.utf8)
    }

    /// DNS-1123 subdomain syntax (dot-separated labels), without the 253-character limit.
    public static func isDNS1123SubdomainSyntax(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        return s.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { isLabelSyntax($0) }
    }

    private static func isLabelSyntax(_ b: some Collection<UInt8>) -> Bool {
        guard let first = b.first, isAlphanumericLower(first) else { return false }
        var last = first
        for c in b {
            guard isAlphanumericLower(c) || c == UInt8(ascii: "-") else { return false }
            last = c
        }
        return isAlphanumericLower(last)
    }

    /// Kubernetes' `IsDNS1123Subdomain`: the messages, empty when valid.
    public static func dns1123SubdomainErrors(_ s: String) -> [String] {
        var errors: [String] = []
        if s.utf8.count > 253 { errors.append("must be no more than 253 characters") }
        if !isDNS1123SubdomainSyntax(s) { errors.append(dns1123SubdomainMessage) }
        return errors
    }

    /// Kubernetes' `IsDNS1123Label`: the messages, empty when valid.
    public static func dns1123LabelErrors(_ s: String) -> [String] {
        var errors: [String] = []
        if s.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        if !isLabelSyntax(s.utf8) { errors.append(dns1123LabelMessage) }
        return errors
    }

    /// A qualified-name part or non-empty label value: at most 63 characters of
    /// `[A-Za-z0-9-_.]`, alphanumeric at both ends.
    public static func isQualifiedNamePart(_ s: String) -> Bool {
        let b = s.utf8
        guard let first = b.first, b.count <= 63, isAlphanumeric(first) else { return false }
        var last = first
        for c in b {
            guard isAlphanumeric(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") else { return false }
            last = c
        }
        return isAlphanumeric(last)
    }

    /// A qualified name: a name part with an optional DNS-1123 subdomain prefix (`example.com/name`).
    public static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isQualifiedNamePart(key)
        case 2:
            let prefix = String(parts[0])
            return !prefix.isEmpty && prefix.utf8.count <= 253 && isDNS1123SubdomainSyntax(prefix) && isQualifiedNamePart(String(parts[1]))
        default: return false
        }
    }

    /// A label value: empty or a qualified-name part.
    public static func isLabelValue(_ v: String) -> Bool { v.isEmpty || isQualifiedNamePart(v) }
}
