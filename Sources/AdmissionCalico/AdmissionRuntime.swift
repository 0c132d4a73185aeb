import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// The command-line options of `gardener-extension-admission-calico` after
/// environment defaults were applied.
public struct AdmissionOptions: Sendable, Equatable {
    /// `--kubeconfig` of the garden (`GARDEN_KUBECONFIG` overrides it); empty uses the in-cluster config.
    public var kubeconfig: String = ""
    /// `--master`: API server URL override.
    public var master: String = ""
    /// `--leader-election`; off makes every replica do the leader work.
    public var leaderElection: Bool = true
    /// `--leader-election-id`: name of the Lease.
    public var leaderElectionID: String = "admission-calico-leader-election"
    /// `--leader-election-namespace` (default `LEADER_ELECTION_NAMESPACE`).
    public var leaderElectionNamespace: String = ""
    /// `--webhook-config-server-host`: listen host of the HTTPS server.
    public var serverHost: String = ""
    /// `--webhook-config-server-port`: listen port of the HTTPS server.
    public var serverPort: Int = 443
    /// `--webhook-config-cert-dir`: where the serving certificate and key are kept.
    public var certDirectory: String = "/tmp/admission-calico-cert"
    /// `--metrics-bind-address`.
    public var metricsBindAddress: String = ":8080"
    /// `--health-bind-address`.
    public var healthBindAddress: String = ":8081"
    /// `--disable-webhooks` (`validator` or `*`).
    public var disableWebhooks: [String] = []
    /// `--webhook-config-mode`: `service`, `url` or `url-service`.
    public var mode: String = ""
    /// `--webhook-config-url`: host[:port] for `url` mode.
    public var url: String = ""
    /// `--webhook-config-service-port`; 0 uses the server port.
    public var servicePort: Int = 0
    /// `--webhook-config-namespace` (default `WEBHOOK_CONFIG_NAMESPACE`); empty means local, self-signed certificates.
    public var namespace: String = ""
    /// `--webhook-config-owner-namespace`; empty uses the namespace.
    public var ownerNamespace: String = ""
    /// `SOURCE_CLUSTER` non-empty: leader election and certificate Secrets live in a second
    /// ("source") cluster (docs/operations.md).
    public var sourceCluster: Bool = false
    /// `SOURCE_KUBECONFIG`: kubeconfig of the source cluster (in-cluster config if empty).
    public var sourceKubeconfig: String = ""

    /// Options at the flags' defaults.
    public init() {}

    /// Applies `GARDEN_KUBECONFIG`, `WEBHOOK_CONFIG_NAMESPACE`, `LEADER_ELECTION_NAMESPACE`,
    /// `SOURCE_CLUSTER` and `SOURCE_KUBECONFIG`.
    /// `namespaceFlagSet` / `leaderNamespaceFlagSet` say whether the flags were given explicitly.
    public mutating func applyEnvironment(_ env: [String: String], namespaceFlagSet: Bool, leaderNamespaceFlagSet: Bool) {
        if let k = env["GARDEN_KUBECONFIG"], !k.isEmpty { kubeconfig = k }
        if !namespaceFlagSet, let ns = env["WEBHOOK_CONFIG_NAMESPACE"] { namespace = ns }
        if !leaderNamespaceFlagSet, let ns = env["LEADER_ELECTION_NAMESPACE"] { leaderElectionNamespace = ns }
        if let s = env["SOURCE_CLUSTER"], !s.isEmpty { sourceCluster = true }
        if let k = env["SOURCE_KUBECONFIG"] { sourceKubeconfig = k }
    }

    /// An error in the options (message as the reference prints it).
    public struct Invalid: Error, Sendable, CustomStringConvertible, Equatable {
        /// The message, as the reference prints it.
        public var description: String
        /// Creates an error with its message.
        public init(_ description: String) { self.description = description }
    }

