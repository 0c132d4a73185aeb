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

    /// The server and the authentication method, without secrets (safe to log).
    public var description: String {
        var auth: String
        switch authentication {
        case .none: auth = "none"
        case .bearerToken: auth = "token"
        case .tokenFile(let path): auth = "tokenFile \(path)"
        case .basic(let user, _): auth = "basic \(user)"
        }
        if tls.clientCertificatePEM != nil { auth += "+client-certificate" }
        return "server \(server), auth \(auth), namespace \(namespace), from \(source)"
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
