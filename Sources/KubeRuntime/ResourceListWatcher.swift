import KubeClient
import KubeCore
import Logging

/// `ListWatcher` over a `KubernetesClient` for one resource (optionally one namespace and a
/// label selector).
public struct ResourceListWatcher: ListWatcher {
    /// The client listing and watching.
    public let client: KubernetesClient
    /// The listed resource.
    public let resource: Resource
    /// Namespace, nil = all.
    public let namespace: String?
    /// Label selector, nil = none.
    public let labelSelector: String?
    /// Field selector, nil = none.
    public let fieldSelector: String?
    /// Server-side watch timeout; the watch is then re-opened from the last resourceVersion
    /// (client-go picks 5–10 minutes at random).
    public let watchTimeoutSeconds: Int

    /// A list-watcher for `resource` with the given scope.
    public init(
        client: KubernetesClient, resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
        fieldSelector: String? = nil, watchTimeoutSeconds: Int = Int.random(in: 300...600)
    ) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.watchTimeoutSeconds = watchTimeoutSeconds
    }

    /// Lists every object and the list's resourceVersion.
    public func list() async throws -> (items: [JSON], resourceVersion: String) {
        let list = try await client.listAll(
            resource, namespace: namespace,
            options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, limit: 500))
        // List items carry no apiVersion/kind; add them so handlers see complete objects.
        let items = list.items.map { item -> JSON in
            var item = item
            if item["apiVersion"] == nil { item["apiVersion"] = .string(resource.apiVersion) }
            if item["kind"] == nil { item["kind"] = .string(resource.kind) }
            return item
        }
        return (items, list.resourceVersion)
    }

    /// The client's watch from `resourceVersion`, with bookmarks; `ERROR` events arrive as thrown
    /// ``KubeError``s, never as events.
    public func watch(resourceVersion: String) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
        client.watch(
            resource, namespace: namespace,
            options: WatchOptions(
                resourceVersion: resourceVersion, labelSelector: labelSelector, fieldSelector: fieldSelector,
                timeoutSeconds: watchTimeoutSeconds, allowWatchBookmarks: true))
    }
}

extension Informer {
    /// An informer over `resource` via `client`.
    public convenience init(
        client: KubernetesClient, resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
        resyncPeriod: Duration? = nil, indexers: [String: Store.IndexFunction] = [:],
        logger: Logger = Logger(label: "informer")
    ) {
        self.init(
            name: resource.qualifiedName,
            listWatcher: ResourceListWatcher(
                client: client, resource: resource, namespace: namespace, labelSelector: labelSelector),
            resyncPeriod: resyncPeriod, indexers: indexers, logger: logger)
    }
}
