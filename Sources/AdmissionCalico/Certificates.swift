import CalicoAPI
import Crypto
import Foundation
import KubeClient
import KubeJSON
import Logging
import SwiftASN1
import X509

/// A CA and a serving certificate for the webhook (PEM).
public struct WebhookCertificates: Sendable, Equatable {
    public var caCertificatePEM: String
    public var caKeyPEM: String
    public var serverCertificatePEM: String
    public var serverKeyPEM: String

    public init(caCertificatePEM: String, caKeyPEM: String, serverCertificatePEM: String, serverKeyPEM: String) {
        self.caCertificatePEM = caCertificatePEM; self.caKeyPEM = caKeyPEM
        self.serverCertificatePEM = serverCertificatePEM; self.serverKeyPEM = serverKeyPEM
    }
}

/// Generation of the self-signed CA and of serving certificates.
public enum CertificateGenerator {
    /// A new CA and a serving certificate for `names` (DNS names or IP literals; IPs become IP SANs).
    public static func generate(names: [String], commonName: String = WebhookConfiguration.baseName) throws -> WebhookCertificates {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("\(commonName)-ca") }
        let caPublic = Certificate.PublicKey(caKey.publicKey)
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caPublic,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPublic)
            },
            issuerPrivateKey: .init(caKey))
        let caPEM = try ca.serializeAsPEM().pemString
        let (cert, key) = try issueServer(caCertificatePEM: caPEM, caKeyPEM: caKey.pemRepresentation, names: names, commonName: commonName)
        return WebhookCertificates(caCertificatePEM: caPEM, caKeyPEM: caKey.pemRepresentation, serverCertificatePEM: cert, serverKeyPEM: key)
    }

    /// A serving certificate signed by the given CA (valid one year).
    public static func issueServer(caCertificatePEM: String, caKeyPEM: String, names: [String],
                                   commonName: String = WebhookConfiguration.baseName) throws -> (certificatePEM: String, keyPEM: String) {
        let ca = try Certificate(pemEncoded: caCertificatePEM)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: caKeyPEM)
        let key = P256.Signing.PrivateKey()
        var sans: [GeneralName] = []
        for name in names where !name.isEmpty {
            if let ip = NetParsing.parseIP(Substring(name), allowLeadingZeros: false) {
                sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip.bytes))))
            } else {
                sans.append(.dnsName(name))
            }
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: ca.subject, subject: try DistinguishedName { CommonName(commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: ca.publicKey).keyIdentifier)
                if !sans.isEmpty { SubjectAlternativeNames(sans) }
            },
            issuerPrivateKey: .init(caKey))
        return (try cert.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// The DNS names and IP addresses (as text) in a certificate's SANs.
    public static func subjectAlternativeNames(ofPEM pem: String) throws -> [String] {
        let cert = try Certificate(pemEncoded: pem)
        guard let sans = try cert.extensions.subjectAlternativeNames else { return [] }
        return sans.map { name -> String in
            switch name {
            case let .dnsName(d): return d
            case let .ipAddress(o): return NetParsing.Address(bytes: Array(o.bytes)).canonical
            default: return "\(name)"
            }
        }
    }
}

/// The files of the cert dir (`--webhook-config-cert-dir`).
public enum CertificateDirectory {
    public static let certificateFile = "tls.crt"
    public static let keyFile = "tls.key"
    public static let caFile = "ca.crt"

