import Foundation
import KubeCore
import Synchronization

/// One node of a CRD version's `openAPIV3Schema`, parsed once when the CRD is stored (see
/// ``CustomResourceSchema``) so that writes only walk it: types, bounds and lengths as numbers,
/// `pattern` compiled, the child schemas as nodes. Immutable and shared between requests.
/// See docs/local.md, "Custom resource schemas".
final class StructuralSchema: Sendable {
    /// The JSON types of `type`.
    enum ValueType: String, Sendable {
        case object, array, string, integer, number, boolean
    }

    let type: ValueType?
    let properties: [String: StructuralSchema]
    /// The `additionalProperties` schema (a map's values).
    let additionalProperties: StructuralSchema?
    /// `additionalProperties: true`: any other key is kept as is.
    let additionalPropertiesAllowed: Bool
    let items: StructuralSchema?
    let required: [String]
    let enumValues: [JSON]?
    let patternText: String?
    /// Compiled once; ICU syntax is close enough to the ECMA/RE2 patterns CRDs use.
    let pattern: NSRegularExpression?
    let format: String?
    let minimum: JSON?
    let maximum: JSON?
    let exclusiveMinimum: Bool
    let exclusiveMaximum: Bool
    let multipleOf: JSON?
    let minLength: Int?
    let maxLength: Int?
    let minItems: Int?
    let maxItems: Int?
    let minProperties: Int?
    let maxProperties: Int?
    let uniqueItems: Bool
    let nullable: Bool
    let preserveUnknownFields: Bool
    let embeddedResource: Bool
    let intOrString: Bool
    /// `x-kubernetes-list-type` (`atomic`, `set`, `map`).
    let listType: String?
    let listMapKeys: [String]
    let defaultValue: JSON?
    /// Whether this node or one below has a `default` (defaulting skips subtrees without one).
    let hasDefaults: Bool
    /// Whether this node checks anything about a value beyond its type and children (skips work).
    let hasValueChecks: Bool
    /// Value validations combined as JSON Schema's `allOf`, `anyOf`, `oneOf` and `not`.
    let allOf: [StructuralSchema]
    let anyOf: [StructuralSchema]
    let oneOf: [StructuralSchema]
    let not: StructuralSchema?
    var hasJunctors: Bool { !allOf.isEmpty || !anyOf.isEmpty || !oneOf.isEmpty || not != nil }

    /// Parses a schema node and everything below it. `path` is where it sits in the CRD (for
    /// ``Findings``), `findings` collects what this server does not enforce.
    init(_ json: JSON, path: String, findings: inout Findings) {
        let o = json.objectValue ?? [:]
        type = o["type"]?.stringValue.flatMap(ValueType.init(rawValue:))
        var props: [String: StructuralSchema] = [:]
        var defaults = o["default"] != nil
        for (name, sub) in o["properties"]?.objectValue ?? [:] {
            let node = StructuralSchema(sub, path: "\(path).properties[\(name)]", findings: &findings)
            props[name] = node
            defaults = defaults || node.hasDefaults
        }
        properties = props
        switch o["additionalProperties"] {
        case .object(let sub)?:
            let node = StructuralSchema(.object(sub), path: "\(path).additionalProperties", findings: &findings)
            additionalProperties = node
            additionalPropertiesAllowed = true
            defaults = defaults || node.hasDefaults
        case .bool(let allowed)?:
            additionalProperties = nil
            additionalPropertiesAllowed = allowed
        default:
            additionalProperties = nil
            additionalPropertiesAllowed = false
        }
        if let sub = o["items"], sub.objectValue != nil {
            let node = StructuralSchema(sub, path: "\(path).items", findings: &findings)
            items = node
            defaults = defaults || node.hasDefaults
        } else {
            items = nil
        }
        hasDefaults = defaults
        required = o["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        enumValues = o["enum"]?.arrayValue
        patternText = o["pattern"]?.stringValue
        if let p = patternText {
            if let compiled = StructuralSchema.patternCache.compiled(p) {
                pattern = compiled
            } else {
                pattern = nil
                findings.unenforced.append("\(path).pattern (not a valid regular expression here)")
            }
        } else {
            pattern = nil
        }
        format = o["format"]?.stringValue
        minimum = o["minimum"]
        maximum = o["maximum"]
        exclusiveMinimum = o["exclusiveMinimum"]?.boolValue ?? false
        exclusiveMaximum = o["exclusiveMaximum"]?.boolValue ?? false
        multipleOf = o["multipleOf"]
        minLength = o["minLength"]?.intValue
        maxLength = o["maxLength"]?.intValue
        minItems = o["minItems"]?.intValue
        maxItems = o["maxItems"]?.intValue
        minProperties = o["minProperties"]?.intValue
        maxProperties = o["maxProperties"]?.intValue
        uniqueItems = o["uniqueItems"]?.boolValue ?? false
        nullable = o["nullable"]?.boolValue ?? false
        preserveUnknownFields = o["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false
        embeddedResource = o["x-kubernetes-embedded-resource"]?.boolValue ?? false
        intOrString = o["x-kubernetes-int-or-string"]?.boolValue ?? false
        listType = o["x-kubernetes-list-type"]?.stringValue
        listMapKeys = o["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        defaultValue = o["default"]
        hasValueChecks =
            enumValues != nil || patternText != nil || format != nil || minimum != nil || maximum != nil || multipleOf != nil
            || minLength != nil || maxLength != nil || minItems != nil || maxItems != nil || minProperties != nil || maxProperties != nil
            || uniqueItems || !required.isEmpty || embeddedResource || listType == "set" || listType == "map"
        if let rules = o["x-kubernetes-validations"]?.arrayValue, !rules.isEmpty { findings.cel.append("\(path).x-kubernetes-validations") }
        func list(_ keyword: String) -> [StructuralSchema] {
            (o[keyword]?.arrayValue ?? []).enumerated().map { i, sub in
                StructuralSchema(sub, path: "\(path).\(keyword)[\(i)]", findings: &findings)
            }
        }
        allOf = list("allOf")
        anyOf = list("anyOf")
        oneOf = list("oneOf")
        not = o["not"].flatMap { $0.objectValue != nil ? StructuralSchema($0, path: "\(path).not", findings: &findings) : nil }
    }

    /// What a schema asks for that this server does not enforce, by path in the CRD; each
    /// becomes a warning when the CRD is written (nothing is ignored silently).
    struct Findings: Sendable {
        /// Places of CEL `x-kubernetes-validations` rules.
        var cel: [String] = []
        /// Other rules not enforced (patterns ICU cannot compile).
        var unenforced: [String] = []
    }

    /// Compiled patterns shared by all schemas (the same pattern in several CRDs or versions, or
    /// in a CRD stored again, is compiled once).
    static let patternCache = PatternCache()

    /// A cache of compiled regular expressions by their source (`nil` for a pattern that does not compile).
    final class PatternCache: Sendable {
        private let cache = Mutex<[String: NSRegularExpression?]>([:])

        func compiled(_ pattern: String) -> NSRegularExpression? {
            if let hit = cache.withLock({ $0[pattern] }) { return hit }
            let regex = try? NSRegularExpression(pattern: pattern)
            cache.withLock { $0[pattern] = .some(regex) }
            return regex
        }
    }
}
