import Crypto
import Foundation
import KubeCore
import X509

/// The server's CA, serving certificate and token kept in the data directory, so that a
/// kubeconfig written before a restart stays valid after it (see docs/local.md).
///
/// Layout: `pki/ca.crt`, `pki/ca.key`, `pki/server.crt`, `pki/server.key` and `token`; files
/// 0600, directories 0700, each written through a synced temporary file renamed into place.
/// A damaged CA fails the start (a new CA would strand every client trusting the old one); a
/// serving certificate that is unusable, expiring soon or missing a needed name is re-issued
/// from the same CA.
enum StoredCredentials {
    /// A serving certificate expiring sooner than this is re-issued at start.
    static let renewBefore: TimeInterval = 30 * 86400

    /// The certificates and token for a server on `host` with state in `dataDirectory`: the
    /// stored ones when usable, otherwise new ones (then stored). `configuredToken` wins over
    /// the stored token (and replaces it).
    static func load(dataDirectory: String, host: String, configuredToken: String?, now: Date = Date()) throws -> (
        certificates: ServerCertificates, token: String
    ) {
        let dir = URL(fileURLWithPath: dataDirectory)
        let pki = dir.appendingPathComponent("pki")
        try makeDirectory(dir)
        try makeDirectory(pki)
        let certificates = try loadCertificates(pki: pki, host: host, now: now)
        let token = try loadToken(dir.appendingPathComponent("token"), configured: configuredToken)
        return (certificates, token)
    }

    private static func loadCertificates(pki: URL, host: String, now: Date) throws -> ServerCertificates {
        let caCert = pki.appendingPathComponent("ca.crt")
        let caKey = pki.appendingPathComponent("ca.key")
        let serverCert = pki.appendingPathComponent("server.crt")
        let serverKey = pki.appendingPathComponent("server.key")
        let caCertPEM = try read(caCert)
        let caKeyPEM = try read(caKey)
        guard let caCertPEM, let caKeyPEM else {
            if caCertPEM != nil || caKeyPEM != nil {
                let (missing, present) = caCertPEM == nil ? (caCert, caKey) : (caKey, caCert)
                throw damaged(missing, "missing while \(present.lastPathComponent) exists")
            }
            let fresh = try ServerCertificates(host: host)
            try write(fresh.caCertificatePEM, to: caCert, in: pki)
            try write(fresh.authority.keyPEM, to: caKey, in: pki)
            try writeServing(fresh, pki: pki)
            return fresh
        }
        let authority = try parseAuthority(certificatePEM: caCertPEM, keyPEM: caKeyPEM, caCert: caCert, caKey: caKey)
        guard authority.certificate.notValidBefore <= now, now < authority.certificate.notValidAfter else {
            throw damaged(caCert, "the CA certificate expired on \(authority.certificate.notValidAfter)")
        }
        if let certPEM = try? read(serverCert), let keyPEM = try? read(serverKey),
            usable(certificatePEM: certPEM, keyPEM: keyPEM, authority: authority, host: host, now: now)
        {
            return ServerCertificates(authority: authority, serverCertificatePEM: certPEM, serverKeyPEM: keyPEM)
        }
        let renewed = try ServerCertificates(authority: authority, host: host)
        try writeServing(renewed, pki: pki)
        return renewed
    }

    /// The CA from its files; either file unreadable or not matching the other fails, naming it.
    private static func parseAuthority(certificatePEM: String, keyPEM: String, caCert: URL, caKey: URL) throws -> CertificateAuthority {
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch { throw damaged(caCert, "not a PEM certificate (\(error))") }
        let key: P256.Signing.PrivateKey
        do { key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM) } catch { throw damaged(caKey, "not a PEM P-256 private key (\(error))") }
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw damaged(caKey, "does not match the certificate in \(caCert.lastPathComponent)")
        }
        do { return try CertificateAuthority(certificatePEM: certificatePEM, keyPEM: keyPEM) } catch { throw damaged(caCert, "\(error)") }
    }

    /// Whether a stored serving certificate can be kept: signed by the CA, its key matching,
    /// valid now and for another ``renewBefore``, and naming every SAN the server needs.
    private static func usable(certificatePEM: String, keyPEM: String, authority: CertificateAuthority, host: String, now: Date) -> Bool {
        guard let cert = try? Certificate(pemEncoded: certificatePEM),
            let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM),
            Certificate.PublicKey(key.publicKey) == cert.publicKey,
            cert.issuer == authority.certificate.subject,
            authority.certificate.publicKey.isValidSignature(cert.signature, for: cert),
            cert.notValidBefore <= now, now.addingTimeInterval(renewBefore) < cert.notValidAfter,
            let names = try? CertificateAuthority.subjectAlternativeNames(ofPEM: certificatePEM)
        else { return false }
        let needed = ServerCertificates.servingNames(host: host).map { san -> String in
            switch san {
            case .dnsName(let d): return d
            case .ipAddress(let ip): return ip.canonical
            }
        }
        return Set(needed).isSubset(of: Set(names))
    }

    private static func writeServing(_ certificates: ServerCertificates, pki: URL) throws {
        try write(certificates.serverCertificatePEM, to: pki.appendingPathComponent("server.crt"), in: pki)
        try write(certificates.serverKeyPEM, to: pki.appendingPathComponent("server.key"), in: pki)
    }

    /// The configured token (stored when it differs), else the stored one, else a new one (stored).
    private static func loadToken(_ url: URL, configured: String?) throws -> String {
        let stored = try read(url).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let configured {
            if stored != configured { try write(configured + "\n", to: url, in: url.deletingLastPathComponent()) }
            return configured
        }
        if let stored {
            guard !stored.isEmpty else { throw damaged(url, "empty") }
            return stored
        }
        let token = EmbeddedAPIServer.randomToken()
        try write(token + "\n", to: url, in: url.deletingLastPathComponent())
        return token
    }

    /// A file's text, nil when it does not exist; any other failure names the file.
    private static func read(_ url: URL) throws -> String? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try String(contentsOf: url, encoding: .utf8) } catch { throw damaged(url, "unreadable (\(error))") }
    }

    private static func write(_ text: String, to url: URL, in directory: URL) throws {
        closeFD(try Persistence.replaceDurably(url, with: Array(text.utf8), in: directory))
    }

    private static func makeDirectory(_ url: URL) throws {
        if FileManager.default.fileExists(atPath: url.path) { return }
        // The key and token let anyone act as the server or its admin: only the owner may read them.
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// A start-stopping error naming the file, with how to recover.
    private static func damaged(_ url: URL, _ reason: String) -> EmbeddedAPIServerError {
        let dir = url.deletingLastPathComponent()
        let hint =
            dir.lastPathComponent == "pki"
            ? "delete \(dir.path) to start with a new CA (clients then need a new kubeconfig)"
            : "delete it to start with a new token (clients then need a new kubeconfig)"
        return EmbeddedAPIServerError(description: "\(url.path): \(reason); \(hint)")
    }
}
