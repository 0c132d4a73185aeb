import CalicoAPI
import CalicoManifests
import EmbeddedAPIServer
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import LocalMode
import Logging
import Synchronization
import TestSupport
import Testing

@testable import NetworkingCalico

/// An embedded API server with the example CRDs installed and a client for it.
struct Env {
    let server: EmbeddedAPIServer
    let client: KubernetesClient

    static let exampleDir = SharedFixtures.packageRoot.appendingPathComponent("example")
    static let namespace = "shoot--foo--bar"
    static let name = "bar"

    /// The documents of `example/20-network.yaml`: namespace, Cluster, Network.
    static func exampleObjects() throws -> (namespace: JSON, cluster: JSON, network: JSON) {
        let text = try String(contentsOf: exampleDir.appendingPathComponent("20-network.yaml"), encoding: .utf8)
        let docs = try JSON.parseYAMLDocuments(text)
        func find(_ kind: String) throws -> JSON {
            try #require(docs.first { $0["kind"]?.stringValue == kind }, "example has no \(kind)")
        }
        return (try find("Namespace"), try find("Cluster"), try find("Network"))
    }

    /// Starts a server, installs every `example/10-crd-*.yaml`, runs `body`, shuts down.
    static func with<T>(
        _ configuration: EmbeddedAPIServerConfiguration = EmbeddedAPIServerConfiguration(), _ body: (Env) async throws -> T
    ) async throws -> T {
        try await withTestAPIServer(configuration) { server in
            var config = try ClientConfiguration.fromKubeconfig(yaml: server.kubeconfig())
            config.qps = 0
            let client = try KubernetesClient(configuration: config)
            do {
                let files = try FileManager.default.contentsOfDirectory(atPath: exampleDir.path)
                    .filter { $0.hasPrefix("10-crd-") && $0.hasSuffix(".yaml") }.sorted()
                #expect(files.count >= 4, "example CRDs missing: \(files)")
                for f in files { try await LocalBootstrap.apply(file: exampleDir.appendingPathComponent(f).path, client: client) }
                try await LocalBootstrap.waitForCRDs(client: client)
                let result = try await body(Env(server: server, client: client))
                try await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    /// Namespace + Cluster (optionally modified) + Network (optionally modified).
    func createExample(
        cluster modifyCluster: (inout JSON) -> Void = { _ in }, network modifyNetwork: (inout JSON) -> Void = { _ in }
    ) async throws {
        var (ns, cluster, network) = try Env.exampleObjects()
        modifyCluster(&cluster)
        modifyNetwork(&network)
        try await LocalBootstrap.apply(object: ns, client: client)
        try await LocalBootstrap.apply(object: cluster, client: client)
        try await LocalBootstrap.apply(object: network, client: client)
    }

    /// A manager as `controller` builds it (no endpoints; fast lease timings for tests).
    func startManager(
        leaderElection: Bool = false, identity: String? = nil, gates: FeatureGates = FeatureGates(),
        deleteWait: Duration = .seconds(120), configure: (inout CalicoControllerSettings) -> Void = { _ in }
    ) async throws -> (Manager, Task<Void, any Error>) {
        var settings = CalicoControllerSettings()
        settings.leaderElection = leaderElection
        settings.leaderElectionNamespace = "kube-system"
        settings.leaseDuration = .seconds(3)
        settings.renewDeadline = .seconds(2)
        settings.retryPeriod = .milliseconds(300)
        settings.heartbeatNamespace = "kube-system"
        settings.gracefulShutdownTimeout = .seconds(10)
        settings.actuator = CalicoActuatorOptions(featureGates: gates, deleteWaitTimeout: deleteWait, deleteWaitInterval: .milliseconds(200))
        configure(&settings)
        var logger = Logger(label: "test-manager")
        logger.logLevel = .error
        let manager = try await CalicoController.makeManager(client: client, settings: settings, logger: logger)
        let task = Task { try await manager.run() }
        return (manager, task)
    }

    func network() async throws -> JSON {
        try await client.get(.networks, namespace: Env.namespace, name: Env.name)
    }

    /// Polls until `condition` holds for the Network (or fails after `timeout`).
    @discardableResult
    func waitForNetwork(
        timeout: Duration = positiveWaitTimeout, _ what: String, _ condition: (JSON?) -> Bool
    ) async throws -> JSON? {
        var last: JSON?
        let found = try await poll(timeout: timeout, interval: .milliseconds(100)) { () async throws -> JSON?? in
            do {
                last = try await network()
            } catch let e as KubeError where e.isNotFound {
                last = nil
            }
            return condition(last) ? .some(last) : nil
        }
        guard let found else {
            Issue.record("timed out waiting for \(what); last: \(last.map { $0["status"]?.serializedString() ?? "-" } ?? "gone")")
            throw MessageError("timeout: \(what)")
        }
        return found
    }

    /// Waits until `manager`'s Network controller has handled the Network's current version and
    /// has nothing queued, delayed or in flight (see `settled`): what has not happened by then
    /// will not happen without a new change.
    func settled(_ manager: Manager) async throws {
        let controller = try #require(manager.controller(named: "network"))
        let idle = await TestSupport.settled(
            currentVersion: { (try? await network())?[path: "metadata", "resourceVersion"]?.stringValue },
            isIdle: { controller.isIdle(at: $0) })
        #expect(idle, "the Network controller did not settle")
    }

    func waitReconciled(_ what: String = "Succeeded", timeout: Duration = positiveWaitTimeout) async throws -> JSON {
        let obj = try await waitForNetwork(timeout: timeout, what) { $0.map(LocalBootstrap.isReconciled) ?? false }
        return try #require(obj)
    }

    /// The `config.yaml` bytes of the ManagedResource's (single) secret.
    func managedResourceConfig() async throws -> (mr: JSON, secret: JSON, config: [UInt8]) {
        let mr = try await client.get(.managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName)
        let refs = ManagedResource(raw: mr).secretRefs
        #expect(refs.count == 1)
        let secret = try await client.get(.secrets, namespace: Env.namespace, name: try #require(refs.first))
        let data = Secret(raw: secret).data
        return (mr, secret, try #require(data[CalicoNames.configKey]))
    }

    /// Holds the ManagedResource with a finalizer nobody removes (as a stuck resource manager).
    func holdManagedResource(with finalizer: String = "test/stuck") async throws {
        try await setManagedResourceFinalizers([.string(finalizer)])
    }

    /// Lets the ManagedResource held by ``holdManagedResource(with:)`` go.
    func releaseManagedResource() async throws { try await setManagedResourceFinalizers(.null) }

    private func setManagedResourceFinalizers(_ finalizers: JSON) async throws {
        _ = try await client.patch(
            .managedResources, namespace: Env.namespace, name: CalicoNames.managedResourceName, ["metadata": ["finalizers": finalizers]],
            type: .merge)
    }

    /// What `render` prints for this Network and Cluster.
    func expectedRender(network: JSON, gates: FeatureGates = FeatureGates()) async throws -> [UInt8] {
        let cluster = try await client.get(.clusters, namespace: nil, name: Env.namespace)
        return try renderShootManifests(network: network, cluster: cluster, featureGates: gates).yamlBytes()
    }

    /// Sets the operation annotation (Gardener's way of re-triggering in default mode).
    func annotate(_ operation: String) async throws {
        _ = try await client.patch(
            .networks, namespace: Env.namespace, name: Env.name,
            ["metadata": ["annotations": [GardenerConstants.operationAnnotation: .string(operation)]]], type: .merge)
    }

    /// `annotate`, for a Network being deleted: the controller's next retry may already have
    /// removed it, which is what the caller waits for anyway.
    func annotateUnlessGone(_ operation: String) async throws {
        do { try await annotate(operation) } catch let e as KubeError where e.isNotFound {}
    }

    /// Watches the Network and records every `(lastOperation.type, state)` it passes through.
    func recordOperations() -> OperationRecorder {
        let recorder = OperationRecorder()
        let stream = client.watchResuming(.networks, namespace: Env.namespace)
        recorder.task = Task {
            do {
                for try await event in stream {
                    let op = event.object[path: "status", "lastOperation"]
                    if let type = op?["type"]?.stringValue, let state = op?["state"]?.stringValue {
                        recorder.states.withLock { $0.insert("\(type)/\(state)") }
                    }
                }
            } catch {}
        }
        return recorder
    }

    /// Writes (create/update/patch/delete) recorded by the server on paths containing `fragment`.
    func writes(containing fragment: String) -> Int {
        server.requestLog.filter {
            ["create", "update", "patch", "delete"].contains($0.verb) && $0.path.contains(fragment)
        }.count
    }
}

func stop(_ manager: Manager, _ task: Task<Void, any Error>) async {
    manager.stop()
    _ = try? await task.value
}

/// Operations seen on a watch (see `Env.recordOperations`).
final class OperationRecorder: @unchecked Sendable {
    // @unchecked: `task` is set once before use; `seen` is a Mutex.
    let states = Mutex(Set<String>())
    var task: Task<Void, Never>?

    func seen(_ type: String, _ state: String) -> Bool { states.withLock { $0.contains("\(type)/\(state)") } }
    func stop() { task?.cancel() }
}
