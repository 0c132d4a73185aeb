import CalicoAPI
import CalicoManifests
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import KubeRuntime
import Logging

extension Resource {
    /// `scrapeconfigs.monitoring.coreos.com/v1alpha1` (namespaced; seed monitoring).
    public static let scrapeConfigs = Resource(
        group: "monitoring.coreos.com", version: "v1alpha1", plural: "scrapeconfigs", kind: "ScrapeConfig",
        namespaced: true)
}

/// Names and settings of the Calico actuator.
public enum CalicoNames {
    /// The shoot ManagedResource.
    public static let managedResourceName = "extension-networking-calico-config"
    /// `origin` label of the ManagedResource.
    public static let origin = "extension-networking-calico"
    /// Data key of the ManagedResource secret holding the rendered manifests.
    public static let configKey = "config.yaml"
    /// Extension name used as heartbeat holder identity.
    public static let extensionName = "networking-calico"
}

/// Settings of `CalicoActuator`.
public struct CalicoActuatorOptions: Sendable {
    /// Controller feature gates (`NonPrivilegedCalicoNode`, `SeamlessOverlaySwitch`).
    public var featureGates: FeatureGates
    /// Images (built-in, merged with `IMAGEVECTOR_OVERWRITE` at start).
    public var imageVector: ImageVector
    /// `GARDENER_SHOOT_CLIENT=external`: use the `gardener` secret for shoot clients.
    public var useExternalShootClient: Bool
    /// How long Delete waits for the ManagedResource to disappear (Gardener: 2 minutes).
    public var deleteWaitTimeout: Duration
    /// Poll interval of that wait (Gardener: 2 seconds).
    public var deleteWaitInterval: Duration

    /// Options with Gardener's defaults.
    public init(
        featureGates: FeatureGates = FeatureGates(), imageVector: ImageVector = .default,
        useExternalShootClient: Bool = false, deleteWaitTimeout: Duration = .seconds(120),
        deleteWaitInterval: Duration = .seconds(2)
    ) {
        self.featureGates = featureGates
        self.imageVector = imageVector
        self.useExternalShootClient = useExternalShootClient
        self.deleteWaitTimeout = deleteWaitTimeout
        self.deleteWaitInterval = deleteWaitInterval
    }
}

/// The networking-calico actuator: renders the Calico manifests into the
/// shoot ManagedResource, applies the seed monitoring objects and reports the provider status.
/// Every write is preceded by a comparison, so an unchanged input causes no write.
public struct CalicoActuator: Actuator {
    /// Client for the seed.
    public let client: KubernetesClient
    /// Feature gates, images and delete timing.
    public let options: CalicoActuatorOptions
    let logger: Logger
    /// Informer store of the extension's ManagedResources (see `ManagedResources.cache`), if any.
    public let managedResourceCache: Store?
    /// Builds a client for the shoot from a kubeconfig (tests may substitute it).
    let shootClientFactory: @Sendable (String) throws -> KubernetesClient

    /// An actuator over `client`; `managedResourceCache` saves reads of the ManagedResource.
    public init(
        client: KubernetesClient, options: CalicoActuatorOptions = CalicoActuatorOptions(),
        managedResourceCache: Store? = nil, logger: Logger = Logger(label: "calico-actuator")
    ) {
        self.client = client
        self.options = options
        self.managedResourceCache = managedResourceCache
        self.logger = logger
        self.shootClientFactory = { kubeconfig in
            try KubernetesClient(configuration: ClientConfiguration.fromKubeconfig(yaml: kubeconfig))
        }
    }

    // MARK: Reconcile

