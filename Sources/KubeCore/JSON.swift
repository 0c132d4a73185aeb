import Collections

/// An object's members in insertion order. Order is kept so that rendered manifests and
/// round-tripped objects are deterministic; equality and hashing ignore it.
public typealias JSONObject = OrderedDictionary<String, JSON>

/// A JSON value as Kubernetes objects use it: ordered objects, integers kept apart from
/// floating-point numbers (a port `9091` must never become `9091.0`).
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

// MARK: - Equality and hashing (object member order is irrelevant, 1 == 1.0)

extension JSON: Equatable {
    /// Structural equality: member order is ignored and `1 == 1.0`.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let other = b[key], other == value else { return false }
            }
            return true
        default: return false
        }
    }
}

extension JSON: Hashable {
    /// Hashes consistently with `==` (member order does not matter).
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b):
            hasher.combine(1)
            hasher.combine(b)
        case .int(let i):
            hasher.combine(2)
            hasher.combine(Double(i))
        case .double(let d):
            hasher.combine(2)
            hasher.combine(d)
        case .string(let s):
            hasher.combine(3)
            hasher.combine(s)
        case .array(let a):
            hasher.combine(4)
            hasher.combine(a)
        case .object(let o):
            hasher.combine(5)
            hasher.combine(o.count)
            // Order-independent: sum of per-member hashes.
            var sum = 0
            for (key, value) in o {
                var h = Hasher()
                h.combine(key)
                h.combine(value)
                sum = sum &+ h.finalize()
            }
            hasher.combine(sum)
        }
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// `nil` in a literal is JSON `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal (kept an integer, never a double).
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// A dictionary literal: an object with the members in written order.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var object = JSONObject(minimumCapacity: elements.count)
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

// MARK: - Typed access

extension JSON {
    /// The string, if this is a string.
    @inlinable public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    /// The integer, if this is an integer (or a float with an integral value).
    @inlinable public var intValue: Int? {
        switch self {
        case .int(let i): return Int(exactly: i)
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }
    /// The number as a double, if this is a number.
    @inlinable public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    /// The Boolean, if this is a Boolean.
    @inlinable public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    /// The elements, if this is an array.
    @inlinable public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    /// The members, if this is an object.
    @inlinable public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
    /// Whether the value is `null`.
    @inlinable public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
    /// Whether the value is an object.
    @inlinable public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// A name for the kind of value, for error messages ("string", "object", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Member access on objects. Reading a missing member or reading from a non-object gives
    /// `nil`; writing to `.null` turns it into an object; writing `nil` removes the member.
    public subscript(key: String) -> JSON? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            switch self {
            case .object(var o):
                self = .null  // release the storage so the mutation below is in place
                o[key] = newValue
                self = .object(o)
            case .null:
                guard let newValue else { return }
                self = .object([key: newValue])
            default:
                preconditionFailure("JSON: setting member \(key) on a \(typeName)")
            }
        }
    }

    /// Element access on arrays; out of range or non-array gives `nil` when reading.
    public subscript(index: Int) -> JSON? {
        get {
            if case .array(let a) = self, a.indices.contains(index) { return a[index] }
            return nil
        }
        set {
            guard case .array(var a) = self, a.indices.contains(index) else {
                preconditionFailure("JSON: setting index \(index) out of range or on a \(typeName)")
            }
            self = .null
            if let newValue { a[index] = newValue } else { a.remove(at: index) }
            self = .array(a)
        }
    }

    /// Nested member access: `obj[path: "metadata", "labels"]`. Setting creates intermediate objects.
    public subscript(path keys: String...) -> JSON? {
        get { self[path: keys] }
        set { self[path: keys] = newValue }
    }

    /// The value at a path of object keys; setting creates missing intermediate objects.
    public subscript(path keys: [String]) -> JSON? {
        get {
            var current: JSON? = self
            for key in keys { current = current?[key] }
            return current
        }
        set {
            guard let first = keys.first else {
                if let newValue { self = newValue }
                return
            }
            if keys.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .null
            if child.isNull && newValue == nil { return }
            child[path: Array(keys.dropFirst())] = newValue
            self[first] = child
        }
    }
}

// MARK: - Convenience constructors

extension JSON {
    /// An empty object.
    public static var emptyObject: JSON { .object([:]) }

    /// Wraps an optional string, `nil` → `.null`.
    public init(_ value: String?) { self = value.map(JSON.string) ?? .null }
    /// An integer value.
    public init(_ value: Int) { self = .int(Int64(value)) }
    /// A boolean value.
    public init(_ value: Bool) { self = .bool(value) }
    /// An object of string members, keys sorted (labels, annotations, ConfigMap data).
    public init(_ values: [String: String]) {
        var o = JSONObject(minimumCapacity: values.count)
        for key in values.keys.sorted() { o[key] = .string(values[key]!) }
        self = .object(o)
    }
}

extension JSON: CustomStringConvertible {
    /// The compact serialization.
    public var description: String { serializedString() }
}
