import Foundation
import KubeCore

/// Namespaces: DNS-label names, the `kubernetes` finalizer and phase Active at creation, a spec
/// that only the `finalize` subresource changes, the `kubernetes.io/metadata.name` label, protected
/// system namespaces, and deletion that empties the namespace before it goes.
struct NamespaceStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }
    var hasFinalizeSubresource: Bool { true }

    func nameErrors(_ name: String, field: String) -> [FieldError] { Validation.labelErrors(name, field: field) }

    func prepareForCreate(_ object: inout JSON, info: ResourceInfo) {
        var fins = object[path: "spec", "finalizers"]?.arrayValue ?? []
        if !fins.contains("kubernetes") { fins.append("kubernetes") }
        object[path: "spec", "finalizers"] = .array(fins)
        object["status"] = ["phase": "Active"]
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo) {
        if info.hasStatus { object["status"] = old["status"] }
        object["spec"] = old["spec"]
    }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.labelName(&object, name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        Self.labelName(&object, name)
    }

    static func labelName(_ object: inout JSON, _ name: String) {
        object[path: "metadata", "labels", "kubernetes.io/metadata.name"] = .string(name)
    }

    /// A finalize or spec change may have let a terminating namespace go.
    func afterUpdate(_ stored: JSON, name: String, info: ResourceInfo, state: inout StoreState) {
        state.tryFinalizeNamespace(name)
    }

    func delete(name: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) throws(APIError) -> JSON? {
        if ["default", "kube-system", "kube-public"].contains(name) {
            throw APIError.forbidden(info, name, "this namespace may not be deleted")
        }
        if dryRun {
            // What a real delete would answer (Terminating), nothing stored.
            var answer = old
            if answer[path: "metadata", "deletionTimestamp"] == nil {
                answer[path: "metadata", "deletionTimestamp"] = .string(KubeTime.format(Date()))
                answer[path: "metadata", "deletionGracePeriodSeconds"] = 0
            }
            answer[path: "status", "phase"] = "Terminating"
            return answer
        }
        return state.startNamespaceDeletion(name)
    }
}

extension StoreState {
    /// Marks a namespace Terminating and deletes its content; the namespace goes once it is empty.
    mutating func startNamespaceDeletion(_ name: String) -> JSON {
        guard let nsInfo = resource(group: "", version: "v1", plural: "namespaces"), var ns = namespaceObject(name) else { return .null }
        if ns[path: "metadata", "deletionTimestamp"] == nil {
            let old = ns
            ns[path: "metadata", "deletionTimestamp"] = .string(KubeTime.format(Date()))
            ns[path: "metadata", "deletionGracePeriodSeconds"] = 0
            ns[path: "status", "phase"] = "Terminating"
            ns = commit(storageKey: nsInfo.storageKey, key: name, object: ns, type: .modified, old: old)
        }
        let response = ns
        // Delete the content (objects with finalizers stay until they are finalized).
        var seen = Set<String>()
        for info in resources.values where info.namespaced && !seen.contains(info.storageKey) {
            seen.insert(info.storageKey)
            let prefix = name + "/"
            for (key, obj) in collections[info.storageKey] ?? [:] where key.hasPrefix(prefix) {
                _ = deleteObject(info, key: key, old: obj, dryRun: false)
            }
        }
        tryFinalizeNamespace(name)
        return response
    }

    /// Removes a terminating namespace once it is empty.
    mutating func tryFinalizeNamespace(_ name: String) {
        guard let nsInfo = resource(group: "", version: "v1", plural: "namespaces"), let ns = namespaceObject(name),
            ns[path: "metadata", "deletionTimestamp"] != nil
        else { return }
        let prefix = name + "/"
        for (storageKey, objects) in collections where storageKey != nsInfo.storageKey {
            if objects.keys.contains(where: { $0.hasPrefix(prefix) }) { return }
        }
        var new = ns
        let specFinalizers = (ns[path: "spec", "finalizers"]?.arrayValue ?? []).filter { $0 != "kubernetes" }
        new[path: "spec", "finalizers"] = specFinalizers.isEmpty ? JSON?.none : .array(specFinalizers)
        if Self.finalizers(new).isEmpty && specFinalizers.isEmpty {
            _ = commit(storageKey: nsInfo.storageKey, key: name, object: new, type: .deleted, old: ns)
        } else if new != ns {
            _ = commit(storageKey: nsInfo.storageKey, key: name, object: new, type: .modified, old: ns)
        }
    }
}