    /// Renders the manifests into the shoot ManagedResource and applies the seed monitoring objects; invalid input is a terminal error.
    public func reconcile(_ network: Network, cluster: Cluster) async throws -> StatusFields {
        let namespace = network.namespace ?? ""
        // The pure pre-processing shared with `render`, so both produce the same objects.
        // Pre-processing and rendering are pure: an input they reject (invalid providerConfig, a
        // Shoot that cannot be rendered) fails the same way on every retry, so the error is
        // terminal; the user's fix (a new generation, gardenlet's annotation) reconciles again.
        let input: RenderInput
        do {
            input = try RenderInput.prepare(
                network: network.raw, cluster: cluster.raw,
                nonPrivilegedCalicoNode: options.featureGates.nonPrivilegedCalicoNode,
                decodeProviderConfig: { raw, families in try EffectiveNetworkConfig.decodeAndValidate(raw, ipFamilies: families) })
        } catch {
            throw TerminalError(error)
        }

        // The overlay-switch guard runs before anything is written, so a blocked overlay switch keeps
        // the currently deployed configuration.
        if options.featureGates.seamlessOverlaySwitch && input.mutatingAdmissionPolicyAvailable {
            try await ensureNodeRoutesBeforeOverlaySwitch(
                namespace: namespace, desiredOverlayEnabled: input.desiredOverlayEnabled)
        }

        // Rendering (pure; see CalicoManifests).
        let manifests: RenderedManifests
        do {
            manifests = try renderShootManifests(input, imageVector: options.imageVector)
        } catch {
            throw TerminalError(error)
        }
        // ManagedResource and seed monitoring objects. The monitoring objects do not depend on the ManagedResource, so with
        // the ManagedResource cache (which tells a first deployment without a request) they are
        // applied while the secret and the ManagedResource are written: a reconcile then waits
        // for two chains of requests side by side instead of one long one. The ManagedResource's
        // error comes first, as when the steps run one after the other.
        if let managedResourceCache {
            let firstDeployment =
                managedResourceCache.get(namespace: namespace, name: CalicoNames.managedResourceName) == nil
            async let monitoring: Void = applyMonitoring(namespace: namespace, firstDeployment: firstDeployment)
            try await writeManagedResource(namespace: namespace, manifests: manifests)
            try await monitoring
        } else {
            let result = try await writeManagedResource(namespace: namespace, manifests: manifests)
            // On a first deployment the monitoring objects are new as well.
            try await applyMonitoring(namespace: namespace, firstDeployment: !result.managedResourceExisted)
        }
        // Provider status, without a transient lastOperation of its own (docs/operations.md,
        // Decisions); written by the reconciler
        // together with the Succeeded status.
        return Self.providerStatusFields(network, ipFamilies: input.statusIPFamilies)
    }

    /// The secret with the rendered manifests and the shoot ManagedResource.
    @discardableResult
    private func writeManagedResource(namespace: String, manifests: RenderedManifests) async throws
        -> ManagedResources.WriteResult
    {
        let result = try await ManagedResources(client: client, cache: managedResourceCache).createOrUpdateForShoot(
            namespace: namespace, name: CalicoNames.managedResourceName, origin: CalicoNames.origin, keepObjects: false,
            data: [CalicoNames.configKey: manifests.yamlBytes()])
        if result.secretWritten || result.managedResourceWritten {
            logger.info(
                "Updated ManagedResource",
                metadata: ["namespace": "\(namespace)", "secret": "\(result.secretName)", "objects": "\(manifests.objects.count)"])
        }
        return result
    }

    /// Restores by reconciling (the shoot state lives in the ManagedResource).
    public func restore(_ network: Network, cluster: Cluster) async throws -> StatusFields {
        try await reconcile(network, cluster: cluster)
    }

