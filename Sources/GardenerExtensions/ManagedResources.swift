import Foundation
import KubeClient
import KubeCore
import KubeRuntime

/// Gardener's ManagedResource helpers: create or update a shoot ManagedResource with its
/// content-addressed secret, keep objects on migration, delete and wait.
public struct ManagedResources: Sendable {
    /// Label on MR secrets that the resource manager may garbage-collect once unreferenced.
    public static let garbageCollectableLabel = "resources.gardener.cloud/garbage-collectable-reference"
    /// Prefix of the reference annotations on the MR.
    public static let referenceAnnotationPrefix = "reference.resources.gardener.cloud/"
    /// Label key carrying the origin.
    public static let originLabel = "origin"
    /// Injected label of shoot MRs.
    public static let noCleanupLabel = "shoot.gardener.cloud/no-cleanup"

    /// Client for Secrets and ManagedResources.
    public let client: KubernetesClient
    /// Informer store of the ManagedResources this extension writes, if any. Reads come from it,
    /// as the reference reads through its cached client; a miss or a stale entry is caught by the
    /// API server (409 on create or update) and answered with a live read.
    public let cache: Store?

    /// Helpers over `client`; `cache` lets writes skip reads of unchanged objects.
    public init(client: KubernetesClient, cache: Store? = nil) {
        self.client = client
        self.cache = cache
    }

    /// Gardener's secret checksum: sha256 over the concatenated hex sha256 of each value, keys sorted.
    public static func checksum(_ data: [String: [UInt8]]) -> String { SHA256Digest.hexOfValueDigests(data) }

    /// `managedresource-<mr-name>-<first 8 hex of checksum>`.
    public static func secretName(managedResourceName: String, data: [String: [UInt8]]) -> String {
        let base = "managedresource-\(managedResourceName)"
        let hash = String(checksum(data).prefix(8))
        return base.hasSuffix("-") ? base + hash : base + "-" + hash
    }

    /// `reference.resources.gardener.cloud/secret-<first 8 hex of sha256(name)>`.
    public static func secretReferenceAnnotation(_ secretName: String) -> String {
        referenceAnnotationPrefix + "secret-" + String(SHA256Digest.hex(Array(secretName.utf8)).prefix(8))
    }

    /// What a create-or-update wrote (tests and logs; "unchanged input → no write").
    public struct WriteResult: Sendable, Equatable {
        /// Name of the content-addressed data secret.
        public var secretName: String
        /// Whether the secret was created or updated.
        public var secretWritten: Bool
        /// Whether the ManagedResource was created or updated.
        public var managedResourceWritten: Bool
        /// Whether the ManagedResource existed before this call (false on a first deployment).
        public var managedResourceExisted: Bool

        /// What a write did.
        public init(secretName: String, secretWritten: Bool, managedResourceWritten: Bool, managedResourceExisted: Bool) {
            self.secretName = secretName
            self.secretWritten = secretWritten
            self.managedResourceWritten = managedResourceWritten
            self.managedResourceExisted = managedResourceExisted
        }
    }

    /// Creates or updates the secret and ManagedResource "for shoot" (no class, injected
    /// `shoot.gardener.cloud/no-cleanup` label). Writes only what differs.
    @discardableResult
    public func createOrUpdateForShoot(
        namespace: String, name: String, origin: String, keepObjects: Bool, data: [String: [UInt8]]
    ) async throws -> WriteResult {
        let secretName = Self.secretName(managedResourceName: name, data: data)
        let existing: JSON?
        do {
            existing = try await currentManagedResource(namespace: namespace, name: name)
        } catch {
            throw WrappedError.wrap("could not create or update managed resource", error)
        }
        // The secret's name is derived from its content: unless the ManagedResource already
        // references it, the secret is new and is created without a read first.
        let referenced = existing.map { ManagedResource(raw: $0).secretRefs.contains(secretName) } ?? false
        let secretWritten: Bool
        do {
            secretWritten = try await writeSecret(namespace: namespace, name: secretName, data: data, likelyMissing: !referenced)
        } catch {
            throw WrappedError.wrap("could not create or update secret of managed resources", error)
        }
        do {
            let mrWritten = try await writeManagedResource(
                namespace: namespace, name: name, origin: origin, keepObjects: keepObjects, secretName: secretName,
                existing: existing)
            return WriteResult(
                secretName: secretName, secretWritten: secretWritten, managedResourceWritten: mrWritten,
                managedResourceExisted: existing != nil)
        } catch {
            throw WrappedError.wrap("could not create or update managed resource", error)
        }
    }

