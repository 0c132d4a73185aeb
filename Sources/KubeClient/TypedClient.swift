import KubeCore

/// Typed list answer.
public struct TypedList<T: KubeObjectView>: Sendable {
    /// The objects, as typed views.
    public var items: [T]
    /// `metadata.resourceVersion` of the list: start a watch from here.
    public var resourceVersion: String
    /// `metadata.continue`, when the server paged the result.
    public var continueToken: String?
}

extension KubernetesClient {
    /// GET one object as a typed view.
    public func get<T: KubeObjectView>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        T(raw: try await get(T.resource, namespace: namespace, name: name))
    }

    /// GET one object, `nil` when it does not exist.
    public func getIfExists<T: KubeObjectView>(_ type: T.Type, namespace: String?, name: String) async throws -> T? {
        try await getIfExists(T.resource, namespace: namespace, name: name).map(T.init(raw:))
    }

    /// GET one object, `nil` when it does not exist.
    public func getIfExists(_ resource: Resource, namespace: String?, name: String) async throws -> JSON? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch let error as KubeError where error.isNotFound {
            return nil
        }
    }

    /// List typed objects (one request; see ``listAll(_:namespace:options:)`` for paging).
    public func list<T: KubeObjectView>(_ type: T.Type, namespace: String?, options: ListOptions = .init()) async throws -> TypedList<T> {
        let list = try await list(T.resource, namespace: namespace, options: options)
        return TypedList(items: list.items.map(T.init(raw:)), resourceVersion: list.resourceVersion, continueToken: list.continueToken)
    }

    /// Creates `object` (in `namespace`, or the object's or the client's default) and answers the stored object.
    public func create<T: KubeObjectView>(_ object: T, namespace: String? = nil, dryRun: Bool = false) async throws -> T {
        T(raw: try await create(T.resource, namespace: namespace, object.raw, dryRun: dryRun))
    }

    /// PUT the view's raw object (unmodelled fields are sent back unchanged).
    public func update<T: KubeObjectView>(_ object: T, namespace: String? = nil, subresource: String? = nil) async throws -> T {
        T(raw: try await update(T.resource, namespace: namespace, object.raw, subresource: subresource))
    }

    /// Patches the named object with `patch` of the given flavour and answers the result.
    public func patch<T: KubeObjectView>(
        _ type: T.Type, namespace: String?, name: String, _ patch: JSON, type patchType: PatchType,
        subresource: String? = nil
    ) async throws -> T {
        T(raw: try await self.patch(T.resource, namespace: namespace, name: name, patch, type: patchType, subresource: subresource))
    }

    /// Deletes the named object; answers the server's response (the object while finalizers hold it, or a Status).
    @discardableResult
    public func delete<T: KubeObjectView>(_ type: T.Type, namespace: String?, name: String, options: DeleteOptions = .init()) async throws -> JSON {
        try await delete(T.resource, namespace: namespace, name: name, options: options)
    }

    /// Read-modify-write with client-go's `RetryOnConflict` semantics: GET, apply `mutate`, PUT;
    /// on 409 start over (up to `attempts` times). `mutate` returning `false` skips the write.
    @discardableResult
    public func modify<T: KubeObjectView>(
        _ type: T.Type, namespace: String?, name: String, attempts: Int = 5,
        _ mutate: (inout T) async throws -> Bool
    ) async throws -> T {
        var attempt = 0
        while true {
            var object = try await get(type, namespace: namespace, name: name)
            guard try await mutate(&object) else { return object }
            do {
                return try await update(object, namespace: namespace)
            } catch let error as KubeError where error.isConflict && attempt + 1 < attempts {
                attempt += 1
            }
        }
    }
}
