import KubeCore

/// The pure part of the shoot ManagedResource: the secret's data layout,
/// its content-hashed name and the reference annotation on the ManagedResource.
public struct ManagedResourceSecretData: Sendable, Equatable {
    /// Name of the ManagedResource in the shoot namespace.
    public static let managedResourceName = "extension-networking-calico-config"
    /// Prefix of the secret names (`managedresource-<mr name>`); also the legacy non-hashed name.
    public static let secretNamePrefix = "managedresource-" + managedResourceName
    /// The only data key.
    public static let dataKey = "config.yaml"

    /// Secret data: `config.yaml` → the manifest stream.
    public var data: [String: [UInt8]]

    /// Wraps data that is already laid out as the secret holds it.
    public init(data: [String: [UInt8]]) { self.data = data }

    /// The secret for rendered shoot manifests.
    public init(manifests: RenderedManifests) {
        data = [Self.dataKey: manifests.managedResourceYAML()]
    }

    /// Gardener's secret checksum: sha256 over the concatenated hex sha256 of every value,
    /// keys in sorted order.
    public var checksum: String { SHA256Digest.hexOfValueDigests(data) }

    /// `managedresource-extension-networking-calico-config-<first 8 hex of the checksum>`.
    public var secretName: String { Self.secretNamePrefix + "-" + String(checksum.prefix(8)) }

    /// The ManagedResource annotation that references the secret.
    public static func referenceAnnotation(secretName: String) -> (key: String, value: String) {
        ("reference.resources.gardener.cloud/secret-" + String(SHA256Digest.hex(secretName).prefix(8)), secretName)
    }

    /// The immutable, garbage-collectable Secret object in the shoot namespace.
    public func secret(namespace: String) -> JSON {
        var dataJSON: JSONObject = [:]
        for key in data.keys.sorted() { dataJSON[key] = .string(Base64.encode(data[key] ?? [])) }
        return [
            "apiVersion": "v1", "kind": "Secret",
            "metadata": [
                "name": .string(secretName), "namespace": .string(namespace),
                "labels": ["resources.gardener.cloud/garbage-collectable-reference": "true"],
            ],
            "type": "Opaque",
            "immutable": true,
            "data": .object(dataJSON),
        ]
    }
}

extension RenderedManifests {
    /// Helm install order of kinds, which the reference's manifest stream follows; other kinds come
    /// after, alphabetically.
    static let helmKindOrder: [String: Int] = {
        let kinds = [
            "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
            "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
            "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
            "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
            "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
            "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        ]
        return Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1, $0) })
    }()

    /// The manifest as stored in the ManagedResource secret: documents in Helm install order
    /// (stable within a kind by our sort key), each as `\n---\n# Source: <template>\n<doc>`.
    public func managedResourceYAML() -> [UInt8] {
        let ordered = entries.enumerated().sorted { a, b in
            let ka = a.element.json["kind"]?.stringValue ?? ""
            let kb = b.element.json["kind"]?.stringValue ?? ""
            let oa = Self.helmKindOrder[ka] ?? Int.max
            let ob = Self.helmKindOrder[kb] ?? Int.max
            if oa != ob { return oa < ob }
            if oa == Int.max && ka != kb { return ka < kb }
            return a.offset < b.offset
        }
        var out: [UInt8] = []
        // The cached documents (the CRDs alone are ~150 KiB) plus room for the emitted ones.
        out.reserveCapacity(entries.reduce(64 * 1024) { $0 + ($1.yaml?.count ?? 0) + 96 })
        for (_, entry) in ordered {
            let kind = (entry.json["kind"]?.stringValue ?? "object").lowercased()
            let name = entry.json[path: "metadata", "name"]?.stringValue ?? ""
            out.append(contentsOf: "\n---\n# Source: calico/templates/\(kind)/\(name).yaml\n".utf8)
            let doc = entry.yaml ?? ManifestYAML.document(entry.json)
            // Trailing newlines are cut by slicing, so a cached buffer is read, never copied.
            var end = doc.endIndex
            while end > doc.startIndex && doc[end - 1] == 0x0A { end -= 1 }
            out.append(contentsOf: doc[..<end])
        }
        return out
    }
}
