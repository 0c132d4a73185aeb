import KubeClient
import KubeCore
import KubeRuntime

/// Gardener error codes attached to `lastError.codes` (exact strings).
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The code's exact string.
    public var rawValue: String
    /// A code from its string.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A code from its string.
    public init(_ raw: String) { self.rawValue = raw }
    /// The code's string.
    public var description: String { rawValue }
    /// Orders codes by their string.
    public static func < (a: ErrorCode, b: ErrorCode) -> Bool { a.rawValue < b.rawValue }

    /// Authentication with the infrastructure failed.
    public static let infraUnauthenticated = ErrorCode("ERR_INFRA_UNAUTHENTICATED")
    /// The infrastructure denied an operation.
    public static let infraUnauthorized = ErrorCode("ERR_INFRA_UNAUTHORIZED")
    /// An infrastructure quota is exhausted.
    public static let infraQuotaExceeded = ErrorCode("ERR_INFRA_QUOTA_EXCEEDED")
    /// The infrastructure throttled the requests.
    public static let infraRateLimitsExceeded = ErrorCode("ERR_INFRA_RATE_LIMITS_EXCEEDED")
    /// A dependent infrastructure object blocks the operation.
    public static let infraDependencies = ErrorCode("ERR_INFRA_DEPENDENCIES")
    /// A dependent infrastructure object blocks the operation for now.
    public static let retryableInfraDependencies = ErrorCode("ERR_RETRYABLE_INFRA_DEPENDENCIES")
    /// The infrastructure has no capacity left.
    public static let infraResourcesDepleted = ErrorCode("ERR_INFRA_RESOURCES_DEPLETED")
    /// Resources in the cluster block its cleanup.
    public static let cleanupClusterResources = ErrorCode("ERR_CLEANUP_CLUSTER_RESOURCES")
    /// The configuration is invalid.
    public static let configurationProblem = ErrorCode("ERR_CONFIGURATION_PROBLEM")
    /// The configuration is invalid for now.
    public static let retryableConfigurationProblem = ErrorCode("ERR_RETRYABLE_CONFIGURATION_PROBLEM")
    /// A webhook in the shoot blocks the operation.
    public static let problematicWebhook = ErrorCode("ERR_PROBLEMATIC_WEBHOOK")

    /// Codes gardenlet treats as non-retryable for the Shoot.
    public static let nonRetryable: Set<ErrorCode> = [
        .infraUnauthenticated, .infraUnauthorized, .infraQuotaExceeded, .infraRateLimitsExceeded,
        .infraDependencies, .configurationProblem, .problematicWebhook,
    ]
}

/// An error that explicitly carries Gardener error codes (Gardener's "coder" errors).
public protocol CodedError: Error {
    var codes: [ErrorCode] { get }
}

/// An error wrapping another one (Go's `%w`): the code extraction walks this chain.
public protocol WrappingError: Error {
    var underlying: (any Error)? { get }
}

/// An error with a message plus optional wrapped cause, like `fmt.Errorf("prefix: %w", err)`.
public struct WrappedError: WrappingError, CustomStringConvertible, Sendable {
    /// The complete text.
    public var message: String
    /// The wrapped error, if any.
    public var cause: (any Error & Sendable)?
    /// The wrapped error (for code extraction).
    public var underlying: (any Error)? { cause }

    /// `message` is the complete text (typically `"<prefix>: <cause text>"`).
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    /// `"<prefix>: <cause text>"` wrapping `cause`.
    public static func wrap(_ prefix: String, _ cause: any Error & Sendable) -> WrappedError {
        WrappedError("\(prefix): \(errorText(cause))", cause: cause)
    }

    /// The text.
    public var description: String { message }
}

/// An error carrying codes (Gardener's `NewErrorWithCodes`); its text is the cause's text.
public struct ErrorWithCodes: CodedError, WrappingError, CustomStringConvertible, Sendable {
    /// The error the codes are attached to.
    public var cause: any Error & Sendable
    /// The codes, in order.
    public var codes: [ErrorCode]
    /// The cause (for code extraction).
    public var underlying: (any Error)? { cause }

    /// Attaches `codes` to `cause`.
    public init(_ cause: any Error & Sendable, codes: [ErrorCode]) {
        self.cause = cause
        self.codes = codes
    }

