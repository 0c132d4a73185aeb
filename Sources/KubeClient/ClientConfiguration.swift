import Foundation
import KubeCore

/// Everything a ``KubernetesClient`` needs to reach and authenticate to one API server.
///
/// Build it with ``load(kubeconfigPath:context:masterURL:environment:homeDirectory:serviceAccountDirectory:)``
/// (client-go's precedence: flag > `KUBECONFIG` > in-cluster > `~/.kube/config`),
/// ``fromKubeconfig(yaml:context:file:)``, ``inCluster(environment:serviceAccountDirectory:)``,
/// or directly with ``init(server:)``. `description` never prints credentials.
public struct ClientConfiguration: Sendable, CustomStringConvertible {
    /// How requests authenticate (a client certificate lives in ``TLS`` and may be combined).
    public enum Authentication: Sendable, Equatable {
        case none
        /// A static bearer token.
        case bearerToken(String)
        /// A bearer token read from a file and re-read whenever the file changes (projected
        /// service-account tokens are rotated by the kubelet) or the server answers 401.
        case tokenFile(path: String)
        /// HTTP basic authentication.
        case basic(username: String, password: String)
        /// A token from an exec credential plugin (`users[].user.exec`), cached until it expires
        /// and fetched again after a 401 (see docs/kubeclient.md).
        case exec(ExecPlugin)
    }

    /// An exec credential plugin as a kubeconfig declares it (client.authentication.k8s.io v1 or v1beta1).
    public struct ExecPlugin: Sendable, Equatable {
        /// `client.authentication.k8s.io/v1` or `/v1beta1`: what the plugin is told and must answer.
        public var apiVersion: String
        /// The program (a path, relative to the kubeconfig's directory when it has a slash, or a name on `PATH`).
        public var command: String
        /// Its arguments.
        public var args: [String]
        /// Extra environment variables, in order.
        public var env: [EnvVar]
        /// `Never`, `IfAvailable` or `Always`; this client has no terminal, so `Always` is refused.
        public var interactiveMode: String
        /// Whether the plugin gets the cluster (server, CA, ...) in `KUBERNETES_EXEC_INFO`.
        public var provideClusterInfo: Bool
        /// Shown when the command cannot be run.
        public var installHint: String?
        /// The kubeconfig's directory (relative commands resolve against it).
        public var baseDirectory: String

        /// One environment variable of the plugin.
        public struct EnvVar: Sendable, Equatable {
            /// Variable name.
            public var name: String
            /// Its value.
            public var value: String

            /// A variable.
            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        /// A plugin declaration.
        public init(
            apiVersion: String, command: String, args: [String] = [], env: [EnvVar] = [], interactiveMode: String = "Never",
            provideClusterInfo: Bool = false, installHint: String? = nil, baseDirectory: String = "."
        ) {
            self.apiVersion = apiVersion
            self.command = command
            self.args = args
            self.env = env
            self.interactiveMode = interactiveMode
            self.provideClusterInfo = provideClusterInfo
            self.installHint = installHint
            self.baseDirectory = baseDirectory
        }
    }

    /// TLS settings for `https://` servers.
    public struct TLS: Sendable, Equatable {
        /// PEM bundle of trusted CA certificates; `nil` = the system trust store.
        public var certificateAuthorityPEM: [UInt8]?
        /// PEM client certificate (chain) for mutual TLS.
        public var clientCertificatePEM: [UInt8]?
        /// PEM private key of the client certificate.
        public var clientKeyPEM: [UInt8]?
        /// Skip server certificate verification (`insecure-skip-tls-verify`).
        public var insecureSkipVerify: Bool
        /// Name to send as SNI and to verify the server certificate against
        /// (`tls-server-name`), instead of the URL's host.
        public var serverName: String?

        /// TLS settings; everything optional (system trust store, no client certificate).
        public init(
            certificateAuthorityPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
            insecureSkipVerify: Bool = false, serverName: String? = nil
        ) {
            self.certificateAuthorityPEM = certificateAuthorityPEM
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
            self.insecureSkipVerify = insecureSkipVerify
            self.serverName = serverName
        }
    }

    /// Base URL of the API server, e.g. `https://127.0.0.1:6443` (a path prefix is kept).
    public var server: String
    /// How the server is verified and how the client proves its identity on the TLS layer.
    public var tls: TLS
    /// Credentials sent with each request (bearer token, token file, basic auth or none).
    public var authentication: Authentication
    /// Default namespace (the context's namespace, the service account's namespace, or `default`).
    /// Used by object verbs when neither the call nor the object names a namespace.
    public var namespace: String
    /// Client-side rate limit: sustained requests per second. `<= 0` disables rate limiting.
    /// client-go's default is 5; Gardener extensions configure 100 (chart `clientConnection.qps`).
    public var qps: Double
    /// Client-side rate limit: bucket size. client-go's default is 10; Gardener charts use 130.
    public var burst: Int
    /// Deadline for one request attempt (not for watches, which use their own timeout).
    public var requestTimeout: Duration
    /// Deadline for establishing a connection.
    public var connectTimeout: Duration
    /// Retries after 429/5xx/connection errors (see ``KubernetesClient`` for which verbs).
    public var maxRetries: Int
    /// First backoff delay; doubled per retry (with jitter) up to ``retryMaxDelay``.
    public var retryBaseDelay: Duration
    /// Upper bound of the retry backoff delay.
    public var retryMaxDelay: Duration
    /// Sent as `User-Agent`.
    public var userAgent: String
    /// Sent as `fieldManager` on writes when set.
    public var fieldManager: String?
    /// Human-readable origin (kubeconfig file and context, or in-cluster), for logs.
    public var source: String
    /// HTTP(S) proxy for the connection (`http://` CONNECT proxies and `socks5://`): the cluster's
    /// `proxy-url`, else `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` names the server (see ``load``).
    public var proxyURL: String?

