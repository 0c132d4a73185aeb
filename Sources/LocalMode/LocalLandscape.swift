import AdmissionCalico
import CalicoAPI
import CalicoManifests
import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import NetworkingCalico
import Synchronization

/// Settings of `calico-dev local` (docs/local.md).
public struct LocalLandscapeOptions: Sendable {
    /// `--state-dir`.
    public var stateDirectory: String = ".local"
    /// `--example-dir`: the seed CRDs (`10-crd-*.yaml`) and `local/` with the garden CRDs and the Shoot.
    public var exampleDirectory: String = "example"
    /// `--nodes`: simulated shoot Nodes.
    public var nodes: Int = 3
    /// `--hold-routes`: new Nodes start without their route.
    public var holdRoutes: Bool = false
    /// `--port`: the seed API server's port (0: the remembered one when free, else any).
    public var seedPort: Int = 0
    /// Controller feature gates (`--feature-gates`).
    public var featureGates = FeatureGates()
    /// Pause between two steps of a simulated DaemonSet rollout.
    public var rolloutStep: Duration = .milliseconds(100)
    /// Whether the in-process admission webhook is started and registered in the garden.
    public var admissionWebhook: Bool = true

    /// The defaults of `calico-dev local`.
    public init() {}
}

/// Local mode's whole landscape in one process: the garden, seed and shoot API servers, the
/// admission webhook registered in the garden, gardenlet's shoot flow, the controller in the seed,
/// the resource manager applying to the shoot, and the simulated shoot Nodes (docs/local.md).
public final class LocalLandscape: Sendable {
    /// Where the state lives.
    public let layout: LandscapeLayout
    /// The garden, seed and shoot API servers.
    public let servers: [LandscapeCluster: EmbeddedAPIServer]
    /// Admin clients of the three clusters.
    public let clients: [LandscapeCluster: KubernetesClient]
    /// Whether the state of a previous run was kept (false: started from the example).
    public let keptState: Bool
    /// The example Shoot's garden namespace and name.
    public let shoot: (namespace: String, name: String)
    /// The controller's manager (seed) and local mode's managers (garden, seed, shoot).
    let managers: [Manager]
    let tasks: Mutex<[Task<Void, any Error>]>
    let admission: AdmissionRuntime?
    /// The kept Network's last operation at start: the wait needs a newer one (the controller
    /// removes the operation annotation before it writes `Processing`).
    let staleOperation: JSON?
    private let stopping = Mutex<Task<Void, Never>?>(nil)

    /// Whether `stop` was called.
    public var isStopping: Bool { stopping.withLock { $0 != nil } }

    /// The seed namespace and name of the example Network.
    public var network: (namespace: String, name: String) {
        (Gardenlet.technicalID(namespace: shoot.namespace, name: shoot.name), shoot.name)
    }

    init(
        layout: LandscapeLayout, servers: [LandscapeCluster: EmbeddedAPIServer], clients: [LandscapeCluster: KubernetesClient], keptState: Bool,
        shoot: (String, String), managers: [Manager], admission: AdmissionRuntime?, staleOperation: JSON?
    ) {
        self.staleOperation = staleOperation
        self.layout = layout
        self.servers = servers
        self.clients = clients
        self.keptState = keptState
        self.shoot = shoot
        self.managers = managers
        self.tasks = Mutex([])
        self.admission = admission
    }