    /// The cause's text.
    public var description: String { errorText(cause) }
}

/// Several independent errors; their codes are concatenated in order.
public struct MultiError: Error, CustomStringConvertible, Sendable {
    /// The component errors, in order.
    public var errors: [any Error & Sendable]
    /// Several errors as one.
    public init(_ errors: [any Error & Sendable]) { self.errors = errors }
    /// One error's text, or a list of all of them.
    public var description: String {
        if errors.count == 1 { return errorText(errors[0]) }
        return "\(errors.count) errors occurred:\n" + errors.map { "\t* \(errorText($0))" }.joined(separator: "\n")
    }
}

/// Returned by an actuator to ask for a retry after a fixed delay without exponential backoff;
/// the status still shows Error with the cause's message.
public struct RequeueAfterError: Error, CustomStringConvertible, Sendable {
    /// Why the retry is needed, if known.
    public var cause: (any Error & Sendable)?
    /// The delay before the retry.
    public var requeueAfter: Duration

    /// A retry after `requeueAfter` because of `cause`.
    public init(cause: (any Error & Sendable)? = nil, requeueAfter: Duration) {
        self.cause = cause
        self.requeueAfter = requeueAfter
    }

    /// `requeue in <duration>` (with the cause when there is one).
    public var description: String {
        if let cause { return "requeue in \(goDuration(requeueAfter)) due to \(errorText(cause))" }
        return "requeue in \(goDuration(requeueAfter))"
    }
}

/// A plain message error.
public struct MessageError: Error, CustomStringConvertible, Sendable {
    /// The text.
    public var message: String
    /// An error with this text.
    public init(_ message: String) { self.message = message }
    /// The text.
    public var description: String { message }
}

/// The text of an error as Go would print it: API errors show only their message; marking an
/// error terminal does not change its text.
public func errorText(_ error: any Error) -> String {
    if let k = error as? KubeError { return k.message }
    if let t = error as? TerminalError { return errorText(t.cause) }
    return String(describing: error)
}

/// A terminal error's chain continues with its cause (for codes and `isTerminal`).
extension TerminalError: WrappingError {
    /// The cause marked terminal.
    public var underlying: (any Error)? { cause }
}

/// Whether retrying cannot help: a `TerminalError` somewhere in the wrap chain of `error` (for a
/// multi-error: in every component, since a retryable component may still succeed on retry).
/// A `RequeueAfterError` asks for a retry and so is never terminal.
public func isTerminal(_ error: any Error) -> Bool {
    if let multi = error as? MultiError {
        return !multi.errors.isEmpty && multi.errors.allSatisfy { isTerminal($0) }
    }
    var current: (any Error)? = error
    var depth = 0
    while let e = current, depth < 64 {
        if e is TerminalError { return true }
        if e is RequeueAfterError { return false }
        current = (e as? WrappingError)?.underlying
        depth += 1
    }
    return false
}

/// Codes carried by an error chain, as Gardener collects them for `lastError.codes`: split a multi-error into components, walk each
/// component's wrap chain and take the codes of the first error that has codes.
public func errorCodes(of error: any Error) -> [ErrorCode] {
    let components: [any Error] = (error as? MultiError)?.errors ?? [error]
    var codes: [ErrorCode] = []
    for component in components {
        var current: (any Error)? = component
        var depth = 0
        while let e = current, depth < 64 {
            if let coded = e as? CodedError {
                codes.append(contentsOf: coded.codes)
                break
            }
            if let r = e as? RequeueAfterError {
                current = r.cause
            } else {
                current = (e as? WrappingError)?.underlying
            }
            depth += 1
        }
    }
    return codes
}

/// Gardener's message-based code helper: keeps codes already attached, adds every code whose
/// (case-insensitive) pattern check matches the message; sorted and unique.
public func determineErrorCodes(
    _ error: any Error, matchers: [(ErrorCode, @Sendable (String) -> Bool)]
) -> [ErrorCode] {
    var set = Set(errorCodes(of: error))
    let text = errorText(error).lowercased()
    for (code, matches) in matchers where matches(text) { set.insert(code) }
    return set.sorted()
}