    /// Creates or merge-updates the seed monitoring objects; writes only what differs.
    /// `firstDeployment`: they are created without a read first (a 409 falls back to the read).
    /// Otherwise the ScrapeConfigs are read with one list of the namespace instead of one GET each.
    func applyMonitoring(namespace: String, firstDeployment: Bool = false) async throws {
        do {
            let objects = SeedMonitoring.objects(namespace: namespace)
            if firstDeployment {
                // Independent creates: sent side by side; the first failure in chart order is reported.
                let errors = await withTaskGroup(of: (Int, (any Error)?).self) { group in
                    for (index, object) in objects.enumerated() {
                        group.addTask {
                            do {
                                try await createOrApply(object, namespace: namespace)
                                return (index, nil)
                            } catch {
                                return (index, error)
                            }
                        }
                    }
                    var errors: [Int: any Error] = [:]
                    for await (index, error) in group { errors[index] = error }
                    return errors
                }
                if let first = errors.keys.min(), let error = errors[first] { throw error }
                return
            }
            var scrapeConfigs: [String: JSON]?
            for object in objects {
                let isScrapeConfig = object["kind"]?.stringValue == "ScrapeConfig"
                let resource: Resource = isScrapeConfig ? .scrapeConfigs : .configMaps
                let name = object[path: "metadata", "name"]?.stringValue ?? ""
                if isScrapeConfig {
                    if scrapeConfigs == nil {
                        let items = try await client.listAll(.scrapeConfigs, namespace: namespace).items
                        scrapeConfigs = Dictionary(
                            items.map { ($0[path: "metadata", "name"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
                    }
                    try await apply(object, resource: resource, namespace: namespace, name: name, current: scrapeConfigs?[name])
                } else {
                    let current = try await client.getIfExists(resource, namespace: namespace, name: name)
                    try await apply(object, resource: resource, namespace: namespace, name: name, current: current)
                }
            }
        } catch {
            throw WrappedError.wrap(
                "could not apply embedded chart '\(SeedMonitoring.releaseName)' in namespace '\(namespace)'", error)
        }
    }

    /// Creates a monitoring object without a read; when it exists after all, reads and merge-patches it.
    private func createOrApply(_ object: JSON, namespace: String) async throws {
        let resource: Resource = object["kind"]?.stringValue == "ScrapeConfig" ? .scrapeConfigs : .configMaps
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        do {
            try await client.createIgnoringAnswer(resource, namespace: namespace, object)
            return
        } catch let e as KubeError where e.isAlreadyExists {}
        let current = try await client.getIfExists(resource, namespace: namespace, name: name)
        try await apply(object, resource: resource, namespace: namespace, name: name, current: current)
    }

    /// Creates `object` when `current` (the object as read) is nil, else merge-patches what differs.
    private func apply(_ object: JSON, resource: Resource, namespace: String, name: String, current: JSON?) async throws {
        guard let current else {
            try await client.createIgnoringAnswer(resource, namespace: namespace, object)
            return
        }
        // Patch = the desired object without the identity fields; a no-op merge means no write.
        var patch = object
        patch["apiVersion"] = nil
        patch["kind"] = nil
        patch[path: "metadata", "name"] = nil
        patch[path: "metadata", "namespace"] = nil
        if MergePatch.apply(patch, to: current) == current { return }
        _ = try await client.patch(resource, namespace: namespace, name: name, patch, type: .merge)
    }

    /// `providerStatus` and `ipFamilies`; an empty family list removes `ipFamilies`, and an
    /// equivalent current value is kept as it is.
    static func providerStatusFields(_ network: Network, ipFamilies: [String]) -> StatusFields {
        let providerStatus: JSON = [
            "apiVersion": .string(CalicoAPIGroup.apiVersion), "kind": "NetworkStatus",
        ]
        let families: JSON = ipFamilies.isEmpty ? .null : .array(ipFamilies.map(JSON.string))
        let currentFamilies = network.status["ipFamilies"] ?? .null
        let sameFamilies = currentFamilies == families || (ipFamilies.isEmpty && currentFamilies.arrayValue?.isEmpty == true)
        return StatusFields(["providerStatus": providerStatus, "ipFamilies": sameFamilies ? currentFamilies : families])
    }

    // MARK: SeamlessOverlaySwitch (docs/overlay.md)

    /// Whether the desired config switches the overlay off while it is on in the deployed
    /// calico-node DaemonSet.
    func isOverlaySwitch(namespace: String, desiredOverlayEnabled: Bool) async -> Bool {
        guard !desiredOverlayEnabled else { return false }
        guard let daemonSet = await deployedCalicoNode(namespace: namespace) else {
            logger.info("Cannot read current overlay state during first reconciliation or with overlay enabled")
            return false
        }
        let containers = daemonSet[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
        let actualOverlayEnabled = containers.contains { container in
            (container["env"]?.arrayValue ?? []).contains { env in
                let name = env["name"]?.stringValue
                return (name == "FELIX_IPINIPENABLED" || name == "FELIX_VXLANENABLED") && env["value"]?.stringValue == "true"
            }
        }
        return actualOverlayEnabled
    }

    /// The `calico-node` DaemonSet from the secrets of the existing ManagedResource, if any.
    func deployedCalicoNode(namespace: String) async -> JSON? {
        guard
            let mr = try? await client.get(
                .managedResources, namespace: namespace, name: CalicoNames.managedResourceName)
        else { return nil }
        for secretName in ManagedResource(raw: mr).secretRefs {
            guard let secret = try? await client.get(.secrets, namespace: namespace, name: secretName) else { return nil }
            let values = Secret(raw: secret).data
            for key in values.keys.sorted() {
                let text = String(decoding: values[key] ?? [], as: UTF8.self)
                guard let documents = try? JSON.parseYAMLDocuments(text) else { continue }
                for doc in documents
                where doc["apiVersion"]?.stringValue == "apps/v1" && doc["kind"]?.stringValue == "DaemonSet"
                    && doc[path: "metadata", "name"]?.stringValue == "calico-node"
                {
                    return doc
                }
            }
        }
        return nil
    }

    /// Refuses to switch the overlay off until every shoot node reports its routes (pods would
    /// lose cross-node connectivity before that; see docs/operations.md).
    func ensureNodeRoutesBeforeOverlaySwitch(namespace: String, desiredOverlayEnabled: Bool) async throws {
        guard await isOverlaySwitch(namespace: namespace, desiredOverlayEnabled: desiredOverlayEnabled) else { return }
        let shootClient: KubernetesClient
        do {
            shootClient = try await makeShootClient(namespace: namespace)
        } catch {
            throw WrappedError.wrap("cannot verify node routes before overlay switch: failed to create shoot client", error)
        }
        defer { Task { try? await shootClient.shutdown() } }
        let nodes: [JSON]
        do {
            nodes = try await shootClient.listAll(.nodes, namespace: nil).items
        } catch {
            throw WrappedError.wrap("failed to check node route status: failed to list nodes", error)
        }
        for node in nodes {
            let conditions = node[path: "status", "conditions"]?.arrayValue ?? []
            let hasRoutes = conditions.contains {
                $0["type"]?.stringValue == "NetworkUnavailable" && $0["status"]?.stringValue == "False"
                    && $0["reason"]?.stringValue == "RouteCreated"
            }
            if !hasRoutes {
                logger.info(
                    "Node does not have route created yet",
                    metadata: ["node": "\(node[path: "metadata", "name"]?.stringValue ?? "")"])
                throw MessageError("waiting for routes to be created on all nodes before disabling overlay")
            }
        }
    }

    /// A client for the shoot from the `gardener-internal` (fallback `gardener`) secret.
    func makeShootClient(namespace: String) async throws -> KubernetesClient {
        var secret: JSON
        if options.useExternalShootClient {
            secret = try await client.get(.secrets, namespace: namespace, name: "gardener")
        } else {
            do {
                secret = try await client.get(.secrets, namespace: namespace, name: "gardener-internal")
            } catch let e as KubeError where e.isNotFound {
                secret = try await client.get(.secrets, namespace: namespace, name: "gardener")
            }
        }
        guard let kubeconfig = Secret(raw: secret).string("kubeconfig") else {
            throw MessageError("secret \(namespace)/\(secret[path: "metadata", "name"]?.stringValue ?? "") has no kubeconfig")
        }
        return try shootClientFactory(kubeconfig)
    }

    // MARK: Delete, ForceDelete, Migrate

    /// Removes the monitoring objects and the ManagedResource and waits until the shoot objects are gone.
    public func delete(_ network: Network, cluster: Cluster) async throws {
        try await deleteAll(network, cluster: cluster)
    }

    /// As `delete`; the wait is skipped when the Shoot asks for force deletion.
    public func forceDelete(_ network: Network, cluster: Cluster) async throws {
        try await deleteAll(network, cluster: cluster)
    }

    /// Keeps the shoot objects (keepObjects), then removes the seed-side objects.
    public func migrate(_ network: Network, cluster: Cluster) async throws {
        let namespace = network.namespace ?? ""
        try await ManagedResources(client: client).setKeepObjects(
            namespace: namespace, name: CalicoNames.managedResourceName, keepObjects: true)
        try await deleteAll(network, cluster: cluster)
    }

    func deleteAll(_ network: Network, cluster: Cluster) async throws {
        let namespace = network.namespace ?? ""
        try await deleteMonitoring(network)
        let managedResources = ManagedResources(client: client)
        try await managedResources.delete(namespace: namespace, name: CalicoNames.managedResourceName)
        // As Gardener's helper: a Cluster without a Shoot does not ask for force deletion, so it waits too.
        if !(cluster.shoot?.needsForceDeletion ?? false) {
            try await managedResources.waitUntilDeleted(
                namespace: namespace, name: CalicoNames.managedResourceName, timeout: options.deleteWaitTimeout,
                interval: options.deleteWaitInterval)
        }
    }

    /// First step of every delete flow: the seed monitoring objects (and the legacy ConfigMap).
    func deleteMonitoring(_ network: Network) async throws {
        let namespace = network.namespace ?? ""
        var birdExporter = false
        if let raw = network.providerConfig {
            birdExporter = try NetworkConfig.decode(raw).birdExporter?.enabled == true
        }
        var targets: [(Resource, String, String)] = [
            (.configMaps, "ConfigMap", SeedMonitoring.legacyConfigMapName),
            (.configMaps, "ConfigMap", SeedMonitoring.dashboardsConfigMapName),
            (.scrapeConfigs, "ScrapeConfig", "shoot-calico-felix"),
            (.scrapeConfigs, "ScrapeConfig", "shoot-calico-typha"),
        ]
        if birdExporter { targets.append((.scrapeConfigs, "ScrapeConfig", "shoot-calico-bird")) }
        for (resource, type, name) in targets {
            do {
                _ = try await client.get(resource, namespace: namespace, name: name)
            } catch let e as KubeError where e.isNotFound {
                continue
            } catch {
                throw WrappedError.wrap("could not delete chart object: could not get \(type) '\(namespace)/\(name)'", error)
            }
            do {
                try await client.delete(resource, namespace: namespace, name: name)
            } catch let e as KubeError where e.isNotFound {
            } catch {
                throw WrappedError.wrap("could not delete chart object: could not delete \(type) '\(namespace)/\(name)'", error)
            }
        }
    }
}
