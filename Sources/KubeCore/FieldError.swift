/// A dotted field path such as `spec.networking.providerConfig.ipv4.pool`, built the way
/// Kubernetes' `field.Path` builds them (`Child` appends `.name`, `Index` appends `[i]`,
/// `Key` appends `[key]`).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The rendered path; empty for the root.
    public var string: String

    /// A path from its rendered form (empty: the root).
    public init(_ string: String = "") { self.string = string }
    /// A path written as a literal, e.g. `"spec.networking"`.
    public init(stringLiteral value: String) { self.string = value }

    /// The path of a named child (`a.b`).
    public func child(_ name: String) -> FieldPath {
        FieldPath(string.isEmpty ? name : string + "." + name)
    }
    /// Several named children at once (`a.b.c`).
    public func child(_ first: String, _ rest: String...) -> FieldPath {
        rest.reduce(child(first)) { $0.child($1) }
    }
    /// The path of a list element (`a[3]`).
    public func index(_ i: Int) -> FieldPath { FieldPath(string + "[\(i)]") }
    /// The path of a map entry (`a[key]`).
    public func key(_ k: String) -> FieldPath { FieldPath(string + "[\(k)]") }

    /// The rendered path.
    public var description: String { string }
}

/// The kind of a field error, printed like Kubernetes' `field.ErrorType`.
public enum FieldErrorType: String, Sendable, Hashable, CaseIterable {
    case notFound = "FieldValueNotFound"
    case required = "FieldValueRequired"
    case duplicate = "FieldValueDuplicate"
    case invalid = "FieldValueInvalid"
    case notSupported = "FieldValueNotSupported"
    case forbidden = "FieldValueForbidden"
    case tooLong = "FieldValueTooLong"
    case tooMany = "FieldValueTooMany"
    case `internal` = "InternalError"
    case typeInvalid = "FieldValueTypeInvalid"
    /// Not a Kubernetes validation type: the object could not be decoded (unknown field, wrong
    /// JSON type, wrong apiVersion/kind). Printed as the detail only, like the Go decoder's error.
    case decode = "DecodeError"

    /// The human form used in messages (`Invalid value`, `Unsupported value`, ...).
    public var displayName: String {
        switch self {
        case .notFound: return "Not found"
        case .required: return "Required value"
        case .duplicate: return "Duplicate value"
        case .invalid: return "Invalid value"
        case .notSupported: return "Unsupported value"
        case .forbidden: return "Forbidden"
        case .tooLong: return "Too long"
        case .tooMany: return "Too many"
        case .internal: return "Internal error"
        case .typeInvalid: return "Invalid value"
        case .decode: return "Decode error"
        }
    }
}

/// The offending value of a field error, printed the way Go's `field.Error` prints it:
/// strings quoted (`%q`), numbers and booleans plain, anything else verbatim.
public enum FieldBadValue: Sendable, Hashable, CustomStringConvertible {
    /// No value is printed (Kubernetes' `omitValue`).
    case omitted
    case null
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Printed as is (used for lists, which Go prints with `%#v`).
    case verbatim(String)

    /// Converts a JSON value (strings quoted, scalars plain, containers as compact JSON).
    public init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .verbatim(json.serializedString())
        }
    }

    /// The value as Go's `field.Error` prints it.
    public var description: String {
        switch self {
        case .omitted: return ""
        case .null: return "null"
        case .string(let s): return goQuote(s)
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e21 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .verbatim(let s): return s
        }
    }
}

