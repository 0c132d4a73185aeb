import Foundation
import KubeCore

/// One `metadata.managedFields` entry: a manager's fields for one operation and subresource.
struct ManagedFieldsEntry: Sendable {
    var manager: String
    var operation: String
    var apiVersion: String
    var time: String?
    var subresource: String
    var fields: FieldSet
    /// The entry as stored, reused while nothing of it changed.
    var stored: JSON?

    /// kube's manager identity: appliers are one manager across API versions, updaters one per version.
    var identity: String { "\(manager)\u{0}\(operation)\u{0}\(operation == "Apply" ? "" : apiVersion)\u{0}\(subresource)" }

    init(manager: String, operation: String, apiVersion: String, time: String?, subresource: String, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    /// Reads a stored entry; nil when it is malformed.
    init?(_ json: JSON) {
        guard case .object(let o) = json else { return nil }
        manager = o["manager"]?.stringValue ?? ""
        operation = o["operation"]?.stringValue ?? ""
        apiVersion = o["apiVersion"]?.stringValue ?? ""
        time = o["time"]?.stringValue
        subresource = o["subresource"]?.stringValue ?? ""
        guard let f = FieldSet(fieldsV1: o["fieldsV1"] ?? .emptyObject) else { return nil }
        fields = f
        stored = json
    }

    /// The entry as kube writes it (members in kube's order).
    var json: JSON {
        if let stored { return stored }
        var o: JSONObject = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion)]
        if let time { o["time"] = .string(time) }
        o["fieldsType"] = "FieldsV1"
        o["fieldsV1"] = fields.fieldsV1
        if !subresource.isEmpty { o["subresource"] = .string(subresource) }
        return .object(o)
    }

    /// Changes the fields (the stored form is rewritten).
    mutating func setFields(_ f: FieldSet) {
        guard f != fields else { return }
        fields = f
        stored = nil
    }

    mutating func setTime(_ t: String) {
        guard t != time else { return }
        time = t
        stored = nil
    }

    /// kube's conflict wording of a manager: `"name"`, `with subresource "status"`, `using v1` for updaters.
    var described: String {
        var s = "\"\(manager)\""
        if !subresource.isEmpty { s += " with subresource \"\(subresource)\"" }
        if operation == "Update" { s += " using \(apiVersion)" }
        return s
    }
}

/// Field ownership on writes, as kube-apiserver's field manager keeps it in `metadata.managedFields`.
enum ManagedFields {
    /// Who writes and how: from the request's `fieldManager` (or User-Agent) and (sub)resource.
    struct Writer: Sendable {
        var manager: String
        var apiVersion: String
        var subresource: String
    }

    /// Parses stored entries; nil when the value is not a list of valid entries.
    static func decode(_ json: JSON?) -> [ManagedFieldsEntry]? {
        guard let list = json?.arrayValue else { return nil }
        var out: [ManagedFieldsEntry] = []
        for item in list {
            guard let e = ManagedFieldsEntry(item) else { return nil }
            out.append(e)
        }
        return out
    }

    /// kube's checks of the entries a client sent (after the writer's own entry was merged in).
    static func errors(_ json: JSON?) -> [FieldError] {
        var out: [FieldError] = []
        for (i, e) in (json?.arrayValue ?? []).enumerated() {
            let path = "metadata.managedFields[\(i)]"
            let operation = e["operation"]?.stringValue ?? ""
            if operation != "Apply" && operation != "Update" {
                out.append(FieldError(.invalid, "\(path).operation", .string(operation), "must be `Apply` or `Update`"))
            }
            if let t = e["fieldsType"]?.stringValue, !t.isEmpty, t != "FieldsV1" {
                out.append(FieldError(.invalid, "\(path).fieldsType", .string(t), "must be `FieldsV1`"))
            }
        }
        return out
    }

    /// The stored form: entries sorted as kube sorts them (operation, time, manager, version, subresource); nil when none.
    static func encode(_ entries: [ManagedFieldsEntry]) -> JSON? {
        if entries.isEmpty { return nil }
        let sorted = entries.sorted { p, q in
            if p.operation != q.operation { return p.operation < q.operation }
            if (p.time ?? "") != (q.time ?? "") { return (p.time ?? "") < (q.time ?? "") }
            if p.manager != q.manager { return p.manager < q.manager }
            if p.apiVersion != q.apiVersion { return p.apiVersion < q.apiVersion }
            return p.subresource < q.subresource
        }
        return .array(sorted.map(\.json))
    }

