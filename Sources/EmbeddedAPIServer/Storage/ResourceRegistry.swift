import KubeCore

/// How a resource behaves beyond the generic rules: the key of its ``ResourceStrategy`` in
/// ``ResourceStrategies/table``.
enum ResourceBehavior: Sendable, Hashable {
    case generic, namespace, secret, configMap, lease, crd, custom, event, service
    case serviceAccount, rbacRole, rbacBinding, authReview, deployment
}

/// A printer column of a Table response.
struct PrinterColumn: Sendable, Equatable {
    var name: String
    var type: String
    var format: String
    var description: String
    var priority: Int
    var jsonPath: String
}

/// One served resource (group/version/plural) and its rules.
struct ResourceInfo: Sendable, Equatable {
    var group: String
    var version: String
    var plural: String
    var singular: String
    var kind: String
    var listKind: String
    var namespaced: Bool
    var shortNames: [String] = []
    var categories: [String] = []
    var hasStatus: Bool = false
    var behavior: ResourceBehavior = .generic
    var tracksGeneration: Bool = false
    /// PUT without resourceVersion is rejected (custom resources, Lease, CRD).
    var requiresResourceVersionOnUpdate: Bool = false
    /// PUT of a missing object creates it (Lease).
    var createOnUpdate: Bool = false
    var printerColumns: [PrinterColumn] = []
    /// Extra field selector keys besides metadata.name / metadata.namespace.
    var fieldSelectors: [String] = []
    /// The structural schema of a custom resource version (parsed when its CRD is stored).
    var schema: CustomResourceSchema? = nil

    /// Where the objects live when another resource's store is shared (events.k8s.io Events
    /// are the core Events).
    var sharedStorageKey: String? = nil
    /// A review served only by POST, never stored (SelfSubjectAccessReview and kin; see Auth/).
    var createOnly: Bool = false

    /// Storage key shared by all versions of a resource.
    var storageKey: String { sharedStorageKey ?? "\(group)/\(plural)" }
    var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var qualifiedResource: String { group.isEmpty ? plural : "\(plural).\(group)" }
    var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    var strategicMergeAllowed: Bool { strategy.allowsStrategicMerge }
    var patchTypes: [String] {
        strategicMergeAllowed
            ? [
                "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ]
            : ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    }
    var basePath: String { group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)" }
}

enum BuiltinResources {
    static func column(_ name: String, _ type: String, _ path: String, format: String = "", priority: Int = 0, description: String = "")
        -> PrinterColumn
    {
        PrinterColumn(name: name, type: type, format: format, description: description, priority: priority, jsonPath: path)
    }

    static let age = column("Age", "date", ".metadata.creationTimestamp")

