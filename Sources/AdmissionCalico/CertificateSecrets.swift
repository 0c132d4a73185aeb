import Foundation
import KubeClient
import KubeCore
import Logging
import X509

/// Validity and renewal of the certificates kept in Secrets (the `--webhook-config-namespace`
/// mode), modelled on Gardener's secrets manager: the CA lives `caValidity` (30 days) and is
/// replaced once `renewalFraction` (80 %) of it elapsed or when its Secret carries the
/// ``CertificateSecrets/rotateAnnotation``; while a new CA is introduced the injected CA bundle
/// holds new + old CA, and the old one is dropped on a later pass once the serving certificate
/// signed by the new CA is in use. Tests shorten these (internal knobs, no flags).
public struct CertificateRotationPolicy: Sendable, Equatable {
    /// Lifetime of a generated CA.
    public var caValidity: TimeInterval
    /// Lifetime of a serving certificate (capped at the CA's expiry).
    public var serverValidity: TimeInterval
    /// Fraction of the validity after which a certificate is renewed.
    public var renewalFraction: Double
    /// Minimum time the old CA stays in the bundle after a CA rotation (time for every replica to
    /// pick up the new serving certificate and for the API server to see the new bundle).
    public var oldCAGracePeriod: TimeInterval

    /// A policy with the given validities and renewal thresholds.
    public init(
        caValidity: TimeInterval = 30 * 86400, serverValidity: TimeInterval = 30 * 86400,
        renewalFraction: Double = 0.8, oldCAGracePeriod: TimeInterval = 300
    ) {
        self.caValidity = caValidity
        self.serverValidity = serverValidity
        self.renewalFraction = renewalFraction
        self.oldCAGracePeriod = oldCAGracePeriod
    }
}

/// The outcome of one certificate pass.
public struct ManagedCertificates: Sendable, Equatable {
    /// The current CA and serving certificate.
    public var certificates: WebhookCertificates
    /// The PEM bundle to inject: the current CA, followed by the previous one during a rotation.
    public var caBundlePEM: String
    /// A new CA was generated in this pass (first start or rotation).
    public var caGenerated: Bool
    /// A new serving certificate was issued in this pass.
    public var serverIssued: Bool
    /// The previous CA was dropped from the bundle in this pass.
    public var oldCADropped: Bool

    /// The certificates as written to the cert dir (`ca.crt` holds the bundle).
    public var forDirectory: WebhookCertificates {
        var c = certificates
        c.caCertificatePEM = caBundlePEM
        return c
    }
}

/// Keeps the CA and serving certificate in Secrets of one namespace, so restarts and replicas
/// share them (and the CA bundle in the webhook configuration stays valid), and rotates them.
///
/// Secrets: `ca-admission-calico-webhook` (`ca.crt`, `ca.key`, during a rotation `ca-old.crt`)
/// and `admission-calico-webhook-server` (`tls.crt`, `tls.key`, type `kubernetes.io/tls`).
/// Only the leader calls ``reconcile(names:now:servingInUse:)``; every replica may ``load()``.
public struct CertificateSecrets: Sendable {
    /// The Secret holding the CA (and the previous CA during a rotation).
    public static let caSecretName = "ca-admission-calico-webhook"
    /// The Secret holding the serving certificate and key.
    public static let serverSecretName = "admission-calico-webhook-server"
    /// Set to `"true"` on the CA Secret to rotate the CA on the next pass.
    public static let rotateAnnotation = "admission-calico.extensions.gardener.cloud/rotate"
    /// When the current CA replaced the previous one (RFC 3339); present while `ca-old.crt` is.
    static let rotationStartedAnnotation = "admission-calico.extensions.gardener.cloud/rotation-started"
    static let namesAnnotation = "admission-calico.extensions.gardener.cloud/names"
    static let oldCAKey = "ca-old.crt"

    /// Client of the cluster holding the Secrets.
    public let client: KubernetesClient
    /// Namespace of the Secrets.
    public let namespace: String
    /// Validity and renewal of the certificates.
    public let policy: CertificateRotationPolicy
    /// Logger for creations, renewals and rotations.
    public let logger: Logger

