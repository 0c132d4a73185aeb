import Foundation
import KubeCore
import NIOHTTP1
import Synchronization

/// The store: all state behind one lock (writes are short and never wait on I/O or watchers).
final class Store: Sendable {
    let state: Mutex<StoreState>
    /// The state's persistence, also kept apart from the state: it is asked after every request,
    /// and taking the store lock for it made the request wait for (and spin on) the other event
    /// loop's write. Replaced only when a restart reloads the state.
    private let durable: Mutex<Persistence?>

    /// The resource registry as of the last request, for looking up every request's resource
    /// without the store lock (the other event loop may hold it for a write). Published under the
    /// store lock before it is released, so a request that follows a CRD change sees it.
    private let registry: Mutex<[String: ResourceInfo]>

    init(_ initial: consuming sending StoreState) {
        durable = Mutex(initial.persistence)
        registry = Mutex(initial.resources)
        initial.publishedGeneration = initial.resourcesGeneration
        state = Mutex(initial)
    }

    /// The served resource of a group, version and plural.
    func resource(group: String, version: String, plural: String) -> ResourceInfo? {
        registry.withLock { $0["\(group)/\(version)/\(plural)"] }
    }

    /// Publishes the registry when a request changed it (call under the store lock).
    func publishResources(_ s: inout StoreState) {
        guard s.resourcesGeneration != s.publishedGeneration else { return }
        let resources = s.resources
        registry.withLock { $0 = resources }
        s.publishedGeneration = s.resourcesGeneration
    }

    /// Follows the persistence of a state that replaced the old one (a restart reloaded it).
    func persistenceReplaced(_ persistence: Persistence?) {
        durable.withLock { $0 = persistence }
    }

    /// Runs a request; its changes are written to the log before anyone sees them (a failed
    /// write undoes them and fails the request, even one that failed otherwise after changes).
    func with<R: Sendable>(_ body: (inout StoreState) throws(APIError) -> R) throws(APIError) -> R {
        try state.withLock { (s: inout StoreState) throws(APIError) -> R in
            let mark = s.beginChange()
            let result: Result<R, APIError>
            do throws(APIError) {
                result = .success(try body(&s))
            } catch {
                result = .failure(error)
            }
            defer { publishResources(&s) }
            try s.endChange(mark)
            return try result.get()
        }
    }

    func read<R: Sendable>(_ body: (inout StoreState) -> R) -> R {
        state.withLock { (s: inout StoreState) -> R in
            let mark = s.beginChange()
            let result = body(&s)
            // Reads change no objects; this hands out what they queued (finished watches).
            try? s.endChange(mark)
            publishResources(&s)
            return result
        }
    }

    /// Calls `done` once every change written so far is durable (with the storage failure if it
    /// cannot be); returns false, without calling it, when nothing is pending.
    func whenDurable(_ done: @escaping @Sendable (String?) -> Void) -> Bool {
        guard let persistence = durable.withLock({ $0 }) else { return false }
        return persistence.whenDurable(done)
    }
}

/// A parsed HTTP request as the router sees it.
struct APIRequest: Sendable {
    var method: String
    var uri: String
    var headers: HTTPHeaders
    var body: [UInt8]
    var bodyTooLarge: Bool
    /// From a verified client certificate.
    var certificateUser: String?
    /// The organizations of that certificate.
    var certificateGroups: [String] = []
    /// Who sent it, once authenticated (see Auth/).
    var user: UserInfo? = nil
}

/// What the connection handler writes back.
enum APIResponse: Sendable {
    case full(status: Int, headers: [(String, String)], body: [UInt8])
    case watch(WatchStream)
    /// Answered asynchronously (a write that admission webhooks admit; see docs/local.md).
    case deferred(@Sendable () async -> APIResponse)
}

/// A watch ready to stream.
struct WatchStream: Sendable {
    var plan: WatchPlan
    /// nil only for a synthetic stream that carries nothing but ERROR events.
    var info: ResourceInfo?
    var table: Bool
    var include: TableRenderer.IncludeObject
    var bookmarks: Bool
    var timeoutSeconds: Int64
    /// Fault injection: end the stream after this many events / this long.
    var truncateAfterEvents: Int? = nil
    var truncateAfter: Duration? = nil
}