    static var all: [ResourceInfo] {
        var list: [ResourceInfo] = []
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", listKind: "NamespaceList",
                namespaced: false, shortNames: ["ns"], hasStatus: true, behavior: .namespace,
                printerColumns: [column("Status", "string", ".status.phase"), age], fieldSelectors: ["status.phase"]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", listKind: "SecretList",
                namespaced: true, behavior: .secret,
                printerColumns: [column("Type", "string", ".type"), column("Data", "integer", ".data"), age], fieldSelectors: ["type"]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", listKind: "ConfigMapList",
                namespaced: true, shortNames: ["cm"], behavior: .configMap,
                printerColumns: [column("Data", "integer", ".data"), age]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount",
                listKind: "ServiceAccountList", namespaced: true, shortNames: ["sa"], behavior: .serviceAccount, printerColumns: [age]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "services", singular: "service", kind: "Service", listKind: "ServiceList",
                namespaced: true, shortNames: ["svc"], categories: ["all"], hasStatus: true, behavior: .service,
                printerColumns: [column("Type", "string", ".spec.type"), column("Cluster-IP", "string", ".spec.clusterIP"), age]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "nodes", singular: "node", kind: "Node", listKind: "NodeList",
                namespaced: false, shortNames: ["no"], hasStatus: true, printerColumns: [age]))
        list.append(
            ResourceInfo(
                group: "", version: "v1", plural: "events", singular: "event", kind: "Event", listKind: "EventList",
                namespaced: true, shortNames: ["ev"], behavior: .event,
                printerColumns: [
                    column("Type", "string", ".type"), column("Reason", "string", ".reason"),
                    column("Object", "string", ".involvedObject.name"), column("Message", "string", ".message"), age,
                ],
                fieldSelectors: [
                    "involvedObject.name", "involvedObject.namespace", "involvedObject.kind", "involvedObject.uid",
                    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                    "reason", "reportingComponent", "source", "type",
                ]))
        list.append(
            ResourceInfo(
                group: "events.k8s.io", version: "v1", plural: "events", singular: "event", kind: "Event", listKind: "EventList",
                namespaced: true, shortNames: ["ev"], behavior: .event, printerColumns: [age],
                fieldSelectors: [
                    "regarding.name", "regarding.namespace", "regarding.kind", "regarding.uid", "regarding.apiVersion",
                    "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type",
                ], sharedStorageKey: "/events"))
        list.append(
            ResourceInfo(
                group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease", listKind: "LeaseList",
                namespaced: true, behavior: .lease, requiresResourceVersionOnUpdate: true, createOnUpdate: true,
                printerColumns: [column("Holder", "string", ".spec.holderIdentity"), age]))
        list.append(
            ResourceInfo(
                group: "admissionregistration.k8s.io", version: "v1", plural: "validatingwebhookconfigurations",
                singular: "validatingwebhookconfiguration", kind: "ValidatingWebhookConfiguration",
                listKind: "ValidatingWebhookConfigurationList", namespaced: false, categories: ["api-extensions"],
                tracksGeneration: true, printerColumns: [column("Webhooks", "integer", ".webhooks"), age]))
        list.append(
            ResourceInfo(
                group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations",
                singular: "mutatingwebhookconfiguration", kind: "MutatingWebhookConfiguration",
                listKind: "MutatingWebhookConfigurationList", namespaced: false, categories: ["api-extensions"],
                tracksGeneration: true, printerColumns: [column("Webhooks", "integer", ".webhooks"), age]))
        list.append(
            ResourceInfo(
                group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment",
                listKind: "DeploymentList", namespaced: true, shortNames: ["deploy"], categories: ["all"], hasStatus: true,
                behavior: .deployment, tracksGeneration: true,
                printerColumns: [
                    column("Ready", "string", ".status.readyReplicas"), column("Up-to-date", "integer", ".status.updatedReplicas"),
                    column("Available", "integer", ".status.availableReplicas"), age,
                ]))
        list.append(
            ResourceInfo(
                group: "apps", version: "v1", plural: "daemonsets", singular: "daemonset", kind: "DaemonSet",
                listKind: "DaemonSetList", namespaced: true, shortNames: ["ds"], categories: ["all"], hasStatus: true,
                tracksGeneration: true,
                printerColumns: [
                    column("Desired", "integer", ".status.desiredNumberScheduled"),
                    column("Current", "integer", ".status.currentNumberScheduled"),
                    column("Ready", "integer", ".status.numberReady"), age,
                ]))
        list.append(
            ResourceInfo(
                group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions",
                singular: "customresourcedefinition", kind: "CustomResourceDefinition",
                listKind: "CustomResourceDefinitionList", namespaced: false, shortNames: ["crd", "crds"],
                categories: ["api-extensions"], hasStatus: true, behavior: .crd, tracksGeneration: true,
                requiresResourceVersionOnUpdate: true,
                printerColumns: [column("Created At", "date", ".metadata.creationTimestamp")]))
        list += AuthResources.all
        return list
    }
}

/// Turns a CRD object into the resources it serves (one per served version).
enum CRDRegistration {
    static func resources(from crd: JSON) -> [ResourceInfo] {
        guard let group = crd[path: "spec", "group"]?.stringValue,
            let plural = crd[path: "spec", "names", "plural"]?.stringValue,
            let kind = crd[path: "spec", "names", "kind"]?.stringValue
        else { return [] }
        let names = crd[path: "spec", "names"] ?? .emptyObject
        let singular = names["singular"]?.stringValue ?? kind.lowercased()
        let listKind = names["listKind"]?.stringValue ?? "\(kind)List"
        let namespaced = crd[path: "spec", "scope"]?.stringValue != "Cluster"
        let shortNames = names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let categories = names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var result: [ResourceInfo] = []
        for (index, version) in (crd[path: "spec", "versions"]?.arrayValue ?? []).enumerated() {
            guard let name = version["name"]?.stringValue, version["served"]?.boolValue ?? true else { continue }
            let hasStatus = version[path: "subresources", "status"]?.objectValue != nil
            var columns: [PrinterColumn] = []
            for c in version["additionalPrinterColumns"]?.arrayValue ?? [] {
                guard let cname = c["name"]?.stringValue, let path = c["jsonPath"]?.stringValue else { continue }
                columns.append(
                    PrinterColumn(
                        name: cname, type: c["type"]?.stringValue ?? "string", format: c["format"]?.stringValue ?? "",
                        description: c["description"]?.stringValue ?? "", priority: c["priority"]?.intValue ?? 0,
                        jsonPath: path))
            }
            if columns.isEmpty { columns = [BuiltinResources.age] }
            result.append(
                ResourceInfo(
                    group: group, version: name, plural: plural, singular: singular, kind: kind, listKind: listKind,
                    namespaced: namespaced, shortNames: shortNames, categories: categories, hasStatus: hasStatus,
                    behavior: .custom, tracksGeneration: true, requiresResourceVersionOnUpdate: true,
                    printerColumns: columns, schema: CustomResourceSchema(version: version, index: index)))
        }
        return result
    }
}
