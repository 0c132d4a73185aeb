// Module EmbeddedAPIServer: an in-process Kubernetes API server that kubectl and the official
// Python client accept (see docs/local.md).
import Foundation
import KubeCore
import NIOSSL
import Synchronization

@_exported import struct ListenerLimits.ListenerLimits

/// Configuration of an ``EmbeddedAPIServer``.
public struct EmbeddedAPIServerConfiguration: Sendable {
    /// Bind address; loopback by default.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (read it back from ``EmbeddedAPIServer/port``).
    public var port: Int = 0
    /// When set, state persists here (snapshot + change log) and survives restarts, and so do
    /// the CA, serving certificate and token (kubeconfigs stay valid; see docs/local.md).
    public var dataDirectory: String? = nil
    /// Bearer token; when nil, the one kept in the data directory or else a random one.
    public var token: String? = nil
    /// Events kept for resuming watches; older resourceVersions get 410 Expired.
    public var historySize: Int = 10_000
    /// Per-watcher buffer; a watcher that falls further behind gets an ERROR event and is closed.
    public var watchBufferSize: Int = 1_000
    /// Event-loop threads.
    public var threads: Int = 2
    /// Spacing of watch batches per event loop while changes keep coming: each busy watcher gets
    /// one chunk (one TLS record batch, one syscall) per interval instead of one per change. The
    /// first change after a quiet period is sent at once; the spacing starts at
    /// `watchBatchInterval` and doubles while the stream of changes lasts, up to
    /// `watchBatchMaxInterval` (the longest a change waits for its watchers under load).
    public var watchBatchInterval: Duration = .milliseconds(5)
    /// The longest spacing of watch batches under a sustained stream of changes (see ``watchBatchInterval``).
    public var watchBatchMaxInterval: Duration = .milliseconds(20)
    /// Spacing of BOOKMARK events on watches that allow them (kube-apiserver: about a minute;
    /// shorter here so that clients resume close to the head).
    public var watchBookmarkInterval: Duration = .seconds(10)
    /// TLS handshake, request header and idle timeouts and the connection limit of the listener
    /// (see docs/operations.md, "Limits").
    public var listenerLimits = ListenerLimits()
    /// Bytes a watch connection may leave unsent (its client not reading) before it is closed.
    public var maxWatchPendingBytes = Self.defaultMaxWatchPendingBytes
    /// The default of `maxWatchPendingBytes`: well above one batch of changes, so only a
    /// client that stopped reading reaches it.
    public static let defaultMaxWatchPendingBytes = 16 * 1024 * 1024
    /// How long a watch may have changes to send while its client reads nothing (the connection
    /// not writable) before it is closed, as kube-apiserver closes unresponsive watchers. Together
    /// with `watchBufferSize` this bounds what a stalled watcher holds, whatever the size of the
    /// events (see docs/operations.md, "Limits").
    public var maxWatchStall: Duration = .seconds(10)
    /// Extra built-in kinds, each described like a CRD (group, names, scope, versions): served
    /// without a schema and without a CRD object, for kinds kube-apiserver has that this server
    /// does not model (local mode's shoot: RBAC, PodDisruptionBudget, NetworkPolicy). A kind
    /// the server already serves is left as it is.
    public var additionalBuiltinResources: [JSON] = []

    /// A configuration; the batching and bookmark intervals keep their defaults (set them afterwards).
    public init(
        host: String = "127.0.0.1", port: Int = 0, dataDirectory: String? = nil, token: String? = nil,
        historySize: Int = 10_000, watchBufferSize: Int = 1_000, threads: Int = 2
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.token = token
        self.historySize = historySize
        self.watchBufferSize = watchBufferSize
        self.threads = threads
    }
}

/// An embedded Kubernetes API server over HTTPS (bearer token or client-certificate auth).
public final class EmbeddedAPIServer: Sendable {
    /// The transport; replaced by ``restart(downtime:)`` (nil while restarting).
    let http: Mutex<HTTPServer?>
    let router: Router
    let authority: ServerCertificates
    let tls: TLSConfiguration
    let configuration: EmbeddedAPIServerConfiguration
    let stopped = Mutex(false)
    /// Periodic fault tasks (compaction, connection drops) of the current policy.
    let periodicFaults = Mutex<[Task<Void, Never>]>([])

    /// The bound TCP port (kept across ``restart(downtime:)``).
    public let port: Int
    /// `https://HOST:PORT`.
    public var baseURL: String { "https://\(Self.urlHost(configuration.host)):\(port)" }
    /// The bearer token clients must send.
    public let token: String
    /// PEM of the CA that signed the serving certificate (and issued client certificates).
    public var caCertificatePEM: String { authority.caCertificatePEM }

