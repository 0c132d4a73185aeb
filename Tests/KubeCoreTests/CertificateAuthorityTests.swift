import Foundation
import KubeCore
import Testing
import X509

/// The shared CA helper: subjects, SANs, validity windows and usages as the callers ask for them.
@Suite struct CertificateAuthorityTests {
    @Test func issuesServingCertificateWithSANs() throws {
        let now = Date()
        let ca = try CertificateAuthority(
            subject: .init(commonName: "test-ca", organizations: ["org"]), notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(86400))
        #expect(ca.certificate.subject.description == "CN=test-ca,O=org")
        let names = ["svc.example", "10.1.2.3", "::1"].map(CertificateAuthority.SubjectAlternativeName.init(name:))
        #expect(names == [.dnsName("svc.example"), .ipAddress(IPAddress(bytes: [10, 1, 2, 3])), .ipAddress(try #require(IPAddress("::1")))])
        let issued = try ca.issue(
            subject: .init(commonName: "server"), usage: .server, subjectAlternativeNames: names, notValidBefore: now,
            notValidAfter: now.addingTimeInterval(3600))
        #expect(try CertificateAuthority.subjectAlternativeNames(ofPEM: issued.certificatePEM) == ["svc.example", "10.1.2.3", "::1"])
        let cert = try Certificate(pemEncoded: issued.certificatePEM)
        #expect(cert.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(abs(cert.notValidAfter.timeIntervalSince(now.addingTimeInterval(3600))) < 1)
        #expect(try cert.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try cert.extensions.keyUsage?.keyEncipherment == true)
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test func reloadedAuthorityIssuesClientCertificates() throws {
        let now = Date()
        let original = try CertificateAuthority(
            subject: .init(commonName: "ca"), notValidBefore: now, notValidAfter: now.addingTimeInterval(86400))
        let ca = try CertificateAuthority(certificatePEM: original.certificatePEM, keyPEM: original.keyPEM)
        let issued = try ca.issue(
            subject: .init(commonName: "alice", organizations: ["system:masters", "dev"]), usage: .client, notValidBefore: now,
            notValidAfter: now.addingTimeInterval(60))
        let cert = try Certificate(pemEncoded: issued.certificatePEM)
        #expect(original.certificate.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.subjectAlternativeNames == nil)
        #expect(try cert.extensions.keyUsage?.keyEncipherment == false)
        let base64 = issued.certificatePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let identity = CertificateAuthority.identity(fromDER: [UInt8](try #require(Data(base64Encoded: base64))))
        #expect(identity?.user == "alice")
        #expect(identity?.groups == ["system:masters", "dev"])
        #expect(throws: (any Error).self) { try CertificateAuthority(certificatePEM: original.certificatePEM, keyPEM: "nope") }
    }
}
