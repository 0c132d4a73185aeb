import Foundation
import KubeCore
import Synchronization

/// The target of a resource request.
struct ResourceRequest: Sendable {
    var info: ResourceInfo
    /// Namespace from the URL ("" for cluster-scoped or all-namespaces requests).
    var namespace: String
    var name: String?
    var subresource: String?
    var query: [String: String]
    var dryRun: Bool
    /// The field manager of a write (its `fieldManager` or User-Agent); nil for the server's own
    /// writes, which record no managed fields.
    var fieldManager: String?
    /// Warnings for the client, sent as `Warning: 299` headers (fieldValidation=Warn, webhooks, ...).
    var warnings = WarningSink()
    /// Keys the JSON body had twice (`spec.size`), for `fieldValidation` (custom resources).
    var duplicateFields: [String] = []
}

/// Collects the warnings of one request while it runs (also under the store lock), in order and
/// without duplicates, as kube-apiserver's warning recorder does.
final class WarningSink: Sendable {
    private let list = Mutex<[String]>([])

    /// Adds a warning unless the same text was already added.
    func add(_ text: String) {
        list.withLock { l in if !l.contains(text) { l.append(text) } }
    }

    /// The warnings so far.
    var all: [String] { list.withLock { $0 } }

    /// The `Warning` headers of the warnings: code 299, agent `-`, the text quoted as HTTP needs.
    var headers: [(String, String)] {
        all.map { text in
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ("Warning", "299 - \"\(escaped)\"")
        }
    }
}

/// The current time as objects carry it (RFC 3339, to the second), formatted once per second:
/// every write stamps one or two (creationTimestamp, managedFields).
enum ServerClock {
    private static let last = Mutex<(second: Int, text: String)>((Int.min, ""))

    /// `2025-01-31T12:00:00Z` for the current second.
    static func now() -> String {
        let instant = KubeTime.Instant(Date())
        return last.withLock { l in
            if l.second != instant.seconds { l = (instant.seconds, KubeTime.format(instant)) }
            return l.text
        }
    }
}

private let generateNameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

extension StoreState {
    // MARK: - helpers

    static func names(_ obj: JSON) -> (namespace: String, name: String) {
        (obj[path: "metadata", "namespace"]?.stringValue ?? "", obj[path: "metadata", "name"]?.stringValue ?? "")
    }

    func namespaceObject(_ ns: String) -> JSON? { collections["/namespaces"]?[ns] }

    /// Namespaced writes need an existing, non-terminating namespace.
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

    // MARK: - create

    mutating func create(_ req: ResourceRequest, body: JSON, applied: ManagedFields.Applied? = nil) throws(APIError) -> (Int, JSON) {
        guard var obj = body.objectValue.map(JSON.object) else { throw APIError.badRequest("the request body must be a JSON object") }
        var meta = obj["metadata"] ?? .emptyObject
        guard meta.objectValue != nil else { throw APIError.badRequest("metadata must be an object") }
        let sentManagedFields = meta["managedFields"]
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
            errors += info.strategy.nameErrors(check, field: "metadata.generateName")
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
        meta["creationTimestamp"] = .string(ServerClock.now())
        meta["deletionTimestamp"] = nil
        meta["deletionGracePeriodSeconds"] = nil
        meta["selfLink"] = nil
        meta["managedFields"] = nil
        meta["generation"] = info.tracksGeneration ? JSON.int(1) : JSON?.none
        obj["metadata"] = meta
        obj["apiVersion"] = .string(info.groupVersion)
        obj["kind"] = .string(info.kind)
        try BuiltinFieldValidation.apply(&obj, req)
        let strategy = info.strategy
        strategy.prepareForCreate(&obj, info: info)
        try applySchema(req, &obj, name: name)
        try strategy.validateCreate(&obj, info: info, name: name, state: self)
        if object(info, req.namespace, name) != nil { throw APIError.alreadyExists(info, name) }
        try recordManagedFields(&obj, old: nil, sent: sentManagedFields, applied: applied, req, name: name)
        if req.dryRun { return (201, obj) }
        let stored = commit(storageKey: info.storageKey, key: Self.objectKey(req.namespace, name), object: obj, type: .added, old: nil)
        strategy.afterCreate(stored, info: info, state: &self)
        return (201, stored)
    }

