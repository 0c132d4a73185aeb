import KubeClient
import KubeCore

/// Gardener error codes attached to `lastError.codes` (exact strings).
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The code string as Gardener spells it.
    public var rawValue: String
    /// Wraps a code string.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a code string.
    public init(_ raw: String) { self.rawValue = raw }
    /// The code string.
    public var description: String { rawValue }
    /// Orders codes alphabetically, as Gardener sorts them.
    public static func < (a: ErrorCode, b: ErrorCode) -> Bool { a.rawValue < b.rawValue }

    /// The infrastructure rejected the credentials.
    public static let infraUnauthenticated = ErrorCode("ERR_INFRA_UNAUTHENTICATED")
    /// The credentials lack permissions.
    public static let infraUnauthorized = ErrorCode("ERR_INFRA_UNAUTHORIZED")
    /// An infrastructure quota is exhausted.
    public static let infraQuotaExceeded = ErrorCode("ERR_INFRA_QUOTA_EXCEEDED")
    /// The infrastructure throttles requests.
    public static let infraRateLimitsExceeded = ErrorCode("ERR_INFRA_RATE_LIMITS_EXCEEDED")
    /// A dependent infrastructure object blocks the operation.
    public static let infraDependencies = ErrorCode("ERR_INFRA_DEPENDENCIES")
    /// A dependent infrastructure object blocks the operation for now; retrying may help.
    public static let retryableInfraDependencies = ErrorCode("ERR_RETRYABLE_INFRA_DEPENDENCIES")
    /// The infrastructure ran out of resources (e.g. machine types).
    public static let infraResourcesDepleted = ErrorCode("ERR_INFRA_RESOURCES_DEPLETED")
    /// Cleaning up resources in the cluster failed.
    public static let cleanupClusterResources = ErrorCode("ERR_CLEANUP_CLUSTER_RESOURCES")
    /// The configuration is wrong; retrying without a change will not help.
    public static let configurationProblem = ErrorCode("ERR_CONFIGURATION_PROBLEM")
    /// The configuration is wrong for now (e.g. waiting for another change); retrying may help.
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
    /// The complete text, including the cause's.
    public var message: String
    /// The wrapped error, whose codes count for the chain.
    public var cause: (any Error & Sendable)?
    /// The wrapped error, for the code walk.
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

    /// The complete text.
    public var description: String { message }
}

/// An error carrying codes (Gardener's `NewErrorWithCodes`); its text is the cause's text.
public struct ErrorWithCodes: CodedError, WrappingError, CustomStringConvertible, Sendable {
    /// The error the codes describe.
    public var cause: any Error & Sendable
    /// The attached codes.
    public var codes: [ErrorCode]
    /// The wrapped error, for the code walk.
    public var underlying: (any Error)? { cause }

    /// Attaches `codes` to `cause`.
    public init(_ cause: any Error & Sendable, codes: [ErrorCode]) {
        self.cause = cause
        self.codes = codes
    }

    /// The cause's text; the codes are not part of it.
    public var description: String { errorText(cause) }
}

/// Several independent errors; their codes are concatenated in order.
public struct MultiError: Error, CustomStringConvertible, Sendable {
    /// The component errors, in order.
    public var errors: [any Error & Sendable]
    /// Groups errors.
    public init(_ errors: [any Error & Sendable]) { self.errors = errors }
    /// The single error's text, or Go's multi-error listing.
    public var description: String {
        if errors.count == 1 { return errorText(errors[0]) }
        return "\(errors.count) errors occurred:\n" + errors.map { "\t* \(errorText($0))" }.joined(separator: "\n")
    }
}

/// Returned by an actuator to ask for a retry after a fixed delay without exponential backoff;
/// the status still shows Error with the cause's message.
public struct RequeueAfterError: Error, CustomStringConvertible, Sendable {
    /// The error shown in the status, if any.
    public var cause: (any Error & Sendable)?
    /// How long to wait before the next attempt.
    public var requeueAfter: Duration

    /// Requeue after `requeueAfter`, reporting `cause`.
    public init(cause: (any Error & Sendable)? = nil, requeueAfter: Duration) {
        self.cause = cause
        self.requeueAfter = requeueAfter
    }

    /// `requeue in <duration>[ due to <cause>]`, in Go duration format.
    public var description: String {
        if let cause { return "requeue in \(goDuration(requeueAfter)) due to \(errorText(cause))" }
        return "requeue in \(goDuration(requeueAfter))"
    }
}

/// A plain message error.
public struct MessageError: Error, CustomStringConvertible, Sendable {
    /// The text.
    public var message: String
    /// Creates an error with its text.
    public init(_ message: String) { self.message = message }
    /// The text.
    public var description: String { message }
}

/// The text of an error as Go would print it: API errors show only their message.
public func errorText(_ error: any Error) -> String {
    if let k = error as? KubeError { return k.message }
    return String(describing: error)
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
