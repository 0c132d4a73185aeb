import CalicoAPI
import KubeCore

/// How a webhook request ended; the label of the request metrics.
public enum AdmissionOutcome: String, Sendable, CaseIterable {
    /// Validated and allowed.
    case allowed
    /// Validated and denied (403).
    case denied
    /// Not validated (other networking type, workerless shoot, other kind or operation).
    case skipped
    /// A well-formed AdmissionReview whose object could not be decoded (denied with code 400).
    case errored
    /// Not an AdmissionReview at all (HTTP 4xx).
    case malformed
}

/// The answer to one webhook HTTP request.
public struct AdmissionResult: Sendable {
    /// HTTP status of the reply (200 for every AdmissionReview answer).
    public var httpStatus: Int
    /// The JSON body (an AdmissionReview, or for malformed input an explanation in the same shape).
    public var body: JSON
    /// How the review was decided (for metrics and logs).
    public var outcome: AdmissionOutcome
    /// The denial / error message, if any (also inside `body`).
    public var message: String?
    /// The warnings of the response (also inside `body`; see `AdmissionWarnings`).
    public var warnings: [String] = []
}

/// Pure AdmissionReview handling of the validating webhook: no I/O, so it can
/// be tested and benchmarked directly and the HTTPS server just moves bytes.
public enum AdmissionReviewHandler {
    /// The webhook's HTTP path.
    public static let path = "/webhooks/validate"
    static let supportedVersions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]
    /// Where the Shoot's provider config sits in an AdmissionReview.
    static let providerConfigPath = ["request", "object", "spec", "networking", "providerConfig"]

    /// Handles a raw request body.
    public static func handle(body: [UInt8]) -> AdmissionResult {
        handle(bytes: body)
    }

    /// Handles a raw request body held in any contiguous byte collection (the server passes its
    /// receive buffer without copying).
    public static func handle<Bytes: Collection>(bytes body: Bytes) -> AdmissionResult where Bytes.Element == UInt8 {
        if body.isEmpty { return malformed("request body is empty") }
        let json: JSON
        let duplicates: [JSONDuplicateKey]
        do {
            // The raw bytes are only here: the provider config's keys given twice must be found now
            // (strict decoding rejects them); the parser reports them at no cost when there are none.
            (json, duplicates) = try JSON.parseReportingDuplicateKeys(body, maxDepth: 256)
        } catch {
            return malformed("could not decode admission review: \(error)")
        }
        return handle(review: json, providerConfigDuplicates: duplicates.compactMap { $0.path(below: providerConfigPath) })
    }

    /// Handles a parsed AdmissionReview. `providerConfigDuplicates` are the paths (relative to the
    /// Shoot's provider config) of keys the raw request gave twice.
    public static func handle(review json: JSON, providerConfigDuplicates: [String] = []) -> AdmissionResult {
        guard case .object(let review) = json else {
            return malformed("could not decode admission review: expected a JSON object, got \(json.typeName)")
        }
        let apiVersion = review["apiVersion"]?.stringValue ?? ""
        let kind = review["kind"]?.stringValue ?? ""
        guard kind == "AdmissionReview", supportedVersions.contains(apiVersion) else {
            return malformed(
                "unsupported admission review: apiVersion \(goQuote(apiVersion)) kind \(goQuote(kind)), expected kind \"AdmissionReview\" of admission.k8s.io/v1 or admission.k8s.io/v1beta1"
            )
        }
        guard let requestValue = review["request"], case .object(let request) = requestValue else {
            return malformed("admission review has no request")
        }
        guard let uid = request["uid"]?.stringValue, !uid.isEmpty else {
            return malformed("admission review request has no uid")
        }
        func reply(
            _ allowed: Bool, _ outcome: AdmissionOutcome, code: Int, reason: String? = nil, message: String? = nil, warnings: [String] = []
        ) -> AdmissionResult {
            var status: JSONObject = ["metadata": .object([:])]
            if !allowed { status["status"] = "Failure" }
            if let message { status["message"] = .string(message) }
            if let reason { status["reason"] = .string(reason) }
            status["code"] = .int(Int64(code))
            var response: JSONObject = ["uid": .string(uid), "allowed": .bool(allowed), "status": .object(status)]
            if !warnings.isEmpty { response["warnings"] = .array(warnings.map { .string($0) }) }
            let body: JSON = ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": .object(response)]
            return AdmissionResult(httpStatus: 200, body: body, outcome: outcome, message: message, warnings: warnings)
        }
        // Only Shoots of core.gardener.cloud are validated; the webhook is registered for them only.
        if let k = request["kind"]?.objectValue {
            let group = k["group"]?.stringValue ?? ""
            let kindName = k["kind"]?.stringValue ?? ""
            if group != "core.gardener.cloud" || kindName != "Shoot" {
                return reply(true, .skipped, code: 200, message: "only core.gardener.cloud Shoots are validated")
            }
        }
        let operation = request["operation"]?.stringValue ?? ""
        if operation != "CREATE" && operation != "UPDATE" {
            return reply(true, .skipped, code: 200, message: "operation \(operation) is not validated")
        }
        guard let object = request["object"], !object.isNull else {
            return reply(false, .errored, code: 400, message: "could not decode request object: there is no content to decode")
        }
        let shoot: Shoot
        do {
            shoot = try Shoot.decode(object)
        } catch {
            return reply(false, .errored, code: 400, message: "could not decode request object: \(error)")
        }
        var oldObject: JSON?
        if let old = request["oldObject"], !old.isNull {
            do { _ = try Shoot.decode(old) } catch {
                return reply(false, .errored, code: 400, message: "could not decode old object: \(error)")
            }
            if operation == "UPDATE" { oldObject = old }
        }
        switch CalicoValidation.validateShoot(shoot, providerConfigDuplicates: providerConfigDuplicates) {
        case .skipped(let reason):
            return reply(true, .skipped, code: 200, message: reason)
        case .valid:
            return reply(true, .allowed, code: 200, warnings: AdmissionWarnings.warnings(shoot: shoot, old: oldObject))
        case .invalid(let errors):
            return reply(false, .denied, code: 403, reason: "Forbidden", message: errors.description)
        }
    }

    /// A reply to input that is not an AdmissionReview: HTTP 400 with an AdmissionReview-shaped
    /// body explaining the problem (there is no uid to echo).
    public static func malformed(_ message: String, httpStatus: Int = 400) -> AdmissionResult {
        let status: JSON = [
            "metadata": .object([:]), "status": "Failure", "message": .string(message), "reason": "BadRequest", "code": .int(Int64(httpStatus)),
        ]
        let body: JSON = [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": ["uid": "", "allowed": false, "status": status],
        ]
        return AdmissionResult(httpStatus: httpStatus, body: body, outcome: .malformed, message: message)
    }
}
