import Foundation
import KubeCore

/// CustomResourceDefinitions: validated names, scope and versions, defaults and an Established
/// status; storing one (re)registers the resources it serves, deleting one deletes its instances
/// first and unregisters it when it goes.
struct CustomResourceDefinitionStrategy: ResourceStrategy {
    var allowsStrategicMerge: Bool { false }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try state.crdRules(info, &object, old: nil, name: name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try state.crdRules(info, &object, old: old, name: name)
    }

    func afterCreate(_ stored: JSON, info: ResourceInfo, state: inout StoreState) { state.registerCRD(stored) }

    func afterUpdate(_ stored: JSON, name: String, info: ResourceInfo, state: inout StoreState) { state.registerCRD(stored) }

    func deleteObject(key: String, old: JSON, dryRun: Bool, info: ResourceInfo, state: inout StoreState) -> JSON? {
        if dryRun { return state.deleteWithFinalizers(info, key: key, old: old, dryRun: true) }
        return state.deleteCRD(info, key: key, old: old)
    }

    /// A CRD is cluster-scoped: no namespace to finalize, only its resources to unregister.
    func afterRemove(_ removed: JSON, info: ResourceInfo, state: inout StoreState) { state.unregisterCRD(removed) }
}

/// Instances of CRDs: no strategic merge patch, a status that only the status subresource sets,
/// and the last instance's removal completes a pending CRD deletion.
struct CustomResourceStrategy: ResourceStrategy {
    var allowsStrategicMerge: Bool { false }

    func prepareForCreate(_ object: inout JSON, info: ResourceInfo) {
        if info.hasStatus { object["status"] = nil }
    }

    func afterRemove(_ removed: JSON, info: ResourceInfo, state: inout StoreState) {
        state.finalizeNamespaceIfTerminating(of: removed)
        guard state.collections[info.storageKey]?.isEmpty ?? true else { return }
        let crdName = "\(info.plural).\(info.group)"
        if let crd = state.collections["apiextensions.k8s.io/customresourcedefinitions"]?[crdName],
            crd[path: "metadata", "deletionTimestamp"] != nil
        {
            state.finishCRDDeletion(crdName, crd)
        }
    }
}