/// A recorded request (test hook).
public struct RecordedRequest: Sendable, Equatable {
    /// HTTP method.
    public var method: String
    /// Path without the query.
    public var path: String
    /// Raw query string (without `?`).
    public var query: String
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (or the HTTP method for non-resource paths).
    public var verb: String
}

/// Request routing and protocol handling.
final class Router: Sendable {
    let store: Store
    let token: String
    let serviceAccountTokens: ServiceAccountTokens
    let hostPort: Mutex<String>
    let log = Mutex<[RecordedRequest]>([])
    /// Messages of the 403s RBAC answered (test hook; see Auth/).
    let denials = Mutex<[String]>([])
    let faults = FaultHookSlot()
    let openAPI = OpenAPIService()
    let admission: AdmissionGate
    static let maxBody = 3 * 1024 * 1024

    init(store: Store, token: String, serviceAccountTokens: ServiceAccountTokens = ServiceAccountTokens()) {
        self.store = store
        self.token = token
        self.serviceAccountTokens = serviceAccountTokens
        hostPort = Mutex("127.0.0.1:0")
        admission = AdmissionGate(store)
    }

    static func json(_ status: Int, _ body: JSON, extra: [(String, String)] = []) -> APIResponse {
        .full(status: status, headers: [("Content-Type", "application/json")] + extra, body: body.serialized())
    }

    /// The answer of a create, update or patch: the object as the resource presents it. With the
    /// text of the request's one commit, the watch events of that commit and the response share
    /// one serialization (the object answered is then the object committed).
    static func written(_ status: Int, _ obj: JSON, _ info: ResourceInfo, text: ObjectText?, extra: [(String, String)]) -> APIResponse {
        let render = { present(obj, info).serialized() }
        let body = text?.bytes(for: info, render: render) ?? render()
        return .full(status: status, headers: [("Content-Type", "application/json")] + extra, body: body)
    }

    static func error(_ e: APIError) -> APIResponse {
        var extra: [(String, String)] = []
        if let r = e.details?["retryAfterSeconds"]?.intValue { extra.append(("Retry-After", String(r))) }
        return json(e.code, e.status, extra: extra)
    }

