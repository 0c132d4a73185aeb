import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// The webhook settings of `gardener-extension-admission-calico` after environment defaults were
/// applied (`WebhookFlags` builds them from the command line).
public struct AdmissionOptions: Sendable, Equatable {
    /// Garden cluster kubeconfig (`--kubeconfig`, `GARDEN_KUBECONFIG`).
    public var kubeconfig: String = ""
    /// API server URL override (`--master`).
    public var master: String = ""
    /// Listen host of the HTTPS server (empty = every interface).
    public var serverHost: String = ""
    /// Listen port of the HTTPS server.
    public var serverPort: Int = 443
    /// Directory of the serving certificate and key.
    public var certDirectory: String = "/tmp/admission-calico-cert"
    /// `--disable-webhooks` values (`validator` or `*`).
    public var disableWebhooks: [String] = []
    /// `--webhook-config-mode`: `service`, `url` or `url-service`.
    public var mode: String = ""
    /// `--webhook-config-url`: `host[:port]` in url mode.
    public var url: String = ""
    /// `--webhook-config-service-port` (0: the server port).
    public var servicePort: Int = 0
    /// Namespace of the service and certificate Secrets (`WEBHOOK_CONFIG_NAMESPACE` by default).
    public var namespace: String = ""
    /// Owner namespace of the webhook configuration (default: the namespace).
    public var ownerNamespace: String = ""
    /// `SOURCE_CLUSTER` non-empty: leader election and certificate Secrets live in a second
    /// ("source") cluster.
    public var sourceCluster: Bool = false
    /// `SOURCE_KUBECONFIG`: kubeconfig of the source cluster (in-cluster config if empty).
    public var sourceKubeconfig: String = ""

    /// The defaults.
    public init() {}

    /// Applies `GARDEN_KUBECONFIG`, `WEBHOOK_CONFIG_NAMESPACE`, `SOURCE_CLUSTER` and
    /// `SOURCE_KUBECONFIG`; `namespaceFlagSet` says whether the namespace flag was given explicitly.
    /// (`LEADER_ELECTION_NAMESPACE` belongs to `LeaderElectionFlags`.)
    public mutating func applyEnvironment(_ env: [String: String], namespaceFlagSet: Bool) {
        if let k = env["GARDEN_KUBECONFIG"], !k.isEmpty { kubeconfig = k }
        if !namespaceFlagSet, let ns = env["WEBHOOK_CONFIG_NAMESPACE"] { namespace = ns }
        if let s = env["SOURCE_CLUSTER"], !s.isEmpty { sourceCluster = true }
        if let k = env["SOURCE_KUBECONFIG"] { sourceKubeconfig = k }
    }

    /// An error in the options (message as the reference prints it).
    public struct Invalid: Error, Sendable, CustomStringConvertible, Equatable {
        /// The message.
        public var description: String
        /// An error with `description` as its message.
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

    /// The production defaults.
    public init() {}
}

/// The admission binary's default lease (`--leader-election-id`).
public enum AdmissionLease: LeaderElectionDefaults {
    /// `admission-calico-leader-election`.
    public static let leaseName = "admission-calico-leader-election"
}

/// The admission webhook as services of a `Manager`: certificates, the HTTPS server and the
/// webhook registration. The manager provides leader election, probes, metrics and shutdown.
///
/// Like a webhook-only controller-runtime manager, the HTTPS server runs on every replica (serving
/// needs no leadership) while the leader-only work — the certificate Secrets (creation, renewal,
/// CA rotation) and (re)registering the `ValidatingWebhookConfiguration` — runs only on the
/// replica holding the Lease. Every replica copies the certificate Secrets into its cert dir,
/// from where the server reloads them without a restart.
public final class AdmissionRuntime: Sendable {
    /// Where the webhook configuration points.
    public let registration: WebhookRegistrationOptions
    /// The cluster of the Lease (the source cluster in source-cluster mode, else the garden
    /// cluster); nil when no cluster is configured (local mode: self-signed, nothing registered).
    public let electionClient: KubernetesClient?
    let core: Core
    let metrics = WebhookMetrics()
    let serverConfiguration: WebhookServerConfiguration
    let sourceMode: Bool
    private let hosted = Mutex<Hosted>(Hosted())

