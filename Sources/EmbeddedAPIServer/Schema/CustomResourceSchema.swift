import KubeCore

/// The schema of one served CRD version, parsed when the CRD is stored (kept in its
/// ``ResourceInfo``; never per request). Compared by identity: a stored CRD gets new ones.
/// See docs/local.md, "Custom resource schemas".
final class CustomResourceSchema: Sendable, Equatable {
    let root: StructuralSchema
    /// What the schema asks for that is not enforced (warned about when the CRD is written).
    let findings: StructuralSchema.Findings

    /// The schema of `version` (an entry of a CRD's `spec.versions`, at `index`), nil without one.
    init?(version: JSON, index: Int) {
        guard let json = version[path: "schema", "openAPIV3Schema"], json.objectValue != nil else { return nil }
        var findings = StructuralSchema.Findings()
        root = StructuralSchema(json, path: "spec.versions[\(index)].schema.openAPIV3Schema", findings: &findings)
        self.findings = findings
    }

    static func == (a: CustomResourceSchema, b: CustomResourceSchema) -> Bool { a === b }

    /// The warnings for a CRD whose schemas ask for what this server does not enforce.
    static func crdWarnings(_ crd: JSON) -> [String] {
        var cel: [String] = []
        var other: [String] = []
        for (i, v) in (crd[path: "spec", "versions"]?.arrayValue ?? []).enumerated() {
            guard let s = CustomResourceSchema(version: v, index: i) else { continue }
            cel += s.findings.cel
            other += s.findings.unenforced
        }
        var out: [String] = []
        if !cel.isEmpty {
            out.append(
                "this API server does not evaluate CEL rules: the x-kubernetes-validations at \(cel.joined(separator: ", ")) are not enforced")
        }
        if !other.isEmpty {
            out.append("this API server does not enforce these schema rules: \(other.joined(separator: ", "))")
        }
        return out
    }
}

/// How unknown and duplicate fields of a write are treated (`fieldValidation` query parameter).
enum FieldValidationMode {
    case ignore, warn, strict

    /// The mode of a request (kube-apiserver's default: Warn); the value was checked by the router.
    init(_ query: [String: String]) {
        switch query["fieldValidation"] {
        case "Ignore": self = .ignore
        case "Strict": self = .strict
        default: self = .warn
        }
    }
}

extension StoreState {
    /// The schema work on a write, called by create and update (also for `/status`; `old` is the
    /// stored object then) before the kind's own validation: for a custom resource with a schema, pruning (unknown fields
    /// reported as `fieldValidation` asks), defaults and validation (422 Invalid); for a CRD,
    /// warnings about rules it has that this server does not enforce.
    func applySchema(_ req: ResourceRequest, _ obj: inout JSON, name: String, old: JSON? = nil) throws(APIError) {
        let info = req.info
        if info.behavior == .crd {
            if req.subresource == nil { for w in CustomResourceSchema.crdWarnings(obj) { req.warnings.add(w) } }
            return
        }
        guard let schema = info.schema?.root else { return }
        let mode = FieldValidationMode(req.query)
        var unknown: [String]? = mode == .ignore ? nil : []
        SchemaPruning.prune(&obj, schema, unknown: &unknown)
        if mode != .ignore {
            let problems = (unknown ?? []).map { "unknown field \"\($0)\"" } + req.duplicateFields.map { "duplicate field \"\($0)\"" }
            if !problems.isEmpty {
                if mode == .strict { throw APIError.badRequest("strict decoding error: " + problems.joined(separator: ", ")) }
                for p in problems { req.warnings.add(p) }
            }
        }
        SchemaPruning.applyDefaults(&obj, schema)
        let errors = SchemaValidator.errors(obj, schema, old: old)
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }

    /// Defaults of a CRD's storage version applied to its stored objects when the CRD is
    /// stored (or loaded): objects written before a default existed read with it, as
    /// kube-apiserver defaults what it reads from etcd. The objects keep their
    /// resourceVersion; no event is sent and nothing is written to the log.
    mutating func applyReadDefaults(_ crd: JSON) {
        guard let group = crd[path: "spec", "group"]?.stringValue, let plural = crd[path: "spec", "names", "plural"]?.stringValue else { return }
        let versions = crd[path: "spec", "versions"]?.arrayValue ?? []
        guard let storage = versions.firstIndex(where: { $0["storage"]?.boolValue == true }),
            let schema = CustomResourceSchema(version: versions[storage], index: storage), schema.root.hasDefaults
        else { return }
        let key = "\(group)/\(plural)"
        var changed: [(String, JSON)] = []
        for (k, obj) in collections[key] ?? [:] {
            if let d = SchemaPruning.defaulted(obj, schema.root) { changed.append((k, d)) }
        }
        for (k, obj) in changed { collections[key]?[k] = obj }
    }
}