/// One validation (or decoding) error on one field, like Kubernetes' `field.Error`.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is (selects the message's wording).
    public var type: FieldErrorType
    /// Dotted path of the field, e.g. `spec.networking.providerConfig.ipv4.pool`.
    public var field: String
    /// The offending value, printed after the type unless omitted.
    public var badValue: FieldBadValue
    /// Free-text explanation appended to the message.
    public var detail: String
    /// For `notSupported`: the allowed values (already part of `detail`).
    public var allowedValues: [String]

    /// An error with every member given by name.
    public init(type: FieldErrorType, field: String, badValue: FieldBadValue = .omitted, detail: String = "", allowedValues: [String] = []) {
        self.type = type
        self.field = field
        self.badValue = badValue
        self.detail = detail
        self.allowedValues = allowedValues
    }

    /// An error on `field` with an optional JSON value (`nil`: no value printed), the form the
    /// embedded API server's validation builds its 422 causes from.
    public init(_ type: FieldErrorType, _ field: String, _ value: JSON? = nil, _ detail: String = "") {
        self.init(type: type, field: field, badValue: value.map(FieldBadValue.init) ?? .omitted, detail: detail)
    }

    /// `field.Invalid(path, value, detail)`.
    public static func invalid(_ path: FieldPath, _ value: FieldBadValue, _ detail: String) -> FieldError {
        FieldError(type: .invalid, field: path.string, badValue: value, detail: detail)
    }
    /// `field.Required(path, detail)`.
    public static func required(_ path: FieldPath, _ detail: String) -> FieldError {
        FieldError(type: .required, field: path.string, detail: detail)
    }
    /// `field.Forbidden(path, detail)`.
    public static func forbidden(_ path: FieldPath, _ detail: String) -> FieldError {
        FieldError(type: .forbidden, field: path.string, detail: detail)
    }
    /// `field.Duplicate(path, value)`.
    public static func duplicate(_ path: FieldPath, _ value: FieldBadValue) -> FieldError {
        FieldError(type: .duplicate, field: path.string, badValue: value)
    }
    /// `field.NotSupported(path, value, allowed)`; the detail lists the allowed values.
    public static func notSupported(_ path: FieldPath, _ value: FieldBadValue, _ allowed: [String]) -> FieldError {
        let detail = allowed.isEmpty ? "" : "supported values: " + allowed.map(goQuote).joined(separator: ", ")
        return FieldError(type: .notSupported, field: path.string, badValue: value, detail: detail, allowedValues: allowed)
    }
    /// `field.TooLong(path, value, max)`.
    public static func tooLong(_ path: FieldPath, _ value: FieldBadValue, max: Int) -> FieldError {
        FieldError(type: .tooLong, field: path.string, badValue: value, detail: "may not be more than \(max) bytes")
    }
    /// A decoding error (unknown field, wrong type, wrong apiVersion/kind); `message` is printed as is.
    public static func decode(_ path: FieldPath, _ message: String) -> FieldError {
        FieldError(type: .decode, field: path.string, detail: message)
    }

    /// The message without the field path (Go's `ErrorBody`).
    public var body: String {
        var s: String
        switch type {
        case .required, .forbidden, .tooLong, .internal:
            s = type.displayName
        case .decode:
            return detail
        default:
            if case .omitted = badValue { s = type.displayName } else { s = "\(type.displayName): \(badValue)" }
        }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    /// The `details.causes[]` entry of an Invalid `Status`, as kube-apiserver writes it: the
    /// message repeats type, value and detail but not the field.
    public var statusCause: JSON {
        ["reason": .string(type.rawValue), "message": .string(body), "field": .string(field)]
    }

    /// `<field>: <body>`, e.g. `spec.providerConfig.ipv4.pool: Unsupported value: "foo": supported values: "ipip", "vxlan"`.
    public var description: String {
        if type == .decode { return detail }
        return field.isEmpty ? body : "\(field): \(body)"
    }
}

/// A list of field errors; the error thrown by decoding and by `validate...` helpers.
/// Its description follows Kubernetes' aggregate: one error alone, several as `[e1, e2]`.
public struct FieldErrorList: Error, Sendable, Hashable, CustomStringConvertible, Sequence {
    /// The errors in the order they were found.
    public var errors: [FieldError]

    /// A list of `errors` (empty by default).
    public init(_ errors: [FieldError] = []) { self.errors = errors }

    /// Whether validation found nothing.
    public var isEmpty: Bool { errors.isEmpty }
    /// How many errors there are.
    public var count: Int { errors.count }
    /// Iterates the errors in order.
    public func makeIterator() -> IndexingIterator<[FieldError]> { errors.makeIterator() }

    /// Adds one error at the end.
    public mutating func append(_ error: FieldError) { errors.append(error) }
    /// Adds several errors at the end.
    public mutating func append(contentsOf other: [FieldError]) { errors.append(contentsOf: other) }

    /// One error as is, several as `[e1, e2]` (Kubernetes' aggregate form).
    public var description: String {
        switch errors.count {
        case 0: return ""
        case 1: return errors[0].description
        default: return "[" + errors.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
