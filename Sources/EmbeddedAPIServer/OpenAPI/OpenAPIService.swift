import Crypto
import Foundation
import KubeCore
import Synchronization

/// Serves `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<group-version>` as kube-apiserver does:
/// JSON documents with an ETag, the v3 index pointing at each document with a `hash` query, a
/// hashed URL answered as immutable (and a stale hash redirected to the current one). The
/// documents are built once per change of the served resources or of a CRD, not per request.
final class OpenAPIService: Sendable {
    /// The documents of one state of the served resources.
    struct Built: Sendable {
        var fingerprint: String
        var lastModified: String
        var v2: [UInt8]
        var v2ETag: String
        var index: [UInt8]
        /// Serialized document and its hash by group-version path (`api/v1`, `apis/apps/v1`).
        var v3: [String: (body: [UInt8], hash: String)]
    }

    private let cache = Mutex<Built?>(nil)
    /// How many times the documents were built (a test hook: once per change, not per request).
    let builds = Atomic<Int>(0)

    /// Upper-case hex SHA-512, the form kube-apiserver uses for ETags and hashes.
    static func hash(_ bytes: [UInt8]) -> String {
        SHA512.hash(data: bytes).map { String(format: "%02X", $0) }.joined()
    }

    /// What the documents are built from, read under the store lock.
    static func snapshot(_ store: Store) -> (fingerprint: String, served: [OpenAPIDocuments.Served]) {
        store.read { s in
            let crds = s.collections["apiextensions.k8s.io/customresourcedefinitions"] ?? [:]
            var served: [OpenAPIDocuments.Served] = []
            var keys: [String] = []
            for (key, info) in s.resources {
                let crd = info.behavior == .custom ? crds["\(info.plural).\(info.group)"] : nil
                served.append(OpenAPIDocuments.Served(info: info, crd: crd))
                keys.append("\(key)@\(crd?[path: "metadata", "resourceVersion"]?.stringValue ?? "")")
            }
            served.sort { "\($0.info.group)/\($0.info.version)/\($0.info.plural)" < "\($1.info.group)/\($1.info.version)/\($1.info.plural)" }
            return (keys.sorted().joined(separator: ";"), served)
        }
    }

    /// The documents of the current state (rebuilt only when the served resources changed).
    func current(_ store: Store) -> Built {
        let (fingerprint, served) = Self.snapshot(store)
        if let built = cache.withLock({ $0 }), built.fingerprint == fingerprint { return built }
        let built = Self.build(fingerprint: fingerprint, served)
        builds.add(1, ordering: .relaxed)
        cache.withLock { $0 = built }
        return built
    }

    static func build(fingerprint: String, _ served: [OpenAPIDocuments.Served]) -> Built {
        let defs = OpenAPIDocuments.definitions(served)
        var groupVersions: [(group: String, version: String)] = []
        for s in served where !groupVersions.contains(where: { $0.group == s.info.group && $0.version == s.info.version }) {
            groupVersions.append((s.info.group, s.info.version))
        }
        var v3: [String: (body: [UInt8], hash: String)] = [:]
        var index = JSONObject()
        for gv in groupVersions.sorted(by: { ($0.group, $0.version) < ($1.group, $1.version) }) {
            let path = gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)"
            let body = OpenAPIDocuments.v3(group: gv.group, version: gv.version, served, defs).serialized()
            let h = hash(body)
            v3[path] = (body, h)
            index[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(h)")]
        }
        let v2 = OpenAPIDocuments.v2(served, defs).serialized()
        return Built(
            fingerprint: fingerprint, lastModified: httpDate(Date()), v2: v2, v2ETag: "\"\(hash(v2))\"",
            index: JSON.object(["paths": .object(index)]).serialized(), v3: v3)
    }

    static func httpDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }

    /// Whether an Accept header allows JSON (absent, `*/*`, `application/*` or `application/json`).
    static func acceptsJSON(_ accept: String?) -> Bool {
        guard let accept, !accept.isEmpty else { return true }
        return accept.split(separator: ",").contains { part in
            let type = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            return type == "*/*" || type == "application/*" || type == "application/json"
        }
    }

    static func notAcceptable() -> APIError {
        APIError(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: application/json")
    }

    /// Answers a GET of `/openapi/...`.
    func respond(segments: [String], query: [String: String], accept: String?, ifNoneMatch: String?, store: Store) throws(APIError) -> APIResponse {
        // kubectl asks for the protobuf form of v2 only; a 406 makes it carry on without v2.
        guard Self.acceptsJSON(accept) else { throw Self.notAcceptable() }
        let built = current(store)
        let json = ("Content-Type", "application/json")
        if segments == ["openapi", "v2"] {
            let headers = [json, ("Etag", built.v2ETag), ("Vary", "Accept"), ("Last-Modified", built.lastModified)]
            if ifNoneMatch == built.v2ETag { return .full(status: 304, headers: Array(headers.dropFirst()), body: []) }
            return .full(status: 200, headers: headers, body: built.v2)
        }
        if segments == ["openapi", "v3"] { return .full(status: 200, headers: [json], body: built.index) }
        guard segments.count > 2, segments[1] == "v3" else { throw APIError.unknownPath }
        let path = segments.dropFirst(2).joined(separator: "/")
        guard let doc = built.v3[path] else { throw APIError.unknownPath }
        var headers = [json, ("Etag", "\"\(doc.hash)\""), ("Last-Modified", built.lastModified)]
        if let wanted = query["hash"], !wanted.isEmpty {
            if wanted != doc.hash {
                return .full(status: 301, headers: [("Location", "/openapi/v3/\(path)?hash=\(doc.hash)")], body: [])
            }
            let expires = Self.httpDate(Date().addingTimeInterval(365 * 24 * 3600))
            headers += [("Vary", "Accept"), ("Cache-Control", "public, immutable"), ("Expires", expires)]
        }
        if ifNoneMatch == "\"\(doc.hash)\"" { return .full(status: 304, headers: Array(headers.dropFirst()), body: []) }
        return .full(status: 200, headers: headers, body: doc.body)
    }
}

extension EmbeddedAPIServer {
    /// How many times the OpenAPI documents were built: once per change of the served resources
    /// or of a CRD, however often they are fetched.
    public var openAPIDocumentBuilds: Int { router.openAPI.builds.load(ordering: .relaxed) }
}