    /// Secrets in `namespace` of `client`'s cluster.
    public init(
        client: KubernetesClient, namespace: String, policy: CertificateRotationPolicy = CertificateRotationPolicy(),
        logger: Logger = Logger(label: "admission-calico")
    ) {
        self.client = client
        self.namespace = namespace
        self.policy = policy
        self.logger = logger
    }

    /// Loads the certificates from the Secrets, creating or renewing whatever is due.
    public func ensure(names: [String]) async throws -> WebhookCertificates {
        try await reconcile(names: names).certificates
    }

    /// The stored certificates without changing anything (what a non-leader replica serves);
    /// nil while the leader has not created them yet.
    public func load() async throws -> ManagedCertificates? {
        guard let ca = try await read(Self.caSecretName), let caCert = ca.data["ca.crt"], let caKey = ca.data["ca.key"],
            let server = try await read(Self.serverSecretName), let cert = server.data["tls.crt"], let key = server.data["tls.key"]
        else {
            return nil
        }
        let certs = WebhookCertificates(caCertificatePEM: caCert, caKeyPEM: caKey, serverCertificatePEM: cert, serverKeyPEM: key)
        return ManagedCertificates(
            certificates: certs, caBundlePEM: Self.bundle(caCert, ca.data[Self.oldCAKey]),
            caGenerated: false, serverIssued: false, oldCADropped: false)
    }

    /// One pass of the secrets manager (leader only). `servingInUse` tells whether a serving
    /// certificate (PEM) is what this replica's server presents; the old CA is dropped only then.
    public func reconcile(
        names: [String], now: Date = Date(),
        servingInUse: @Sendable (String) -> Bool = { _ in true }
    ) async throws -> ManagedCertificates {
        let joinedNames = names.joined(separator: ",")
        var caSecret = try await read(Self.caSecretName)
        var caGenerated = false
        var caPEM = caSecret?.data["ca.crt"] ?? ""
        var caKeyPEM = caSecret?.data["ca.key"] ?? ""
        var oldCA = caSecret?.data[Self.oldCAKey]
        var rotationStarted = caSecret?.annotations[Self.rotationStartedAnnotation].flatMap { KubeTime.parse($0) }
        let currentCA = try? Certificate(pemEncoded: caPEM)
        if caSecret == nil || currentCA == nil || caKeyPEM.isEmpty {
            let fresh = try CertificateGenerator.generate(names: names, caValidity: policy.caValidity, serverValidity: policy.serverValidity)
            caPEM = fresh.caCertificatePEM
            caKeyPEM = fresh.caKeyPEM
            oldCA = nil
            rotationStarted = nil
            caGenerated = true
            logger.info("generated webhook CA", metadata: ["namespace": "\(namespace)"])
        } else if let currentCA,
            caSecret?.annotations[Self.rotateAnnotation] == "true"
                || CertificateGenerator.isDue(currentCA, now: now, renewalFraction: policy.renewalFraction)
        {
            let fresh = try CertificateGenerator.generate(names: names, caValidity: policy.caValidity, serverValidity: policy.serverValidity)
            oldCA = caPEM
            // Real time, not `now`: the grace period is about propagation in real time.
            caPEM = fresh.caCertificatePEM
            caKeyPEM = fresh.caKeyPEM
            rotationStarted = Date()
            caGenerated = true
            logger.info(
                "rotating webhook CA: the CA bundle holds the new and the old CA until the new serving certificate is in use",
                metadata: ["namespace": "\(namespace)"])
        }
        if caGenerated {
            caSecret = try await storeCA(caPEM, caKeyPEM, oldCA: oldCA, rotationStarted: rotationStarted)
        }

        // The serving certificate: reissued when missing, for other names, not signed by the
        // current CA, or due for renewal.
        let ca = try Certificate(pemEncoded: caPEM)
        var serverIssued = false
        var certPEM = ""
        var keyPEM = ""
        if let server = try await read(Self.serverSecretName), let c = server.data["tls.crt"], let k = server.data["tls.key"],
            server.annotations[Self.namesAnnotation] == joinedNames, let cert = try? Certificate(pemEncoded: c),
            CertificateGenerator.isSigned(cert, by: ca),
            !CertificateGenerator.isDue(cert, now: now, renewalFraction: policy.renewalFraction)
        {
            certPEM = c
            keyPEM = k
        } else {
            (certPEM, keyPEM) = try CertificateGenerator.issueServer(
                caCertificatePEM: caPEM, caKeyPEM: caKeyPEM, names: names,
                validity: policy.serverValidity)
            try await store(
                Self.serverSecretName, ["tls.crt": certPEM, "tls.key": keyPEM], type: "kubernetes.io/tls",
                annotations: [Self.namesAnnotation: joinedNames])
            serverIssued = true
            logger.info("issued webhook serving certificate", metadata: ["namespace": "\(namespace)"])
        }

        // Drop the old CA on a later pass, once the new serving certificate is served and the
        // grace period (for the other replicas and the API server) is over.
        var dropped = false
        if oldCA != nil, !serverIssued, !caGenerated, Date() >= (rotationStarted ?? .distantPast).addingTimeInterval(policy.oldCAGracePeriod),
            servingInUse(certPEM)
        {
            oldCA = nil
            caSecret = try await storeCA(caPEM, caKeyPEM, oldCA: nil, rotationStarted: nil)
            dropped = true
            logger.info("CA rotation finished: dropped the old CA from the bundle", metadata: ["namespace": "\(namespace)"])
        }
        _ = caSecret
        let certs = WebhookCertificates(caCertificatePEM: caPEM, caKeyPEM: caKeyPEM, serverCertificatePEM: certPEM, serverKeyPEM: keyPEM)
        return ManagedCertificates(
            certificates: certs, caBundlePEM: Self.bundle(caPEM, oldCA), caGenerated: caGenerated,
            serverIssued: serverIssued, oldCADropped: dropped)
    }