    /// A configuration with client-go's defaults and no credentials.
    public init(server: String) {
        self.server = server
        self.tls = TLS()
        self.authentication = .none
        self.namespace = "default"
        self.qps = 5
        self.burst = 10
        self.requestTimeout = .seconds(60)
        self.connectTimeout = .seconds(10)
        self.maxRetries = 5
        self.retryBaseDelay = .milliseconds(200)
        self.retryMaxDelay = .seconds(10)
        self.userAgent = Self.defaultUserAgent
        self.fieldManager = nil
        self.source = "explicit configuration"
    }

    /// A URL without its user information (proxy credentials stay out of logs).
    static func redactedURL(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }

    /// The proxy the environment gives for `server` (`HTTPS_PROXY` for https, `HTTP_PROXY` for
    /// http, lower-case names too), or nil when none is set or `NO_PROXY` matches the server's
    /// host: `*`, a host or domain suffix (`.example.com`, `example.com`), an IP address or a CIDR,
    /// each optionally with `:port`.
    public static func environmentProxy(for server: String, environment: [String: String]) -> String? {
        let isHTTPS = server.hasPrefix("https://")
        let names = isHTTPS ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
        guard let proxy = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let (host, port) = hostAndPort(server)
        let noProxy = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for raw in noProxy where !raw.isEmpty {
            if raw == "*" { return nil }
            var entry = raw
            var entryPort: Int?
            if let colon = entry.lastIndex(of: ":"), !entry.contains("::"), let p = Int(entry[entry.index(after: colon)...]) {
                entryPort = p
                entry = String(entry[..<colon])
            }
            if let entryPort, entryPort != port { continue }
            if let cidr = CIDR(entry), let ip = IPAddress(host), cidr.contains(ip) { return nil }
            let domain = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == domain || host.hasSuffix("." + domain) { return nil }
        }
        return proxy.contains("://") ? proxy : "http://" + proxy
    }

    /// Host (without brackets) and port of a server URL (default 443/80).
    static func hostAndPort(_ server: String) -> (String, Int) {
        let isHTTPS = server.hasPrefix("https://")
        var rest = server.range(of: "://").map { String(server[$0.upperBound...]) } ?? server
        if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let port = Int(rest[rest.index(after: close)...].dropFirst()) ?? (isHTTPS ? 443 : 80)
            return (host, port)
        }
        if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) { return (String(rest[..<colon]), port) }
        return (rest, isHTTPS ? 443 : 80)
    }

    /// The server and the authentication method, without secrets (safe to log).
    public var description: String {
        var auth: String
        switch authentication {
        case .none: auth = "none"
        case .bearerToken: auth = "token"
        case .tokenFile(let path): auth = "tokenFile \(path)"
        case .basic(let user, _): auth = "basic \(user)"
        case .exec(let plugin): auth = "exec \(plugin.command)"
        }
        if tls.clientCertificatePEM != nil { auth += "+client-certificate" }
        return "server \(server), auth \(auth), namespace \(namespace), from \(source)" + (proxyURL.map { ", proxy \(Self.redactedURL($0))" } ?? "")
    }

    /// `<program>/<version> (<os>/<arch>) kubeclient-swift`, like client-go's
    /// `<binary>/<version> (<os>/<arch>) kubernetes/<commit>`.
    public static var defaultUserAgent: String {
        let program = CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "swift"
        return "\(program.isEmpty ? "swift" : program)/v0.0.0 (\(osName)/\(archName)) kubeclient-swift"
    }

    static var osName: String {
        #if os(Linux)
            return "linux"
        #elseif os(macOS)
            return "darwin"
        #else
            return "unknown"
        #endif
    }

    static var archName: String {
        #if arch(x86_64)
            return "amd64"
        #elseif arch(arm64)
            return "arm64"
        #else
            return "unknown"
        #endif
    }
}

/// A configuration problem, naming the file and the field that is wrong.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file at fault (a kubeconfig, a token file, ...), when there is one.
    public var file: String?
    /// Field path inside the file, e.g. `users[0].user.client-key-data`.
    public var field: String?
    /// What is wrong, without the file and field prefix.
    public var message: String

    /// An error about `message`, optionally located in `file` at `field`.
    public init(file: String? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// `<file>: <field>: <message>`, leaving out the parts that are unknown.
    public var description: String {
        ([file, field].compactMap { $0 } + [message]).joined(separator: ": ")
    }
}
