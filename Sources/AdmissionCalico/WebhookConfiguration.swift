import KubeClient
import KubeCore
import Logging

/// How the API server reaches the webhook (`--webhook-config-mode`).
public enum WebhookConfigMode: String, Sendable, CaseIterable {
    case service
    case url
    case urlService = "url-service"

    /// Parses the flag value; `""` means `service`.
    public static func parse(_ s: String) -> WebhookConfigMode? {
        s.isEmpty ? .service : WebhookConfigMode(rawValue: s)
    }
}

/// Everything the ValidatingWebhookConfiguration depends on (registration modes in docs/deployment.md).
public struct WebhookRegistrationOptions: Sendable, Equatable {
    /// How the API server reaches the webhook.
    public var mode: WebhookConfigMode
    /// `--webhook-config-url` (host[:port]), used in `url` mode.
    public var url: String
    /// `--webhook-config-namespace`; may be empty.
    public var namespace: String
    /// `--webhook-config-service-port`; 0 falls back to `serverPort`.
    public var servicePort: Int
    /// `--webhook-config-server-port`.
    public var serverPort: Int
    /// `--webhook-config-owner-namespace`; empty = `namespace`.
    public var ownerNamespace: String

    /// Registration settings; `servicePort` 0 means the server port.
    public init(
        mode: WebhookConfigMode = .service, url: String = "", namespace: String = "", servicePort: Int = 0,
        serverPort: Int = 443, ownerNamespace: String = ""
    ) {
        self.mode = mode
        self.url = url
        self.namespace = namespace
        self.servicePort = servicePort
        self.serverPort = serverPort
        self.ownerNamespace = ownerNamespace
    }

    /// The service port, falling back to the server port.
    public var effectiveServicePort: Int { servicePort != 0 ? servicePort : serverPort }
    /// The owner namespace, falling back to the webhook namespace.
    public var effectiveOwnerNamespace: String { ownerNamespace.isEmpty ? namespace : ownerNamespace }
}

/// Pure construction of the webhook configuration object and of the certificate names.
public enum WebhookConfiguration {
    /// `gardener-extension-admission-calico`: the configuration name and the service name.
    public static let baseName = "gardener-extension-admission-calico"
    /// The webhook's name inside the configuration.
    public static let webhookName = "validator.admission-calico.extensions.gardener.cloud"
    /// The only webhook of this binary (for `--disable-webhooks`).
    public static let webhookKey = "validator"

    /// The configuration name: `-runtime` suffix when the namespace starts with `runtime-extension-`.
    public static func name(namespace: String) -> String {
        namespace.hasPrefix("runtime-extension-") ? baseName + "-runtime" : baseName
    }

    /// The clientConfig (without caBundle) for a mode.
    public static func clientConfig(_ o: WebhookRegistrationOptions) -> JSON {
        switch o.mode {
        case .service:
            return [
                "service": [
                    "namespace": .string(o.namespace), "name": .string(baseName),
                    "path": .string(AdmissionReviewHandler.path), "port": .int(Int64(o.effectiveServicePort)),
                ]
            ]
        case .url:
            return ["url": .string("https://\(o.url)\(AdmissionReviewHandler.path)")]
        case .urlService:
            return ["url": .string("https://\(baseName).\(o.namespace):\(o.effectiveServicePort)\(AdmissionReviewHandler.path)")]
        }
    }

    /// The host names / IPs the serving certificate must cover for a mode.
    public static func servingNames(_ o: WebhookRegistrationOptions) -> [String] {
        switch o.mode {
        case .url:
            return [hostOf(o.url)]
        case .service, .urlService:
            var names = [baseName]
            if !o.namespace.isEmpty {
                names += ["\(baseName).\(o.namespace)", "\(baseName).\(o.namespace).svc", "\(baseName).\(o.namespace).svc.cluster.local"]
            }
            return names
        }
    }