    /// At most this many Update entries are kept; older ones merge into `ancient-changes`.
    static let maxUpdateManagers = 10

    /// kube's cap on Update entries: the oldest merge into one `ancient-changes` entry per API version.
    static func capped(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        let updaters = entries.filter { $0.operation == "Update" }
        guard updaters.count > maxUpdateManagers else { return entries }
        var out = entries
        var length = updaters.count
        for oldest in updaters.sorted(by: { ($0.time ?? "") < ($1.time ?? "") }) where length > maxUpdateManagers {
            if oldest.manager == "ancient-changes" { continue }
            let bucket = ManagedFieldsEntry(
                manager: "ancient-changes", operation: "Update", apiVersion: oldest.apiVersion, time: oldest.time, subresource: "",
                fields: oldest.fields)
            if let i = out.firstIndex(where: { $0.identity == bucket.identity }) {
                out[i].setFields(out[i].fields.union(oldest.fields))
                if let t = oldest.time, t > (out[i].time ?? "") { out[i].setTime(t) }
            } else {
                out.append(bucket)
                length += 1
            }
            out.removeAll { $0.identity == oldest.identity }
            length -= 1
        }
        return out
    }

    /// The default manager name of a request without `fieldManager`: the User-Agent up to its first `/`,
    /// printable characters only, at most 128 bytes (e.g. `kubectl`, `OpenAPI-Generator`).
    static func manager(fromUserAgent agent: String) -> String {
        var out = ""
        for scalar in (agent.split(separator: "/", omittingEmptySubsequences: false).first ?? "").unicodeScalars {
            if scalar.value < 32 || scalar.value == 127 || (scalar.properties.generalCategory == .format) { continue }
            if out.utf8.count + String(scalar).utf8.count > 128 { break }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// The time of a manager's entry: the current second (see ``ServerClock``).
    static func now() -> String { ServerClock.now() }

    // MARK: update (create, update, non-apply patch)

    /// The managed fields after an Update operation (create, update or a non-apply patch).
    ///
    /// The writer takes the fields it added or changed (from every other manager), fields the write
    /// removed leave every manager, empty entries go. Managed fields sent by the client replace the
    /// stored ones (kube's rules: an empty list keeps them, `[{}]` clears them); `/status` writes
    /// keep the stored ones. Returns `old`'s list unchanged when the write changed no field.
    static func afterUpdate(
        old: JSON?, new: JSON, sent: JSON?, writer: Writer, schema: ApplySchema
    ) -> JSON? {
        let stored = old?[path: "metadata", "managedFields"]
        var base = stored
        var baseEntries: [ManagedFieldsEntry]?
        if writer.subresource.isEmpty, let sent, sent != stored, let decoded = decode(sent), !decoded.isEmpty {
            base = sent
            baseEntries = decoded
        }
        // The comparison leaves out server metadata, managedFields included: no copies needed.
        let c = Structured.compare(old ?? .emptyObject, new, schema: schema)
        // Cheap path: nothing changed and the client sent nothing new.
        if c.isEmpty && baseEntries == nil { return stored }
        var entries = baseEntries ?? decode(base) ?? []
        let changed = c.added.union(c.modified)
        for i in entries.indices {
            entries[i].setFields(entries[i].fields.subtracting(changed).subtracting(c.removed))
        }
        entries.removeAll { $0.fields.isEmpty }
        if !changed.isEmpty {
            let time = now()
            let entry = ManagedFieldsEntry(
                manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, time: time, subresource: writer.subresource,
                fields: changed)
            if let i = entries.firstIndex(where: { $0.identity == entry.identity }) {
                entries[i].setFields(entries[i].fields.union(changed))
                entries[i].setTime(time)
            } else {
                entries.append(entry)
            }
        }
        return encode(capped(entries))
    }

    // MARK: apply

    /// The result of an apply: the merged object (without managed fields) and the new entries.
    struct Applied {
        var object: JSON
        var managedFields: JSON?
    }

    /// Server-side apply of `config` to `live` (an empty object when creating): merges by schema,
    /// removes fields the manager applied before and no longer applies (unless another manager
    /// owns them), and fails with a 409 naming every conflicting manager and field unless `force`.
    static func apply(
        live: JSON, config: JSON, writer: Writer, force: Bool, schema: ApplySchema
    ) throws(APIError) -> Applied {
        var liveObject = live
        let liveManaged = live[path: "metadata", "managedFields"]
        liveObject[path: "metadata", "managedFields"] = nil
        var entries = decode(liveManaged) ?? []
        let configSet = Structured.fieldSet(of: config, schema: schema)
        let applier = ManagedFieldsEntry(
            manager: writer.manager, operation: "Apply", apiVersion: writer.apiVersion, time: nil, subresource: writer.subresource,
            fields: configSet)
        var previous: FieldSet?
        if let i = entries.firstIndex(where: { $0.identity == applier.identity }) {
            previous = entries[i].fields
            if entries[i].apiVersion != writer.apiVersion {
                entries[i].apiVersion = writer.apiVersion
                entries[i].stored = nil
            }
            entries[i].setFields(configSet)
        } else {
            entries.append(applier)
        }
        var merged = Structured.merge(liveObject, config, schema: schema)
        if let previous, !previous.isEmpty {
            let owned = entries.reduce(FieldSet()) { $0.union($1.fields) }
            merged = Structured.prune(merged, previous: previous, owned: owned, schema: schema)
        }
        let c = Structured.compare(liveObject, merged, schema: schema)
        let changed = c.added.union(c.modified)
        var conflicts: [(manager: String, path: [String])] = []
        for e in entries where e.identity != applier.identity {
            for path in e.fields.intersection(changed).paths() { conflicts.append((e.described, path)) }
        }
        if !conflicts.isEmpty && !force && writer.manager == Self.kubectlManager, let allowed = allowedByLastApplied(liveObject, schema) {
            // kubectl's upgrade from client-side apply: fields whose live value is still what the
            // last client-side apply set may be taken over.
            conflicts.removeAll { allowed.contains($0.path[...]) }
        }
        if !conflicts.isEmpty && !force { throw conflictError(conflicts) }
        for i in entries.indices where entries[i].identity != applier.identity {
            entries[i].setFields(entries[i].fields.subtracting(changed).subtracting(c.removed))
        }
        entries.removeAll { $0.fields.isEmpty }
        if let i = entries.firstIndex(where: { $0.identity == applier.identity }), !c.isEmpty || entries[i].time == nil {
            entries[i].setTime(now())
        }
        if writer.manager == Self.kubectlManager, merged[path: "metadata", "annotations", Self.lastAppliedAnnotation] != nil {
            // kubectl's server-side apply keeps a client-side apply annotation in sync.
            var last = config
            last[path: "metadata", "annotations", Self.lastAppliedAnnotation] = nil
            if last[path: "metadata", "annotations"]?.objectValue?.isEmpty == true { last[path: "metadata", "annotations"] = nil }
            merged[path: "metadata", "annotations", Self.lastAppliedAnnotation] = .string(
                last.serializedString(JSONWriteOptions(sortedKeys: true)) + "\n")
        }
        return Applied(object: merged, managedFields: encode(capped(entries)))
    }

    /// The manager `kubectl apply --server-side` uses by default.
    static let kubectlManager = "kubectl"
    static let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

    /// The fields of the client-side apply annotation whose live value is unchanged since.
    static func allowedByLastApplied(_ live: JSON, _ schema: ApplySchema) -> FieldSet? {
        guard let text = live[path: "metadata", "annotations", lastAppliedAnnotation]?.stringValue,
            let last = try? JSON.parse(Array(text.utf8)), last.objectValue != nil
        else { return nil }
        return Structured.fieldSet(of: last, schema: schema).subtracting(Structured.compare(last, live, schema: schema).modified)
    }

    /// kube's 409 for apply conflicts: one cause per field, the message grouped by manager.
    static func conflictError(_ conflicts: [(manager: String, path: [String])]) -> APIError {
        let causes: [JSON] = conflicts.map {
            ["type": "FieldManagerConflict", "message": .string("conflict with \($0.manager)"), "field": .string(FieldSet.describe($0.path))]
        }
        let message: String
        if conflicts.count == 1, let only = conflicts.first {
            message = "Apply failed with 1 conflict: conflict with \(only.manager): \(FieldSet.describe(only.path))"
        } else {
            var lines: [String] = []
            var managers: [String] = []
            for c in conflicts where !managers.contains(c.manager) { managers.append(c.manager) }
            for m in managers.sorted() {
                lines.append("conflicts with \(m):")
                for c in conflicts where c.manager == m { lines.append("- \(FieldSet.describe(c.path))") }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }
}
