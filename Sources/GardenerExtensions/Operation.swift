import Foundation
import KubeClient
import KubeCore
import KubeRuntime

/// Annotation, label and finalizer names of the Gardener contract.
public enum GardenerConstants {
    /// `gardener.cloud/operation`.
    public static let operationAnnotation = "gardener.cloud/operation"
    /// `gardener.cloud/timestamp`.
    public static let timestampAnnotation = "gardener.cloud/timestamp"
    /// Operation annotation value: reconcile now.
    public static let operationReconcile = "reconcile"
    /// Operation annotation value: migrate to another seed.
    public static let operationMigrate = "migrate"
    /// Operation annotation value: restore from `status.state`.
    public static let operationRestore = "restore"
    /// Operation annotation value: do nothing until the state is restored.
    public static let operationWaitForState = "wait-for-state"
    /// Finalizer of the Network controller.
    public static let networkFinalizer = "extensions.gardener.cloud/network"
    /// Shoot annotation confirming a deletion (informational here).
    public static let deletionConfirmationAnnotation = "confirmation.gardener.cloud/deletion"
    /// Namespace label marking a shoot control-plane namespace (`gardener.cloud/role: shoot`).
    public static let roleLabel = "gardener.cloud/role"
    /// Value of `roleLabel` for shoot namespaces.
    public static let roleShoot = "shoot"
    /// Cluster annotation naming the generic token kubeconfig secret.
    public static let genericTokenKubeconfigAnnotation = "generic-token-kubeconfig.secret.gardener.cloud/name"
    /// Name of the generic token kubeconfig secret when the annotation is absent.
    public static let genericTokenKubeconfigDefault = "generic-token-kubeconfig"
    /// Default extension class.
    public static let classShoot = "shoot"
}

/// `lastOperation.type`.
public enum LastOperationType: String, Sendable, CaseIterable {
    case create = "Create"
    case reconcile = "Reconcile"
    case delete = "Delete"
    case migrate = "Migrate"
    case restore = "Restore"
}

/// `lastOperation.state`.
public enum LastOperationState: String, Sendable, CaseIterable {
    case processing = "Processing"
    case succeeded = "Succeeded"
    case error = "Error"
    case failed = "Failed"
    case pending = "Pending"
    case aborted = "Aborted"
}

/// Pure decisions of Gardener's generic extension reconciler, on raw objects.
public enum ExtensionOperation {
    /// The `gardener.cloud/operation` annotation of an object.
    public static func operationAnnotation(_ object: JSON) -> String? {
        object[path: "metadata", "annotations", GardenerConstants.operationAnnotation]?.stringValue
    }

    /// Whether `metadata.deletionTimestamp` is set.
    public static func isDeleting(_ object: JSON) -> Bool {
        if let ts = object[path: "metadata", "deletionTimestamp"], !ts.isNull { return true }
        return false
    }

    /// The operation type, first match wins: the annotation and deletion outrank the last
    /// operation, and an unfinished Create, Migrate or Restore is repeated.
    public static func operationType(_ object: JSON) -> LastOperationType {
        let annotation = operationAnnotation(object)
        if annotation == GardenerConstants.operationMigrate { return .migrate }
        if isDeleting(object) { return .delete }
        if annotation == GardenerConstants.operationRestore { return .restore }
        guard let last = object[path: "status", "lastOperation"], !last.isNull else { return .create }
        let type = last["type"]?.stringValue
        let succeeded = last["state"]?.stringValue == LastOperationState.succeeded.rawValue
        if !succeeded {
            if type == LastOperationType.create.rawValue { return .create }
            if type == LastOperationType.migrate.rawValue { return .migrate }
            if type == LastOperationType.restore.rawValue { return .restore }
        }
        return .reconcile
    }

    /// "Migrated": `status.lastOperation` is `Migrate` / `Succeeded`.
    public static func isMigrated(_ object: JSON) -> Bool {
        object[path: "status", "lastOperation", "type"]?.stringValue == LastOperationType.migrate.rawValue
            && object[path: "status", "lastOperation", "state"]?.stringValue == LastOperationState.succeeded.rawValue
    }

    /// `lastOperation` object.
    public static func lastOperation(
        type: LastOperationType, state: LastOperationState, progress: Int, description: String, now: Date
    ) -> JSON {
        [
            "description": .string(description), "lastUpdateTime": .string(KubeTime.format(now)), "progress": .int(Int64(progress)),
            "state": .string(state.rawValue), "type": .string(type.rawValue),
        ]
    }

