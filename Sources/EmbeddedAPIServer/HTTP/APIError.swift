import KubeCore

/// A failed request, rendered as a Kubernetes `Status` object, as clients decode errors from it. The HTTP status line
/// always equals `code`.
struct APIError: Error, Sendable {
    var code: Int
    var reason: String?
    var message: String
    var details: JSON?

    init(code: Int, reason: String?, message: String, details: JSON? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    var status: JSON {
        var s: JSON = ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Failure", "message": .string(message)]
        if let reason { s["reason"] = .string(reason) }
        if let details { s["details"] = details }
        s["code"] = .int(Int64(code))
        return s
    }

    static func resourceDetails(_ name: String?, group: String, resource: String) -> JSON {
        var d: JSON = .emptyObject
        if let name, !name.isEmpty { d["name"] = .string(name) }
        if !group.isEmpty { d["group"] = .string(group) }
        d["kind"] = .string(resource)
        return d
    }

    static func notFound(_ info: ResourceInfo, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(info.qualifiedResource) \"\(name)\" not found",
            details: resourceDetails(name, group: info.group, resource: info.plural))
    }

    static func namespaceNotFound(_ ns: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "namespaces \"\(ns)\" not found",
            details: ["name": .string(ns), "kind": "namespaces"])
    }

    static let unknownPath = APIError(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: .emptyObject)

    static func alreadyExists(_ info: ResourceInfo, _ name: String, suffix: String = "") -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(info.qualifiedResource) \"\(name)\" already exists\(suffix)",
            details: resourceDetails(name, group: info.group, resource: info.plural))
    }

    static func conflict(_ info: ResourceInfo, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message:
                "Operation cannot be fulfilled on \(info.qualifiedResource) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: resourceDetails(name, group: info.group, resource: info.plural))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ verb: String, _ info: ResourceInfo?, name: String? = nil) -> APIError {
        guard let info else {
            return APIError(
                code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource",
                details: .emptyObject)
        }
        return APIError(
            code: 405, reason: "MethodNotAllowed", message: "\(verb) is not supported on resources of kind \"\(info.qualifiedResource)\"",
            details: resourceDetails(name, group: info.group, resource: info.plural))
    }

    static func unsupportedMediaType(_ accepted: [String]) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: \(accepted.joined(separator: ", "))")
    }

    static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func forbidden(_ info: ResourceInfo, _ name: String, _ why: String, causes: [JSON]? = nil) -> APIError {
        var d = resourceDetails(name, group: info.group, resource: info.plural)
        if let causes { d["causes"] = .array(causes) }
        return APIError(code: 403, reason: "Forbidden", message: "\(info.qualifiedResource) \"\(name)\" is forbidden: \(why)", details: d)
    }

    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func internalError(_ text: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(text)", details: ["causes": [["message": .string(text)]]])
    }

    /// 422 Invalid for an object (kind-qualified) with field errors.
    static func invalid(kind: String, group: String, name: String, _ errors: [FieldError]) -> APIError {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        let text = FieldErrorList(errors).description
        var d: JSON = ["name": .string(name)]
        if !group.isEmpty { d["group"] = .string(group) }
        d["kind"] = .string(kind)
        d["causes"] = .array(errors.map(\.statusCause))
        return APIError(code: 422, reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(text)", details: d)
    }

    static func invalid(_ info: ResourceInfo, name: String, _ errors: [FieldError]) -> APIError {
        invalid(kind: info.kind, group: info.group, name: name, errors)
    }

    /// 422 on request options (`CreateOptions.meta.k8s.io "" is invalid: ...`).
    static func invalidOptions(_ kind: String, _ errors: [FieldError]) -> APIError {
        invalid(kind: kind, group: "meta.k8s.io", name: "", errors)
    }
}