    func nameErrors(_ info: ResourceInfo, _ name: String) -> [FieldError] {
        let seg = Validation.pathSegmentErrors(name, field: "metadata.name")
        if !seg.isEmpty { return seg }
        return info.strategy.nameErrors(name, field: "metadata.name")
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

    /// `current` with a merge, JSON or strategic merge patch applied (not an apply patch), with
    /// kube-apiserver's errors for malformed patches.
    static func applyPatchDocument(_ patchDoc: JSON, contentType: String, to current: JSON, info: ResourceInfo) throws(APIError) -> JSON {
        switch contentType {
        case "application/merge-patch+json":
            guard patchDoc.objectValue != nil else { throw APIError.badRequest("error decoding patch: a merge patch must be a JSON object") }
            return MergePatch.apply(patchDoc, to: current)
        case "application/json-patch+json":
            guard let ops = patchDoc.arrayValue, ops.allSatisfy({ $0.objectValue != nil }) else {
                throw APIError.badRequest("json: cannot unmarshal \(patchDoc.typeName) into Go value of type jsonpatch.Patch")
            }
            if ops.count > 10000 {
                throw APIError(
                    code: 413, reason: "RequestEntityTooLarge", message: "The allowed maximum operations in a JSON patch is 10000, got \(ops.count)")
            }
            do { return try Patch.jsonPatch(current, ops) } catch {
                throw APIError(
                    code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request", details: .emptyObject)
            }
        case "application/strategic-merge-patch+json":
            guard patchDoc.objectValue != nil else {
                throw APIError.badRequest("error decoding patch: a strategic merge patch must be a JSON object")
            }
            let schema = OpenAPIDefinitions.builtin.objectSchema(group: info.group, version: info.version, kind: info.kind)
            do { return try Patch.strategicMerge(current, patchDoc, schema: schema) } catch {
                throw APIError.badRequest("error applying strategic merge patch: \((error as? Patch.SMPError)?.message ?? "\(error)")")
            }
        default:
            throw APIError.unsupportedMediaType(info.patchTypes)
        }
    }

    /// A PATCH body, decoded and checked before the store lock is taken (nothing of it depends on
    /// the state, and parsing under the lock made the other event loop wait).
    struct PatchDocument: Sendable {
        var contentType: String
        var document: JSON
        /// Keys the body had twice (merge patches of custom resources, for `fieldValidation`).
        var duplicateFields: [String] = []
    }

    /// The checks of a PATCH that need no state, and its body parsed.
    static func decodePatch(_ req: ResourceRequest, contentType: String, body: [UInt8]) throws(APIError) -> PatchDocument {
        let info = req.info
        if contentType == "application/strategic-merge-patch+json" && !info.strategicMergeAllowed {
            throw APIError.unsupportedMediaType(info.patchTypes)
        }
        if req.query["force"] != nil && contentType != "application/apply-patch+yaml" {
            throw APIError.invalidOptions("PatchOptions", [FieldError(.forbidden, "force", nil, "may not be specified for non-apply patch")])
        }
        var decoded = PatchDocument(contentType: contentType, document: .null)
        do {
            if contentType == "application/apply-patch+yaml" {
                decoded.document = try JSON.parseJSONOrYAML(String(decoding: body, as: UTF8.self))
            } else if contentType == "application/merge-patch+json" && info.schema != nil {
                decoded.document = try JSON.parse(body, duplicateKeys: &decoded.duplicateFields)
            } else {
                decoded.document = try JSON.parse(body)
            }
        } catch {
            throw APIError.badRequest("error decoding patch: \(error)")
        }
        return decoded
    }

    mutating func patch(_ req: ResourceRequest, name: String, contentType: String, body: [UInt8]) throws(APIError) -> (Int, JSON) {
        try patch(req, name: name, decoded: Self.decodePatch(req, contentType: contentType, body: body))
    }

    mutating func patch(_ req: ResourceRequest, name: String, decoded: PatchDocument) throws(APIError) -> (Int, JSON) {
        var req = req
        let info = req.info
        let contentType = decoded.contentType
        let patchDoc = decoded.document
        req.duplicateFields = decoded.duplicateFields
        guard let old = object(info, req.namespace, name) else {
            if contentType == "application/apply-patch+yaml" && req.subresource == nil {
                var createBody = try checkApplyPatch(req, patchDoc)
                createBody[path: "metadata", "name"] = .string(name)
                if info.namespaced { createBody[path: "metadata", "namespace"] = .string(req.namespace) }
                let applied = try applyPatch(req, live: .emptyObject, config: createBody)
                return try create(req, body: applied.object, applied: applied)
            }
            try checkNamespace(req, name: name, isCreate: false)
            throw APIError.notFound(info, name)
        }
        try checkNamespace(req, name: name, isCreate: false)
        var current = old
        current["apiVersion"] = .string(info.groupVersion)
        var patched: JSON
        var applied: ManagedFields.Applied?
        if contentType == "application/apply-patch+yaml" {
            // A resourceVersion in the configuration is a precondition (checked below).
            let result = try applyPatch(req, live: current, config: try checkApplyPatch(req, patchDoc))
            patched = result.object
            applied = result
        } else {
            patched = try Self.applyPatchDocument(patchDoc, contentType: contentType, to: current, info: info)
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
        return try write(req, name: name, old: old, incoming: patched, applied: applied)
    }

    /// The checks of an apply patch before it is applied (see ``ManagedFields/apply(live:config:writer:force:schema:)``).
    func checkApplyPatch(_ req: ResourceRequest, _ doc: JSON) throws(APIError) -> JSON {
        guard !(req.query["fieldManager"] ?? "").isEmpty else {
            throw APIError.invalidOptions("PatchOptions", [FieldError(.required, "fieldManager", nil, "is required for apply patch")])
        }
        guard doc.objectValue != nil else { throw APIError.badRequest("the apply patch must be an object") }
        try checkApplyTypeMeta(req.info, doc)
        if doc[path: "metadata", "managedFields"] != nil { throw APIError.badRequest("metadata.managedFields must be nil") }
        return doc
    }

    /// Server-side apply of a checked configuration; the (sub)resource's reset fields (status on
    /// the main resource, everything but status on `/status`) are neither merged nor owned.
    func applyPatch(_ req: ResourceRequest, live: JSON, config: JSON) throws(APIError) -> ManagedFields.Applied {
        var doc = config
        if req.subresource == "status" {
            doc = .object(config.objectValue?.filter { ["apiVersion", "kind", "metadata", "status"].contains($0.key) } ?? [:])
        } else if req.info.hasStatus {
            doc["status"] = nil
        }
        let writer = ManagedFields.Writer(
            manager: req.query["fieldManager"] ?? "", apiVersion: req.info.groupVersion, subresource: req.subresource ?? "")
        let force = req.query["force"].flatMap(parseGoBool) ?? false
        return try ManagedFields.apply(live: live, config: doc, writer: writer, force: force, schema: applySchema(req.info))
    }

    /// Who an Update operation is recorded for; nil for the server's own writes.
    func managedFieldsWriter(_ req: ResourceRequest) -> ManagedFields.Writer? {
        req.fieldManager.map { ManagedFields.Writer(manager: $0, apiVersion: req.info.groupVersion, subresource: req.subresource ?? "") }
    }

    /// Sets the managedFields of a written `object`: an apply's result, else an Update entry for the
    /// request's field manager (kube's 422 when those sent are malformed), else `old`'s as they were
    /// (none on create).
    func recordManagedFields(
        _ object: inout JSON, old: JSON?, sent: JSON?, applied: ManagedFields.Applied?, _ req: ResourceRequest, name: String
    ) throws(APIError) {
        if let applied {
            object[path: "metadata", "managedFields"] = applied.managedFields
        } else if let writer = managedFieldsWriter(req) {
            object[path: "metadata", "managedFields"] = ManagedFields.afterUpdate(
                old: old, new: object, sent: sent, writer: writer, schema: applySchema(req.info))
            let errors = ManagedFields.errors(object[path: "metadata", "managedFields"])
            if !errors.isEmpty { throw APIError.invalid(req.info, name: name, errors) }
        } else if let old {
            object[path: "metadata", "managedFields"] = old[path: "metadata", "managedFields"]
        }
    }

    /// An apply configuration names exactly the resource's group, version and kind (kube's wording of the 400).
    func checkApplyTypeMeta(_ info: ResourceInfo, _ body: JSON) throws(APIError) {
        let av = body["apiVersion"]?.stringValue ?? ""
        let k = body["kind"]?.stringValue ?? ""
        guard av != info.groupVersion || k != info.kind else { return }
        let gv = av.contains("/") ? av : "/" + av
        throw APIError.badRequest("invalid object type: \(gv), Kind=\(k)")
    }

    /// Shared update rules for PUT and PATCH on the main resource and `/status`.
    mutating func write(_ req: ResourceRequest, name: String, old: JSON, incoming: JSON, applied: ManagedFields.Applied? = nil) throws(APIError)
        -> (Int, JSON)
    {
        var incoming = incoming
        try BuiltinFieldValidation.apply(&incoming, req)
        let info = req.info
        let strategy = info.strategy
        let sentManagedFields = incoming[path: "metadata", "managedFields"]
        var new: JSON
        if req.subresource == "status" {
            new = strategy.prepareForStatusUpdate(incoming: incoming, old: old, info: info)
            try applySchema(req, &new, name: name, old: old)
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
            strategy.prepareForUpdate(&new, old: old, info: info)
            new["apiVersion"] = old["apiVersion"]
            new["kind"] = .string(info.kind)
            try applySchema(req, &new, name: name, old: old)
            try strategy.validateUpdate(&new, old: old, info: info, name: name, state: self)
        }
        if info.tracksGeneration && req.subresource == nil,
            Self.withoutMetadata(old, dropStatus: info.hasStatus) != Self.withoutMetadata(new, dropStatus: info.hasStatus)
        {
            new[path: "metadata", "generation"] = .int(Int64((old[path: "metadata", "generation"]?.intValue ?? 0) + 1))
        }
        new[path: "metadata", "resourceVersion"] = old[path: "metadata", "resourceVersion"]
        try recordManagedFields(&new, old: old, sent: sentManagedFields, applied: applied, req, name: name)
        // No-op writes do not bump resourceVersion or emit events.
        if new == old { return (200, old) }
        if req.dryRun { return (200, new) }
        let key = Self.objectKey(req.namespace, name)
        if new[path: "metadata", "deletionTimestamp"] != nil && Self.finalizers(new).isEmpty
            && (new[path: "metadata", "deletionGracePeriodSeconds"]?.intValue ?? 0) == 0
        {
            let removed = commit(storageKey: info.storageKey, key: key, object: new, type: .deleted, old: old)
            strategy.afterRemove(removed, info: info, state: &self)
            return (200, removed)
        }
        let stored = commit(storageKey: info.storageKey, key: key, object: new, type: .modified, old: old)
        strategy.afterUpdate(stored, name: name, info: info, state: &self)
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
            opts.orphanDependents = query["orphanDependents"].flatMap(parseGoBool)
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
                    FieldError.notSupported("propagationPolicy", .string(p), ["Foreground", "Background", "Orphan", "nil"])
                )
            }
        }
        for d in dryRunValues where d != "All" {
            errors.append(FieldError.notSupported("dryRun", FieldBadValue(.array(dryRunValues.map(JSON.string))), ["All"]))
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
        if let answer = try info.strategy.delete(name: name, old: old, dryRun: options.dryRun, info: info, state: &self) {
            return (200, answer)
        }
        let dryRun = options.dryRun || req.dryRun
        let result = deleteObject(info, key: Self.objectKey(req.namespace, name), old: old, dryRun: dryRun)
        if let kept = result { return (options.orphanDependents == false ? 202 : 200, kept) }
        var details = APIError.resourceDetails(name, group: info.group, resource: info.plural)
        details["uid"] = .string(oldUID)
        return (200, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "details": details])
    }