    /// Processing(T, d): only `lastOperation` changes.
    public static func processing(_ status: JSON, type: LastOperationType, description: String, now: Date) -> JSON {
        var s = status.isObject ? status : .emptyObject
        s["lastOperation"] = lastOperation(type: type, state: .processing, progress: 1, description: description, now: now)
        return s
    }

    /// Success(T, d): observedGeneration, lastOperation Succeeded/100, lastError removed.
    public static func succeeded(
        _ status: JSON, type: LastOperationType, description: String, generation: Int64, now: Date
    ) -> JSON {
        var s = status.isObject ? status : .emptyObject
        s["observedGeneration"] = .int(generation)
        s["lastOperation"] = lastOperation(type: type, state: .succeeded, progress: 100, description: description, now: now)
        s["lastError"] = nil
        return s
    }

    /// The text of an Error status as Gardener writes it: `description + ": " + cause`, first letter upper-cased.
    public static func errorDescription(_ description: String, error: any Error) -> String {
        var cause: any Error = error
        if let r = error as? RequeueAfterError, let c = r.cause { cause = c }
        let text = description + ": " + errorText(cause)
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }

    /// Error(T, d, err): observedGeneration, lastOperation Error/50, lastError with codes.
    public static func failed(
        _ status: JSON, type: LastOperationType, description: String, error: any Error, generation: Int64,
        now: Date
    ) -> JSON {
        var s = status.isObject ? status : .emptyObject
        let text = errorDescription(description, error: error)
        var cause: any Error = error
        if let r = error as? RequeueAfterError, let c = r.cause { cause = c }
        let codes = errorCodes(of: cause)
        s["observedGeneration"] = .int(generation)
        s["lastOperation"] = lastOperation(type: type, state: .error, progress: 50, description: text, now: now)
        var lastError: JSON = ["description": .string(text)]
        if !codes.isEmpty { lastError["codes"] = .array(codes.map { .string($0.rawValue) }) }
        lastError["lastUpdateTime"] = .string(KubeTime.format(now))
        s["lastError"] = lastError
        return s
    }
}

/// Events seen by predicates (KubeRuntime's `ObjectEvent`).
public typealias PredicateEvent = ObjectEvent

/// Gardener's default extension predicates that need no API access.
public enum ExtensionPredicates {
    /// Class predicate: absent/empty class = `shoot`.
    public static func hasClass(_ object: JSON, accepted: Set<String> = [GardenerConstants.classShoot]) -> Bool {
        var cls = object[path: "spec", "class"]?.stringValue ?? ""
        if cls.isEmpty { cls = GardenerConstants.classShoot }
        return accepted.contains(cls)
    }

    /// Type predicate.
    public static func hasType(_ object: JSON, _ type: String) -> Bool {
        object[path: "spec", "type"]?.stringValue == type
    }

    static func hasRelevantOperation(_ object: JSON) -> Bool {
        guard let op = ExtensionOperation.operationAnnotation(object) else { return false }
        return op == GardenerConstants.operationReconcile || op == GardenerConstants.operationRestore
            || op == GardenerConstants.operationMigrate
    }

    /// Default mode: only the operation annotation, a deletion or an unsucceeded last operation
    /// trigger, so the controller's own status writes never re-trigger it.
    public static func defaultMode(_ event: PredicateEvent) -> Bool {
        switch event {
        case .create(let o):
            if hasRelevantOperation(o) || ExtensionOperation.isDeleting(o) { return true }
            guard let last = o[path: "status", "lastOperation"], !last.isNull else { return true }
            return last["state"]?.stringValue != LastOperationState.succeeded.rawValue
        case .update(let old, let new):
            if hasRelevantOperation(new) { return true }
            return ExtensionOperation.isDeleting(new) && (old["status"] ?? .null) == (new["status"] ?? .null)
        case .delete, .generic:
            return false
        }
    }

    /// Ignore-operation-annotation mode: updates only on generation change.
    public static func ignoreOperationAnnotationMode(_ event: PredicateEvent) -> Bool {
        switch event {
        case .create, .delete, .generic: return true
        case .update(let old, let new):
            return old[path: "metadata", "generation"]?.intValue != new[path: "metadata", "generation"]?.intValue
        }
    }
}