    /// The manager this runtime started itself (`start`).
    struct Hosted {
        var manager: Manager?
        var task: Task<Void, any Error>?
        var ownedClient: KubernetesClient?
    }

    /// The HTTPS server once started.
    public var webhookServer: WebhookServer? { core.state.withLock { $0.server } }
    /// The certificates this replica serves (CA = the current CA, without the old one).
    public var certificates: WebhookCertificates { core.state.withLock { $0.certificates } }
    /// The CA bundle injected into the webhook configuration (current + old CA during a rotation).
    public var caBundlePEM: String { core.state.withLock { $0.caBundlePEM } }
    /// How many leader passes (certificate management + registration) this replica completed.
    public var leaderPasses: Int { core.state.withLock { $0.leaderPasses } }

    /// The shared machinery of the runtime's services.
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
            // (Before the server runs, the leader service registers once it serves.)
            if (managed.caGenerated || managed.oldCADropped) && server != nil { try await register(bundle: managed.caBundlePEM) }
            try apply(managed)
            if managed.serverIssued, let server { _ = try? server.reloadCertificates() }
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

        /// One complete leader pass (registration only once this replica serves).
        func leaderPass(now: Date = Date()) async throws {
            try await certificatePass(now: now)
            while state.withLock({ $0.server == nil }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await register()
            state.withLock { $0.leaderPasses += 1 }
        }

        /// Leader service: a pass now, then one every resync interval (a failed pass is retried
        /// after the certificate sync interval). Returns when cancelled.
        func leaderLoop() async {
            var backoff = RetryBackoff(cap: min(tuning.leaderResyncInterval, tuning.certificateSyncInterval))
            while !Task.isCancelled {
                var wait = tuning.leaderResyncInterval
                do {
                    try await leaderPass()
                    backoff.reset()
                } catch {
                    if Task.isCancelled { return }
                    wait = backoff.next()
                    logger.error(
                        "leader pass failed (certificates / webhook registration), retrying",
                        metadata: ["error": "\(error)", "backoff": "\(wait)"])
                }
                do { try await Task.sleep(for: wait) } catch { return }
            }
        }

        /// Every replica: copies the Secrets into the cert dir; false while they do not exist.
        @discardableResult
        func syncPass() async throws -> Bool {
            guard let secrets, let managed = try await secrets.load() else { return false }
            try apply(managed)
            return true
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

        /// Waits (every replica, Secret mode) until the leader created the certificate Secrets.
        func waitForSecrets() async throws {
            guard let secrets else { return }
            // An API server that cannot be reached is retried with backoff for as long as it takes
            // (the process stays alive, not ready); only Secrets that stay absent once it answers
            // time out (see docs/reliability.md).
            var deadline: ContinuousClock.Instant?
            var backoff = RetryBackoff(cap: min(tuning.certificateSyncInterval, .seconds(5)))
            while true {
                let found: Bool
                do {
                    found = try await syncPass()
                } catch {
                    try Task.checkCancellation()
                    let wait = backoff.next()
                    logger.warning(
                        "could not read the webhook certificate secrets, retrying",
                        metadata: ["error": "\(error)", "backoff": "\(wait)"])
                    try await Task.sleep(for: wait)
                    continue
                }
                if found { return }
                backoff.reset()
                let end = deadline ?? ContinuousClock.now + tuning.startupTimeout
                deadline = end
                guard ContinuousClock.now < end else {
                    throw AdmissionOptions.Invalid("timed out waiting for the webhook certificate secrets in namespace \(secrets.namespace)")
                }
                try await Task.sleep(for: min(tuning.certificateSyncInterval, .milliseconds(500)))
            }
        }

        /// Webhook service: certificates in place, then the HTTPS server until cancelled.
        func serve(_ configuration: WebhookServerConfiguration, metrics: WebhookMetrics) async throws {
            try await waitForSecrets()
            let server = try await WebhookServer.start(configuration, metrics: metrics, logger: logger)
            state.withLock { $0.server = server }
            if secrets != nil {
                await syncLoop()
            } else {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            await server.stop()
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

    /// The namespace of the certificate Secrets in the source cluster.
    public static let sourceSecretsNamespace = "garden"

    /// Validates the options, creates the clients (unless given) and, without Secrets
    /// (self-signed mode), writes a fresh certificate pair into the cert dir. Nothing runs before
    /// `add(to:)` and the manager's `run`.
    public init(
        _ options: AdmissionOptions, client providedClient: KubernetesClient? = nil, sourceClient providedSource: KubernetesClient? = nil,
        tuning: AdmissionTuning = AdmissionTuning(), logger: Logger = Logger(label: "admission-calico")
    ) throws {
        let disabled = try options.webhookDisabled()
        let reg = try options.registrationOptions()
        let explicitCluster = !options.kubeconfig.isEmpty || !reg.namespace.isEmpty
        let garden = try providedClient ?? Self.makeClient(options, required: explicitCluster, logger: logger)
        let source: KubernetesClient? = options.sourceCluster ? try (providedSource ?? Self.makeSourceClient(options, logger: logger)) : nil

        var names = WebhookConfiguration.servingNames(reg)
        // Local runs reach the server on loopback; a certificate for it costs nothing.
        for extra in ["localhost", "127.0.0.1"] where !names.contains(extra) { names.append(extra) }

        // Secrets hold the certificates with a namespace, or always in source-cluster mode.
        let secretsClient = source ?? (reg.namespace.isEmpty ? nil : garden)
        let secrets = secretsClient.map {
            CertificateSecrets(
                client: $0, namespace: source != nil ? Self.sourceSecretsNamespace : reg.namespace, policy: tuning.rotation, logger: logger)
        }
        // Without Secrets every replica generates its own self-signed pair (local mode).
        let initial =
            secrets == nil
            ? try CertificateGenerator.generate(names: names)
            : WebhookCertificates(caCertificatePEM: "", caKeyPEM: "", serverCertificatePEM: "", serverKeyPEM: "")
        if secrets == nil { try CertificateDirectory.write(initial, to: options.certDirectory) }
        registration = reg
        electionClient = source ?? garden
        sourceMode = source != nil
        serverConfiguration = WebhookServerConfiguration(
            host: options.serverHost, port: options.serverPort, certDirectory: options.certDirectory,
            certificateReloadInterval: tuning.certificateReloadInterval, webhookDisabled: disabled)
        core = Core(
            initial: initial, gardenClient: garden, secrets: secrets, names: names, registration: reg,
            webhookDisabled: disabled, certDirectory: options.certDirectory, tuning: tuning, logger: logger)
    }

    /// Adds the services (HTTPS server and certificate sync on every replica, certificate
    /// management and registration on the leader), the readiness checks and the webhook metrics
    /// to `manager`.
    public func add(to manager: Manager) {
        let core = self.core
        let configuration = serverConfiguration
        let metrics = self.metrics
        manager.add(ClosureService(name: "webhook-server", needsLeaderElection: false) { try await core.serve(configuration, metrics: metrics) })
        manager.add(ClosureService(name: "webhook-certificates", needsLeaderElection: true) { await core.leaderLoop() })
        manager.addMetricsSource { metrics.exposition() }
        let probes = manager.health
        probes.addReadyzCheck("webhook-server") { core.state.withLock { $0.server != nil } ? nil : "webhook server not started" }
        if core.secrets != nil {
            // No informers here: the certificate Secrets having been read stands for the cache sync.
            let check: HealthCheck = { core.state.withLock { $0.secretsSynced } ? nil : "certificate secrets not synced" }
            probes.addReadyzCheck(sourceMode ? "source-informer-sync" : "informer-sync", check)
        }
    }

    /// The client a `Manager` for this runtime uses: the election cluster's, or — without any
    /// cluster — a loopback placeholder the manager never contacts (no informers, no election).
    public func managerClient() throws -> KubernetesClient {
        if let electionClient { return electionClient }
        return try KubernetesClient(configuration: ClientConfiguration(server: "https://127.0.0.1:1"))
    }

    /// The namespace a Lease falls back to without `--leader-election-namespace`: the election
    /// client's namespace, else `default`.
    public var fallbackLeaseNamespace: String {
        let ns = electionClient?.configuration.namespace ?? ""
        return ns.isEmpty ? "default" : ns
    }

    /// Builds the runtime and runs it on a manager of its own (tests and local runs); returns once
    /// the HTTPS server serves and, if this replica leads within a moment, after its first leader
    /// pass. `stop()` stops it.
    public static func start(
        _ options: AdmissionOptions, client: KubernetesClient? = nil, sourceClient: KubernetesClient? = nil,
        manager managerOptions: ManagerOptions = ManagerOptions(), tuning: AdmissionTuning = AdmissionTuning(),
        logger: Logger = Logger(label: "admission-calico")
    ) async throws -> AdmissionRuntime {
        let runtime = try AdmissionRuntime(options, client: client, sourceClient: sourceClient, tuning: tuning, logger: logger)
        let managerClient = try runtime.managerClient()
        let manager = Manager(client: managerClient, options: managerOptions, logger: logger)
        runtime.add(to: manager)
        let task = Task { try await manager.run() }
        runtime.hosted.withLock {
            $0.manager = manager
            $0.task = task
            $0.ownedClient = runtime.electionClient == nil ? managerClient : nil
        }
        // Serving, and — when this replica leads at once — registered, as a single replica
        // would be after start-up.
        let leadWait = ContinuousClock.now + max((managerOptions.leaderElection?.retryPeriod ?? .zero) / 2, .seconds(1))
        while runtime.webhookServer == nil || (manager.isLeading ? runtime.leaderPasses == 0 : ContinuousClock.now < leadWait) {
            if manager.isStopping {
                try await runtime.wait()
                throw AdmissionOptions.Invalid("webhook server did not start")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return runtime
    }

    /// The manager `start` created.
    public var manager: Manager? { hosted.withLock { $0.manager } }
    /// The leader elector of `start`'s manager (nil with leader election off).
    public var leaderElector: LeaderElector? { manager?.leaderElector }
    /// Whether this replica does the leader-only work now.
    public var isLeader: Bool { leaderElector?.isLeader ?? true }
    /// Port of the health endpoint of `start`'s manager (when bound).
    public var healthPort: Int? { manager?.healthPort }

    /// Waits until `start`'s manager ended; throws its error (e.g. `LeaderElectionLostError`).
    public func wait() async throws {
        let (task, owned) = hosted.withLock { ($0.task, $0.ownedClient) }
        defer { if let owned { Task { try? await owned.shutdown() } } }
        try await task?.value
    }

    /// Runs one leader pass now (tests: rotation with a given clock). Only meaningful on the leader.
    func runLeaderPass(now: Date = Date()) async throws { try await core.leaderPass(now: now) }

    /// Re-reads the certificate Secrets now (what every replica does periodically).
    func runSyncPass() async throws { try await core.syncPass() }

    /// Stops `start`'s manager gracefully (releasing the lease so another replica takes over at
    /// once) and waits for it.
    public func stop() async {
        manager?.stop()
        try? await wait()
    }
}
