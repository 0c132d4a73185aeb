import AsyncHTTPClient
import Foundation
import KubeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A Kubernetes REST client with client-go's semantics: kubeconfig/in-cluster authentication,
/// client-side rate limiting, retries for transient failures, typed ``KubeError``s decoded from
/// `Status` answers, and watches as async sequences.
///
/// Retry policy (per attempt the rate limiter is consulted again, as in client-go):
/// - 429 TooManyRequests: retried for every verb (the server did not process the request);
/// - other 5xx (except 501): retried for idempotent verbs (GET, PUT, DELETE); for POST/PATCH only
///   when the server sent `Retry-After`;
/// - connection failures: retried for idempotent verbs.
/// `Retry-After` (header or `details.retryAfterSeconds`) is honoured; otherwise exponential
/// backoff with jitter. A 401 with a token file re-reads the token and retries once.
///
/// Namespaces: for object verbs a `nil` namespace means the object's `metadata.namespace`, else the
/// configuration's namespace; for list/watch `nil` means all namespaces. Cluster-scoped resources
/// ignore it.
public final class KubernetesClient: Sendable {
    /// What this client connects to and how (fixed for its lifetime).
    public let configuration: ClientConfiguration
    let logger: Logger
    let http: HTTPClient
    let limiter: TokenBucket?
    let tokenSource: TokenFileSource?
    let execSource: ExecCredentialSource?
    let isShutDown = Mutex(false)
    let requestObserver = Mutex<RequestObserver?>(nil)
    /// `host:port` of the API server, as request metrics label it.
    public let serverHost: String
    /// Server URL as requests use it (host replaced by `tls-server-name` when set).
    let baseURL: String
    /// Largest response body accepted (lists of big clusters are large; watches are streamed).
    static let maxBodyBytes = 512 * 1024 * 1024

    /// Reports every request from now on to `observer` (replacing an earlier one; nil stops).
    public func setRequestObserver(_ observer: RequestObserver?) {
        requestObserver.withLock { $0 = observer }
    }