    /// Whether the `validator` webhook is disabled (`--disable-webhooks=validator` or `*`);
    /// unknown names are an error.
    public func webhookDisabled() throws(Invalid) -> Bool {
        var disabled = false
        for raw in disableWebhooks {
            for name in raw.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                if name == "*" || name == WebhookConfiguration.webhookKey {
                    disabled = true
                } else {
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
        return WebhookRegistrationOptions(
            mode: m, url: url, namespace: namespace, servicePort: servicePort,
            serverPort: serverPort, ownerNamespace: ownerNamespace)
    }
}

/// Settings of the admission runtime that are not flags (defaults for production; tests shorten
/// them).
public struct AdmissionTuning: Sendable {
    /// Validity and renewal of the certificates in Secrets.
    public var rotation = CertificateRotationPolicy()
    /// How often the leader re-runs the certificate pass and re-applies the webhook configuration.
    public var leaderResyncInterval: Duration = .seconds(300)
    /// How often every replica re-reads the certificate Secrets into the cert dir.
    public var certificateSyncInterval: Duration = .seconds(30)
    /// How often the webhook server checks the cert dir for a new certificate.
    public var certificateReloadInterval: Duration = .seconds(2)
    /// How long a replica waits at start for the leader to create the certificate Secrets.
    public var startupTimeout: Duration = .seconds(300)
    /// Lease timings (controller-runtime defaults).
    public var leaseDuration: Duration = .seconds(15)
    /// How long the leader keeps retrying a renewal before it gives up leadership.
    public var renewDeadline: Duration = .seconds(10)
    /// Wait between attempts to acquire or renew the Lease.
    public var retryPeriod: Duration = .seconds(2)
    /// Lease holder identity; `<hostname>_<uuid>` when nil.
    public var identity: String?

    /// Timings at their production defaults.
    public init() {}
}

/// A running admission webhook: HTTPS server, certificates, registration, leader election,
/// probes and metrics.
///
/// Like a webhook-only controller-runtime manager, the HTTPS server runs on every replica (serving
/// needs no leadership) while the leader-only work — the certificate Secrets (creation, renewal,
/// CA rotation) and (re)registering the `ValidatingWebhookConfiguration` — runs only on the
/// replica holding the Lease. Every replica copies the certificate Secrets into its cert dir,
/// from where the server reloads them without a restart.
public final class AdmissionRuntime: Sendable {
    /// The HTTPS server answering AdmissionReviews.
    public let webhookServer: WebhookServer
    /// Where and how the webhook configuration points at the server.
    public let registration: WebhookRegistrationOptions
    /// The leader elector (nil with `--leader-election=false` or without a cluster).
    public let leaderElector: LeaderElector?
    /// Probes served on the health address.
    public let probes: HealthProbes
    let endpointServers: [EndpointServer]
    let core: Core
    let tasks: [Task<Void, Never>]

    /// Port of the health endpoint (when bound).
    public let healthPort: Int?

    init(
        webhookServer: WebhookServer, registration: WebhookRegistrationOptions, leaderElector: LeaderElector?, probes: HealthProbes,
        endpointServers: [EndpointServer], core: Core, tasks: [Task<Void, Never>], healthPort: Int?
    ) {
        self.webhookServer = webhookServer
        self.registration = registration
        self.leaderElector = leaderElector
        self.probes = probes
        self.endpointServers = endpointServers
        self.core = core
        self.tasks = tasks
        self.healthPort = healthPort
    }

    /// The certificates this replica serves (CA = the current CA, without the old one).
    public var certificates: WebhookCertificates { core.state.withLock { $0.certificates } }
    /// The CA bundle injected into the webhook configuration (current + old CA during a rotation).
    public var caBundlePEM: String { core.state.withLock { $0.caBundlePEM } }
    /// Whether this replica does the leader-only work now.
    public var isLeader: Bool { leaderElector?.isLeader ?? true }
    /// How many leader passes (certificate management + registration) this replica completed.
    public var leaderPasses: Int { core.state.withLock { $0.leaderPasses } }

    /// The shared machinery of the runtime's tasks.
    final class Core: Sendable {
        struct State {
            var certificates: WebhookCertificates
            var caBundlePEM: String
            var secretsSynced = false
            var leaderPasses = 0
            var server: WebhookServer?
        }
        let state: Mutex<State>
        let gardenClient: KubernetesClient?
        let secrets: CertificateSecrets?
        let names: [String]
        let registration: WebhookRegistrationOptions
        let webhookDisabled: Bool
        let certDirectory: String
        let tuning: AdmissionTuning
        let logger: Logger

        init(
            initial: WebhookCertificates, gardenClient: KubernetesClient?, secrets: CertificateSecrets?, names: [String],
            registration: WebhookRegistrationOptions, webhookDisabled: Bool, certDirectory: String, tuning: AdmissionTuning, logger: Logger
        ) {
            state = Mutex(State(certificates: initial, caBundlePEM: initial.caCertificatePEM))
            self.gardenClient = gardenClient
            self.secrets = secrets
            self.names = names
            self.registration = registration
            self.webhookDisabled = webhookDisabled
            self.certDirectory = certDirectory
            self.tuning = tuning
            self.logger = logger
        }

        /// Leader only: creates/renews/rotates the certificate Secrets and writes the result to
        /// the cert dir. No-op without Secrets (self-signed mode).
        func certificatePass(now: Date) async throws {
            guard let secrets else { return }
            let server = state.withLock { $0.server }
            let managed = try await secrets.reconcile(names: names, now: now, servingInUse: { pem in server?.servingCertificatePEM == pem })
            // The bundle first, so the API server trusts the new CA before a certificate signed by it is served.
            // (Before the server runs, `start` registers right after starting it.)
            if (managed.caGenerated || managed.oldCADropped) && server != nil { try await register(bundle: managed.caBundlePEM) }
            try apply(managed)
            if managed.serverIssued, let server { try? server.reloadCertificates() }
        }

        func apply(_ managed: ManagedCertificates) throws {
            try CertificateDirectory.writeIfChanged(managed.forDirectory, to: certDirectory)
            state.withLock { s in
                s.certificates = managed.certificates
                s.caBundlePEM = managed.caBundlePEM
                s.secretsSynced = true
            }
        }

        /// Leader only: creates or updates the webhook configuration with the current bundle.
        func register(bundle: String? = nil) async throws {
            guard let gardenClient, !webhookDisabled else { return }
            let caBundle = bundle ?? state.withLock { $0.caBundlePEM }
            try await WebhookRegistrar(client: gardenClient, logger: logger).register(registration, caBundlePEM: caBundle)
        }

        /// One complete leader pass.
        func leaderPass(now: Date = Date()) async throws {
            try await certificatePass(now: now)
            try await register()
            state.withLock { $0.leaderPasses += 1 }
        }

        func leaderPassLogged() async {
            do { try await leaderPass() } catch {
                logger.error(
                    "leader pass failed (certificates / webhook registration), retrying at the next resync",
                    metadata: ["error": "\(error)"])
            }
        }

        /// Every replica: copies the Secrets into the cert dir; false while they do not exist.
        @discardableResult
        func syncPass() async throws -> Bool {
            guard let secrets, let managed = try await secrets.load() else { return false }
            try apply(managed)
            return true
        }

        /// Campaigns for the lease (unless leading already), then runs leader passes every
        /// resync interval while renewing; after losing the lease it campaigns again (the
        /// webhook keeps serving meanwhile). Returns when cancelled.
        func leaderLoop(elector: LeaderElector?, initiallyLeading: Bool) async {
            var leading = initiallyLeading
            while !Task.isCancelled {
                if !leading, let elector {
                    do { try await elector.acquire() } catch { return }
                    leading = true
                    await leaderPassLogged()
                }
                let interval = tuning.leaderResyncInterval
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        if let elector { group.addTask { try await elector.renewLoop() } }
                        group.addTask {
                            while true {
                                try await Task.sleep(for: interval)
                                await self.leaderPassLogged()
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                } catch is LeaderElectionLostError {
                    logger.error("lost the leader lease; leader-only work stops until it is regained (the webhook keeps serving)")
                    leading = false
                } catch {
                    return
                }
            }
        }

        /// Every replica (Secret mode): re-reads the Secrets every sync interval.
        func syncLoop() async {
            while !Task.isCancelled {
                do { try await Task.sleep(for: tuning.certificateSyncInterval) } catch { return }
                do { try await syncPass() } catch {
                    if Task.isCancelled { return }
                    logger.warning("could not sync the webhook certificates from their Secrets", metadata: ["error": "\(error)"])
                }
            }
        }
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

    /// The source-cluster client (`SOURCE_KUBECONFIG`, else the usual precedence ending in the
    /// in-cluster config).
    public static func makeSourceClient(_ options: AdmissionOptions, logger: Logger) throws -> KubernetesClient {
        var config = try ClientConfiguration.load(kubeconfigPath: options.sourceKubeconfig.isEmpty ? nil : options.sourceKubeconfig)
        config.qps = 100
        config.burst = 130
        config.userAgent = "gardener-extension-admission-calico"
        return try KubernetesClient(configuration: config, logger: logger)
    }

    /// The namespace of the certificate Secrets in the source cluster (`garden`, docs/operations.md).
    public static let sourceSecretsNamespace = "garden"

    /// Starts everything: certificates into the cert dir (self-signed without a namespace, from
    /// Secrets with one), health/metrics endpoints, leader election, the HTTPS server and — on the
    /// leader — the certificate management and registration.
    public static func start(
        _ options: AdmissionOptions, client providedClient: KubernetesClient? = nil,
        sourceClient providedSource: KubernetesClient? = nil, tuning: AdmissionTuning = AdmissionTuning(),
        logger: Logger = Logger(label: "admission-calico")
    ) async throws -> AdmissionRuntime {
        let disabled = try options.webhookDisabled()
        let reg = try options.registrationOptions()
        let explicitCluster = !options.kubeconfig.isEmpty || !reg.namespace.isEmpty
        let garden = try providedClient ?? makeClient(options, required: explicitCluster, logger: logger)
        let source: KubernetesClient? = options.sourceCluster ? try (providedSource ?? makeSourceClient(options, logger: logger)) : nil

        var names = WebhookConfiguration.servingNames(reg)
        // Local runs reach the server on loopback; a certificate for it costs nothing.
        for extra in ["localhost", "127.0.0.1"] where !names.contains(extra) { names.append(extra) }

        // Secrets hold the certificates with a namespace, or always in source-cluster mode.
        let secretsClient = source ?? (reg.namespace.isEmpty ? nil : garden)
        let secrets = secretsClient.map {
            CertificateSecrets(client: $0, namespace: source != nil ? sourceSecretsNamespace : reg.namespace, policy: tuning.rotation, logger: logger)
        }
        let electionClient = source ?? garden
        let registry = MetricsRegistry()
        var electorOrNil: LeaderElector?
        if options.leaderElection, let electionClient {
            let ns =
                options.leaderElectionNamespace.isEmpty
                ? (electionClient.configuration.namespace.isEmpty ? "default" : electionClient.configuration.namespace)
                : options.leaderElectionNamespace
            electorOrNil = LeaderElector(
                client: electionClient,
                configuration: LeaderElectionConfiguration(
                    name: options.leaderElectionID, namespace: ns, identity: tuning.identity ?? LeaderElectionConfiguration.defaultIdentity(),
                    leaseDuration: tuning.leaseDuration, renewDeadline: tuning.renewDeadline, retryPeriod: tuning.retryPeriod),
                metrics: registry, logger: logger)
        }
        let elector = electorOrNil

        // Without Secrets every replica generates its own self-signed pair (local mode).
        let initial =
            secrets == nil
            ? try CertificateGenerator.generate(names: names)
            : WebhookCertificates(caCertificatePEM: "", caKeyPEM: "", serverCertificatePEM: "", serverKeyPEM: "")
        if secrets == nil { try CertificateDirectory.write(initial, to: options.certDirectory) }
        let core = Core(
            initial: initial, gardenClient: garden, secrets: secrets, names: names, registration: reg,
            webhookDisabled: disabled, certDirectory: options.certDirectory, tuning: tuning, logger: logger)

        let metrics = WebhookMetrics()
        let probes = HealthProbes()
        let serverStarted = Mutex(false)
        probes.addHealthzCheck("ping") { nil }
        probes.addReadyzCheck("webhook-server") { serverStarted.withLock { $0 } ? nil : "webhook server not started" }
        if secrets != nil {
            // No informers here: the certificate Secrets having been read stands for the cache sync.
            let check: HealthCheck = { core.state.withLock { $0.secretsSynced } ? nil : "certificate secrets not synced" }
            probes.addReadyzCheck(source != nil ? "source-informer-sync" : "informer-sync", check)
            if source != nil { probes.addReadyzCheck("informer-sync") { nil } }
        } else {
            probes.addReadyzCheck("informer-sync") { nil }
        }

        var endpoints: [EndpointServer] = []
        var tasks: [Task<Void, Never>] = []
        var healthPort: Int?
        var server: WebhookServer?
        do {
            if let addr = try BindAddress.parse(options.healthBindAddress) {
                let e = try await EndpointServer.start(at: addr) { await probes.handle($0) }
                healthPort = e.port
                endpoints.append(e)
            }
            if let addr = try BindAddress.parse(options.metricsBindAddress) {
                endpoints.append(
                    try await EndpointServer.start(at: addr) { req in
                        req.path == "/metrics"
                            ? EndpointResponse(
                                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                body: metrics.exposition() + registry.exposition())
                            : EndpointResponse(status: 404, body: "404 page not found\n")
                    })
            }

            // Leader at once? (A single replica then registers before `start` returns.)
            var leading = true
            if let elector {
                let wait = max(tuning.retryPeriod / 2, .seconds(1))
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await elector.acquire() }
                    group.addTask { try? await Task.sleep(for: wait) }
                    await group.next()
                    group.cancelAll()
                }
                leading = elector.isLeader
            }
            if secrets != nil {
                if leading {
                    try await core.certificatePass(now: Date())
                } else {
                    // Wait for the leader's Secrets; campaign meanwhile (the leader may be us soon).
                    let deadline = ContinuousClock.now + tuning.startupTimeout
                    let campaign = Task { await core.leaderLoop(elector: elector, initiallyLeading: false) }
                    tasks.append(campaign)
                    while try await !core.syncPass() {
                        guard ContinuousClock.now < deadline else {
                            throw AdmissionOptions.Invalid(
                                "timed out waiting for the webhook certificate secrets in namespace \(secrets?.namespace ?? "")")
                        }
                        try await Task.sleep(for: min(tuning.certificateSyncInterval, .milliseconds(500)))
                    }
                }
            }
            let started = try await WebhookServer.start(
                WebhookServerConfiguration(
                    host: options.serverHost, port: options.serverPort, certDirectory: options.certDirectory,
                    certificateReloadInterval: tuning.certificateReloadInterval, webhookDisabled: disabled),
                metrics: metrics, logger: logger)
            server = started
            core.state.withLock { $0.server = started }
            serverStarted.withLock { $0 = true }
            if leading {
                try await core.register()
                core.state.withLock { $0.leaderPasses += 1 }
                tasks.append(Task { await core.leaderLoop(elector: elector, initiallyLeading: true) })
            } else if secrets == nil {
                // Self-signed mode, another replica leads: campaign in the background.
                tasks.append(Task { await core.leaderLoop(elector: elector, initiallyLeading: false) })
            }
            if secrets != nil { tasks.append(Task { await core.syncLoop() }) }
        } catch {
            for t in tasks { t.cancel() }
            for t in tasks { await t.value }
            await elector?.release()
            await server?.stop()
            for e in endpoints { await e.stop() }
            throw error
        }
        guard let server else { throw AdmissionOptions.Invalid("webhook server did not start") }
        return AdmissionRuntime(
            webhookServer: server, registration: reg, leaderElector: elector, probes: probes,
            endpointServers: endpoints, core: core, tasks: tasks, healthPort: healthPort)
    }

    /// Runs one leader pass now (tests: rotation with a given clock). Only meaningful on the leader.
    func runLeaderPass(now: Date = Date()) async throws { try await core.leaderPass(now: now) }

    /// Re-reads the certificate Secrets now (what every replica does periodically).
    func runSyncPass() async throws { try await core.syncPass() }

    /// Stops the leader work (releasing the lease so another replica takes over at once) and the servers.
    public func stop() async {
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        await leaderElector?.release()
        await webhookServer.stop()
        for e in endpointServers { await e.stop() }
    }
}
