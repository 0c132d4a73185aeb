/// `JSON` can be embedded in `Codable` models (e.g. a raw `providerConfig`). Object member order
/// is not preserved through `Codable`; use `JSON.parse` where order matters.
extension JSON: Codable {
    /// Decodes any JSON value through `Codable` (for embedding in Codable types).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
            return
        }
        if let b = try? container.decode(Bool.self) {
            self = .bool(b)
            return
        }
        if let i = try? container.decode(Int64.self) {
            self = .int(i)
            return
        }
        if let d = try? container.decode(Double.self) {
            self = .double(d)
            return
        }
        if let s = try? container.decode(String.self) {
            self = .string(s)
            return
        }
        if let a = try? container.decode([JSON].self) {
            self = .array(a)
            return
        }
        if let o = try? container.decode([String: JSON].self) {
            var object = JSONObject(minimumCapacity: o.count)
            for key in o.keys.sorted() { object[key] = o[key] }
            self = .object(object)
            return
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }

    /// Encodes the value through `Codable`, members in order.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o):
            var dict: [String: JSON] = [:]
            for (k, v) in o { dict[k] = v }
            try container.encode(dict)
        }
    }
}