    static func bundle(_ current: String, _ old: String?) -> String {
        guard let old, !old.isEmpty else { return current }
        return current.hasSuffix("\n") ? current + old : current + "\n" + old
    }

    struct StoredSecret {
        var data: [String: String]
        var annotations: [String: String]
    }

    /// The decoded data and annotations of a Secret, nil when missing.
    func read(_ name: String) async throws -> StoredSecret? {
        do {
            let secret = try await client.get(.secrets, namespace: namespace, name: name)
            var out = StoredSecret(data: [:], annotations: [:])
            for (k, bytes) in Secret(raw: secret).data { out.data[k] = String(decoding: bytes, as: UTF8.self) }
            for (k, v) in secret[path: "metadata", "annotations"]?.objectValue ?? [:] {
                if let s = v.stringValue { out.annotations[k] = s }
            }
            return out
        } catch let e as KubeError where e.isNotFound {
            return nil
        }
    }

    /// Writes the CA Secret (the rotate annotation is cleared by writing the annotations anew).
    @discardableResult
    func storeCA(_ cert: String, _ key: String, oldCA: String?, rotationStarted: Date?) async throws -> StoredSecret {
        var data = ["ca.crt": cert, "ca.key": key]
        var annotations: [String: String] = [:]
        if let oldCA {
            data[Self.oldCAKey] = oldCA
            annotations[Self.rotationStartedAnnotation] = KubeTime.format(rotationStarted ?? Date())
        }
        try await store(Self.caSecretName, data, type: "Opaque", annotations: annotations)
        return StoredSecret(data: data, annotations: annotations)
    }

    func store(_ name: String, _ data: [String: String], type: String, annotations: [String: String]) async throws {
        var dataObj = JSONObject()
        for k in data.keys.sorted() { dataObj[k] = .string(Base64.encode(Array(data[k, default: ""].utf8))) }
        var secret: JSON = [
            "apiVersion": "v1", "kind": "Secret", "type": .string(type),
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "gardener-extension-admission-calico"]],
            "data": .object(dataObj),
        ]
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
