import KubeCore

/// Small constructors shared by the builders, so each builder reads like the object it builds.
enum K {
    static let namespace = "kube-system"

    /// `metadata` with the given members (only non-nil ones).
    static func meta(_ name: String, namespace: String? = K.namespace, labels: JSON? = nil, annotations: JSON? = nil) -> JSON {
        var m: JSONObject = ["name": .string(name)]
        if let namespace { m["namespace"] = .string(namespace) }
        if let labels { m["labels"] = labels }
        if let annotations { m["annotations"] = annotations }
        return .object(m)
    }

    /// A whole object: apiVersion, kind, metadata, then the other members in order.
    static func object(_ apiVersion: String, _ kind: String, _ metadata: JSON, _ rest: KeyValuePairs<String, JSON> = [:]) -> JSON {
        var o: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": metadata]
        for (k, v) in rest { o[k] = v }
        return .object(o)
    }

    /// The PodDisruptionBudget of the `k8s-app: app` Deployment: one pod down at a time, unhealthy
    /// pods always evictable.
    static func podDisruptionBudget(app: String) -> JSON {
        object(
            "policy/v1", "PodDisruptionBudget", meta(app, labels: ["k8s-app": .string(app)]),
            [
                "spec": [
                    "maxUnavailable": 1,
                    "selector": ["matchLabels": ["k8s-app": .string(app)]],
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                ]
            ])
    }

    static func env(_ name: String, _ value: String) -> JSON { ["name": .string(name), "value": .string(value)] }

    static func envConfigMap(_ name: String, key: String, configMap: String = "calico-config") -> JSON {
        ["name": .string(name), "valueFrom": ["configMapKeyRef": ["name": .string(configMap), "key": .string(key)]]]
    }

    static func envField(_ name: String, _ path: String) -> JSON {
        ["name": .string(name), "valueFrom": ["fieldRef": ["fieldPath": .string(path)]]]
    }

    static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }

    static func requests(cpu: String, memory: String) -> JSON { ["requests": ["cpu": .string(cpu), "memory": .string(memory)]] }

    static func hostPath(_ name: String, _ path: String, type: String? = nil) -> JSON {
        var hp: JSONObject = ["path": .string(path)]
        if let type { hp["type"] = .string(type) }
        return ["name": .string(name), "hostPath": .object(hp)]
    }

    static func mount(_ name: String, _ path: String, readOnly: Bool? = nil, propagation: String? = nil) -> JSON {
        var m: JSONObject = ["mountPath": .string(path), "name": .string(name)]
        if let propagation { m["mountPropagation"] = .string(propagation) }
        if let readOnly { m["readOnly"] = .bool(readOnly) }
        return .object(m)
    }

    static let tolerateAll: JSON = [
        ["effect": "NoSchedule", "operator": "Exists"],
        ["effect": "NoExecute", "operator": "Exists"],
    ]

    static let runtimeDefaultSeccomp: JSON = ["type": "RuntimeDefault"]

    static let linuxNodeSelector: JSON = ["kubernetes.io/os": "linux"]

    static let preserveResources: JSON = ["resources.gardener.cloud/preserve-resources": "true"]
    static let deleteOnInvalidUpdate: JSON = ["resources.gardener.cloud/delete-on-invalid-update": "true"]

    /// A ServiceAccount in kube-system without token automount.
    static func serviceAccount(_ name: String) -> JSON {
        object("v1", "ServiceAccount", meta(name), ["automountServiceAccountToken": false])
    }

    static func saSubject(_ name: String) -> JSON {
        ["kind": "ServiceAccount", "name": .string(name), "namespace": .string(K.namespace)]
    }

    /// An RBAC rule; `resourceNames` only when given.
    static func rule(_ apiGroups: [String], _ resources: [String], _ verbs: [String], resourceNames: [String]? = nil) -> JSON {
        var r: JSONObject = ["apiGroups": strings(apiGroups), "resources": strings(resources)]
        if let resourceNames { r["resourceNames"] = strings(resourceNames) }
        r["verbs"] = strings(verbs)
        return .object(r)
    }

    static func clusterRole(_ name: String, _ rules: [JSON]) -> JSON {
        object("rbac.authorization.k8s.io/v1", "ClusterRole", meta(name, namespace: nil), ["rules": .array(rules)])
    }

    static func clusterRoleBinding(_ name: String, role: String? = nil, subjects: [JSON]) -> JSON {
        object(
            "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", meta(name, namespace: nil),
            [
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role ?? name)],
                "subjects": .array(subjects),
            ])
    }

    /// `object` (a workload) with `spec.template.spec.containers[0].image` set to `image`.
    /// Copy-on-write copies only the objects on that path, so a constant template plus this
    /// is much cheaper than building the whole workload on every render. Member order is kept.
    static func settingImage(of object: JSON, to image: String) -> JSON {
        var result = object
        let path = ["spec", "template", "spec", "containers"]
        guard var containers = result[path: path]?.arrayValue, !containers.isEmpty, containers[0]["image"] != nil else {
            preconditionFailure("settingImage: the template has no spec.template.spec.containers[0].image")
        }
        containers[0]["image"] = .string(image)
        result[path: path] = .array(containers)
        return result
    }

    /// Pod-template labels that open the Gardener network policies.
    static func networkingLabels(publicNetworks: Bool = true) -> JSONObject {
        var l: JSONObject = [:]
        if publicNetworks { l["networking.gardener.cloud/to-public-networks"] = "allowed" }
        l["networking.gardener.cloud/to-apiserver"] = "allowed"
        l["networking.gardener.cloud/to-dns"] = "allowed"
        return l
    }
}
