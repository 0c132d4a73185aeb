import KubeCore

/// Options of a list request, sent as query parameters.
public struct ListOptions: Sendable, Hashable {
    /// e.g. `app=calico,tier in (a,b)`.
    public var labelSelector: String?
    /// e.g. `metadata.name=foo`.
    public var fieldSelector: String?
    /// Page size; the server may ignore it. ``KubernetesClient/listAll(_:namespace:options:)`` follows `continue`.
    public var limit: Int?
    /// `continue` token of the previous page.
    public var continueToken: String?
    /// `""`/nil = consistent read, `"0"` = any cached state.
    public var resourceVersion: String?
    /// `Exact` or `NotOlderThan`.
    public var resourceVersionMatch: String?
    /// Server-side timeout of the list call.
    public var timeoutSeconds: Int?

    /// Options with every member optional (a plain list of everything).
    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil, resourceVersionMatch: String? = nil, timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
        self.timeoutSeconds = timeoutSeconds
    }

    var queryItems: [(String, String)] {
        var q: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let limit, limit > 0 { q.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { q.append(("continue", continueToken)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch, !resourceVersionMatch.isEmpty { q.append(("resourceVersionMatch", resourceVersionMatch)) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        return q
    }
}

/// The answer of a list request.
public struct ObjectList: Sendable {
    /// The objects (each with `apiVersion` and `kind` filled in).
    public var items: [JSON]
    /// `metadata.resourceVersion` of the list: start a watch from here.
    public var resourceVersion: String
    /// `metadata.continue`, when the server paged the result.
    public var continueToken: String?
    /// `metadata.remainingItemCount`: an estimate of the items on later pages.
    public var remainingItemCount: Int?
    /// e.g. `ConfigMapList`.
    public var kind: String?
    /// e.g. `v1`.
    public var apiVersion: String?

    /// A list answer with its items and list metadata.
    public init(
        items: [JSON], resourceVersion: String, continueToken: String? = nil, remainingItemCount: Int? = nil,
        kind: String? = nil, apiVersion: String? = nil
    ) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
        self.kind = kind
        self.apiVersion = apiVersion
    }

    init(decoding body: JSON) throws {
        guard case .object = body else { throw KubeError.other("invalid list response: expected an object, got a \(body.typeName)") }
        let items = body["items"]
        if let items, !items.isNull, items.arrayValue == nil {
            throw KubeError.other("invalid list response: items is a \(items.typeName)")
        }
        let cont = body[path: "metadata", "continue"]?.stringValue
        self.init(
            items: items?.arrayValue ?? [],
            resourceVersion: body[path: "metadata", "resourceVersion"]?.stringValue ?? "",
            continueToken: (cont?.isEmpty ?? true) ? nil : cont,
            remainingItemCount: body[path: "metadata", "remainingItemCount"]?.intValue,
            kind: body["kind"]?.stringValue,
            apiVersion: body["apiVersion"]?.stringValue)
    }
}

/// Options of a watch request.
public struct WatchOptions: Sendable, Hashable {
    /// Start point: nil/`""`/`"0"` = synthetic ADDED events for the current state first;
    /// `N` = every change after N (410 `gone` when N is too old).
    public var resourceVersion: String?
    /// Only objects whose labels match, e.g. `app=calico`.
    public var labelSelector: String?
    /// Only objects whose fields match, e.g. `metadata.name=foo`.
    public var fieldSelector: String?
    /// Server-side timeout; the stream then ends normally.
    public var timeoutSeconds: Int?
    /// Ask for BOOKMARK events (progress notifications carrying only a resourceVersion).
    public var allowWatchBookmarks: Bool

    /// Options for a watch; bookmarks are requested unless turned off.
    public init(
        resourceVersion: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        timeoutSeconds: Int? = nil, allowWatchBookmarks: Bool = true
    ) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.timeoutSeconds = timeoutSeconds
        self.allowWatchBookmarks = allowWatchBookmarks
    }

    var queryItems: [(String, String)] {
        var q: [(String, String)] = [("watch", "true")]
        if let resourceVersion, !resourceVersion.isEmpty { q.append(("resourceVersion", resourceVersion)) }
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        if allowWatchBookmarks { q.append(("allowWatchBookmarks", "true")) }
        return q
    }
}

/// Patch flavours, selected by the request content type.
public enum PatchType: Sendable, Hashable {
    /// RFC 7386 JSON merge patch (`null` deletes a key).
    case merge
    /// RFC 6902 JSON patch (an array of operations).
    case json
    /// Kubernetes strategic merge patch (built-in kinds only; custom resources answer 415).
    case strategicMerge
    /// Server-side apply; needs a field manager (the configuration's or `kubeclient-swift`).
    case apply(force: Bool)

    /// The `Content-Type` header that selects the flavour.
    public var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }
}

/// Options of a delete request, sent as a `DeleteOptions` body.
public struct DeleteOptions: Sendable, Hashable {
    /// What happens to dependents (objects owned by the deleted one).
    public enum PropagationPolicy: String, Sendable, Hashable {
        case orphan = "Orphan"
        case background = "Background"
        case foreground = "Foreground"
    }

    /// Dependents' fate; `nil` leaves it to the server (background for most kinds).
    public var propagationPolicy: PropagationPolicy?
    /// Seconds before the object is deleted (`0`: at once); `nil` uses the kind's default.
    public var gracePeriodSeconds: Int?
    /// Delete only if the stored object still has this UID (409 otherwise).
    public var preconditionUID: String?
    /// Delete only if the stored object still has this resourceVersion (409 otherwise).
    public var preconditionResourceVersion: String?
    /// Validate and answer without persisting (`dryRun=All`).
    public var dryRun: Bool

    /// Options with every member optional (a plain background delete).
    public init(
        propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int? = nil,
        preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, dryRun: Bool = false
    ) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
    }

    var body: JSON {
        var o: JSONObject = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { o["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { o["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var p: JSONObject = [:]
            if let preconditionUID { p["uid"] = .string(preconditionUID) }
            if let preconditionResourceVersion { p["resourceVersion"] = .string(preconditionResourceVersion) }
            o["preconditions"] = .object(p)
        }
        if dryRun { o["dryRun"] = ["All"] }
        return .object(o)
    }
}