    /// Writes `tls.crt`, `tls.key` (mode 0600) and `ca.crt`, each atomically.
    public static func write(_ certs: WebhookCertificates, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try writeAtomically(certs.caCertificatePEM, to: directory + "/" + caFile, mode: 0o644)
        try writeAtomically(certs.serverKeyPEM, to: directory + "/" + keyFile, mode: 0o600)
        try writeAtomically(certs.serverCertificatePEM, to: directory + "/" + certificateFile, mode: 0o644)
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

/// Keeps the CA and serving certificate in Secrets of the webhook namespace, so restarts
/// reuse them (and the CA bundle in the webhook configuration stays valid).
public struct CertificateSecrets: Sendable {
    public static let caSecretName = "ca-admission-calico-webhook"
    public static let serverSecretName = "admission-calico-webhook-server"
    static let namesAnnotation = "admission-calico.extensions.gardener.cloud/names"

    public let client: KubernetesClient
    public let namespace: String
    public let logger: Logger

    public init(client: KubernetesClient, namespace: String, logger: Logger = Logger(label: "admission-calico")) {
        self.client = client
        self.namespace = namespace
        self.logger = logger
    }

    /// Loads the certificates from the Secrets, creating whatever is missing; the serving
    /// certificate is reissued (with the existing CA) when the names changed.
    public func ensure(names: [String]) async throws -> WebhookCertificates {
        let caPair: (cert: String, key: String)
        if let existing = try await read(Self.caSecretName), let c = existing["ca.crt"], let k = existing["ca.key"] {
            caPair = (c, k)
        } else {
            let fresh = try CertificateGenerator.generate(names: names)
            try await store(Self.caSecretName, ["ca.crt": fresh.caCertificatePEM, "ca.key": fresh.caKeyPEM], type: "Opaque", annotations: [:])
            try await store(Self.serverSecretName, ["tls.crt": fresh.serverCertificatePEM, "tls.key": fresh.serverKeyPEM],
                            type: "kubernetes.io/tls", annotations: [Self.namesAnnotation: names.joined(separator: ",")])
            logger.info("generated webhook CA and serving certificate", metadata: ["namespace": "\(namespace)"])
            return fresh
        }
        if let server = try await read(Self.serverSecretName), let c = server["tls.crt"], let k = server["tls.key"],
           server["__names"] == names.joined(separator: ",") {
            return WebhookCertificates(caCertificatePEM: caPair.cert, caKeyPEM: caPair.key, serverCertificatePEM: c, serverKeyPEM: k)
        }
        let (cert, key) = try CertificateGenerator.issueServer(caCertificatePEM: caPair.cert, caKeyPEM: caPair.key, names: names)
        try await store(Self.serverSecretName, ["tls.crt": cert, "tls.key": key], type: "kubernetes.io/tls",
                        annotations: [Self.namesAnnotation: names.joined(separator: ",")])
        return WebhookCertificates(caCertificatePEM: caPair.cert, caKeyPEM: caPair.key, serverCertificatePEM: cert, serverKeyPEM: key)
    }

    /// The decoded data of a Secret (plus `__names` from the annotation), nil when missing.
    func read(_ name: String) async throws -> [String: String]? {
        do {
            let secret = try await client.get(.secrets, namespace: namespace, name: name)
            var out: [String: String] = [:]
            for (k, v) in secret["data"]?.objectValue ?? [:] {
                if let s = v.stringValue, let bytes = WebhookConfiguration.base64Decode(s) { out[k] = String(decoding: bytes, as: UTF8.self) }
            }
            out["__names"] = secret[path: "metadata", "annotations", Self.namesAnnotation]?.stringValue
            return out
        } catch let e as KubeError where e.isNotFound {
            return nil
        }
    }

    func store(_ name: String, _ data: [String: String], type: String, annotations: [String: String]) async throws {
        var dataObj = JSONObject()
        for k in data.keys.sorted() { dataObj[k] = .string(WebhookConfiguration.base64(Array(data[k, default: ""].utf8))) }
        var secret: JSON = ["apiVersion": "v1", "kind": "Secret", "type": .string(type),
                            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "gardener-extension-admission-calico"]],
                            "data": .object(dataObj)]
        if !annotations.isEmpty { secret[path: "metadata", "annotations"] = JSON(annotations) }
        do {
            _ = try await client.create(.secrets, namespace: namespace, secret)
        } catch let e as KubeError where e.isAlreadyExists {
            let existing = try await client.get(.secrets, namespace: namespace, name: name)
            var updated = secret
            updated[path: "metadata", "resourceVersion"] = existing[path: "metadata", "resourceVersion"]
            _ = try await client.update(.secrets, namespace: namespace, updated)
        }
    }
}