    static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// Starts a server; returns once it accepts connections.
    public static func start(_ configuration: EmbeddedAPIServerConfiguration = .init()) async throws -> EmbeddedAPIServer {
        try await EmbeddedAPIServer(configuration)
    }

    private init(_ configuration: EmbeddedAPIServerConfiguration) async throws {
        self.configuration = configuration
        // With a data dir the CA, serving certificate and token survive restarts, so kubeconfigs
        // stay valid (see docs/local.md).
        if let dir = configuration.dataDirectory {
            (authority, token) = try StoredCredentials.load(dataDirectory: dir, host: configuration.host, configuredToken: configuration.token)
        } else {
            token = configuration.token ?? Self.randomToken()
            authority = try ServerCertificates(host: configuration.host)
        }
        let store = Store(try Self.loadState(configuration))
        router = Router(store: store, token: token, serviceAccountTokens: try ServiceAccountTokens(dataDirectory: configuration.dataDirectory))
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(authority.serverCertificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.serverKeyPEM.utf8), format: .pem)))
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(authority.caCertificatePEM.utf8), format: .pem)])
        tls.applicationProtocols = ["http/1.1"]
        self.tls = tls
        let server = try await HTTPServer(
            host: configuration.host, port: configuration.port, tls: tls, router: router, threads: configuration.threads,
            watchBatchInterval: configuration.watchBatchInterval,
            watchBatchMaxInterval: configuration.watchBatchMaxInterval,
            watchBookmarkInterval: configuration.watchBookmarkInterval,
            limits: configuration.listenerLimits, maxWatchPendingBytes: configuration.maxWatchPendingBytes,
            maxWatchStall: configuration.maxWatchStall)
        port = server.port
        http = Mutex(server)
        router.hostPort.withLock { $0 = "\(Self.urlHost(configuration.host)):\(server.port)" }
        server.start()
    }

    /// Builds the initial state: built-in resources, persisted objects (resourceVersions continue
    /// after the highest persisted one), default namespaces; writes a fresh snapshot. Damaged
    /// storage stops the start with an error naming file and offset (see docs/reliability.md).
    static func loadState(_ configuration: EmbeddedAPIServerConfiguration) throws -> StoreState {
        // A time-derived start keeps resourceVersions increasing across restarts even without persistence.
        var startRV = Int64(Date().timeIntervalSince1970 * 1000)
        var loaded: Persistence.Loaded?
        var persistence: Persistence?
        if let dir = configuration.dataDirectory {
            let p = try Persistence(directory: dir)
            let l = try p.load()
            startRV = max(startRV, l.rv + 1)
            loaded = l
            persistence = p
        }
        var state = StoreState(startRV: startRV, historySize: configuration.historySize, watchBufferSize: configuration.watchBufferSize)
        for r in BuiltinResources.all { state.resources["\(r.group)/\(r.version)/\(r.plural)"] = r }
        for description in configuration.additionalBuiltinResources {
            for var r in CRDRegistration.resources(from: description) where state.resources["\(r.group)/\(r.version)/\(r.plural)"] == nil {
                r.behavior = .generic
                r.requiresResourceVersionOnUpdate = false
                state.resources["\(r.group)/\(r.version)/\(r.plural)"] = r
            }
        }
        if let loaded {
            state.collections = loaded.collections
            for crd in (loaded.collections["apiextensions.k8s.io/customresourcedefinitions"] ?? [:]).values { state.registerCRD(crd) }
        }
        Self.ensureDefaultNamespaces(&state)
        AuthResources.ensureBootstrapPolicy(&state)
        if let p = persistence {
            try p.compact(rv: state.rv, collections: state.collections)
            state.persistence = p
        }
        return state
    }

    static func ensureDefaultNamespaces(_ state: inout StoreState) {
        guard let info = state.resource(group: "", version: "v1", plural: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] where state.namespaceObject(name) == nil {
            let req = ResourceRequest(info: info, namespace: "", name: nil, subresource: nil, query: [:], dryRun: false)
            _ = try? state.create(req, body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        }
    }

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return Hex.lowercase((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// A kubeconfig (YAML) for this server: CA data, bearer token, optional default namespace.
    public func kubeconfig(namespace: String? = nil) -> String {
        let ca = Data(caCertificatePEM.utf8).base64EncodedString()
        var context: JSON = ["cluster": "embedded", "user": "embedded-admin"]
        if let namespace { context["namespace"] = .string(namespace) }
        let doc: JSON = [
            "apiVersion": "v1", "kind": "Config",
            "clusters": [["name": "embedded", "cluster": ["server": .string(baseURL), "certificate-authority-data": .string(ca)]]],
            "users": [["name": "embedded-admin", "user": ["token": .string(token)]]],
            "contexts": [["name": "embedded", "context": context]],
            "current-context": "embedded",
            "preferences": .emptyObject,
        ]
        return doc.yamlString()
    }

    /// Writes ``kubeconfig(namespace:)`` to a file (mode 0600: it holds the token).
    public func writeKubeconfig(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(kubeconfig().utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// A client certificate signed by the server CA, accepted for authentication (user = CN, groups = O).
    public func issueClientCertificate(commonName: String, groups: [String]) throws -> (certificatePEM: String, privateKeyPEM: String) {
        try authority.issueClientCertificate(commonName: commonName, groups: groups)
    }

    /// Stops listening, closes connections and watches, flushes persistence.
    public func shutdown() async throws {
        let already = stopped.withLock { s -> Bool in
            defer { s = true }
            return s
        }
        if already { return }
        for t in periodicFaults.withLock({ t in
            defer { t = [] }
            return t
        }) { t.cancel() }
        router.store.read { s in
            for key in Array(s.watchers.keys) { s.finishWatchers(storageKey: key) }
        }
        let server = http.withLock { h in
            defer { h = nil }
            return h
        }
        await server?.shutdown(grace: .milliseconds(200))
        router.store.read { s in
            if let p = s.persistence {
                // The log is durable already; a failed compaction only means a longer replay.
                do { try p.compact(rv: s.rv, collections: s.collections) } catch { Persistence.report("compaction at shutdown failed: \(error)") }
                p.close()
            }
        }
    }

    // MARK: - Test hooks (fault injection itself: EmbeddedAPIServerTesting)

    /// Every request seen so far (method, path, query, verb), oldest first.
    public var requestLog: [RecordedRequest] { router.log.withLock { $0 } }

    /// Number of recorded requests with this verb (nil = any) whose path equals `path` (nil = any).
    public func requestCount(verb: String? = nil, path: String? = nil) -> Int {
        router.log.withLock { log in log.filter { (verb == nil || $0.verb == verb) && (path == nil || $0.path == path) }.count }
    }

    /// Clears the request log.
    public func resetRequestLog() { router.log.withLock { $0.removeAll() } }

    /// Closes every open client connection (in-flight watches end abruptly, without a final chunk).
    public func dropAllConnections() {
        let server = http.withLock { $0 }
        server?.dropConnections()
        router.faults.count { $0.connectionDrops += 1 }
    }

    /// Forgets the whole event history: any watch resuming from an older resourceVersion gets a
    /// 410 Expired ERROR event (and continue tokens issued before expire).
    public func compactHistory() {
        router.store.read { s in
            s.history.removeAll()
            s.compactedRV = s.rv
        }
        router.faults.count { $0.compactions += 1 }
    }

    /// What the listener's limits did since it (re)started (see docs/operations.md, "Limits").
    public var listenerStatistics: ListenerStatistics {
        guard let server = http.withLock({ $0 }) else { return ListenerStatistics() }
        return ListenerStatistics(
            openConnections: server.listener.openConnections, timedOutConnections: server.listener.timedOutConnections,
            refusedConnections: server.listener.refusedConnections,
            slowWatchersClosed: server.registry.slowWatchersClosed.load(ordering: .relaxed),
            watchPendingHighWater: server.registry.watchPendingHighWater.load(ordering: .relaxed),
            activeWatches: server.registry.activeWatches.load(ordering: .relaxed))
    }

    /// Ends every open watch stream cleanly (clients see the stream end and re-watch).
    public func closeAllWatches() {
        router.store.read { s in
            for key in Array(s.watchers.keys) { s.finishWatchers(storageKey: key) }
        }
    }

    /// What loading the data dir reported (a dropped torn last record, a format migration), also
    /// written to standard error.
    public var storageNotices: [String] { router.store.read { $0.persistence?.notices.withLock { $0 } ?? [] } }

    /// The current global resourceVersion.
    public var currentResourceVersion: Int64 { router.store.read { $0.rv } }
}

/// Counters of the listener's limits, for tests and diagnostics.
public struct ListenerStatistics: Sendable, Equatable {
    /// Client connections open now.
    public var openConnections = 0
    /// Connections closed because the TLS handshake, a request header or an idle period took too long.
    public var timedOutConnections = 0
    /// Connections closed at once because the connection limit was reached.
    public var refusedConnections = 0
    /// Watch connections closed because their client left more than `maxWatchPendingBytes` unsent
    /// or read nothing for `maxWatchStall`.
    public var slowWatchersClosed = 0
    /// The most bytes seen waiting to be sent on one watch connection.
    public var watchPendingHighWater = 0
    /// Watch streams open now.
    public var activeWatches = 0
}
