import Foundation
import KubeCore

/// Secrets: `stringData` folded into base64 `data`, type `Opaque` by default, config-key and
/// base64 checks, an immutable type, and immutable data once `immutable` is set.
struct SecretStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(&object, old: nil, info: info, name: name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(&object, old: old, info: info, name: name)
    }

    static func rules(_ obj: inout JSON, old: JSON?, info: ResourceInfo, name: String) throws(APIError) {
        if let sd = obj["stringData"], !sd.isNull {
            guard let o = sd.objectValue else {
                throw APIError.invalid(info, name: name, [FieldError(.invalid, "stringData", sd, "must be a map of strings")])
            }
            for (k, v) in o {
                guard let s = v.stringValue else {
                    throw APIError.invalid(info, name: name, [FieldError(.invalid, "stringData[\(k)]", v, "must be a string")])
                }
                obj[path: "data", k] = .string(Base64.encode(Array(s.utf8)))
            }
        }
        obj["stringData"] = nil
        if obj["type"]?.stringValue?.isEmpty ?? true { obj["type"] = "Opaque" }
        var errors: [FieldError] = []
        if let data = obj["data"], !data.isNull {
            if let o = data.objectValue {
                for (k, v) in o {
                    if !ConfigData.isConfigKey(k) { errors.append(ConfigData.keyError(k)) }
                    guard let s = v.stringValue, Base64.decode(s) != nil else {
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
            try ConfigData.immutability(info, obj, old: old, name: name, fields: ["data"])
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
    }
}

/// ConfigMaps: config-key names, string `data`, base64 `binaryData`, and immutable content once
/// `immutable` is set.
struct ConfigMapStrategy: ResourceStrategy {
    var acceptsProtobuf: Bool { true }

    func validateCreate(_ object: inout JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(object, old: nil, info: info, name: name)
    }

    func validateUpdate(_ object: inout JSON, old: JSON, info: ResourceInfo, name: String, state: StoreState) throws(APIError) {
        try Self.rules(object, old: old, info: info, name: name)
    }

    static func rules(_ obj: JSON, old: JSON?, info: ResourceInfo, name: String) throws(APIError) {
        var errors: [FieldError] = []
        if let data = obj["data"], !data.isNull {
            if let o = data.objectValue {
                for (k, v) in o {
                    if !ConfigData.isConfigKey(k) { errors.append(ConfigData.keyError(k)) }
                    if v.stringValue == nil { errors.append(FieldError(.invalid, "data[\(k)]", v, "must be a string")) }
                }
            } else {
                errors.append(FieldError(.invalid, "data", data, "must be a map of strings"))
            }
        }
        if let bd = obj["binaryData"]?.objectValue {
            for (k, v) in bd where v.stringValue.flatMap(Base64.decode) == nil {
                errors.append(FieldError(.invalid, "binaryData[\(k)]", v, "must be a base64-encoded string"))
            }
        }
        if !errors.isEmpty { throw APIError.invalid(info, name: name, errors) }
        if let old { try ConfigData.immutability(info, obj, old: old, name: name, fields: ["data", "binaryData"]) }
    }
}

/// Rules that Secrets and ConfigMaps share.
enum ConfigData {
    static func isConfigKey(_ k: String) -> Bool {
        // Alphanumerics, '-', '_' and '.'.
        !k.isEmpty && k.utf8.count <= 253 && k != "." && k != ".."
            && k.utf8.allSatisfy { NameValidation.isAlphanumeric($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// The error of a data key that is not a valid config key.
    static func keyError(_ k: String) -> FieldError {
        FieldError(
            .invalid, "data[\(k)]", .string(k),
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        )
    }

    /// With `immutable: true` on the old object, `fields` and the flag itself may not change.
    static func immutability(_ info: ResourceInfo, _ obj: JSON, old: JSON, name: String, fields: [String]) throws(APIError) {
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
}
