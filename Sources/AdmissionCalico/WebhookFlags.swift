import ArgumentParser
import Foundation

/// The webhook flags of `gardener-extension-admission-calico`; defaults come from
/// `AdmissionOptions`, and `options(environment:)` applies the environment defaults.
public struct WebhookFlags: ParsableArguments, Sendable {
    /// Garden cluster kubeconfig.
    @Option(help: "Path to the garden cluster kubeconfig (GARDEN_KUBECONFIG overrides it).")
    public var kubeconfig: String = AdmissionOptions().kubeconfig
    /// API server URL override.
    @Option(help: "API server URL override.")
    public var master: String = AdmissionOptions().master
    /// HTTPS listen host.
    @Option(help: "Webhook server listen host.")
    public var webhookConfigServerHost: String = AdmissionOptions().serverHost
    /// HTTPS listen port.
    @Option(help: "Webhook server listen port.")
    public var webhookConfigServerPort: Int = AdmissionOptions().serverPort
    /// Certificate directory.
    @Option(help: "Directory for the serving certificate and key.")
    public var webhookConfigCertDir: String = AdmissionOptions().certDirectory
    /// Registration mode.
    @Option(help: "Webhook config mode: service, url or url-service.")
    public var webhookConfigMode: String = AdmissionOptions().mode
    /// `host[:port]` in url mode.
    @Option(help: "host[:port] used in url mode.")
    public var webhookConfigUrl: String = AdmissionOptions().url
    /// Service port.
    @Option(help: "Service port (service/url-service mode; defaults to the server port).")
    public var webhookConfigServicePort: Int = AdmissionOptions().servicePort
    /// Namespace of the service and Secrets; `WEBHOOK_CONFIG_NAMESPACE` when not given.
    @Option(help: "Namespace of the service and certificate secrets (default: WEBHOOK_CONFIG_NAMESPACE).")
    public var webhookConfigNamespace: String?
    /// Owner namespace of the webhook configuration.
    @Option(help: "Owner namespace of the webhook configuration (default: the namespace).")
    public var webhookConfigOwnerNamespace: String = AdmissionOptions().ownerNamespace
    /// Webhooks to disable.
    @Option(help: "Webhooks to disable (validator, or * for all).")
    public var disableWebhooks: [String] = AdmissionOptions().disableWebhooks

    /// The defaults.
    public init() {}

    /// The validated options with the environment defaults applied (a usage error otherwise).
    public func options(environment: [String: String]) throws -> AdmissionOptions {
        var o = AdmissionOptions()
        o.kubeconfig = kubeconfig
        o.master = master
        o.serverHost = webhookConfigServerHost
        o.serverPort = webhookConfigServerPort
        o.certDirectory = webhookConfigCertDir
        o.mode = webhookConfigMode
        o.url = webhookConfigUrl
        o.servicePort = webhookConfigServicePort
        o.namespace = webhookConfigNamespace ?? ""
        o.ownerNamespace = webhookConfigOwnerNamespace
        o.disableWebhooks = disableWebhooks
        o.applyEnvironment(environment, namespaceFlagSet: webhookConfigNamespace != nil)
        do {
            _ = try o.webhookDisabled()
            _ = try o.registrationOptions()
        } catch {
            throw ValidationError(error.description)
        }
        return o
    }
}