    /// Starts everything (the state-dir lock must already be held); `progress` gets one line per step.
    public static func start(_ options: LocalLandscapeOptions, progress: @Sendable (String) -> Void) async throws -> LocalLandscape {
        let layout = LandscapeLayout(root: URL(fileURLWithPath: options.stateDirectory))
        let keptState = layout.hasState
        var ports = layout.rememberedPorts()
        if options.seedPort != 0 { ports[LandscapeCluster.seed.rawValue] = options.seedPort }

        var servers: [LandscapeCluster: EmbeddedAPIServer] = [:]
        var clients: [LandscapeCluster: KubernetesClient] = [:]
        var admission: AdmissionRuntime?
        var managers: [Manager] = []
        func cleanUp() async {
            await admission?.stop()
            for client in clients.values { try? await client.shutdown() }
            for server in servers.values { try? await server.shutdown() }
        }
        do {
            for cluster in LandscapeCluster.allCases {
                let server = try await startServer(layout: layout, cluster: cluster, port: ports[cluster.rawValue] ?? 0)
                servers[cluster] = server
                ports[cluster.rawValue] = server.port
                try server.writeKubeconfig(to: layout.kubeconfig(cluster))
                if cluster == .seed { try server.writeKubeconfig(to: layout.defaultKubeconfig) }
                var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
                config.qps = 2000
                config.burst = 4000
                clients[cluster] = try KubernetesClient(configuration: config)
                progress("\(cluster.rawValue) API server on \(server.baseURL) (kubeconfig \(layout.kubeconfig(cluster)))")
            }
            guard let garden = clients[.garden], let seed = clients[.seed], let shootClient = clients[.shoot], let shootServer = servers[.shoot]
            else {
                throw MessageError("internal: a cluster is missing")
            }

            // The three clusters are prepared side by side: the shoot's Nodes and the seed's CRDs
            // while the garden starts the webhook (the slowest part).
            let nodeCount = options.nodes
            let holdRoutes = options.holdRoutes
            async let nodesCreated: Void = NodeSimulator.ensureNodes(client: shootClient, count: nodeCount, holdRoutes: holdRoutes)
            let example = URL(fileURLWithPath: options.exampleDirectory)
            let seedCRDs = try files(in: example.path, prefix: "10-crd-")
            async let seedReady: Void = {
                for file in seedCRDs { try await LocalBootstrap.apply(file: file, client: seed) }
                try await LocalBootstrap.waitForCRDs(client: seed)
            }()

            // Garden: the Gardener API, the webhook, then the example.
            let localDir = example.appendingPathComponent("local")
            for file in try files(in: localDir.path, prefix: "10-crd-") { try await LocalBootstrap.apply(file: file, client: garden) }
            try await LocalBootstrap.waitUntilServed(client: garden, resources: [.shoots, .cloudProfiles, .seeds])
            try await LocalBootstrap.apply(
                object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "garden"]], client: garden)
            if options.admissionWebhook {
                let port = try freeLoopbackPort(preferred: ports["webhook"] ?? 0)
                ports["webhook"] = port
                var admissionOptions = AdmissionOptions()
                admissionOptions.serverHost = "127.0.0.1"
                admissionOptions.serverPort = port
                admissionOptions.certDirectory = layout.webhookCertDirectory
                admissionOptions.mode = "url"
                admissionOptions.url = "127.0.0.1:\(port)"
                admissionOptions.namespace = "garden"
                admission = try await AdmissionRuntime.start(
                    admissionOptions, client: garden,
                    manager: ManagerOptions(gracefulShutdownTimeout: .milliseconds(300), drainTimeout: .milliseconds(200)),
                    logger: Logger(label: "admission-calico"))
                progress(
                    "garden: admission webhook on https://127.0.0.1:\(port) registered (ValidatingWebhookConfiguration gardener-extension-admission-calico)"
                )
            }
            let shootFile = localDir.appendingPathComponent("shoot.yaml").path
            let shoot = try await LocalBootstrap.applyGardenExample(file: shootFile, client: garden)
            progress(
                keptState
                    ? "garden: kept the existing state; Shoot \(shoot.namespace)/\(shoot.name) as last edited (--reset starts from \(shootFile))"
                    : "garden: Shoot \(shoot.namespace)/\(shoot.name) created from \(shootFile)")
            try layout.rememberPorts(ports)
            try await seedReady
            progress("seed: CRDs installed (\(seedCRDs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))")
            // A kept Network is reconciled once more, as gardenlet asks on every shoot reconcile
            // (and so the wait below does not take the last run's status for this one's).
            let technicalID = Gardenlet.technicalID(namespace: shoot.namespace, name: shoot.name)
            var staleOperation: JSON?
            if let existing = try? await seed.get(.networks, namespace: technicalID, name: shoot.name),
                existing[path: "metadata", "deletionTimestamp"] == nil
            {
                staleOperation = existing[path: "status", "lastOperation"]
                _ = try await seed.patch(
                    .networks, namespace: technicalID, name: shoot.name,
                    ["metadata": ["annotations": [GardenerConstants.operationAnnotation: "reconcile"]]], type: .merge)
            }

