import Crypto
import Foundation
import SwiftASN1
import X509

/// The server's PKI, generated at start: a CA, a serving certificate for 127.0.0.1/localhost
/// signed by it, and the ability to issue client certificates accepted for authentication.
struct CertificateAuthority: Sendable {
    /// The CA key in raw form (the key type itself is not Sendable).
    let caKeyRaw: Data
    let caCertificate: Certificate
    let caCertificatePEM: String
    let serverCertificatePEM: String
    let serverKeyPEM: String

    init(host: String) throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        caKeyRaw = caKey.rawRepresentation
        let caName = try DistinguishedName {
            OrganizationName("embedded-apiserver")
            CommonName("embedded-apiserver-ca")
        }
        let caPublic = Certificate.PublicKey(caKey.publicKey)
        caCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caPublic,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPublic)
            },
            issuerPrivateKey: .init(caKey))
        caCertificatePEM = try caCertificate.serializeAsPEM().pemString

        let serverKey = P256.Signing.PrivateKey()
        var sans: [GeneralName] = [.dnsName("localhost")]
        // Always include loopback; include the bind host too when it is another literal address.
        var ips: [[UInt8]] = [[127, 0, 0, 1]]
        if let v4 = Self.ipv4Bytes(host), v4 != [127, 0, 0, 1] { ips.append(v4) }
        if host != "127.0.0.1", Self.ipv4Bytes(host) == nil { sans.append(.dnsName(host)) }
        for ip in ips { sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) }
        let serverCert = try Self.issue(
            subject: try DistinguishedName { CommonName("embedded-apiserver") },
            publicKey: .init(serverKey.publicKey), caKey: caKey, caCertificate: caCertificate, caPublic: caPublic,
            usage: .serverAuth, sans: sans)
        serverCertificatePEM = try serverCert.serializeAsPEM().pemString
        serverKeyPEM = serverKey.pemRepresentation
    }

    static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    static func issue(
        subject: DistinguishedName, publicKey: Certificate.PublicKey, caKey: P256.Signing.PrivateKey,
        caCertificate: Certificate, caPublic: Certificate.PublicKey,
        usage: ExtendedKeyUsage.Usage, sans: [GeneralName]
    ) throws -> Certificate {
        let now = Date()
        let ski = SubjectKeyIdentifier(hash: caPublic)
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caCertificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: usage == .serverAuth))
                try ExtendedKeyUsage([usage])
                AuthorityKeyIdentifier(keyIdentifier: ski.keyIdentifier)
                if !sans.isEmpty { SubjectAlternativeNames(sans) }
            },
            issuerPrivateKey: .init(caKey))
    }

    /// A client certificate: user = CN, groups = O entries.
    func issueClientCertificate(commonName: String, groups: [String]) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let caKey = try P256.Signing.PrivateKey(rawRepresentation: caKeyRaw)
        var rdns: [RelativeDistinguishedName] = groups.map {
            RelativeDistinguishedName(.init(type: ASN1ObjectIdentifier.RDNAttributeType.organizationName, utf8String: $0))
        }
        rdns.append(RelativeDistinguishedName(.init(type: ASN1ObjectIdentifier.RDNAttributeType.commonName, utf8String: commonName)))
        let cert = try Self.issue(
            subject: DistinguishedName(rdns), publicKey: .init(key.publicKey), caKey: caKey,
            caCertificate: caCertificate, caPublic: Certificate.PublicKey(caKey.publicKey), usage: .clientAuth, sans: [])
        return (try cert.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// User and groups from a (TLS-verified) client certificate in DER form.
    static func identity(fromDER der: [UInt8]) -> (user: String, groups: [String])? {
        guard let cert = try? Certificate(derEncoded: der) else { return nil }
        var user: String?
        var groups: [String] = []
        for rdn in cert.subject {
            for attribute in rdn {
                if attribute.type == ASN1ObjectIdentifier.RDNAttributeType.commonName { user = String(describing: attribute.value) }
                if attribute.type == ASN1ObjectIdentifier.RDNAttributeType.organizationName { groups.append(String(describing: attribute.value)) }
            }
        }
        guard let user, !user.isEmpty else { return nil }
        return (user, groups)
    }
}