    /// Per-object deletion, by the kind's strategy. Returns the object when it stays (finalizers
    /// pending), nil when it was removed.
    mutating func deleteObject(_ info: ResourceInfo, key: String, old: JSON, dryRun: Bool) -> JSON? {
        info.strategy.deleteObject(key: key, old: old, dryRun: dryRun, info: info, state: &self)
    }

    /// The generic deletion: removed at once without finalizers, else marked with a
    /// deletionTimestamp and kept until the finalizers are gone.
    mutating func deleteWithFinalizers(_ info: ResourceInfo, key: String, old: JSON, dryRun: Bool) -> JSON? {
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

    /// Hooks after an object disappeared (the kind's strategy: CRD unregistration, namespace and
    /// CRD finalization).
    mutating func didRemove(_ info: ResourceInfo, _ removed: JSON) {
        info.strategy.afterRemove(removed, info: info, state: &self)
    }

    /// A removed object may have been the last content of its terminating namespace.
    mutating func finalizeNamespaceIfTerminating(of removed: JSON) {
        let ns = removed[path: "metadata", "namespace"]?.stringValue ?? ""
        if !ns.isEmpty, namespaceObject(ns)?[path: "metadata", "deletionTimestamp"] != nil { tryFinalizeNamespace(ns) }
    }
}
