import KubeCore

/// The rules of one kind of resource, as kube-apiserver registers a strategy per resource: the
/// generic create/update/delete code (Operations) calls these hooks at fixed points, and each kind
/// with rules of its own has one small type that overrides the hooks it needs. The defaults (in
/// the extension below) are the generic behaviour. Strategies are stateless; hooks that change
/// other objects get the store state.
protocol ResourceStrategy: Sendable {
    /// Whether `application/strategic-merge-patch+json` is accepted (not for CRDs and custom resources).
    var allowsStrategicMerge: Bool { get }
    /// Whether write bodies may be protobuf (the kinds our protobuf decoder knows).
    var acceptsProtobuf: Bool { get }
    /// Whether the `finalize` subresource is served (namespaces).
    var hasFinalizeSubresource: Bool { get }

    /// Errors of `metadata.name` (or the checked stem of `metadata.generateName`) under `field`.
    func nameErrors(_ name: String, field: String) -> [FieldError]

    /// Create-only changes before validation (fields a client may not set at creation).
    func prepareForCreate(_ object: inout JSON, info: ResourceInfo)
    /// Update-only changes of a main-resource write before validation (fields such a write may not change).
    func prepareForUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo)
    /// The object a `/status` (or `/finalize`) write stores: by default the old object with the
    /// incoming status.
    func prepareForStatusUpdate(incoming: JSON, old: JSON, info: ResourceInfo) -> JSON

    /// Defaults, canonical forms and validation of a new object.
    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError)
    /// Defaults, canonical forms and validation of a main-resource update.
    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError)

    /// After a create was stored.
    func afterCreate(_ stored: JSON, info: ResourceInfo, state: inout StoreState)
    /// After an update (not a removal) was stored.
    func afterUpdate(_ stored: JSON, name: String, info: ResourceInfo, state: inout StoreState)

    /// A DELETE of the whole object handled by the strategy itself (its answer), or nil for the
    /// generic deletion.
    func delete(name: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) throws(APIError) -> JSON?
    /// Deletes one object: the object when it stays (finalizers pending), nil when it was removed.
    func deleteObject(key: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) -> JSON?
    /// After an object disappeared from the store.
    func afterRemove(_ removed: JSON, info: ResourceInfo, state: inout StoreState)
}

extension ResourceStrategy {
    var allowsStrategicMerge: Bool { true }
    var acceptsProtobuf: Bool { false }
    var hasFinalizeSubresource: Bool { false }

    func nameErrors(_ name: String, field: String) -> [FieldError] { Validation.subdomainErrors(name, field: field) }

    func prepareForCreate(_ object: inout JSON, info: ResourceInfo) {}

    /// The status belongs to the status subresource: a main-resource write keeps the old one.
    func prepareForUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo) {
        if info.hasStatus { object["status"] = old["status"] }
    }

    func prepareForStatusUpdate(incoming: JSON, old: JSON, info: ResourceInfo) -> JSON {
        var new = old
        new["status"] = incoming["status"]
        return new
    }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {}
    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {}

    func afterCreate(_ stored: JSON, info: ResourceInfo, state: inout StoreState) {}
    func afterUpdate(_ stored: JSON, name: String, info: ResourceInfo, state: inout StoreState) {}

    func delete(name: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) throws(APIError) -> JSON? { nil }

    func deleteObject(key: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) -> JSON? {
        state.deleteWithFinalizers(info, key: key, old: old, dryRun: dryRun)
    }

    /// A removed namespaced object may have been the last content of a terminating namespace.
    func afterRemove(_ removed: JSON, info: ResourceInfo, state: inout StoreState) {
        state.finalizeNamespaceIfTerminating(of: removed)
    }
}

/// A kind without rules of its own.
struct DefaultStrategy: ResourceStrategy {}

/// Deployments: generic rules; bodies may be protobuf (`kubectl create deployment`).
struct DeploymentStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
}

/// The one table of strategies, by ``ResourceBehavior`` (set per served resource in the registry).
enum ResourceStrategies {
    static let table: [ResourceBehavior: any ResourceStrategy] = [
        .generic: DefaultStrategy(),
        .namespace: NamespaceStrategy(),
        .secret: SecretStrategy(),
        .configMap: ConfigMapStrategy(),
        .lease: LeaseStrategy(),
        .event: EventStrategy(),
        .crd: CustomResourceDefinitionStrategy(),
        .custom: CustomResourceStrategy(),
        .service: ServiceStrategy(),
        .serviceAccount: ServiceAccountStrategy(),
        .rbacRole: RBACRoleStrategy(),
        .rbacBinding: RBACBindingStrategy(),
        .authReview: AuthReviewStrategy(),
        .deployment: DeploymentStrategy(),
    ]

    /// The strategy of a behaviour (the default one for a behaviour without an entry).
    static func strategy(for behavior: ResourceBehavior) -> any ResourceStrategy { table[behavior] ?? DefaultStrategy() }
}

extension ResourceInfo {
    /// The rules of this resource's kind.
    var strategy: any ResourceStrategy { ResourceStrategies.strategy(for: behavior) }
}