    static func percentDecode(_ s: Substring, plusAsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else if b == UInt8(ascii: "+") && plusAsSpace {
                bytes.append(32)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func parseQuery(_ q: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = percentDecode(kv[0], plusAsSpace: true)
            if out[k] == nil { out[k] = kv.count > 1 ? percentDecode(kv[1], plusAsSpace: true) : "" }
        }
        return out
    }

    // MARK: - entry point

    /// A request parsed, logged and checked for injected faults, ready to be answered.
    struct Prepared: Sendable {
        var path: String
        var query: [String: String]
        var segments: [String]
        var verb: String
        var decision: FaultDecision?
        /// Wait this long (fault injection) before answering.
        var delay: Duration? { decision?.delay }
    }

    /// First half of handling: parse, log, decide faults. Cheap and synchronous.
    func prepare(_ request: APIRequest) -> Prepared {
        let uri = request.uri
        let pathPart: Substring
        let queryPart: Substring
        if let q = uri.firstIndex(of: "?") {
            pathPart = uri[..<q]
            queryPart = uri[uri.index(after: q)...]
        } else {
            pathPart = uri[...]
            queryPart = ""
        }
        let path = String(pathPart)
        let query = Self.parseQuery(queryPart)
        let segments = pathPart.split(separator: "/").map { Self.percentDecode($0, plusAsSpace: false) }
        let verb = Self.verb(method: request.method, segments: segments, query: query)
        log.withLock { l in
            if l.count >= 200_000 { l.removeFirst(l.count / 2) }
            l.append(RecordedRequest(method: request.method, path: path, query: String(queryPart), verb: verb))
        }
        return Prepared(path: path, query: query, segments: segments, verb: verb, decision: faults.decide(path: path, verb: verb))
    }

    /// Handles a request completely (waiting out an injected delay asynchronously).
    func handle(_ request: APIRequest) async -> APIResponse {
        let prepared = prepare(request)
        if let delay = prepared.delay { try? await Task.sleep(for: delay) }
        let response = respond(request, prepared)
        if case .deferred(let work) = response { return await work() }
        return response
    }

    /// Second half of handling: answers a prepared request. Synchronous (callable on an event loop).
    func respond(_ request: APIRequest, _ prepared: Prepared) -> APIResponse {
        let path = prepared.path
        let query = prepared.query
        let segments = prepared.segments
        let verb = prepared.verb
        let decision = prepared.decision
        if let status = decision?.errorStatus {
            if status == 410 && verb == "watch" {
                // A real server reports an expired watch as a 200 stream carrying one 410 ERROR event.
                return .watch(
                    WatchStream(
                        plan: WatchPlan(watcher: nil, initial: [.error(APIError.expired("too old resource version (injected fault)").status)]),
                        info: nil, table: false, include: .metadata, bookmarks: false, timeoutSeconds: 1))
            }
            return FaultHookSlot.errorResponse(status: status, retryAfterSeconds: decision?.retryAfterSeconds, resource: Self.target(segments))
        }
        let anonymousOK = ["/healthz", "/readyz", "/livez"].contains(path)
        var request = request
        if !anonymousOK {
            let user: UserInfo
            switch identify(request) {
            case .success(let u): user = u
            case .failure(let e): return Self.error(e)
            }
            if let forbidden = authorizationFailure(user, request, prepared) { return Self.error(forbidden) }
            request.user = user
        }
        if request.bodyTooLarge {
            return Self.error(APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(Self.maxBody)"))
        }
        do {
            let response = try route(request, segments: segments, query: query)
            if case .watch(var w) = response, let decision {
                w.truncateAfterEvents = decision.truncateAfterEvents
                w.truncateAfter = decision.truncateAfter
                return .watch(w)
            }
            return response
        } catch {
            return Self.error(error)
        }
    }

    /// Group, plural and name addressed by a resource path (for injected Status details).
    static func target(_ segments: [String]) -> (group: String, plural: String, name: String?)? {
        guard segments.first == "api" || segments.first == "apis" else { return nil }
        let group = segments.first == "api" ? "" : (segments.count > 1 ? segments[1] : "")
        var rest = Array(segments.dropFirst(segments.first == "api" ? 2 : 3))
        if rest.first == "watch" { rest.removeFirst() }
        if rest.count >= 3 && rest[0] == "namespaces" { rest.removeFirst(2) }
        guard let plural = rest.first else { return nil }
        return (group, plural, rest.count > 1 ? rest[1] : nil)
    }

    func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }

    static func verb(method: String, segments: [String], query: [String: String]) -> String {
        guard segments.first == "api" || segments.first == "apis" else { return method.lowercased() }
        let base = segments.first == "api" ? 2 : 3
        var rest = Array(segments.dropFirst(base))
        var watchPath = false
        if rest.first == "watch" {
            watchPath = true
            rest.removeFirst()
        }
        if rest.count >= 3 && rest[0] == "namespaces" && !(rest.count == 3 && (rest[2] == "status" || rest[2] == "finalize")) { rest.removeFirst(2) }
        let hasName = rest.count >= 2
        switch method {
        case "GET":
            if watchPath || query["watch"].flatMap(parseGoBool) == true { return "watch" }
            return hasName ? "get" : "list"
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return hasName ? "delete" : "deletecollection"
        default: return method.lowercased()
        }
    }

    // MARK: - routing

    func route(_ request: APIRequest, segments: [String], query: [String: String]) throws(APIError) -> APIResponse {
        let method = request.method
        // Discovery needs the whole registry; resource requests never copy it.
        let store = store
        func resources() -> [ResourceInfo] { store.read { Array($0.resources.values) } }
        func getOnly() throws(APIError) { if method != "GET" && method != "HEAD" { throw APIError.methodNotAllowed(method, nil) } }
        switch segments.count {
        case 0:
            try getOnly()
            var paths: [JSON] = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"]
            for (g, vs) in Discovery.groupVersions(resources()) {
                paths.append(.string("/apis/\(g)"))
                for v in vs { paths.append(.string("/apis/\(g)/\(v)")) }
            }
            return Self.json(200, ["paths": .array(paths)])
        case 1 where segments[0] == "version":
            try getOnly()
            return Self.json(200, Discovery.version())
        case 1 where ["healthz", "readyz", "livez"].contains(segments[0]):
            return .full(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("ok".utf8))
        case 1 where segments[0] == "api":
            try getOnly()
            return Self.json(200, Discovery.apiVersions(hostPort: hostPort.withLock { $0 }))
        case 1 where segments[0] == "apis":
            try getOnly()
            return Self.json(200, Discovery.apiGroupList(resources()))
        case 2 where segments[0] == "api" && segments[1] == "v1":
            try getOnly()
            return Self.json(200, Discovery.resourceList(group: "", version: "v1", resources()))
        case 2 where segments[0] == "apis":
            try getOnly()
            guard let gv = Discovery.groupVersions(resources()).first(where: { $0.group == segments[1] }) else { throw APIError.unknownPath }
            var g = Discovery.apiGroup(gv.group, gv.versions)
            g["kind"] = "APIGroup"
            g["apiVersion"] = "v1"
            return Self.json(200, g)
        case 3 where segments[0] == "apis":
            try getOnly()
            guard resources().contains(where: { $0.group == segments[1] && $0.version == segments[2] }) else { throw APIError.unknownPath }
            return Self.json(200, Discovery.resourceList(group: segments[1], version: segments[2], resources()))
        default:
            break
        }
        if segments.first == "openapi" {
            try getOnly()
            return try openAPI.respond(
                segments: segments, query: query, accept: request.headers.first(name: "Accept"),
                ifNoneMatch: request.headers.first(name: "If-None-Match"), store: store)
        }
        if let answer = try authRoute(request, segments: segments) { return answer }
        if segments.count > 2 && segments[0] == "api" && segments[1] == "v1" {
            return try resourceRoute(request, group: "", version: "v1", rest: Array(segments.dropFirst(2)), query: query)
        }
        if segments.count > 3 && segments[0] == "apis" {
            return try resourceRoute(request, group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)), query: query)
        }
        throw APIError.unknownPath
    }

    static func mediaType(_ header: String?) -> String {
        guard let header else { return "" }
        // Usual case: already a bare lower-case type ("application/json"); no copies then.
        if !header.utf8.contains(where: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: " ") || (65...90).contains($0) }) { return header }
        let base = header.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return base.trimmedSpaces().lowercased()
    }

    /// The write body as JSON; `duplicates` gets the keys a JSON body had twice (custom
    /// resources, for `fieldValidation`).
    /// `decodeBody` for callers that do not check duplicate fields (reviews, token requests).
    func decodeBody(_ request: APIRequest, info: ResourceInfo) throws(APIError) -> JSON {
        var ignored: [String] = []
        return try decodeBody(request, info: info, duplicates: &ignored)
    }

    func decodeBody(_ request: APIRequest, info: ResourceInfo, duplicates: inout [String]) throws(APIError) -> JSON {
        let type = Self.mediaType(request.headers.first(name: "Content-Type"))
        var obj: JSON
        switch type {
        case "application/json", "", "*/*":
            do {
                obj = info.schema == nil ? try JSON.parse(request.body) : try JSON.parse(request.body, duplicateKeys: &duplicates)
            } catch { throw APIError.badRequest("error decoding request body as JSON: \(error)") }
        case "application/yaml", "application/x-yaml", "text/yaml":
            do { obj = try JSON.parseYAML(String(decoding: request.body, as: UTF8.self)) } catch {
                throw APIError.badRequest("error decoding request body as YAML: \(error)")
            }
        case "application/vnd.kubernetes.protobuf":
            guard info.strategy.acceptsProtobuf else {
                throw APIError.unsupportedMediaType(["application/json", "application/yaml"])
            }
            do { obj = try KubeProtobuf.decode(request.body) } catch { throw APIError.badRequest("error decoding protobuf body: \(error)") }
        default:
            throw APIError.unsupportedMediaType(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"])
        }
        guard obj.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object, got \(obj.typeName)") }
        if let av = obj["apiVersion"]?.stringValue, !av.isEmpty, av != info.groupVersion {
            throw APIError.badRequest("the API version in the data (\(av)) does not match the expected API version (\(info.groupVersion))")
        }
        if let k = obj["kind"]?.stringValue, !k.isEmpty, k != info.kind {
            throw APIError.badRequest("the kind in the data (\(k)) does not match the expected kind (\(info.kind))")
        }
        if let m = obj["metadata"], !m.isNull, m.objectValue == nil { throw APIError.badRequest("metadata must be an object") }
        return obj
    }

    /// Validates the write options (dryRun, fieldValidation, fieldManager).
    static func writeOptions(_ query: [String: String], kind: String) throws(APIError) -> Bool {
        var errors: [FieldError] = []
        var dry = false
        if let d = query["dryRun"] {
            if d == "All" {
                dry = true
            } else if !d.isEmpty {
                errors.append(FieldError.notSupported("dryRun", FieldBadValue(.array([.string(d)])), ["All"]))
            }
        }
        if let fv = query["fieldValidation"], !fv.isEmpty, !["Ignore", "Warn", "Strict"].contains(fv) {
            errors.append(FieldError.notSupported("fieldValidation", .string(fv), ["Ignore", "Strict", "Warn"]))
        }
        if let fm = query["fieldManager"], fm.count > 128 || fm.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) {
            errors.append(FieldError(.invalid, "fieldManager", .string(fm), "must be less than 128 characters and printable"))
        }
        if !errors.isEmpty { throw APIError.invalidOptions(kind, errors) }
        return dry
    }

    static func present(_ obj: JSON, _ info: ResourceInfo) -> JSON {
        guard obj.objectValue != nil, obj["kind"]?.stringValue != "Status" else { return obj }
        // Stored objects usually carry exactly these already: skip the copy-on-write.
        if obj["apiVersion"]?.stringValue == info.groupVersion && obj["kind"]?.stringValue == info.kind { return obj }
        var o = EventConversion.isEventsAPI(info) ? EventConversion.toEventsAPI(obj) : obj
        o["apiVersion"] = .string(info.groupVersion)
        o["kind"] = .string(info.kind)
        return o
    }

    func includeObject(_ query: [String: String]) throws(APIError) -> TableRenderer.IncludeObject {
        switch query["includeObject"] ?? "" {
        case "", "Metadata": return .metadata
        case "Object": return .object
        case "None": return .none
        case let v: throw APIError.badRequest("unrecognized includeObject value: \"\(v)\"")
        }
    }

    func resourceRoute(_ request: APIRequest, group: String, version: String, rest segments: [String], query: [String: String]) throws(APIError)
        -> APIResponse
    {
        var rest = segments
        var watchPath = false
        if rest.first == "watch" {
            watchPath = true
            rest.removeFirst()
        }
        var namespace = ""
        var plural: String
        var name: String?
        var sub: String?
        if group.isEmpty && rest.count == 3 && rest[0] == "namespaces" && (rest[2] == "status" || rest[2] == "finalize") {
            plural = "namespaces"
            name = rest[1]
            sub = rest[2]
        } else {
            if rest.count >= 3 && rest[0] == "namespaces" {
                namespace = rest[1]
                rest.removeFirst(2)
            }
            guard !rest.isEmpty, rest.count <= 3 else { throw APIError.unknownPath }
            plural = rest[0]
            name = rest.count > 1 ? rest[1] : nil
            sub = rest.count > 2 ? rest[2] : nil
        }
        guard let info = store.resource(group: group, version: version, plural: plural) else { throw APIError.unknownPath }
        if !namespace.isEmpty && !info.namespaced { throw APIError.unknownPath }
        if info.namespaced && namespace.isEmpty && name != nil { throw APIError.unknownPath }
        if let s = sub {
            guard s == "status" && info.hasStatus || (s == "finalize" && info.strategy.hasFinalizeSubresource) else { throw APIError.unknownPath }
        }
        if sub == "finalize" { sub = "status" }  // only spec.finalizers/status matter; treated like status writes
        let method = request.method
        var req = ResourceRequest(info: info, namespace: namespace, name: name, subresource: sub, query: query, dryRun: false)
        // events.k8s.io Events are the core Events in another form: operations run on the core
        // resource; bodies, patches and field selectors are converted (see EventConversion).
        let eventsAPI = EventConversion.isEventsAPI(info)
        if eventsAPI, let core = store.resource(group: "", version: "v1", plural: "events") { req.info = core }
        func fieldSelector() throws(APIError) -> FieldSelector {
            let parsed = try FieldSelector(parsing: query["fieldSelector"] ?? "", allowed: info.fieldSelectors)
            return eventsAPI ? EventConversion.storedSelector(parsed) : parsed
        }
        func body() throws(APIError) -> JSON {
            let decoded = try decodeBody(request, info: info, duplicates: &req.duplicateFields)
            guard eventsAPI else { return decoded }
            var core = EventConversion.toCore(decoded)
            core["apiVersion"] = .string(req.info.groupVersion)
            return core
        }
        if let m = query["fieldManager"], !m.isEmpty {
            req.fieldManager = m
        } else {
            req.fieldManager = ManagedFields.manager(fromUserAgent: request.headers.first(name: "User-Agent") ?? "")
        }
        let accept = request.headers.first(name: "Accept")
        let table = TableRenderer.wantsTable(accept)

        switch method {
        case "GET", "HEAD":
            let isWatch = watchPath || query["watch"].flatMap(parseGoBool) == true
            if isWatch {
                var fieldSel = try fieldSelector()
                if let name {
                    guard sub == nil else { throw APIError.methodNotAllowed("watch", info, name: name) }
                    fieldSel.requirements.append(.init(field: "metadata.name", value: name, negated: false))
                }
                let labelSel = try LabelSelector(parsing: query["labelSelector"] ?? "")
                let include = try includeObject(query)
                let plan = try store.with { (s: inout StoreState) throws(APIError) -> WatchPlan in
                    try s.watch(req, labelSelector: labelSel, fieldSelector: fieldSel)
                }
                var timeout = Int64(query["timeoutSeconds"] ?? "") ?? 0
                if timeout <= 0 { timeout = Int64.random(in: 1800..<3600) }
                return .watch(
                    WatchStream(
                        plan: plan, info: info, table: table, include: include,
                        bookmarks: query["allowWatchBookmarks"].flatMap(parseGoBool) == true, timeoutSeconds: timeout))
            }
            if let name {
                guard let obj = store.read({ $0.object(info, namespace, name) }) else {
                    throw APIError.notFound(info, name)
                }
                let presented = Self.present(obj, info)
                if table {
                    return Self.json(
                        200,
                        TableRenderer.table(
                            info, objects: [presented], listMeta: ["resourceVersion": presented[path: "metadata", "resourceVersion"] ?? ""],
                            include: try includeObject(query)))
                }
                return Self.json(200, presented)
            }
            let labelSel = try LabelSelector(parsing: query["labelSelector"] ?? "")
            let fieldSel = try fieldSelector()
            let (items, meta) = try store.with { (s: inout StoreState) throws(APIError) -> ([JSON], JSON) in
                try s.list(req, labelSelector: labelSel, fieldSelector: fieldSel)
            }
            let presented = items.map { Self.present($0, info) }
            if table {
                return Self.json(200, TableRenderer.table(info, objects: presented, listMeta: meta, include: try includeObject(query)))
            }
            return Self.json(
                200, ["kind": .string(info.listKind), "apiVersion": .string(info.groupVersion), "metadata": meta, "items": .array(presented)])
        case "POST":
            guard name == nil else { throw APIError.methodNotAllowed("create", info, name: name) }
            if info.namespaced && namespace.isEmpty { throw APIError.methodNotAllowed("create", info) }
            req.dryRun = try Self.writeOptions(query, kind: "CreateOptions")
            let body = try body()
            if let admitted = admittedWrite(.create(body: body), req, request) { return admitted }
            let (code, obj, text) = try store.with { (s: inout StoreState) throws(APIError) -> (Int, JSON, ObjectText?) in
                let (code, obj) = try s.create(req, body: body)
                return (code, obj, s.committedText)
            }
            return Self.written(code, obj, info, text: text, extra: req.warnings.headers)
        case "PUT":
            guard let name else { throw APIError.methodNotAllowed("update", info) }
            req.dryRun = try Self.writeOptions(query, kind: "UpdateOptions")
            let body = try body()
            if let admitted = admittedWrite(.update(name: name, body: body), req, request) { return admitted }
            let (code, obj, text) = try store.with { (s: inout StoreState) throws(APIError) -> (Int, JSON, ObjectText?) in
                let (code, obj) = try s.update(req, name: name, body: body)
                return (code, obj, s.committedText)
            }
            return Self.written(code, obj, info, text: text, extra: req.warnings.headers)
        case "PATCH":
            guard let name else { throw APIError.methodNotAllowed("patch", info) }
            req.dryRun = try Self.writeOptions(query, kind: "PatchOptions")
            let type = Self.mediaType(request.headers.first(name: "Content-Type"))
            guard info.patchTypes.contains(type) || type == "application/strategic-merge-patch+json" else {
                throw APIError.unsupportedMediaType(info.patchTypes)
            }
            let body = request.body
            if let admitted = admittedWrite(.patch(name: name, contentType: type, body: body), req, request) { return admitted }
            let decoded = eventsAPI ? nil : try StoreState.decodePatch(req, contentType: type, body: body)
            let (code, obj, text) = try store.with { (s: inout StoreState) throws(APIError) -> (Int, JSON, ObjectText?) in
                guard let decoded else {
                    let (code, obj) = try s.patchEventsAPI(req, viewInfo: info, name: name, contentType: type, body: body)
                    return (code, obj, nil)
                }
                let (code, obj) = try s.patch(req, name: name, decoded: decoded)
                return (code, obj, s.committedText)
            }
            return Self.written(code, obj, info, text: text, extra: req.warnings.headers)
        case "DELETE":
            if sub != nil { throw APIError.methodNotAllowed("delete", info, name: name) }
            let options = try StoreState.deleteOptions(body: request.body, query: query)
            req.dryRun = options.dryRun
            if let name {
                if let admitted = admittedWrite(.delete(name: name, options: options), req, request) { return admitted }
                let (code, obj) = try store.with { (s: inout StoreState) throws(APIError) -> (Int, JSON) in
                    try s.delete(req, name: name, options: options)
                }
                return Self.json(code, Self.present(obj, info), extra: req.warnings.headers)
            }
            let labelSel = try LabelSelector(parsing: query["labelSelector"] ?? "")
            let fieldSel = try fieldSelector()
            if let admitted = admittedDeleteCollection(req, options: options, labelSel, fieldSel, request) { return admitted }
            let items = try store.with { (s: inout StoreState) throws(APIError) -> [JSON] in
                var out: [JSON] = []
                var listReq = req
                listReq.query = [:]
                for obj in s.filtered(listReq, labelSelector: labelSel, fieldSelector: fieldSel) {
                    let (ns, n) = StoreState.names(obj)
                    var r = req
                    r.namespace = ns
                    let (_, result) = try s.delete(r, name: n, options: options)
                    out.append(result["kind"]?.stringValue == "Status" ? obj : result)
                }
                return out
            }
            return Self.json(
                200,
                [
                    "kind": .string(info.listKind), "apiVersion": .string(info.groupVersion),
                    "metadata": ["resourceVersion": .string(String(store.read { $0.rv }))],
                    "items": .array(items.map { Self.present($0, info) }),
                ])
        default:
            throw APIError.methodNotAllowed(method, info, name: name)
        }
    }
}