extension StoreState {
    /// Validation, defaults and status of a CRD (registration is synchronous: Established at once).
    func crdRules(_ info: ResourceInfo, _ obj: inout JSON, old: JSON?, name: String) throws(APIError) {
        var errors: [FieldError] = []
        let group = obj[path: "spec", "group"]?.stringValue ?? ""
        let plural = obj[path: "spec", "names", "plural"]?.stringValue ?? ""
        let kind = obj[path: "spec", "names", "kind"]?.stringValue ?? ""
        if group.isEmpty {
            errors.append(FieldError(.required, "spec.group"))
        } else if !group.contains(".") {
            errors.append(FieldError(.invalid, "spec.group", .string(group), "should be a domain with at least one dot"))
        }
        if plural.isEmpty {
            errors.append(FieldError(.required, "spec.names.plural"))
        } else if !NameValidation.isDNS1123Label(plural) {
            errors.append(contentsOf: Validation.labelErrors(plural, field: "spec.names.plural"))
        }
        if kind.isEmpty { errors.append(FieldError(.required, "spec.names.kind")) }
        if let singular = obj[path: "spec", "names", "singular"]?.stringValue, !singular.isEmpty, !NameValidation.isDNS1123Label(singular) {
            errors.append(contentsOf: Validation.labelErrors(singular, field: "spec.names.singular"))
        }
        if !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            errors.append(FieldError(.invalid, "metadata.name", .string(name), "must be spec.names.plural+\".\"+spec.group"))
        }
        let scope = obj[path: "spec", "scope"]?.stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            errors.append(
                scope.isEmpty
                    ? FieldError(.required, "spec.scope")
                    : FieldError.notSupported("spec.scope", .string(scope), ["Cluster", "Namespaced"]))
        }
        let versions = obj[path: "spec", "versions"]?.arrayValue ?? []
        if versions.isEmpty {
            errors.append(
                FieldError(
                    .invalid, "spec.versions", obj[path: "spec", "versions"] ?? .null, "must have exactly one version marked as storage version"))
        } else if versions.filter({ $0["storage"]?.boolValue == true }).count != 1 {
            errors.append(
                FieldError(
                    .invalid, "spec.versions", .array(versions.map { ["name": $0["name"] ?? .null, "storage": $0["storage"] ?? false] }),
                    "must have exactly one version marked as storage version"))
        }
        for (i, v) in versions.enumerated() where (v["name"]?.stringValue ?? "").isEmpty {
            errors.append(FieldError(.required, "spec.versions[\(i)].name"))
        }
        if obj[path: "spec", "preserveUnknownFields"]?.boolValue == true {
            errors.append(FieldError(.invalid, "spec.preserveUnknownFields", true, "must be false in order to use defaults in the schema"))
        }
        if let old, old[path: "spec", "scope"] != obj[path: "spec", "scope"], !(collections["\(group)/\(plural)"]?.isEmpty ?? true) {
            errors.append(FieldError(.forbidden, "spec.scope", nil, "may not be changed while instances exist"))
        }
        // Another CRD or a built-in already serving this group/plural.
        if errors.isEmpty, resources.values.contains(where: { $0.group == group && $0.plural == plural && $0.behavior != .custom }) {
            errors.append(FieldError(.invalid, "spec.names.plural", .string(plural), "conflicts with a built-in resource"))
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
        // Defaults and status (registration is synchronous, so the CRD is Established at once).
        if obj[path: "spec", "names", "singular"]?.stringValue?.isEmpty ?? true {
            obj[path: "spec", "names", "singular"] = .string(kind.lowercased())
        }
        if obj[path: "spec", "names", "listKind"]?.stringValue?.isEmpty ?? true { obj[path: "spec", "names", "listKind"] = .string("\(kind)List") }
        if obj[path: "spec", "conversion"] == nil { obj[path: "spec", "conversion"] = ["strategy": "None"] }
        let storage = versions.first { $0["storage"]?.boolValue == true }?["name"] ?? .null
        var stored = old?[path: "status", "storedVersions"]?.arrayValue ?? []
        if !stored.contains(storage) { stored.append(storage) }
        let now = JSON.string(KubeTime.format(Date()))
        let conditions: JSON =
            old?[path: "status", "conditions"] ?? [
                ["type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts", "message": "no conflicts found"],
                [
                    "type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                ],
            ]
        obj["status"] = ["conditions": conditions, "acceptedNames": obj[path: "spec", "names"] ?? .emptyObject, "storedVersions": .array(stored)]
    }

    /// Serves the versions of a CRD (replacing what an earlier version of it served).
    mutating func registerCRD(_ crd: JSON) {
        guard crd[path: "metadata", "deletionTimestamp"] == nil else { return }
        let name = crd[path: "metadata", "name"]?.stringValue ?? ""
        for (k, r) in resources where r.behavior == .custom && "\(r.plural).\(r.group)" == name { resources[k] = nil }
        for r in CRDRegistration.resources(from: crd) { resources["\(r.group)/\(r.version)/\(r.plural)"] = r }
        applyReadDefaults(crd)
    }

    /// Stops serving a CRD's resources; their objects and watches go with them.
    mutating func unregisterCRD(_ crd: JSON) {
        let name = crd[path: "metadata", "name"]?.stringValue ?? ""
        var keys = Set<String>()
        for (k, r) in resources where r.behavior == .custom && "\(r.plural).\(r.group)" == name {
            resources[k] = nil
            keys.insert(r.storageKey)
        }
        for k in keys {
            collections[k] = nil
            finishWatchers(storageKey: k)
        }
    }

    /// Deletes a CRD: its instances first, then the CRD once they are gone (with the
    /// `customresourcecleanup` finalizer and a Terminating condition meanwhile).
    mutating func deleteCRD(_ info: ResourceInfo, key: String, old: JSON) -> JSON? {
        let group = old[path: "spec", "group"]?.stringValue ?? ""
        let plural = old[path: "spec", "names", "plural"]?.stringValue ?? ""
        let storageKey = "\(group)/\(plural)"
        if let instanceInfo = anyResource(storageKey: storageKey) {
            for (k, obj) in collections[storageKey] ?? [:] { _ = deleteObject(instanceInfo, key: k, old: obj, dryRun: false) }
        }
        guard let current = collections[info.storageKey]?[key] else { return nil }  // already removed via didRemove
        if collections[storageKey]?.isEmpty ?? true, Self.finalizers(current).isEmpty {
            let removed = commit(storageKey: info.storageKey, key: key, object: current, type: .deleted, old: current)
            unregisterCRD(removed)
            return nil
        }
        if current[path: "metadata", "deletionTimestamp"] != nil { return current }
        var new = current
        new[path: "metadata", "deletionTimestamp"] = .string(KubeTime.format(Date()))
        new[path: "metadata", "deletionGracePeriodSeconds"] = 0
        var fins = Self.finalizers(current)
        if !fins.contains("customresourcecleanup.apiextensions.k8s.io") { fins.append("customresourcecleanup.apiextensions.k8s.io") }
        new[path: "metadata", "finalizers"] = .array(fins.map(JSON.string))
        var conditions = new[path: "status", "conditions"]?.arrayValue ?? []
        conditions.append([
            "type": "Terminating", "status": "True", "lastTransitionTime": .string(KubeTime.format(Date())),
            "reason": "InstanceDeletionInProgress", "message": "CustomResource deletion is in progress",
        ])
        new[path: "status", "conditions"] = .array(conditions)
        return commit(storageKey: info.storageKey, key: key, object: new, type: .modified, old: current)
    }

    /// Drops the cleanup finalizer of a terminating CRD whose last instance went; removes it when no finalizer is left.
    mutating func finishCRDDeletion(_ name: String, _ crd: JSON) {
        let key = "apiextensions.k8s.io/customresourcedefinitions"
        var new = crd
        let fins = Self.finalizers(crd).filter { $0 != "customresourcecleanup.apiextensions.k8s.io" }
        new[path: "metadata", "finalizers"] = fins.isEmpty ? JSON?.none : .array(fins.map(JSON.string))
        if fins.isEmpty {
            let removed = commit(storageKey: key, key: name, object: new, type: .deleted, old: crd)
            unregisterCRD(removed)
        } else {
            _ = commit(storageKey: key, key: name, object: new, type: .modified, old: crd)
        }
    }
}
