import Foundation
import KubeClient
import KubeJSON
import KubeRuntime
import Logging

/// The command-line options of `gardener-extension-admission-calico` (reconcile.md §7.1) after
/// environment defaults were applied.
public struct AdmissionOptions: Sendable, Equatable {
    public var kubeconfig: String = ""
    public var master: String = ""
    public var leaderElection: Bool = true
    public var leaderElectionID: String = "admission-calico-leader-election"
    public var leaderElectionNamespace: String = ""
    public var serverHost: String = ""
    public var serverPort: Int = 443
    public var certDirectory: String = "/tmp/admission-calico-cert"
    public var metricsBindAddress: String = ":8080"
    public var healthBindAddress: String = ":8081"
    public var disableWebhooks: [String] = []
    public var mode: String = ""
    public var url: String = ""
    public var servicePort: Int = 0
    public var namespace: String = ""
    public var ownerNamespace: String = ""

    public init() {}

    /// Applies `GARDEN_KUBECONFIG`, `WEBHOOK_CONFIG_NAMESPACE` and `LEADER_ELECTION_NAMESPACE`.
    /// `namespaceFlagSet` / `leaderNamespaceFlagSet` say whether the flags were given explicitly.
    public mutating func applyEnvironment(_ env: [String: String], namespaceFlagSet: Bool, leaderNamespaceFlagSet: Bool) {
        if let k = env["GARDEN_KUBECONFIG"], !k.isEmpty { kubeconfig = k }
        if !namespaceFlagSet, let ns = env["WEBHOOK_CONFIG_NAMESPACE"] { namespace = ns }
        if !leaderNamespaceFlagSet, let ns = env["LEADER_ELECTION_NAMESPACE"] { leaderElectionNamespace = ns }
    }

    /// An error in the options (message as the reference prints it).
    public struct Invalid: Error, Sendable, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Whether the `validator` webhook is disabled (`--disable-webhooks=validator` or `*`);
    /// unknown names are an error.
    public func webhookDisabled() throws(Invalid) -> Bool {
        var disabled = false
        for raw in disableWebhooks {
            for name in raw.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                if name == "*" || name == WebhookConfiguration.webhookKey { disabled = true } else {
                    throw Invalid("cannot disable unknown webhook \"\(name)\"")
                }
            }
        }
        return disabled
    }

    /// The registration options (validates mode and url).
    public func registrationOptions() throws(Invalid) -> WebhookRegistrationOptions {
        guard let m = WebhookConfigMode.parse(mode) else {
            throw Invalid("invalid --webhook-config-mode \(mode), must be one of [service url url-service]")
        }
        if m == .url && url.isEmpty { throw Invalid("--webhook-config-url must be set in url mode") }
        if m == .urlService && namespace.isEmpty {
            throw Invalid("--webhook-config-namespace must be set in url-service mode")
        }
        return WebhookRegistrationOptions(mode: m, url: url, namespace: namespace, servicePort: servicePort,
                                          serverPort: serverPort, ownerNamespace: ownerNamespace)
    }
}

/// A running admission webhook: HTTPS server, certificates, registration, probes and metrics.
public final class AdmissionRuntime: Sendable {
    public let webhookServer: WebhookServer
    public let certificates: WebhookCertificates
    public let registration: WebhookRegistrationOptions
    let endpointServers: [EndpointServer]
    let client: KubernetesClient?

    init(webhookServer: WebhookServer, certificates: WebhookCertificates, registration: WebhookRegistrationOptions,
         endpointServers: [EndpointServer], client: KubernetesClient?) {
        self.webhookServer = webhookServer; self.certificates = certificates; self.registration = registration
        self.endpointServers = endpointServers; self.client = client
    }

    /// Builds the garden-cluster client (QPS 100, burst 130 as the reference hard-codes); nil
    /// when nothing is configured and `required` is false.
    public static func makeClient(_ options: AdmissionOptions, required: Bool, logger: Logger) throws -> KubernetesClient? {
        do {
            var config = try ClientConfiguration.load(kubeconfigPath: options.kubeconfig, masterURL: options.master)
            config.qps = 100
            config.burst = 130
            config.userAgent = "gardener-extension-admission-calico"
            return try KubernetesClient(configuration: config, logger: logger)
        } catch {
            if required { throw error }
            logger.warning("no garden cluster configured, the webhook configuration is not registered", metadata: ["reason": "\(error)"])
            return nil
        }
    }

    /// Starts everything: certificates into the cert dir (self-signed without a namespace,
    /// from Secrets with one), the HTTPS server, health/metrics endpoints and the registration.
    public static func start(_ options: AdmissionOptions, client providedClient: KubernetesClient? = nil,
                             logger: Logger = Logger(label: "admission-calico")) async throws -> AdmissionRuntime {
        let disabled = try options.webhookDisabled()
        let reg = try options.registrationOptions()
        let explicitCluster = !options.kubeconfig.isEmpty || !reg.namespace.isEmpty
        let client = try providedClient ?? makeClient(options, required: explicitCluster, logger: logger)

        var names = WebhookConfiguration.servingNames(reg)
        // Local runs reach the server on loopback; a certificate for it costs nothing.
        for extra in ["localhost", "127.0.0.1"] where !names.contains(extra) { names.append(extra) }
        let certs: WebhookCertificates
        if !reg.namespace.isEmpty, let client {
            certs = try await CertificateSecrets(client: client, namespace: reg.namespace, logger: logger).ensure(names: names)
        } else {
            certs = try CertificateGenerator.generate(names: names)
        }
        try CertificateDirectory.write(certs, to: options.certDirectory)

        let server = try await WebhookServer.start(
            WebhookServerConfiguration(host: options.serverHost, port: options.serverPort, certDirectory: options.certDirectory,
                                       webhookDisabled: disabled),
            logger: logger)
        var endpoints: [EndpointServer] = []
        do {
            let probes = HealthProbes()
            probes.addHealthzCheck("ping") { nil }
            probes.addReadyzCheck("webhook-server") { nil }
            if let addr = try BindAddress.parse(options.healthBindAddress) {
                endpoints.append(try await EndpointServer.start(at: addr) { await probes.handle($0) })
            }
            let metrics = server.metrics
            if let addr = try BindAddress.parse(options.metricsBindAddress) {
                endpoints.append(try await EndpointServer.start(at: addr) { req in
                    req.path == "/metrics"
                        ? EndpointResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
                        : EndpointResponse(status: 404, body: "404 page not found\n")
                })
            }
            if let client, !disabled {
                try await WebhookRegistrar(client: client, logger: logger).register(reg, caBundlePEM: certs.caCertificatePEM)
            }
        } catch {
            await server.stop()
            for e in endpoints { await e.stop() }
            throw error
        }
        return AdmissionRuntime(webhookServer: server, certificates: certs, registration: reg, endpointServers: endpoints, client: client)
    }

    /// Stops the servers.
    public func stop() async {
        await webhookServer.stop()
        for e in endpointServers { await e.stop() }
    }
}
