import Foundation
import KubeCore

/// The target of a resource request.
struct ResourceRequest: Sendable {
    var info: ResourceInfo
    /// Namespace from the URL ("" for cluster-scoped or all-namespaces requests).
    var namespace: String
    var name: String?
    var subresource: String?
    var query: [String: String]
    var dryRun: Bool
}

/// A watch prepared under the store lock: initial items plus the live stream.
struct WatchPlan: Sendable {
    var watcher: Watcher?
    var initial: [WatchItem]
}

private let generateNameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

extension StoreState {
    // MARK: - helpers

    static func names(_ obj: JSON) -> (namespace: String, name: String) {
        (obj[path: "metadata", "namespace"]?.stringValue ?? "", obj[path: "metadata", "name"]?.stringValue ?? "")
    }

    func namespaceObject(_ ns: String) -> JSON? { collections["/namespaces"]?[ns] }

    /// Namespaced writes need an existing, non-terminating namespace (spec §5.1).
    func checkNamespace(_ req: ResourceRequest, name: String, isCreate: Bool) throws(APIError) {
        guard req.info.namespaced else { return }
        guard let ns = namespaceObject(req.namespace) else { throw APIError.namespaceNotFound(req.namespace) }
        if isCreate, ns[path: "metadata", "deletionTimestamp"] != nil {
            throw APIError.forbidden(
                req.info, name, "unable to create new content in namespace \(req.namespace) because it is being terminated",
                causes: [
                    [
                        "reason": "NamespaceTerminating", "message": .string("namespace \(req.namespace) is being terminated"),
                        "field": "metadata.namespace",
                    ]
                ])
        }
    }