    /// The host of `host[:port]` (IPv6 in brackets allowed).
    public static func hostOf(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
        }
        if hostPort.filter({ $0 == ":" }).count == 1, let colon = hostPort.firstIndex(of: ":") {
            return String(hostPort[..<colon])
        }
        return hostPort
    }

    /// The complete `ValidatingWebhookConfiguration`. `ownerNamespaceUID`
    /// adds the controller owner reference to the owner namespace.
    public static func build(_ o: WebhookRegistrationOptions, caBundlePEM: String, ownerNamespaceUID: String? = nil) -> JSON {
        var client = clientConfig(o)
        client["caBundle"] = .string(Base64.encode(Array(caBundlePEM.utf8)))
        let webhook: JSON = [
            "name": .string(webhookName),
            "rules": [["operations": ["CREATE", "UPDATE"], "apiGroups": ["core.gardener.cloud"], "apiVersions": ["*"], "resources": ["shoots"]]],
            "objectSelector": ["matchLabels": ["networking.extensions.gardener.cloud/calico": "true"]],
            "failurePolicy": "Fail",
            "matchPolicy": "Exact",
            "sideEffects": "None",
            "timeoutSeconds": 10,
            "admissionReviewVersions": ["v1", "v1beta1"],
            "clientConfig": client,
        ]
        var metadata: JSONObject = [
            "name": .string(name(namespace: o.namespace)),
            "labels": ["remediation.webhook.shoot.gardener.cloud/exclude": "true"],
        ]
        if let uid = ownerNamespaceUID, !o.effectiveOwnerNamespace.isEmpty {
            metadata["ownerReferences"] = [
                [
                    "apiVersion": "v1", "kind": "Namespace", "name": .string(o.effectiveOwnerNamespace), "uid": .string(uid),
                    "controller": true, "blockOwnerDeletion": false,
                ]
            ]
        }
        return [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": .object(metadata), "webhooks": [webhook],
        ]
    }
}

/// Creates or updates the ValidatingWebhookConfiguration in the garden cluster.
public struct WebhookRegistrar: Sendable {
    /// Client of the garden cluster.
    public let client: KubernetesClient
    /// Logger for registrations.
    public let logger: Logger

    /// A registrar writing through `client`.
    public init(client: KubernetesClient, logger: Logger = Logger(label: "admission-calico")) {
        self.client = client
        self.logger = logger
    }

    /// Applies the configuration: create when missing, otherwise update (retrying on conflicts).
    /// Returns the stored object.
    @discardableResult
    public func register(_ options: WebhookRegistrationOptions, caBundlePEM: String) async throws -> JSON {
        var ownerUID: String? = nil
        if !options.effectiveOwnerNamespace.isEmpty {
            do {
                let ns = try await client.get(.namespaces, namespace: nil, name: options.effectiveOwnerNamespace)
                ownerUID = ns[path: "metadata", "uid"]?.stringValue
            } catch let e as KubeError where e.isNotFound {
                logger.warning(
                    "owner namespace not found, registering without owner reference", metadata: ["namespace": "\(options.effectiveOwnerNamespace)"])
            }
        }
        let desired = WebhookConfiguration.build(options, caBundlePEM: caBundlePEM, ownerNamespaceUID: ownerUID)
        let name = WebhookConfiguration.name(namespace: options.namespace)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let existing = try await client.get(.validatingWebhookConfigurations, namespace: nil, name: name)
                var updated = existing
                updated["webhooks"] = desired["webhooks"]
                var labels = existing[path: "metadata", "labels"] ?? .object([:])
                for (k, v) in desired[path: "metadata", "labels"]?.objectValue ?? [:] { labels[k] = v }
                updated[path: "metadata", "labels"] = labels
                if let owners = desired[path: "metadata", "ownerReferences"] { updated[path: "metadata", "ownerReferences"] = owners }
                if updated == existing { return existing }
                let stored = try await client.update(.validatingWebhookConfigurations, namespace: nil, updated)
                logger.info("updated webhook configuration", metadata: ["name": "\(name)"])
                return stored
            } catch let e as KubeError where e.isNotFound {
                do {
                    let stored = try await client.create(.validatingWebhookConfigurations, namespace: nil, desired)
                    logger.info("created webhook configuration", metadata: ["name": "\(name)"])
                    return stored
                } catch let e as KubeError where (e.isAlreadyExists || e.isConflict) && attempt < 5 {
                    continue
                }
            } catch let e as KubeError where e.isConflict && attempt < 5 {
                continue
            }
        }
    }
}