    /// The ManagedResource from the cache when there is one (a miss counts as absent), else live.
    private func currentManagedResource(namespace: String, name: String) async throws -> JSON? {
        if let cache { return cache.get(namespace: namespace, name: name) }
        return try await client.getIfExists(.managedResources, namespace: namespace, name: name)
    }

    private func desiredSecret(namespace: String, name: String, data: [String: [UInt8]]) -> JSON {
        var encoded = JSONObject()
        for key in data.keys.sorted() { encoded[key] = .string(Base64.encode(data[key] ?? [])) }
        return [
            "apiVersion": "v1", "kind": "Secret",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": [Self.garbageCollectableLabel: "true"],
            ],
            "type": "Opaque", "immutable": true, "data": .object(encoded),
        ]
    }

    /// GET; create when missing; PUT only when labels/annotations/type/data/immutable differ.
    /// `likelyMissing`: create first and read only if it exists after all.
    private func writeSecret(
        namespace: String, name: String, data: [String: [UInt8]], likelyMissing: Bool
    ) async throws -> Bool {
        let desired = desiredSecret(namespace: namespace, name: name, data: data)
        if likelyMissing {
            do {
                try await client.createIgnoringAnswer(.secrets, namespace: namespace, desired)
                return true
            } catch let e as KubeError where e.isAlreadyExists {}
        }
        let existing: JSON
        do {
            existing = try await client.get(.secrets, namespace: namespace, name: name)
        } catch let e as KubeError where e.isNotFound {
            try await client.createIgnoringAnswer(.secrets, namespace: namespace, desired)
            return true
        }
        let same =
            (existing[path: "metadata", "labels"] ?? .null) == (desired[path: "metadata", "labels"] ?? .null)
            && (existing[path: "metadata", "annotations"] ?? .null) == .null
            && existing["type"]?.stringValue == "Opaque" && existing["immutable"]?.boolValue == true
            && Secret(raw: existing).data == data
        if same { return false }
        var updated = existing
        updated[path: "metadata", "labels"] = desired[path: "metadata", "labels"]
        updated[path: "metadata", "annotations"] = nil
        updated["type"] = "Opaque"
        updated["immutable"] = true
        updated["data"] = desired["data"]
        _ = try await client.update(.secrets, namespace: namespace, updated)
        return true
    }

    /// Applies the desired labels, spec and reference annotations to `object`.
    static func applyDesired(
        to object: JSON, origin: String, keepObjects: Bool, secretName: String
    ) -> JSON {
        var mr = object
        var labels = mr[path: "metadata", "labels"]?.objectValue ?? [:]
        labels[originLabel] = .string(origin)
        mr[path: "metadata", "labels"] = .object(labels)
        var annotations = JSONObject()
        for (k, v) in mr[path: "metadata", "annotations"]?.objectValue ?? [:] where !k.hasPrefix(referenceAnnotationPrefix) {
            annotations[k] = v
        }
        annotations[secretReferenceAnnotation(secretName)] = .string(secretName)
        mr[path: "metadata", "annotations"] = .object(annotations)
        mr["spec"] = [
            "secretRefs": [["name": .string(secretName)]], "injectLabels": [noCleanupLabel: "true"],
            "keepObjects": .bool(keepObjects),
        ]
        return mr
    }

    private func writeManagedResource(
        namespace: String, name: String, origin: String, keepObjects: Bool, secretName: String, existing: JSON?
    ) async throws -> Bool {
        guard let existing else {
            let fresh: JSON = [
                "apiVersion": .string(Resource.managedResources.apiVersion), "kind": "ManagedResource",
                "metadata": ["name": .string(name), "namespace": .string(namespace)],
            ]
            do {
                _ = try await client.create(
                    .managedResources, namespace: namespace,
                    Self.applyDesired(to: fresh, origin: origin, keepObjects: keepObjects, secretName: secretName))
                return true
            } catch let e as KubeError where e.isAlreadyExists && cache != nil {
                // The cache has not seen it yet: continue from a live read.
                guard let live = try await client.getIfExists(.managedResources, namespace: namespace, name: name) else { throw e }
                return try await updateManagedResource(
                    live, origin: origin, keepObjects: keepObjects, secretName: secretName, retryOnConflict: false)
            }
        }
        return try await updateManagedResource(
            existing, origin: origin, keepObjects: keepObjects, secretName: secretName, retryOnConflict: cache != nil)
    }

    /// Marks the previously referenced secrets collectable, then PUTs the desired state when it
    /// differs. `retryOnConflict`: `existing` came from the cache and may be stale; a 409 is
    /// answered once with a live read.
    private func updateManagedResource(
        _ existing: JSON, origin: String, keepObjects: Bool, secretName: String, retryOnConflict: Bool
    ) async throws -> Bool {
        let namespace = existing[path: "metadata", "namespace"]?.stringValue ?? ""
        let name = existing[path: "metadata", "name"]?.stringValue ?? ""
        // Secrets referenced so far become collectable once no longer referenced. The current
        // secret was just written with that label.
        for old in ManagedResource(raw: existing).secretRefs where old != secretName {
            try await markGarbageCollectable(namespace: namespace, secret: old)
        }
        let desired = Self.applyDesired(to: existing, origin: origin, keepObjects: keepObjects, secretName: secretName)
        if desired == existing { return false }
        do {
            _ = try await client.update(.managedResources, namespace: namespace, desired)
            return true
        } catch let e as KubeError where e.isConflict && retryOnConflict {
            guard let live = try await client.getIfExists(.managedResources, namespace: namespace, name: name) else { throw e }
            return try await updateManagedResource(
                live, origin: origin, keepObjects: keepObjects, secretName: secretName, retryOnConflict: false)
        }
    }

    private func markGarbageCollectable(namespace: String, secret: String) async throws {
        let existing: JSON
        do {
            existing = try await client.get(.secrets, namespace: namespace, name: secret)
        } catch let e as KubeError where e.isNotFound {
            return
        }
        if existing[path: "metadata", "labels", Self.garbageCollectableLabel]?.stringValue == "true" { return }
        do {
            _ = try await client.patch(
                .secrets, namespace: namespace, name: secret,
                ["metadata": ["labels": [Self.garbageCollectableLabel: "true"]]], type: .strategicMerge)
        } catch let e as KubeError where e.isNotFound {}
    }

    /// Merge patch `{"spec":{"keepObjects":v}}`; NotFound ignored.
    public func setKeepObjects(namespace: String, name: String, keepObjects: Bool) async throws {
        do {
            _ = try await client.patch(
                .managedResources, namespace: namespace, name: name, ["spec": ["keepObjects": .bool(keepObjects)]],
                type: .merge)
        } catch let e as KubeError where e.isNotFound {
        } catch {
            throw WrappedError.wrap("could not update managed resource '\(namespace)/\(name)'", error)
        }
    }

    /// Deletes the legacy secret, every referenced secret, then the MR (NotFound ignored each).
    public func delete(namespace: String, name: String) async throws {
        let legacy = "managedresource-\(name)"
        let mr: ManagedResource?
        do {
            mr = ManagedResource(raw: try await client.get(.managedResources, namespace: namespace, name: name))
        } catch let e as KubeError where e.isNotFound {
            mr = nil
        }
        let secrets = [legacy] + (mr?.secretRefs ?? [])
        for secret in secrets {
            do {
                try await client.delete(.secrets, namespace: namespace, name: secret)
            } catch let e as KubeError where e.isNotFound {
            } catch {
                throw WrappedError.wrap("could not delete secret '\(namespace)/\(secret)' of managed resource", error)
            }
        }
        guard mr != nil else { return }
        do {
            try await client.delete(.managedResources, namespace: namespace, name: name)
        } catch let e as KubeError where e.isNotFound {
        } catch {
            throw WrappedError.wrap("could not delete managed resource '\(namespace)/\(name)'", error)
        }
    }

    /// Polls every `interval` until the MR is gone; on timeout reports the MR's deletion problem
    /// (from its conditions, so the Network's `lastError` says why the shoot objects stay).
    public func waitUntilDeleted(
        namespace: String, name: String, timeout: Duration, interval: Duration = .seconds(2)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: ManagedResource?
        while true {
            do {
                last = ManagedResource(raw: try await client.get(.managedResources, namespace: namespace, name: name))
            } catch let e as KubeError where e.isNotFound {
                return
            }
            if ContinuousClock.now + interval > deadline { break }
            try await Task.sleep(for: interval)
        }
        let waitError = MessageError(
            "retry failed with context deadline exceeded, last error: resource \(namespace)/\(name) still exists")
        if let condition = last?.condition("ResourcesApplied"),
            condition["status"]?.stringValue != "True",
            let reason = condition["reason"]?.stringValue, reason == "DeletionFailed" || reason == "DeletionPending"
        {
            let text =
                "error while waiting for all resources to be deleted: \(waitError.message):\n"
                + (condition["message"]?.stringValue ?? "")
            let problem = MessageError(text)
            if Self.matchesConfigurationProblem(text) {
                throw ErrorWithCodes(problem, codes: [.configurationProblem])
            }
            throw problem
        }
        throw waitError
    }

    /// `error during apply of object .* is invalid:` (case-insensitive).
    static func matchesConfigurationProblem(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard let start = lower.range(of: "error during apply of object ") else { return false }
        return lower[start.upperBound...].contains(" is invalid:")
    }

    /// Health checks of an MR (nil = fine), with Gardener's messages.
    public static func checkApplied(_ mr: ManagedResource) -> String? {
        let ns = mr.namespace ?? ""
        let observed = mr.raw[path: "status", "observedGeneration"]?.intValue ?? 0
        let generation = mr.metadata.generation
        if observed != generation {
            return "observed generation of managed resource \(ns)/\(mr.name) outdated (\(observed)/\(generation))"
        }
        return checkCondition(mr, "ResourcesApplied", wanted: "True")
    }

    /// Applied and `ResourcesHealthy` True.
    public static func checkHealthy(_ mr: ManagedResource) -> String? {
        checkApplied(mr) ?? checkCondition(mr, "ResourcesHealthy", wanted: "True")
    }

    /// `ResourcesProgressing` False.
    public static func checkNotProgressing(_ mr: ManagedResource) -> String? {
        checkCondition(mr, "ResourcesProgressing", wanted: "False")
    }

    private static func checkCondition(_ mr: ManagedResource, _ type: String, wanted: String) -> String? {
        let ns = mr.namespace ?? ""
        guard let c = mr.condition(type) else {
            return "condition \(type) for managed resource \(ns)/\(mr.name) has not been reported yet"
        }
        let status = c["status"]?.stringValue ?? ""
        if status != wanted {
            return "condition \(type) of managed resource \(ns)/\(mr.name) is \(status): \(c["message"]?.stringValue ?? "")"
        }
        return nil
    }
}