    /// `host:port` of a server URL, as request metrics label it.
    static func hostPort(of server: String) -> String {
        let rest = server.range(of: "://").map { String(server[$0.upperBound...]) } ?? server
        return String(rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The AsyncHTTPClient proxy of a proxy URL (`http://[user:password@]host[:port]` or `socks5://host[:port]`).
    static func proxy(_ url: String) throws -> HTTPClient.Configuration.Proxy {
        guard let schemeEnd = url.range(of: "://") else { throw KubeError.other("invalid proxy URL \(ClientConfiguration.redactedURL(url))") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
        var authorization: HTTPClient.Authorization?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at].split(separator: ":", maxSplits: 1).map { $0.removingPercentEncoding ?? String($0) }
            authorization = .basic(username: userInfo.first ?? "", password: userInfo.count > 1 ? userInfo[1] : "")
            rest = String(rest[rest.index(after: at)...])
        }
        let (host, port) = ClientConfiguration.hostAndPort((scheme == "socks5" ? "socks5://" : "http://") + rest)
        switch scheme {
        case "http": return .server(host: host, port: rest.contains(":") && !rest.hasSuffix("]") ? port : 80, authorization: authorization)
        case "socks5": return .socksServer(host: host, port: rest.contains(":") && !rest.hasSuffix("]") ? port : 1080)
        default: throw KubeError.other("unsupported proxy \(ClientConfiguration.redactedURL(url)): use an http:// (CONNECT) or socks5:// proxy")
        }
    }

    /// Creates a client. Fails if the TLS material cannot be used.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "kubeclient")) throws {
        self.configuration = configuration
        self.serverHost = Self.hostPort(of: configuration.server)
        self.logger = logger
        self.limiter = configuration.qps > 0 ? TokenBucket(qps: configuration.qps, burst: configuration.burst) : nil
        if case .tokenFile(let path) = configuration.authentication {
            self.tokenSource = TokenFileSource(path: path)
        } else {
            self.tokenSource = nil
        }
        if case .exec(let plugin) = configuration.authentication {
            self.execSource = ExecCredentialSource(plugin: plugin, configuration: configuration)
        } else {
            self.execSource = nil
        }

        var httpConfig = HTTPClient.Configuration()
        httpConfig.timeout = .init(connect: .init(configuration.connectTimeout), read: nil)
        // Watches hold a connection each; the default soft limit of 8 would queue requests
        // behind them on HTTP/1.1.
        httpConfig.connectionPool = .init(idleTimeout: .seconds(90), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        httpConfig.redirectConfiguration = .disallow
        if let proxy = configuration.proxyURL { httpConfig.proxy = try Self.proxy(proxy) }
        // No request spans: with no tracer bootstrapped AsyncHTTPClient would still build every
        // span's attributes for the no-op tracer (a few per cent of the controller's CPU).
        httpConfig.tracing.tracer = nil
        // Fail a request as soon as its connection cannot be established (instead of retrying
        // inside AsyncHTTPClient until the connect timeout): our retry policy decides, and a
        // TLS misconfiguration is reported at once.
        httpConfig.connectionPool.retryConnectionEstablishment = false
        var base = configuration.server
        let isHTTPS = configuration.server.lowercased().hasPrefix("https://")
        if isHTTPS {
            var tls = TLSConfiguration.makeClientConfiguration()
            // Closing a connection waits at most this long for the server's TLS close_notify.
            // A server that stops reading a connection while it streams a response (a watch)
            // never answers, and NIOSSL's 5 s default would hold up `shutdown()` and so every
            // process exit; the TCP close that follows is enough (see docs/reliability.md).
            tls.shutdownTimeout = .milliseconds(100)
            let ca = configuration.tls.certificateAuthorityPEM
            if configuration.tls.insecureSkipVerify {
                tls.certificateVerification = .none
            } else if let ca {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
                } catch {
                    throw ConfigurationError(field: "certificate-authority", "not a valid PEM certificate bundle (\(error))")
                }
            }
            if let certPEM = configuration.tls.clientCertificatePEM, let keyPEM = configuration.tls.clientKeyPEM {
                do {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certPEM).map { .certificate($0) }
                } catch {
                    throw ConfigurationError(field: "client-certificate", "not a valid PEM certificate (\(error))")
                }
                do {
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
                } catch {
                    throw ConfigurationError(field: "client-key", "not a valid PEM private key (\(error))")
                }
            }
            httpConfig.tlsConfiguration = tls
            // tls-server-name: address the server by that name (SNI + hostname verification)
            // while connecting to the real host, via AsyncHTTPClient's DNS override.
            if let serverName = configuration.tls.serverName, !serverName.isEmpty,
                var components = URLComponents(string: configuration.server), let host = components.host, host != serverName
            {
                components.host = serverName
                if let rewritten = components.string {
                    base = rewritten
                    httpConfig.dnsOverride = [serverName: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))]
                }
            }
        }
        self.baseURL = base
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfig)
    }

    /// Closes pooled connections; the client is unusable afterwards. Idempotent. A client that
    /// is dropped without it shuts its connection pool down in the background.
    public func shutdown() async throws {
        let already = isShutDown.withLock { state in
            defer { state = true }
            return state
        }
        if already { return }
        try await http.shutdown()
    }

    deinit {
        // AsyncHTTPClient traps in debug builds when a client is released without shutdown;
        // the task keeps it alive until the pool is closed.
        if !isShutDown.withLock({ $0 }) {
            let http = self.http
            Task { try? await http.shutdown() }
        }
    }

    // MARK: - Verbs

    /// GET one object (or one of its subresources).
    public func get(_ resource: Resource, namespace: String?, name: String, subresource: String? = nil) async throws -> JSON {
        let path = resource.objectPath(namespace: objectNamespace(resource, namespace, nil), name: try checkName(name), subresource: subresource)
        return try await requestJSON(.GET, path: path)
    }

    /// One list request (one page when `options.limit` is set). `nil` namespace = all namespaces.
    public func list(_ resource: Resource, namespace: String?, options: ListOptions = .init()) async throws -> ObjectList {
        let path = resource.collectionPath(namespace: resource.namespaced ? namespace : nil)
        let body = try await requestJSON(.GET, path: path, query: options.queryItems)
        return try ObjectList(decoding: body)
    }

    /// Lists everything, following `continue` tokens; the result carries the last page's
    /// resourceVersion (all pages are one snapshot).
    public func listAll(_ resource: Resource, namespace: String?, options: ListOptions = .init()) async throws -> ObjectList {
        var opts = options
        var page = try await list(resource, namespace: namespace, options: opts)
        var items = page.items
        var guardCount = 0
        while let token = page.continueToken, !token.isEmpty {
            guardCount += 1
            if guardCount > 100_000 { throw KubeError.other("list of \(resource) did not terminate (continue token loop)") }
            opts.continueToken = token
            opts.resourceVersion = nil  // not allowed together with continue
            opts.resourceVersionMatch = nil
            page = try await list(resource, namespace: namespace, options: opts)
            items += page.items
        }
        page.items = items
        page.continueToken = nil
        page.remainingItemCount = nil
        return page
    }

    /// POST a new object. `apiVersion`/`kind` are filled in when missing.
    public func create(_ resource: Resource, namespace: String?, _ object: JSON, dryRun: Bool = false) async throws -> JSON {
        var object = object
        fillTypeMeta(&object, resource)
        let ns = objectNamespace(resource, namespace, object)
        var query = writeQuery()
        if dryRun { query.append(("dryRun", "All")) }
        return try await requestJSON(.POST, path: resource.collectionPath(namespace: ns), query: query, body: object, contentType: "application/json")
    }

    /// POST a new object like ``create(_:namespace:_:dryRun:)`` but without decoding the answer:
    /// for large objects whose echo is not needed (the server's copy of a big Secret or ConfigMap
    /// would cost as much to parse as it cost to send).
    public func createIgnoringAnswer(_ resource: Resource, namespace: String?, _ object: JSON) async throws {
        var object = object
        fillTypeMeta(&object, resource)
        let ns = objectNamespace(resource, namespace, object)
        _ = try await requestJSON(
            .POST, path: resource.collectionPath(namespace: ns), query: writeQuery(), body: object,
            contentType: "application/json", decodeAnswer: false)
    }

    /// PUT an object (or `subresource`, e.g. `status`). `metadata.resourceVersion` in the object is
    /// the optimistic-concurrency precondition (409 → `.conflict`).
    public func update(_ resource: Resource, namespace: String?, _ object: JSON, subresource: String? = nil, dryRun: Bool = false) async throws
        -> JSON
    {
        var object = object
        fillTypeMeta(&object, resource)
        guard let name = object[path: "metadata", "name"]?.stringValue, !name.isEmpty else {
            throw KubeError.other("update of \(resource.qualifiedName): metadata.name is required")
        }
        let ns = objectNamespace(resource, namespace, object)
        var query = writeQuery()
        if dryRun { query.append(("dryRun", "All")) }
        return try await requestJSON(
            .PUT, path: resource.objectPath(namespace: ns, name: try checkName(name), subresource: subresource),
            query: query, body: object, contentType: "application/json")
    }

    /// PATCH an object (or `subresource`). A `metadata.resourceVersion` inside a merge patch acts
    /// as a precondition on the server.
    public func patch(
        _ resource: Resource, namespace: String?, name: String, _ patch: JSON, type: PatchType,
        subresource: String? = nil, dryRun: Bool = false
    ) async throws -> JSON {
        let ns = objectNamespace(resource, namespace, nil)
        var query = writeQuery()
        if case .apply(let force) = type {
            if configuration.fieldManager == nil { query.append(("fieldManager", "kubeclient-swift")) }
            if force { query.append(("force", "true")) }
        }
        if dryRun { query.append(("dryRun", "All")) }
        return try await requestJSON(
            .PATCH, path: resource.objectPath(namespace: ns, name: try checkName(name), subresource: subresource),
            query: query, body: patch, contentType: type.contentType)
    }

    /// DELETE an object. Returns the answer: a success `Status` when the object is gone, or the
    /// object itself when finalizers keep it (now with `deletionTimestamp`).
    @discardableResult
    public func delete(_ resource: Resource, namespace: String?, name: String, options: DeleteOptions = .init()) async throws -> JSON {
        let ns = objectNamespace(resource, namespace, nil)
        return try await requestJSON(
            .DELETE, path: resource.objectPath(namespace: ns, name: try checkName(name)),
            body: options.body, contentType: "application/json")
    }

    /// DELETE a collection (optionally filtered by selectors).
    @discardableResult
    public func deleteCollection(
        _ resource: Resource, namespace: String?, listOptions: ListOptions = .init(),
        options: DeleteOptions = .init()
    ) async throws -> JSON {
        let path = resource.collectionPath(namespace: resource.namespaced ? (namespace ?? configuration.namespace) : nil)
        return try await requestJSON(.DELETE, path: path, query: listOptions.queryItems, body: options.body, contentType: "application/json")
    }

    /// GET an arbitrary server path (e.g. `/version`, `/apis`) and decode the JSON answer.
    public func getRaw(path: String, query: [(String, String)] = []) async throws -> JSON {
        try await requestJSON(.GET, path: path, query: query)
    }

    // MARK: - Helpers

    func objectNamespace(_ resource: Resource, _ explicit: String?, _ object: JSON?) -> String? {
        guard resource.namespaced else { return nil }
        if let explicit, !explicit.isEmpty { return explicit }
        if let ns = object?[path: "metadata", "namespace"]?.stringValue, !ns.isEmpty { return ns }
        return configuration.namespace
    }

    func checkName(_ name: String) throws -> String {
        // An empty name would turn an object path into a collection path (a GET becomes a list,
        // a DELETE a deletecollection) — refuse it on the client.
        if name.isEmpty || name == "." || name == ".." || name.contains("/") {
            throw KubeError.other("invalid object name \"\(name)\"")
        }
        return name
    }

    func fillTypeMeta(_ object: inout JSON, _ resource: Resource) {
        guard case .object = object else { return }
        if object["apiVersion"]?.stringValue == nil { object["apiVersion"] = .string(resource.apiVersion) }
        if object["kind"]?.stringValue == nil { object["kind"] = .string(resource.kind) }
    }

    func writeQuery() -> [(String, String)] {
        if let fm = configuration.fieldManager, !fm.isEmpty { return [("fieldManager", fm)] }
        return []
    }
}
