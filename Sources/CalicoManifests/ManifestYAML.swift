import KubeCore

/// Multi-document YAML of rendered objects. The emitter is `KubeCore.YAMLWriter` (the project's
/// single YAML emitter); this only adds the per-entry byte cache: static objects carry their
/// pre-serialized bytes (`ManifestEntry.yaml`) and are copied, not re-emitted.
enum ManifestYAML {
    static let writer = YAMLWriter()

    /// The stream of `entries` in one buffer: cached documents are copied, the others emitted.
    static func streamBytes(_ entries: [ManifestEntry]) -> [UInt8] {
        var documents: [YAMLWriter.StreamDocument] = []
        documents.reserveCapacity(entries.count)
        // Room for the cached documents plus the emitted ones (the calico-node DaemonSet alone
        // is ~10 KiB), so the buffer is not regrown and copied.
        var capacity = 40 * 1024
        for entry in entries {
            if let cached = entry.yaml {
                documents.append(.bytes(cached))
                capacity += cached.count + 4
            } else {
                documents.append(.value(entry.json))
            }
        }
        return writer.streamBytes(documents, reservingCapacity: capacity)
    }

    /// One document (no `---`), as `YAMLWriter().documentBytes` writes it.
    static func document(_ value: JSON) -> [UInt8] { writer.documentBytes(value) }
}

/// One rendered object with its sort key and, for static objects, its YAML bytes.
struct ManifestEntry: Sendable {
    var json: JSON
    var sortKey: SortKey
    var yaml: [UInt8]?

    /// (apiVersion, kind, namespace, name), compared field by field: the order of the former
    /// joined `apiVersion\u{1}kind\u{1}namespace\u{1}name` string, without building it.
    struct SortKey: Sendable, Comparable {
        var apiVersion: String
        var kind: String
        var namespace: String
        var name: String

        static func < (a: SortKey, b: SortKey) -> Bool {
            if a.apiVersion != b.apiVersion { return a.apiVersion < b.apiVersion }
            if a.kind != b.kind { return a.kind < b.kind }
            if a.namespace != b.namespace { return a.namespace < b.namespace }
            return a.name < b.name
        }
    }

    init(_ json: JSON, cacheYAML: Bool = false) {
        self.json = json
        let meta = json["metadata"]
        sortKey = SortKey(
            apiVersion: json["apiVersion"]?.stringValue ?? "", kind: json["kind"]?.stringValue ?? "",
            namespace: meta?["namespace"]?.stringValue ?? "", name: meta?["name"]?.stringValue ?? "")
        yaml = cacheYAML ? ManifestYAML.document(json) : nil
    }

    init(json: JSON, yaml: [UInt8]) {
        self.init(json)
        self.yaml = yaml
    }
}
