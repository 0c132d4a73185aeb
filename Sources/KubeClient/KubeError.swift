import KubeCore

/// One `details.causes` entry of a `Status` (a field error of an `Invalid` answer, typically).
public struct StatusCause: Sendable, Hashable, CustomStringConvertible {
    /// Machine-readable reason, e.g. `FieldValueInvalid` (the wire key is `reason`, older
    /// servers write `type`).
    public var reason: String?
    /// Human-readable explanation of the cause.
    public var message: String?
    /// Field path, e.g. `spec.providerConfig`.
    public var field: String?

    /// A cause with any of its members.
    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    /// `<field>: <message>` (or just the message), as kubectl prints causes.
    public var description: String {
        [field, message].compactMap { $0 }.joined(separator: ": ")
    }
}

/// The single error type of this library: an API-server `Status` decoded into a category
/// (mirroring client-go's `apierrors.IsNotFound` & co.), or a client-side failure.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, decided from the Status `reason` first and the HTTP code second.
    public enum Kind: Sendable, Hashable {
        case notFound
        case alreadyExists
        case conflict
        /// 422: the object failed validation; `causes` are the field errors.
        case invalid(causes: [StatusCause])
        /// 410 (`Expired` / `Gone`): a watch or list resourceVersion is too old — relist.
        case gone
        case forbidden
        case unauthorized
        case tooManyRequests
        /// 504 `Timeout` / `ServerTimeout`.
        case serverTimeout
        /// 500 `InternalError` and other 5xx answers.
        case `internal`
        case badRequest
        case methodNotAllowed
        case unsupportedMediaType
        /// No HTTP answer: connection refused/reset, TLS failure, client-side timeout.
        case transport
        /// Anything else (unexpected status codes, unparsable bodies, client misuse).
        case other
    }

    /// The classification callers branch on (not found, conflict, gone, ...).
    public var kind: Kind
    /// HTTP status code (`0` for transport failures).
    public var code: Int
    /// The Status `reason` (e.g. `NotFound`), empty when the server sent none.
    public var reason: String
    /// The Status `message`, or a description of the transport failure.
    public var message: String
    /// The full Status object as sent by the server, when there was one.
    public var status: JSON?
    /// `Retry-After` (header or `details.retryAfterSeconds`), in seconds.
    public var retryAfterSeconds: Int?

    /// An error with every member given explicitly (tests and scripted list-watchers build these).
    public init(kind: Kind, code: Int, reason: String = "", message: String, status: JSON? = nil, retryAfterSeconds: Int? = nil) {
        self.kind = kind
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// 404: the object or collection does not exist.
    public var isNotFound: Bool { kind == .notFound }
    /// 409 `AlreadyExists`: a create found the name taken.
    public var isAlreadyExists: Bool { kind == .alreadyExists }
    /// 409 `Conflict`: the resourceVersion was stale; re-read and retry.
    public var isConflict: Bool { kind == .conflict }
    /// 422: the object failed validation (causes in ``status``).
    public var isInvalid: Bool { if case .invalid = kind { return true } else { return false } }
    /// 410: the resourceVersion expired; relist.
    public var isGone: Bool { kind == .gone }
    /// 403: the credentials may not do this.
    public var isForbidden: Bool { kind == .forbidden }
    /// 401: the credentials were rejected.
    public var isUnauthorized: Bool { kind == .unauthorized }
    /// 429: throttled by the server (see ``retryAfterSeconds``).
    public var isTooManyRequests: Bool { kind == .tooManyRequests }
    /// 504 or `ServerTimeout`: the server gave up; safe to retry.
    public var isServerTimeout: Bool { kind == .serverTimeout }
    /// 500: the server failed internally.
    public var isInternal: Bool { kind == .internal }
    /// 400: the request was malformed.
    public var isBadRequest: Bool { kind == .badRequest }
    /// 405: the verb is not supported on this resource.
    public var isMethodNotAllowed: Bool { kind == .methodNotAllowed }
    /// The server could not be reached or the connection broke.
    public var isTransport: Bool { kind == .transport }

    /// Field errors of an `Invalid` answer (empty otherwise).
    public var causes: [StatusCause] {
        if case .invalid(let causes) = kind { return causes }
        return Self.decodeCauses(status)
    }

    /// `details.name` of the Status, if any.
    public var detailsName: String? { status?[path: "details", "name"]?.stringValue }

    /// `<reason>: <message>` (the HTTP code when the reason is empty); transport failures print the message alone.
    public var description: String {
        if code == 0 { return message }
        let r = reason.isEmpty ? "\(code)" : reason
        return "\(r): \(message)"
    }

    /// Decodes a non-2xx answer. `body` is the response body when it was JSON.
    public static func fromResponse(code: Int, body: JSON?, retryAfterHeader: Int? = nil, fallbackMessage: String? = nil) -> KubeError {
        let isStatus = body?["kind"]?.stringValue == "Status"
        let status = isStatus ? body : nil
        let reason = status?["reason"]?.stringValue ?? ""
        let statusCode = status?["code"]?.intValue ?? code
        var message = status?["message"]?.stringValue ?? ""
        if message.isEmpty {
            message = fallbackMessage ?? defaultMessage(code: statusCode)
        }
        let retryAfter = retryAfterHeader ?? status?[path: "details", "retryAfterSeconds"]?.intValue
        let kind = classify(reason: reason, code: statusCode, status: status)
        return KubeError(kind: kind, code: statusCode, reason: reason, message: message, status: status, retryAfterSeconds: retryAfter)
    }

    /// Decodes the `object` of a watch `ERROR` event.
    public static func fromStatus(_ status: JSON) -> KubeError {
        fromResponse(code: status["code"]?.intValue ?? 500, body: status)
    }

    static func classify(reason: String, code: Int, status: JSON?) -> Kind {
        switch reason {
        case "NotFound": return .notFound
        case "AlreadyExists": return .alreadyExists
        case "Conflict": return .conflict
        case "Invalid": return .invalid(causes: decodeCauses(status))
        case "Expired", "Gone": return .gone
        case "Forbidden": return .forbidden
        case "Unauthorized": return .unauthorized
        case "TooManyRequests": return .tooManyRequests
        case "Timeout", "ServerTimeout": return .serverTimeout
        case "InternalError": return .internal
        case "BadRequest": return .badRequest
        case "MethodNotAllowed": return .methodNotAllowed
        case "UnsupportedMediaType": return .unsupportedMediaType
        default: break
        }
        switch code {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 409: return .conflict
        case 410: return .gone
        case 415: return .unsupportedMediaType
        case 422: return .invalid(causes: decodeCauses(status))
        case 429: return .tooManyRequests
        case 504: return .serverTimeout
        case 500...599: return .internal
        default: return .other
        }
    }

    static func decodeCauses(_ status: JSON?) -> [StatusCause] {
        guard let causes = status?[path: "details", "causes"]?.arrayValue else { return [] }
        return causes.map {
            StatusCause(
                reason: $0["reason"]?.stringValue ?? $0["type"]?.stringValue,
                message: $0["message"]?.stringValue,
                field: $0["field"]?.stringValue)
        }
    }

    static func defaultMessage(code: Int) -> String {
        switch code {
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "the server could not find the requested resource"
        case 429: return "Too many requests, please try again later"
        case 500: return "Internal error"
        case 503: return "the server is currently unable to handle the request"
        case 504: return "the server was unable to return a response in the time allotted"
        default: return "the server responded with HTTP \(code)"
        }
    }

    /// A client-side transport failure (no usable HTTP answer).
    public static func transport(_ message: String) -> KubeError {
        KubeError(kind: .transport, code: 0, message: message)
    }

    /// A client-side failure unrelated to the wire (misuse, bad response body).
    public static func other(_ message: String, code: Int = 0) -> KubeError {
        KubeError(kind: .other, code: code, message: message)
    }
}
