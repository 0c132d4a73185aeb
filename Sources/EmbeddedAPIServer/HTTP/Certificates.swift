import Foundation
import KubeCore

/// The server's PKI, generated at start: a CA, a serving certificate for 127.0.0.1/localhost
/// signed by it, and the ability to issue client certificates accepted for authentication.
struct ServerCertificates: Sendable {
    /// Certificates are back-dated an hour against clock skew and live one year (the CA ten).
    static let backdate: TimeInterval = 3600

    let authority: CertificateAuthority
    var caCertificatePEM: String { authority.certificatePEM }
    let serverCertificatePEM: String
    let serverKeyPEM: String

    init(host: String) throws {
        let now = Date()
        let authority = try CertificateAuthority(
            subject: .init(commonName: "embedded-apiserver-ca", organizations: ["embedded-apiserver"]),
            notValidBefore: now.addingTimeInterval(-Self.backdate), notValidAfter: now.addingTimeInterval(10 * 365 * 86400))
        try self.init(authority: authority, host: host)
    }

    /// A new serving certificate from an existing CA (clients trusting the CA keep working).
    init(authority: CertificateAuthority, host: String) throws {
        let server = try Self.issue(authority, subject: .init(commonName: "embedded-apiserver"), usage: .server, sans: Self.servingNames(host: host))
        self.init(authority: authority, serverCertificatePEM: server.certificatePEM, serverKeyPEM: server.keyPEM)
    }

    init(authority: CertificateAuthority, serverCertificatePEM: String, serverKeyPEM: String) {
        self.authority = authority
        self.serverCertificatePEM = serverCertificatePEM
        self.serverKeyPEM = serverKeyPEM
    }

    /// The SANs the serving certificate needs: always loopback, plus the bind host when it is
    /// a name or another literal IPv4 address.
    static func servingNames(host: String) -> [CertificateAuthority.SubjectAlternativeName] {
        let loopback = IPAddress(bytes: [127, 0, 0, 1])
        let hostIPv4 = IPAddress(host, allowLeadingZeros: true).flatMap { $0.isIPv4 ? $0 : nil }
        var sans: [CertificateAuthority.SubjectAlternativeName] = [.dnsName("localhost")]
        if host != "127.0.0.1", hostIPv4 == nil { sans.append(.dnsName(host)) }
        sans.append(.ipAddress(loopback))
        if let hostIPv4, hostIPv4 != loopback { sans.append(.ipAddress(hostIPv4)) }
        return sans
    }

    private static func issue(
        _ authority: CertificateAuthority, subject: CertificateAuthority.Subject, usage: CertificateAuthority.Usage,
        sans: [CertificateAuthority.SubjectAlternativeName]
    ) throws -> CertificateAuthority.Issued {
        let now = Date()
        return try authority.issue(
            subject: subject, usage: usage, subjectAlternativeNames: sans, notValidBefore: now.addingTimeInterval(-backdate),
            notValidAfter: now.addingTimeInterval(365 * 86400))
    }

    /// A client certificate: user = CN, groups = O entries.
    func issueClientCertificate(commonName: String, groups: [String]) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let issued = try Self.issue(authority, subject: .init(commonName: commonName, organizations: groups), usage: .client, sans: [])
        return (issued.certificatePEM, issued.keyPEM)
    }
}