            try await nodesCreated
            progress("shoot: \(options.nodes) simulated Nodes\(options.holdRoutes ? " (routes held: calico-dev/hold-route=true)" : "")")

            // Controllers.
            let quick = ManagerOptions(gracefulShutdownTimeout: .milliseconds(300), drainTimeout: .milliseconds(200))
            let gardenManager = Manager(client: garden, options: quick, logger: Logger(label: "gardenlet"))
            let seedManager = Manager(client: seed, options: quick, logger: Logger(label: "resource-manager"))
            let shootManager = Manager(client: shootClient, options: quick, logger: Logger(label: "shoot"))
            let networks = seedManager.informer(for: .networks)
            await Gardenlet.add(
                to: gardenManager, seed: seed, networks: networks, shootKubeconfig: shootServer.kubeconfig(),
                logger: Logger(label: "gardenlet"))
            await ResourceManager.add(to: seedManager, shoot: shootManager, logger: Logger(label: "resource-manager"))
            await NodeSimulator.add(to: shootManager, rolloutStep: options.rolloutStep, logger: Logger(label: "shoot"))

            var settings = CalicoControllerSettings()
            settings.leaderElection = false
            settings.heartbeatNamespace = "default"
            // Live re-render: edits (generation changes) trigger a reconcile, as after gardenlet's annotation.
            settings.ignoreOperationAnnotation = true
            settings.gracefulShutdownTimeout = .milliseconds(500)
            // Retries within seconds, so a released route lets a held overlay switch through at once.
            settings.rateLimiter = Landscape.rateLimiter()
            settings.actuator = CalicoActuatorOptions(featureGates: options.featureGates, deleteWaitInterval: .milliseconds(100))
            settings.actuator.imageVector = try ImageVector.fromEnvironment()
            let controller = try await CalicoController.makeManager(client: seed, settings: settings)
            managers = [controller, gardenManager, seedManager, shootManager]
            let landscape = LocalLandscape(
                layout: layout, servers: servers, clients: clients, keptState: keptState, shoot: shoot, managers: managers,
                admission: admission, staleOperation: staleOperation)
            landscape.tasks.withLock { tasks in
                for manager in managers { tasks.append(Task { try await manager.run() }) }
            }
            return landscape
        } catch {
            for manager in managers { manager.stop() }
            await cleanUp()
            throw error
        }
    }

    static func startServer(layout: LandscapeLayout, cluster: LandscapeCluster, port: Int) async throws -> EmbeddedAPIServer {
        var configuration = EmbeddedAPIServerConfiguration(port: port, dataDirectory: layout.dataDirectory(cluster))
        if cluster == .shoot { configuration.additionalBuiltinResources = shootBuiltinResources }
        do {
            return try await EmbeddedAPIServer.start(configuration)
        } catch  where port != 0 {
            // The remembered port is taken: any port (the kubeconfig is rewritten).
            configuration.port = 0
            return try await EmbeddedAPIServer.start(configuration)
        }
    }

    /// Built-in kinds of a real shoot's kube-apiserver that the rendered Calico objects use and the
    /// embedded server does not model (served schemaless in the shoot).
    static let shootBuiltinResources: [JSON] = [
        ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
        ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
        ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
        ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false),
    ].map { group, version, kind, plural, namespaced in
        [
            "spec": [
                "group": .string(group), "scope": namespaced ? "Namespaced" : "Cluster",
                "names": ["kind": .string(kind), "plural": .string(plural), "singular": .string(kind.lowercased())],
                "versions": [["name": .string(version), "served": true, "storage": true]],
            ]
        ]
    }

    static func files(in directory: String, prefix: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        let files = names.filter { $0.hasPrefix(prefix) && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }.sorted()
        guard !files.isEmpty else { throw MessageError("no \(prefix)*.yaml files in \(directory)") }
        return files.map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    /// Stops every controller and server; returns within about a second.
    public func stop() async {
        let task = stopping.withLock { current in
            if let current { return current }
            let task = Task { await self.shutDown() }
            current = task
            return task
        }
        await task.value
    }

    private func shutDown() async {
        for manager in managers { manager.stop() }
        // Everything stops side by side, so Ctrl-C returns within about a second.
        let admission = self.admission
        async let admissionStopped: Void = { await admission?.stop() }()
        for task in tasks.withLock({ $0 }) { _ = try? await task.value }
        await admissionStopped
        await withTaskGroup(of: Void.self) { group in
            for client in clients.values { group.addTask { try? await client.shutdown() } }
        }
        await withTaskGroup(of: Void.self) { group in
            for server in servers.values { group.addTask { try? await server.shutdown() } }
        }
    }

    /// Waits until a manager stops on its own (an error) or `stop` was called.
    public func wait() async {
        for task in tasks.withLock({ $0 }) { _ = try? await task.value }
    }

    // MARK: Waiting for the example

    /// Result of waiting for the example.
    public enum Outcome: Sendable {
        /// The Network is Succeeded, the ManagedResource applied and calico-node in the shoot.
        case ready
        /// Failed or timed out, with the reason.
        case failed(String)
    }

    /// What is still missing for `ready` (nil: ready), read from the informer caches.
    func missing(networks: Store, managedResources: Store, daemonSets: Store) -> (reason: String, failed: Bool)? {
        let (namespace, name) = network
        guard let obj = networks.get(namespace: namespace, name: name) else {
            return ("Network \(namespace)/\(name) does not exist yet", false)
        }
        if let staleOperation, obj[path: "status", "lastOperation"] == staleOperation {
            return ("Network \(namespace)/\(name): waiting for this run's reconcile", false)
        }
        if !LocalBootstrap.isReconciled(obj) {
            let op = obj[path: "status", "lastOperation"]
            let state = op?["state"]?.stringValue ?? "?"
            let failed = state == "Error" || state == "Failed"
            let reason =
                failed
                ? obj[path: "status", "lastError", "description"]?.stringValue ?? op?["description"]?.stringValue ?? state
                : "Network \(namespace)/\(name): \(op?["type"]?.stringValue ?? "?") \(state)"
            return (reason, failed)
        }
        guard let mr = managedResources.get(namespace: namespace, name: CalicoNames.managedResourceName) else {
            return ("ManagedResource \(namespace)/\(CalicoNames.managedResourceName) does not exist", false)
        }
        let applied = ManagedResource(raw: mr).condition("ResourcesApplied")
        guard applied?["status"]?.stringValue == "True",
            mr[path: "status", "observedGeneration"]?.intValue == mr[path: "metadata", "generation"]?.intValue
        else {
            return (
                "ManagedResource \(namespace)/\(CalicoNames.managedResourceName) is not applied: \(applied?["message"]?.stringValue ?? "no condition yet")",
                applied?["status"]?.stringValue == "False"
            )
        }
        guard daemonSets.get(namespace: "kube-system", name: "calico-node") != nil else {
            return ("the shoot has no DaemonSet kube-system/calico-node", false)
        }
        return nil
    }

    /// Waits (on watch events, no polling) until the example is ready, it failed (`failFast`:
    /// at the first error) or `timeout` passed. Without `failFast`, errors are printed once each
    /// through `progress` and the wait goes on.
    public func waitForExample(timeout: Duration, failFast: Bool, progress: @Sendable (String) -> Void) async -> Outcome {
        let networks = managers[2].informer(for: .networks)
        let managedResources = managers[2].informer(for: .managedResources)
        let daemonSets = managers[3].informer(for: .daemonSets)
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        for informer in [networks, managedResources, daemonSets] {
            await informer.addHandler { _ in continuation.yield() }
        }
        let deadline = Task {
            try? await Task.sleep(for: timeout)
            continuation.finish()
        }
        let stopped = Task {
            await wait()
            continuation.finish()
        }
        defer {
            deadline.cancel()
            stopped.cancel()
            continuation.finish()
        }
        var reported: String?
        continuation.yield()
        for await _ in stream {
            guard let missing = missing(networks: networks.store, managedResources: managedResources.store, daemonSets: daemonSets.store)
            else { return .ready }
            if missing.failed {
                if failFast { return .failed(missing.reason) }
                if reported != missing.reason {
                    progress("reconcile error (fix it with kubectl; retrying): \(missing.reason)")
                    reported = missing.reason
                }
            }
        }
        if let missing = missing(networks: networks.store, managedResources: managedResources.store, daemonSets: daemonSets.store) {
            return .failed("timed out after \(timeout): \(missing.reason)")
        }
        return .ready
    }
}