    static func finalizers(_ obj: JSON) -> [String] {
        obj[path: "metadata", "finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func withoutMetadata(_ obj: JSON, dropStatus: Bool) -> JSON {
        guard var o = obj.objectValue else { return obj }
        o.removeValue(forKey: "metadata")
        o.removeValue(forKey: "apiVersion")
        o.removeValue(forKey: "kind")
        if dropStatus { o.removeValue(forKey: "status") }
        return .object(o)
    }

    /// A random (version 4) UUID in lower case, from one `arc4random_buf` call (one getrandom
    /// syscall): Foundation's `UUID()` opened, read and closed /dev/urandom on every create.
    static func newUID() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { arc4random_buf(base, raw.count) }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - kind-specific defaulting and validation

    func kindRules(_ info: ResourceInfo, _ obj: inout JSON, old: JSON?, name: String) throws(APIError) {
        switch info.behavior {
        case .namespace:
            if old == nil {
                var fins = obj[path: "spec", "finalizers"]?.arrayValue ?? []
                if !fins.contains("kubernetes") { fins.append("kubernetes") }
                obj[path: "spec", "finalizers"] = .array(fins)
                obj["status"] = ["phase": "Active"]
            }
            obj[path: "metadata", "labels", "kubernetes.io/metadata.name"] = .string(name)
        case .secret:
            if let sd = obj["stringData"], !sd.isNull {
                guard let o = sd.objectValue else {
                    throw APIError.invalid(info, name: name, [FieldError(.invalid, "stringData", sd, "must be a map of strings")])
                }
                for (k, v) in o {
                    guard let s = v.stringValue else {
                        throw APIError.invalid(info, name: name, [FieldError(.invalid, "stringData[\(k)]", v, "must be a string")])
                    }
                    obj[path: "data", k] = .string(Data(s.utf8).base64EncodedString())
                }
            }
            obj["stringData"] = nil
            if obj["type"]?.stringValue?.isEmpty ?? true { obj["type"] = "Opaque" }
            var errors: [FieldError] = []
            if let data = obj["data"], !data.isNull {
                if let o = data.objectValue {
                    for (k, v) in o {
                        if !Self.isConfigKey(k) {
                            errors.append(
                                FieldError(
                                    .invalid, "data[\(k)]", .string(k),
                                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                                ))
                        }
                        guard let s = v.stringValue, Data(base64Encoded: s) != nil else {
                            errors.append(FieldError(.invalid, "data[\(k)]", v, "must be a base64-encoded string"))
                            continue
                        }
                    }
                } else {
                    errors.append(FieldError(.invalid, "data", data, "must be a map"))
                }
            }
            if let old {
                if old["type"] != obj["type"] { errors.append(FieldError(.invalid, "type", obj["type"], "field is immutable")) }
                try immutability(info, obj, old: old, name: name, fields: ["data"])
            }
            if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
        case .configMap:
            var errors: [FieldError] = []
            if let data = obj["data"], !data.isNull {
                if let o = data.objectValue {
                    for (k, v) in o {
                        if !Self.isConfigKey(k) {
                            errors.append(
                                FieldError(
                                    .invalid, "data[\(k)]", .string(k),
                                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                                ))
                        }
                        if v.stringValue == nil { errors.append(FieldError(.invalid, "data[\(k)]", v, "must be a string")) }
                    }
                } else {
                    errors.append(FieldError(.invalid, "data", data, "must be a map of strings"))
                }
            }
            if let bd = obj["binaryData"]?.objectValue {
                for (k, v) in bd where v.stringValue.flatMap({ Data(base64Encoded: $0) }) == nil {
                    errors.append(FieldError(.invalid, "binaryData[\(k)]", v, "must be a base64-encoded string"))
                }
            }
            if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
            if let old { try immutability(info, obj, old: old, name: name, fields: ["data", "binaryData"]) }
        case .lease:
            var errors: [FieldError] = []
            if let d = obj[path: "spec", "leaseDurationSeconds"], !d.isNull {
                if let i = d.intValue {
                    if i <= 0 { errors.append(FieldError(.invalid, "spec.leaseDurationSeconds", d, "must be greater than 0")) }
                } else {
                    errors.append(FieldError(.invalid, "spec.leaseDurationSeconds", d, "must be an integer"))
                }
            }
            if let t = obj[path: "spec", "leaseTransitions"], !t.isNull, (t.intValue ?? -1) < 0 {
                errors.append(FieldError(.invalid, "spec.leaseTransitions", t, "must be greater than or equal to 0"))
            }
            for f in ["acquireTime", "renewTime"] {
                guard let v = obj[path: "spec", f], !v.isNull else { continue }
                if let s = v.stringValue, let date = KubeTime.parse(s) {
                    obj[path: "spec", f] = .string(KubeTime.formatMicro(date))
                } else {
                    errors.append(FieldError(.invalid, "spec.\(f)", v, "must be an RFC 3339 time"))
                }
            }
            if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
        case .crd:
            try crdRules(info, &obj, old: old, name: name)
        case .event:
            if obj["involvedObject"] == nil, info.group.isEmpty { obj["involvedObject"] = .emptyObject }
            for f in ["firstTimestamp", "lastTimestamp"] {
                if let s = obj[f]?.stringValue, let d = KubeTime.parse(s) { obj[f] = .string(KubeTime.format(d)) }
            }
        case .custom, .generic:
            break
        }
    }

    static func isConfigKey(_ k: String) -> Bool {
        !k.isEmpty && k.utf8.count <= 253 && k != "." && k != ".."
            && k.utf8.allSatisfy { NameValidation.isAlphanumeric($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    func immutability(_ info: ResourceInfo, _ obj: JSON, old: JSON, name: String, fields: [String]) throws(APIError) {
        guard old["immutable"]?.boolValue == true else { return }
        var errors: [FieldError] = []
        for f in fields where (old[f] ?? .null) != (obj[f] ?? .null) && !((old[f] ?? .null).isNull && (obj[f]?.objectValue?.isEmpty ?? false)) {
            errors.append(FieldError(.forbidden, f, nil, "field is immutable when `immutable` is set"))
        }
        if obj["immutable"]?.boolValue != true {
            errors.append(FieldError(.forbidden, "immutable", nil, "field is immutable when `immutable` is set"))
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }

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
                    : FieldError(.unsupported, "spec.scope", .string(scope), "supported values: \"Cluster\", \"Namespaced\""))
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

    // MARK: - create

    mutating func create(_ req: ResourceRequest, body: JSON) throws(APIError) -> (Int, JSON) {
        guard var obj = body.objectValue.map(JSON.object) else { throw APIError.badRequest("the request body must be a JSON object") }
        var meta = obj["metadata"] ?? .emptyObject
        guard meta.objectValue != nil else { throw APIError.badRequest("metadata must be an object") }
        if let rvs = meta["resourceVersion"]?.stringValue, let n = Int64(rvs), n != 0 {
            throw APIError(code: 500, reason: nil, message: "resourceVersion should not be set on objects to be created")
        }
        meta["resourceVersion"] = nil
        let info = req.info
        if info.namespaced {
            let bodyNS = meta["namespace"]?.stringValue ?? ""
            if bodyNS.isEmpty {
                meta["namespace"] = .string(req.namespace)
            } else if bodyNS != req.namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
        } else {
            meta["namespace"] = nil
        }
        var name = meta["name"]?.stringValue ?? ""
        let generateName = meta["generateName"]?.stringValue ?? ""
        var errors: [FieldError] = []
        if name.isEmpty && generateName.isEmpty {
            errors.append(FieldError(.required, "metadata.name", nil, "name or generateName is required"))
        } else if name.isEmpty {
            var base = generateName
            if base.hasSuffix("-") { base.removeLast() }
            let check = base.isEmpty ? "a" : base
            errors +=
                info.behavior == .namespace
                ? Validation.labelErrors(check, field: "metadata.generateName")
                : Validation.subdomainErrors(check, field: "metadata.generateName")
        } else {
            errors += nameErrors(info, name)
        }
        errors += Validation.metadataErrors(meta)
        if !errors.isEmpty { throw APIError.invalid(info, name: name.isEmpty ? generateName : name, errors) }
        try checkNamespace(req, name: name.isEmpty ? generateName : name, isCreate: true)
        if name.isEmpty {
            var attempts = 0
            repeat {
                name = String(generateName.prefix(58)) + String((0..<5).map { _ in generateNameAlphabet.randomElement() ?? "x" })
                attempts += 1
            } while object(info, req.namespace, name) != nil && attempts < 8
            if object(info, req.namespace, name) != nil {
                throw APIError.alreadyExists(info, name, suffix: ", the server was not able to generate a unique name for the object")
            }
            meta["name"] = .string(name)
        }
        meta["uid"] = .string(Self.newUID())
        meta["creationTimestamp"] = .string(KubeTime.format(Date()))
        meta["deletionTimestamp"] = nil
        meta["deletionGracePeriodSeconds"] = nil
        meta["selfLink"] = nil
        meta["managedFields"] = nil
        meta["generation"] = info.tracksGeneration ? JSON.int(1) : JSON?.none
        obj["metadata"] = meta
        obj["apiVersion"] = .string(info.groupVersion)
        obj["kind"] = .string(info.kind)
        if info.hasStatus && info.behavior == .custom { obj["status"] = nil }
        try kindRules(info, &obj, old: nil, name: name)
        if object(info, req.namespace, name) != nil { throw APIError.alreadyExists(info, name) }
        if req.dryRun { return (201, obj) }
        let stored = commit(storageKey: info.storageKey, key: Self.objectKey(req.namespace, name), object: obj, type: .added, old: nil)
        if info.behavior == .crd { registerCRD(stored) }
        return (201, stored)
    }

    func nameErrors(_ info: ResourceInfo, _ name: String) -> [FieldError] {
        let seg = Validation.pathSegmentErrors(name, field: "metadata.name")
        if !seg.isEmpty { return seg }
        return info.behavior == .namespace
            ? Validation.labelErrors(name, field: "metadata.name")
            : Validation.subdomainErrors(name, field: "metadata.name")
    }

    // MARK: - update / patch

    mutating func update(_ req: ResourceRequest, name: String, body: JSON) throws(APIError) -> (Int, JSON) {
        guard var obj = body.objectValue.map(JSON.object) else { throw APIError.badRequest("the request body must be a JSON object") }
        guard obj["metadata"]?.objectValue != nil || obj["metadata"] == nil else { throw APIError.badRequest("metadata must be an object") }
        let info = req.info
        let bodyName = obj[path: "metadata", "name"]?.stringValue ?? ""
        if bodyName.isEmpty {
            obj[path: "metadata", "name"] = .string(name)
        } else if bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if info.namespaced {
            let bodyNS = obj[path: "metadata", "namespace"]?.stringValue ?? ""
            if bodyNS.isEmpty {
                obj[path: "metadata", "namespace"] = .string(req.namespace)
            } else if bodyNS != req.namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
        } else {
            obj[path: "metadata", "namespace"] = nil
        }
        guard let old = object(info, req.namespace, name) else {
            if info.createOnUpdate && req.subresource == nil {
                var createBody = obj
                createBody[path: "metadata", "resourceVersion"] = nil
                return try create(req, body: createBody)
            }
            try checkNamespace(req, name: name, isCreate: false)
            throw APIError.notFound(info, name)
        }
        try checkNamespace(req, name: name, isCreate: false)
        let bodyRV = obj[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        let oldRV = old[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        if bodyRV.isEmpty {
            if info.requiresResourceVersionOnUpdate {
                throw APIError.invalid(info, name: name, [FieldError(.invalid, "metadata.resourceVersion", 0, "must be specified for an update")])
            }
        } else if bodyRV != oldRV {
            throw APIError.conflict(info, name)
        }
        return try write(req, name: name, old: old, incoming: obj)
    }

    mutating func patch(_ req: ResourceRequest, name: String, contentType: String, body: [UInt8]) throws(APIError) -> (Int, JSON) {
        let info = req.info
        if contentType == "application/strategic-merge-patch+json" && !info.strategicMergeAllowed {
            throw APIError.unsupportedMediaType(info.patchTypes)
        }
        if req.query["force"] != nil && contentType != "application/apply-patch+yaml" {
            throw APIError.invalidOptions("PatchOptions", [FieldError(.forbidden, "force", nil, "may not be specified for non-apply patch")])
        }
        var patchDoc: JSON
        do {
            if contentType == "application/apply-patch+yaml" {
                patchDoc = try JSON.parseJSONOrYAML(String(decoding: body, as: UTF8.self))
            } else {
                patchDoc = try JSON.parse(body)
            }
        } catch {
            throw APIError.badRequest("error decoding patch: \(error)")
        }
        guard let old = object(info, req.namespace, name) else {
            if contentType == "application/apply-patch+yaml" && req.subresource == nil {
                guard !(req.query["fieldManager"] ?? "").isEmpty else {
                    throw APIError.invalidOptions("PatchOptions", [FieldError(.required, "fieldManager", nil, "is required for apply patch")])
                }
                var createBody = patchDoc
                guard createBody.objectValue != nil else { throw APIError.badRequest("the apply patch must be an object") }
                try checkApplyTypeMeta(info, createBody)
                createBody[path: "metadata", "name"] = .string(name)
                if info.namespaced { createBody[path: "metadata", "namespace"] = .string(req.namespace) }
                return try create(req, body: createBody)
            }
            try checkNamespace(req, name: name, isCreate: false)
            throw APIError.notFound(info, name)
        }
        try checkNamespace(req, name: name, isCreate: false)
        var current = old
        current["apiVersion"] = .string(info.groupVersion)
        var patched: JSON
        switch contentType {
        case "application/merge-patch+json":
            guard patchDoc.objectValue != nil else { throw APIError.badRequest("error decoding patch: a merge patch must be a JSON object") }
            patched = Patch.mergePatch(current, patchDoc)
        case "application/json-patch+json":
            guard let ops = patchDoc.arrayValue, ops.allSatisfy({ $0.objectValue != nil }) else {
                throw APIError.badRequest("json: cannot unmarshal \(patchDoc.typeName) into Go value of type jsonpatch.Patch")
            }
            if ops.count > 10000 {
                throw APIError(
                    code: 413, reason: "RequestEntityTooLarge", message: "The allowed maximum operations in a JSON patch is 10000, got \(ops.count)")
            }
            do { patched = try Patch.jsonPatch(current, ops) } catch {
                throw APIError(
                    code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request", details: .emptyObject)
            }
        case "application/strategic-merge-patch+json":
            guard patchDoc.objectValue != nil else {
                throw APIError.badRequest("error decoding patch: a strategic merge patch must be a JSON object")
            }
            do { patched = try Patch.strategicMerge(current, patchDoc) } catch {
                throw APIError.badRequest("error applying strategic merge patch: \((error as? Patch.SMPError)?.message ?? "\(error)")")
            }
        case "application/apply-patch+yaml":
            guard !(req.query["fieldManager"] ?? "").isEmpty else {
                throw APIError.invalidOptions("PatchOptions", [FieldError(.required, "fieldManager", nil, "is required for apply patch")])
            }
            guard patchDoc.objectValue != nil else { throw APIError.badRequest("the apply patch must be an object") }
            try checkApplyTypeMeta(info, patchDoc)
            var doc = patchDoc
            doc[path: "metadata", "resourceVersion"] = nil
            patched = Patch.applyMerge(current, doc)
        default:
            throw APIError.unsupportedMediaType(info.patchTypes)
        }
        guard patched.objectValue != nil, patched["metadata"]?.objectValue != nil else {
            throw APIError.badRequest("the patched object must be a JSON object with metadata")
        }
        if let n = patched[path: "metadata", "name"]?.stringValue, n != name {
            throw APIError.invalid(info, name: name, [FieldError(.invalid, "metadata.name", .string(n), "field is immutable")])
        }
        if info.namespaced, let ns = patched[path: "metadata", "namespace"]?.stringValue, ns != req.namespace {
            throw APIError.invalid(info, name: name, [FieldError(.invalid, "metadata.namespace", .string(ns), "field is immutable")])
        }
        let patchedRV = patched[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        if !patchedRV.isEmpty && patchedRV != (old[path: "metadata", "resourceVersion"]?.stringValue ?? "") {
            throw APIError.conflict(info, name)
        }
        return try write(req, name: name, old: old, incoming: patched)
    }

    func checkApplyTypeMeta(_ info: ResourceInfo, _ body: JSON) throws(APIError) {
        if let av = body["apiVersion"]?.stringValue, av != info.groupVersion {
            throw APIError.badRequest("the API version in the data (\(av)) does not match the expected API version (\(info.groupVersion))")
        }
        if let k = body["kind"]?.stringValue, k != info.kind {
            throw APIError.badRequest("the kind in the data (\(k)) does not match the expected kind (\(info.kind))")
        }
    }

    /// Shared update rules for PUT and PATCH on the main resource and `/status` (spec §4.2, §5.3).
    mutating func write(_ req: ResourceRequest, name: String, old: JSON, incoming: JSON) throws(APIError) -> (Int, JSON) {
        let info = req.info
        var new: JSON
        if req.subresource == "status" {
            new = old
            new["status"] = incoming["status"]
        } else {
            new = incoming
            var errors: [FieldError] = []
            var meta = new["metadata"] ?? .emptyObject
            let oldMeta = old["metadata"] ?? .emptyObject
            let uid = meta["uid"]?.stringValue ?? ""
            if uid.isEmpty {
                meta["uid"] = oldMeta["uid"]
            } else if uid != oldMeta["uid"]?.stringValue {
                errors.append(FieldError(.invalid, "metadata.uid", .string(uid), "field is immutable"))
            }
            meta["creationTimestamp"] = oldMeta["creationTimestamp"]
            if oldMeta["deletionTimestamp"] != nil {
                meta["deletionTimestamp"] = oldMeta["deletionTimestamp"]
                meta["deletionGracePeriodSeconds"] = oldMeta["deletionGracePeriodSeconds"]
            } else {
                if let dt = meta["deletionTimestamp"], !dt.isNull {
                    errors.append(FieldError(.invalid, "metadata.deletionTimestamp", dt, "field is immutable"))
                }
                meta["deletionGracePeriodSeconds"] = nil
            }
            meta["generation"] = oldMeta["generation"]
            meta["selfLink"] = nil
            meta["managedFields"] = nil
            if oldMeta["deletionTimestamp"] != nil {
                let before = Set(Self.finalizers(old))
                let added = Self.finalizers(.object(["metadata": meta])).filter { !before.contains($0) }
                if !added.isEmpty {
                    errors.append(
                        FieldError(
                            .forbidden, "metadata.finalizers", nil,
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{"
                                + added.map { "\"\($0)\"" }.joined(separator: ", ") + "}"))
                }
            }
            errors += Validation.metadataErrors(meta)
            if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
            new["metadata"] = meta
            if info.hasStatus { new["status"] = old["status"] }
            if info.behavior == .namespace { new["spec"] = old["spec"] }
            new["apiVersion"] = old["apiVersion"]
            new["kind"] = .string(info.kind)
            try kindRules(info, &new, old: old, name: name)
        }
        if info.tracksGeneration && req.subresource == nil,
            Self.withoutMetadata(old, dropStatus: info.hasStatus) != Self.withoutMetadata(new, dropStatus: info.hasStatus)
        {
            new[path: "metadata", "generation"] = .int(Int64((old[path: "metadata", "generation"]?.intValue ?? 0) + 1))
        }
        new[path: "metadata", "resourceVersion"] = old[path: "metadata", "resourceVersion"]
        // No-op writes do not bump resourceVersion or emit events.
        if new == old { return (200, old) }
        if req.dryRun { return (200, new) }
        let key = Self.objectKey(req.namespace, name)
        if new[path: "metadata", "deletionTimestamp"] != nil && Self.finalizers(new).isEmpty
            && (new[path: "metadata", "deletionGracePeriodSeconds"]?.intValue ?? 0) == 0
        {
            let removed = commit(storageKey: info.storageKey, key: key, object: new, type: .deleted, old: old)
            didRemove(info, removed)
            return (200, removed)
        }
        let stored = commit(storageKey: info.storageKey, key: key, object: new, type: .modified, old: old)
        if info.behavior == .crd { registerCRD(stored) }
        if info.behavior == .namespace { tryFinalizeNamespace(name) }
        return (200, stored)
    }

    // MARK: - delete

    struct DeleteOptions {
        var preconditionUID: String?
        var preconditionRV: String?
        var propagationPolicy: String?
        var orphanDependents: Bool?
        var dryRun: Bool
    }

    static func deleteOptions(body: [UInt8], query: [String: String]) throws(APIError) -> DeleteOptions {
        var opts = DeleteOptions(dryRun: false)
        var dryRunValues: [String] = []
        let trimmed = body.drop { $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }
        if !trimmed.isEmpty {
            let doc: JSON
            do { doc = try JSON.parse(body) } catch { throw APIError.badRequest("error decoding DeleteOptions: \(error)") }
            guard doc.objectValue != nil else { throw APIError.badRequest("DeleteOptions must be a JSON object") }
            opts.preconditionUID = doc[path: "preconditions", "uid"]?.stringValue
            opts.preconditionRV = doc[path: "preconditions", "resourceVersion"]?.stringValue
            opts.propagationPolicy = doc["propagationPolicy"]?.stringValue
            opts.orphanDependents = doc["orphanDependents"]?.boolValue
            dryRunValues = doc["dryRun"]?.arrayValue?.compactMap(\.stringValue) ?? []
        } else {
            opts.propagationPolicy = query["propagationPolicy"]
            opts.orphanDependents = Validation.parseBool(query["orphanDependents"])
            if let d = query["dryRun"] { dryRunValues = [d] }
            opts.preconditionUID = query["preconditions.uid"]
            opts.preconditionRV = query["preconditions.resourceVersion"]
        }
        var errors: [FieldError] = []
        if let p = opts.propagationPolicy {
            if opts.orphanDependents != nil {
                errors.append(FieldError(.invalid, "propagationPolicy", .string(p), "orphanDependents and deletionPropagation cannot be both set"))
            } else if !["Orphan", "Background", "Foreground"].contains(p) {
                errors.append(
                    FieldError(.unsupported, "propagationPolicy", .string(p), "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")
                )
            }
        }
        for d in dryRunValues where d != "All" {
            errors.append(FieldError(.unsupported, "dryRun", .array(dryRunValues.map(JSON.string)), "supported values: \"All\""))
            break
        }
        if !errors.isEmpty { throw APIError.invalidOptions("DeleteOptions", errors) }
        opts.dryRun = dryRunValues.contains("All")
        return opts
    }

    mutating func delete(_ req: ResourceRequest, name: String, options: DeleteOptions) throws(APIError) -> (Int, JSON) {
        let info = req.info
        guard let old = object(info, req.namespace, name) else {
            throw APIError.notFound(info, name)
        }
        let oldUID = old[path: "metadata", "uid"]?.stringValue ?? ""
        let oldRV = old[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        if let uid = options.preconditionUID, uid != oldUID {
            throw APIError(
                code: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \(info.qualifiedKind) \"\(name)\": the UID in the precondition (\(uid)) does not match the UID in record (\(oldUID)). The object might have been deleted and then recreated",
                details: APIError.resourceDetails(name, group: info.group, resource: info.plural))
        }
        if let rv = options.preconditionRV, rv != oldRV {
            throw APIError(
                code: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \(info.qualifiedKind) \"\(name)\": the ResourceVersion in the precondition (\(rv)) does not match the ResourceVersion in record (\(oldRV)). The object might have been modified",
                details: APIError.resourceDetails(name, group: info.group, resource: info.plural))
        }
        if info.behavior == .namespace {
            if ["default", "kube-system", "kube-public"].contains(name) {
                throw APIError.forbidden(info, name, "this namespace may not be deleted")
            }
            if options.dryRun { return (200, old) }
            return (200, startNamespaceDeletion(name))
        }
        let dryRun = options.dryRun || req.dryRun
        let result = deleteObject(info, key: Self.objectKey(req.namespace, name), old: old, dryRun: dryRun)
        if let kept = result { return (options.orphanDependents == false ? 202 : 200, kept) }
        var details = APIError.resourceDetails(name, group: info.group, resource: info.plural)
        details["uid"] = .string(oldUID)
        return (200, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "details": details])
    }

    /// Per-object deletion (spec §10.2). Returns the object when it stays (finalizers pending),
    /// nil when it was removed.
    mutating func deleteObject(_ info: ResourceInfo, key: String, old: JSON, dryRun: Bool) -> JSON? {
        if info.behavior == .crd && !dryRun {
            return deleteCRD(info, key: key, old: old)
        }
        if Self.finalizers(old).isEmpty {
            if dryRun { return nil }
            let removed = commit(storageKey: info.storageKey, key: key, object: old, type: .deleted, old: old)
            didRemove(info, removed)
            return nil
        }
        if old[path: "metadata", "deletionTimestamp"] != nil { return old }
        var new = old
        new[path: "metadata", "deletionTimestamp"] = .string(KubeTime.format(Date()))
        new[path: "metadata", "deletionGracePeriodSeconds"] = 0
        if let g = old[path: "metadata", "generation"]?.intValue, g > 0 { new[path: "metadata", "generation"] = .int(Int64(g + 1)) }
        if dryRun { return new }
        return commit(storageKey: info.storageKey, key: key, object: new, type: .modified, old: old)
    }

    /// Hooks after an object disappeared: CRD unregistration and namespace / CRD finalization.
    mutating func didRemove(_ info: ResourceInfo, _ removed: JSON) {
        if info.behavior == .crd {
            unregisterCRD(removed)
            return
        }
        let ns = removed[path: "metadata", "namespace"]?.stringValue ?? ""
        if !ns.isEmpty, namespaceObject(ns)?[path: "metadata", "deletionTimestamp"] != nil { tryFinalizeNamespace(ns) }
        if info.behavior == .custom, collections[info.storageKey]?.isEmpty ?? true {
            let crdName = "\(info.plural).\(info.group)"
            if let crd = collections["apiextensions.k8s.io/customresourcedefinitions"]?[crdName],
                crd[path: "metadata", "deletionTimestamp"] != nil
            {
                finishCRDDeletion(crdName, crd)
            }
        }
    }

    // MARK: - namespaces

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

    /// Removes a terminating namespace once it is empty (spec §15).
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

    // MARK: - CRDs

    mutating func registerCRD(_ crd: JSON) {
        guard crd[path: "metadata", "deletionTimestamp"] == nil else { return }
        let name = crd[path: "metadata", "name"]?.stringValue ?? ""
        for (k, r) in resources where r.behavior == .custom && "\(r.plural).\(r.group)" == name { resources[k] = nil }
        for r in CRDRegistration.resources(from: crd) { resources["\(r.group)/\(r.version)/\(r.plural)"] = r }
    }

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

    // MARK: - list

    func filtered(_ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector) -> [JSON] {
        let all = collections[req.info.storageKey] ?? [:]
        var items: [JSON]
        if req.info.namespaced && !req.namespace.isEmpty {
            let prefix = req.namespace + "/"
            // (explicit filter: JSON is nil-literal expressible, so a ternary with nil would yield .null)
            items = all.filter { $0.key.hasPrefix(prefix) }.map(\.value)
        } else {
            items = Array(all.values)
        }
        if !labelSelector.isEmpty || !fieldSelector.requirements.isEmpty {
            items = items.filter { labelSelector.matches($0[path: "metadata", "labels"]) && fieldSelector.matches($0) }
        }
        items.sort { a, b in
            let (na, ma) = Self.names(a)
            let (nb, mb) = Self.names(b)
            return na == nb ? ma < mb : na < nb
        }
        return items
    }

    func list(_ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector) throws(APIError) -> (items: [JSON], meta: JSON) {
        let q = req.query
        let rvParam = q["resourceVersion"] ?? ""
        let match = q["resourceVersionMatch"] ?? ""
        var errors: [FieldError] = []
        if !match.isEmpty {
            if rvParam.isEmpty {
                errors.append(
                    FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if q["continue"] != nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch is forbidden when continue is provided"))
            }
            if match != "Exact" && match != "NotOlderThan" {
                errors.append(FieldError(.unsupported, "resourceVersionMatch", .string(match), "supported values: \"Exact\", \"NotOlderThan\", \"\""))
            }
            if match == "Exact" && rvParam == "0" {
                errors.append(
                    FieldError(.forbidden, "resourceVersionMatch", nil, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
            }
        }
        if q["sendInitialEvents"] != nil {
            errors.append(FieldError(.forbidden, "sendInitialEvents", nil, "sendInitialEvents is forbidden for list"))
        }
        if !errors.isEmpty { throw APIError.invalidOptions("ListOptions", errors) }
        if !rvParam.isEmpty && rvParam != "0" {
            guard let n = Int64(rvParam) else { throw APIError.badRequest("invalid resource version \"\(rvParam)\"") }
            if n > rv { throw Self.tooLarge(n, rv) }
            if match == "Exact" && n != rv { throw APIError.expired("too old resource version: \(n) (\(rv))") }
        }
        var items = filtered(req, labelSelector: labelSelector, fieldSelector: fieldSelector)
        var meta: JSON = ["resourceVersion": .string(String(rv))]
        if let token = q["continue"], !token.isEmpty {
            guard let decoded = Data(base64Encoded: token).flatMap({ String(data: $0, encoding: .utf8) }),
                let sep = decoded.firstIndex(of: "|"), let tokenRV = Int64(decoded[..<sep])
            else {
                throw APIError.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            if tokenRV < compactedRV {
                throw APIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to continue the list with inconsistent results."
                )
            }
            let after = String(decoded[decoded.index(after: sep)...])
            items = items.filter { (Self.names($0).namespace + "\u{0}" + Self.names($0).name) > after }
        }
        if let limitText = q["limit"], let limit = Int(limitText), limit > 0, items.count > limit {
            let remaining = items.count - limit
            items = Array(items.prefix(limit))
            if let last = items.last {
                let (ns, name) = Self.names(last)
                let token = Data("\(rv)|\(ns)\u{0}\(name)".utf8).base64EncodedString()
                meta["continue"] = .string(token)
                meta["remainingItemCount"] = .int(Int64(remaining))
            }
        }
        return (items, meta)
    }

    static func tooLarge(_ n: Int64, _ current: Int64) -> APIError {
        APIError(
            code: 504, reason: "Timeout", message: "Too large resource version: \(n), current: \(current)",
            details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]], "retryAfterSeconds": 1])
    }

    // MARK: - watch

    mutating func watch(_ req: ResourceRequest, labelSelector: LabelSelector, fieldSelector: FieldSelector) throws(APIError) -> WatchPlan {
        let q = req.query
        if q["sendInitialEvents"] != nil {
            throw APIError.invalidOptions(
                "ListOptions",
                [
                    FieldError(
                        .forbidden, "sendInitialEvents", nil,
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")
                ])
        }
        if q["resourceVersionMatch"] != nil {
            throw APIError.invalidOptions(
                "ListOptions",
                [
                    FieldError(
                        .forbidden, "resourceVersionMatch", nil,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
                ])
        }
        let rvParam = q["resourceVersion"] ?? ""
        var start: Int64?
        if !rvParam.isEmpty && rvParam != "0" {
            guard let n = Int64(rvParam) else { throw APIError.badRequest("invalid resource version \"\(rvParam)\"") }
            if n < compactedRV {
                return WatchPlan(watcher: nil, initial: [.error(APIError.expired("too old resource version: \(n) (\(compactedRV))").status)])
            }
            if n > rv { return WatchPlan(watcher: nil, initial: [.error(Self.tooLarge(n, rv).status)]) }
            start = n
        }
        let namespace = req.info.namespaced && !req.namespace.isEmpty ? req.namespace : nil
        // Watchers with equal selectors see a change the same way: the fan-out evaluates it once.
        let selectorKey =
            "\(namespace ?? "*")|\(q["labelSelector"] ?? "")|"
            + fieldSelector.requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
        let watcher = registerWatcher(
            storageKey: req.info.storageKey, namespace: namespace,
            labelSelector: labelSelector, fieldSelector: fieldSelector, selectorKey: selectorKey)
        var initial: [WatchItem] = []
        if let start {
            for e in history.events(after: start) where e.storageKey == req.info.storageKey {
                if let (t, o) = watcher.view(e) { initial.append(.event(WatchEvent(type: t, object: o))) }
            }
        } else {
            for obj in filtered(req, labelSelector: labelSelector, fieldSelector: fieldSelector) {
                initial.append(.event(WatchEvent(type: "ADDED", object: obj)))
            }
        }
        return WatchPlan(watcher: watcher, initial: initial)
    }
}
