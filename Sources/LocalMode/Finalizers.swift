import KubeClient
import KubeCore

// Local mode's stand-ins hold their objects with a finalizer of their own, as gardenlet and the
// resource manager do: adding and removing it is written once here.
extension KubernetesClient {
    /// `object` carrying `finalizer`: as it is when it has it, else as stored after adding it.
    func ensureFinalizer(_ finalizer: String, on object: JSON, _ resource: Resource) async throws -> JSON {
        let finalizers = object[path: "metadata", "finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !finalizers.contains(finalizer) else { return object }
        var updated = object
        updated[path: "metadata", "finalizers"] = .array((finalizers + [finalizer]).map { .string($0) })
        return try await update(resource, namespace: object[path: "metadata", "namespace"]?.stringValue, updated)
    }

    /// Removes `finalizer` from `object` when it has it; an object already gone is fine.
    func removeFinalizer(_ finalizer: String, from object: JSON, _ resource: Resource) async throws {
        let finalizers = object[path: "metadata", "finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard finalizers.contains(finalizer) else { return }
        var updated = object
        updated[path: "metadata", "finalizers"] = .array(finalizers.filter { $0 != finalizer }.map { .string($0) })
        do {
            _ = try await update(resource, namespace: object[path: "metadata", "namespace"]?.stringValue, updated)
        } catch let e as KubeError where e.isNotFound {}
    }
}
