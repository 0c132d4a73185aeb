import Foundation
import KubeClient
import KubeCore
import Logging
import X509

/// A CA and a serving certificate for the webhook (PEM).
public struct WebhookCertificates: Sendable, Equatable {
    /// The CA certificate (PEM).
    public var caCertificatePEM: String
    /// The CA private key (PEM).
    public var caKeyPEM: String
    /// The serving certificate (PEM), signed by the CA.
    public var serverCertificatePEM: String
    /// The serving private key (PEM).
    public var serverKeyPEM: String

    /// A set from its four PEM blocks.
    public init(caCertificatePEM: String, caKeyPEM: String, serverCertificatePEM: String, serverKeyPEM: String) {
        self.caCertificatePEM = caCertificatePEM
        self.caKeyPEM = caKeyPEM
        self.serverCertificatePEM = serverCertificatePEM
        self.serverKeyPEM = serverKeyPEM
    }
}

/// Generation of the self-signed CA and of serving certificates.
public enum CertificateGenerator {
    /// A new CA and a serving certificate for `names` (DNS names or IP literals; IPs become IP SANs).
    /// `caValidity` / `serverValidity` default to ten years / one year (the self-signed mode
    /// without a namespace never rotates; the Secret mode passes its rotation policy).
    public static func generate(
        names: [String], commonName: String = WebhookConfiguration.baseName,
        caValidity: TimeInterval = 10 * 365 * 86400,
        serverValidity: TimeInterval = 365 * 86400
    ) throws -> WebhookCertificates {
        let now = Date()
        let ca = try CertificateAuthority(
            subject: .init(commonName: "\(commonName)-ca"), notValidBefore: now.addingTimeInterval(-backdate),
            notValidAfter: now.addingTimeInterval(caValidity))
        let (cert, key) = try issueServer(
            caCertificatePEM: ca.certificatePEM, caKeyPEM: ca.keyPEM, names: names, commonName: commonName, validity: serverValidity)
        return WebhookCertificates(caCertificatePEM: ca.certificatePEM, caKeyPEM: ca.keyPEM, serverCertificatePEM: cert, serverKeyPEM: key)
    }

    /// A serving certificate signed by the given CA, valid for `validity` (one year by default)
    /// but never beyond the CA's own expiry.
    public static func issueServer(
        caCertificatePEM: String, caKeyPEM: String, names: [String],
        commonName: String = WebhookConfiguration.baseName,
        validity: TimeInterval = 365 * 86400
    ) throws -> (certificatePEM: String, keyPEM: String) {
        let ca = try CertificateAuthority(certificatePEM: caCertificatePEM, keyPEM: caKeyPEM)
        let now = Date()
        let issued = try ca.issue(
            subject: .init(commonName: commonName), usage: .server,
            subjectAlternativeNames: names.filter { !$0.isEmpty }.map(CertificateAuthority.SubjectAlternativeName.init(name:)),
            notValidBefore: now.addingTimeInterval(-backdate), notValidAfter: min(now.addingTimeInterval(validity), ca.certificate.notValidAfter))
        return (issued.certificatePEM, issued.keyPEM)
    }

    /// How far `notValidBefore` is back-dated against clock skew (subtracted when computing
    /// how much of a certificate's validity has elapsed).
    static let backdate: TimeInterval = 300

    /// Whether `renewalFraction` of the certificate's validity has elapsed at `now`.
    static func isDue(_ cert: Certificate, now: Date, renewalFraction: Double) -> Bool {
        let issued = cert.notValidBefore.addingTimeInterval(backdate)
        let lifetime = cert.notValidAfter.timeIntervalSince(issued)
        guard lifetime > 0 else { return true }
        return now >= issued.addingTimeInterval(lifetime * renewalFraction)
    }

    /// Whether `cert` carries a valid signature of `ca`'s key.
    static func isSigned(_ cert: Certificate, by ca: Certificate) -> Bool {
        cert.issuer == ca.subject && ca.publicKey.isValidSignature(cert.signature, for: cert)
    }
}

/// The files of the cert dir (`--webhook-config-cert-dir`).
public enum CertificateDirectory {
    /// File name of the serving certificate.
    public static let certificateFile = "tls.crt"
    /// File name of the serving key.
    public static let keyFile = "tls.key"
    /// File name of the CA certificate.
    public static let caFile = "ca.crt"

    /// Writes `tls.crt`, `tls.key` (mode 0600) and `ca.crt`, each atomically.
    public static func write(_ certs: WebhookCertificates, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try writeAtomically(certs.caCertificatePEM, to: directory + "/" + caFile, mode: 0o644)
        try writeAtomically(certs.serverKeyPEM, to: directory + "/" + keyFile, mode: 0o600)
        try writeAtomically(certs.serverCertificatePEM, to: directory + "/" + certificateFile, mode: 0o644)
    }

    /// Like ``write(_:to:)`` but leaves files whose content is already right untouched (every
    /// replica re-syncs periodically; rewriting would only cause needless reloads).
    /// Returns whether anything was written.
    @discardableResult
    public static func writeIfChanged(_ certs: WebhookCertificates, to directory: String) throws -> Bool {
        func current(_ file: String) -> String? { try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) }
        if current(caFile) == certs.caCertificatePEM && current(keyFile) == certs.serverKeyPEM
            && current(certificateFile) == certs.serverCertificatePEM
        {
            return false
        }
        try write(certs, to: directory)
        return true
    }

    static func writeAtomically(_ text: String, to path: String, mode: Int) throws {
        let tmp = path + ".tmp-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp])
        }
        if rename(tmp, path) != 0 {
            try? FileManager.default.removeItem(atPath: tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
