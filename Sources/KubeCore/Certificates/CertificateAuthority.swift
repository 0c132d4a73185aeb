import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority with an ECDSA P-256 key: generates its own self-signed certificate
/// and issues serving and client certificates, all as PEM. Writing the files is the caller's job.
public struct CertificateAuthority: Sendable {
    /// A subject name: organizations (Kubernetes reads them as groups) followed by the common name.
    public struct Subject: Sendable, Hashable {
        /// The `CN` (for client certificates: the user name).
        public var commonName: String
        /// The `O` entries, in order (for client certificates: the groups).
        public var organizations: [String]

        /// A subject of one common name and optional organizations.
        public init(commonName: String, organizations: [String] = []) {
            self.commonName = commonName
            self.organizations = organizations
        }

        var distinguishedName: DistinguishedName {
            var rdns = organizations.map {
                RelativeDistinguishedName(.init(type: ASN1ObjectIdentifier.RDNAttributeType.organizationName, utf8String: $0))
            }
            rdns.append(RelativeDistinguishedName(.init(type: ASN1ObjectIdentifier.RDNAttributeType.commonName, utf8String: commonName)))
            return DistinguishedName(rdns)
        }
    }

    /// One subject alternative name of a serving certificate.
    public enum SubjectAlternativeName: Sendable, Hashable {
        /// A DNS name.
        case dnsName(String)
        /// An IP address.
        case ipAddress(IPAddress)

        /// An IP SAN when `name` is an IP literal (leading zeros rejected), a DNS SAN otherwise.
        public init(name: String) {
            if let ip = IPAddress(name) { self = .ipAddress(ip) } else { self = .dnsName(name) }
        }

        var generalName: GeneralName {
            switch self {
            case .dnsName(let d): return .dnsName(d)
            case .ipAddress(let ip): return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip.bytes)))
            }
        }
    }

    /// What an issued certificate is for.
    public enum Usage: Sendable, Hashable {
        /// TLS server authentication (key usage also allows key encipherment).
        case server
        /// TLS client authentication.
        case client
    }

    /// An issued certificate and its new private key.
    public struct Issued: Sendable, Hashable {
        /// The certificate (PEM).
        public var certificatePEM: String
        /// The private key (PEM).
        public var keyPEM: String
    }

    /// The CA certificate.
    public let certificate: Certificate
    /// The CA certificate (PEM).
    public let certificatePEM: String
    /// The CA private key (PEM; kept as text because the key type is not `Sendable`).
    public let keyPEM: String

    /// Generates a new key and a self-signed CA certificate for `subject`, valid in the given window.
    public init(subject: Subject, notValidBefore: Date, notValidAfter: Date) throws {
        let key = P256.Signing.PrivateKey()
        let name = subject.distinguishedName
        let publicKey = Certificate.PublicKey(key.publicKey)
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: notValidBefore, notValidAfter: notValidAfter,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString
        keyPEM = key.pemRepresentation
    }

    /// An existing CA from its certificate and P-256 key (PEM).
    public init(certificatePEM: String, keyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        _ = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    /// Issues a certificate with a new P-256 key, signed by this CA.
    public func issue(
        subject: Subject, usage: Usage, subjectAlternativeNames: [SubjectAlternativeName] = [], notValidBefore: Date, notValidAfter: Date
    ) throws -> Issued {
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let key = P256.Signing.PrivateKey()
        let sans = subjectAlternativeNames.map(\.generalName)
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: notValidBefore,
            notValidAfter: notValidAfter, issuer: certificate.subject, subject: subject.distinguishedName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: usage == .server))
                try ExtendedKeyUsage([usage == .server ? .serverAuth : .clientAuth])
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier)
                if !sans.isEmpty { SubjectAlternativeNames(sans) }
            },
            issuerPrivateKey: .init(caKey))
        return Issued(certificatePEM: try cert.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
    }

    /// The DNS names and IP addresses (canonical text) in a certificate's SANs.
    public static func subjectAlternativeNames(ofPEM pem: String) throws -> [String] {
        let cert = try Certificate(pemEncoded: pem)
        guard let sans = try cert.extensions.subjectAlternativeNames else { return [] }
        return sans.map { name -> String in
            switch name {
            case .dnsName(let d): return d
            case .ipAddress(let o): return IPAddress(bytes: Array(o.bytes)).canonical
            default: return "\(name)"
            }
        }
    }

    /// User (`CN`) and groups (`O` entries) of a client certificate in DER form, the way
    /// kube-apiserver's x509 authenticator reads them; nil without a common name.
    public static func identity(fromDER der: [UInt8]) -> (user: String, groups: [String])? {
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
