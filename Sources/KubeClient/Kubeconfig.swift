import Foundation
import KubeCore
import NIOSSL

/// A parsed (and possibly merged) kubeconfig. Entries remember the file they came from so that
/// relative paths resolve against that file's directory and errors can name file and field.
public struct Kubeconfig: Sendable {
    /// One named entry of `clusters`, `users` or `contexts`.
    public struct Entry: Sendable {
        /// The entry's `name`, the key other entries refer to it by.
        public var name: String
        /// The inner object (`cluster:`, `user:` or `context:`); empty object if absent.
        public var value: JSON
        /// The file that defined the entry (`<inline>` for YAML given as a string).
        public var file: String
        /// Position in that file's list, for error messages.
        public var index: Int
        /// Directory against which relative paths in this entry resolve.
        public var baseDirectory: String
    }

    /// `clusters` by name (the first file that defines a name wins).
    public var clusters: [String: Entry] = [:]
    /// `users` by name (the first file that defines a name wins).
    public var users: [String: Entry] = [:]
    /// `contexts` by name (the first file that defines a name wins).
    public var contexts: [String: Entry] = [:]
    /// The first non-empty `current-context` in merge order.
    public var currentContext: String?
    /// The file that set `current-context`.
    public var currentContextFile: String?
    /// Files that were read, in merge order.
    public var files: [String] = []

    /// An empty kubeconfig, to merge files into.
    public init() {}

    /// Parses one kubeconfig document.
    /// - Parameters:
    ///   - file: name used in error messages and the origin of the entries.
    ///   - baseDirectory: directory for relative paths (defaults to the file's directory).
    public static func parse(yaml: String, file: String = "<inline>", baseDirectory: String? = nil) throws -> Kubeconfig {
        let doc: JSON
        do {
            doc = try JSON.parseYAML(yaml)
        } catch {
            throw ConfigurationError(file: file, "invalid YAML: \(error)")
        }
        var config = Kubeconfig()
        config.files = [file]
        let base = baseDirectory ?? Self.directory(of: file)
        if doc.isNull { return config }  // an empty file is an empty config, as kubectl treats it
        guard case .object(let top) = doc else {
            throw ConfigurationError(file: file, "expected a mapping at the top level, found a \(doc.typeName)")
        }
        if let kind = top["kind"]?.stringValue, kind != "Config" {
            throw ConfigurationError(file: file, field: "kind", "expected \"Config\", found \"\(kind)\"")
        }
        for (section, inner) in [("clusters", "cluster"), ("users", "user"), ("contexts", "context")] {
            let entries = try parseSection(top[section], section: section, inner: inner, file: file, base: base)
            for entry in entries where config[section: section][entry.name] == nil {
                config[section: section][entry.name] = entry
            }
        }
        if let current = top["current-context"] {
            guard let name = current.stringValue else {
                if current.isNull { return config }
                throw ConfigurationError(file: file, field: "current-context", "expected a string, found a \(current.typeName)")
            }
            if !name.isEmpty {
                config.currentContext = name
                config.currentContextFile = file
            }
        }
        return config
    }

    /// Reads and merges kubeconfig files the way kubectl merges `KUBECONFIG`: for every cluster,
    /// user and context name the first file defining it wins; the first non-empty
    /// `current-context` wins. Missing files are skipped when `skipMissing` is set (as for
    /// `KUBECONFIG`); an explicitly named file must exist.
    public static func load(files: [String], skipMissing: Bool) throws -> Kubeconfig {
        var merged = Kubeconfig()
        merged.files = []
        for path in files where !path.isEmpty {
            let absolute = Self.absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
            if skipMissing && !FileManager.default.fileExists(atPath: absolute) { continue }
            let text = try readText(absolute, file: absolute, field: nil, what: "kubeconfig")
            let one = try parse(yaml: text, file: absolute)
            merged.merge(one)
        }
        return merged
    }

    /// Adds entries of `other` that are not defined yet (kubectl's "first wins" rule).
    public mutating func merge(_ other: Kubeconfig) {
        for (name, entry) in other.clusters where clusters[name] == nil { clusters[name] = entry }
        for (name, entry) in other.users where users[name] == nil { users[name] = entry }
        for (name, entry) in other.contexts where contexts[name] == nil { contexts[name] = entry }
        if currentContext == nil, let current = other.currentContext {
            currentContext = current
            currentContextFile = other.currentContextFile
        }
        files += other.files
    }

    /// Resolves a context into a client configuration.
    /// - Parameter context: context name; `nil` selects `current-context`.
    public func configuration(context: String? = nil) throws -> ClientConfiguration {
        let fileList = files.isEmpty ? "<no files>" : files.joined(separator: ", ")
        let contextName: String
        let contextOrigin: (file: String?, field: String?)
        if let context, !context.isEmpty {
            contextName = context
            contextOrigin = (nil, nil)
        } else if let current = currentContext {
            contextName = current
            contextOrigin = (currentContextFile, "current-context")
        } else {
            if contexts.isEmpty && clusters.isEmpty {
                throw ConfigurationError(file: fileList, "no configuration has been provided (no contexts or clusters defined)")
            }
            throw ConfigurationError(file: fileList, field: "current-context", "not set and no context was selected")
        }
        guard let ctx = contexts[contextName] else {
            if contextOrigin.field == nil {
                throw ConfigurationError(
                    file: fileList, "context \"\(contextName)\" not found (available: \(contexts.keys.sorted().joined(separator: ", ")))")
            }
            throw ConfigurationError(file: contextOrigin.file, field: contextOrigin.field, "context \"\(contextName)\" not found")
        }
        let ctxField = "contexts[\(ctx.index)].context"
        guard let clusterName = try ctx.string("cluster", field: ctxField), !clusterName.isEmpty else {
            throw ConfigurationError(file: ctx.file, field: "\(ctxField).cluster", "required (context \"\(contextName)\")")
        }
        guard let cluster = clusters[clusterName] else {
            throw ConfigurationError(file: ctx.file, field: "\(ctxField).cluster", "cluster \"\(clusterName)\" not found")
        }
        var user: Entry?
        if let userName = try ctx.string("user", field: ctxField), !userName.isEmpty {
            guard let found = users[userName] else {
                throw ConfigurationError(file: ctx.file, field: "\(ctxField).user", "user \"\(userName)\" not found")
            }
            user = found
        }
        let namespace = try ctx.string("namespace", field: ctxField)

        let clusterField = "clusters[\(cluster.index)].cluster"
        guard let rawServer = try cluster.string("server", field: clusterField), !rawServer.isEmpty else {
            throw ConfigurationError(file: cluster.file, field: "\(clusterField).server", "required (cluster \"\(clusterName)\")")
        }
        let server = try Self.normalizeServer(rawServer, file: cluster.file, field: "\(clusterField).server")
        var config = ClientConfiguration(server: server)
        config.source = "kubeconfig \(ctx.file) (context \"\(contextName)\")"
        if let namespace, !namespace.isEmpty { config.namespace = namespace }

        // Cluster TLS.
        let insecure = try cluster.bool("insecure-skip-tls-verify", field: clusterField) ?? false
        let ca = try cluster.bytes(dataKey: "certificate-authority-data", fileKey: "certificate-authority", field: clusterField)
        if insecure && ca != nil {
            throw ConfigurationError(
                file: cluster.file, field: "\(clusterField).insecure-skip-tls-verify",
                "specifying a root certificates file with the insecure flag is not allowed")
        }
        if let ca {
            try Self.validateCertificates(ca.bytes, file: ca.file, field: ca.field)
            config.tls.certificateAuthorityPEM = ca.bytes
        }
        config.tls.insecureSkipVerify = insecure
        if let serverName = try cluster.string("tls-server-name", field: clusterField), !serverName.isEmpty {
            config.tls.serverName = serverName
        }
        if let proxy = try cluster.string("proxy-url", field: clusterField), !proxy.isEmpty {
            guard let scheme = proxy.range(of: "://").map({ proxy[..<$0.lowerBound] }), ["http", "socks5"].contains(scheme) else {
                throw ConfigurationError(
                    file: cluster.file, field: "\(clusterField).proxy-url",
                    "unsupported proxy \(ClientConfiguration.redactedURL(proxy)): use an http:// (CONNECT) or socks5:// proxy")
            }
            config.proxyURL = proxy
        }

        // User authentication.
        if let user {
            let userField = "users[\(user.index)].user"
            if let provider = user.value["auth-provider"], !provider.isNull {
                let name = provider["name"]?.stringValue ?? ""
                throw ConfigurationError(
                    file: user.file, field: "\(userField).auth-provider",
                    "the \(name.isEmpty ? "" : "\"\(name)\" ")auth-provider was removed from Kubernetes clients (client-go 1.26); use an exec credential plugin (users[].user.exec) instead, e.g. kubelogin or gke-gcloud-auth-plugin"
                )
            }
            var plugin: ClientConfiguration.ExecPlugin?
            if let exec = user.value["exec"], !exec.isNull {
                plugin = try Self.execPlugin(exec, file: user.file, field: "\(userField).exec", baseDirectory: user.baseDirectory)
            }
            let token = try user.string("token", field: userField)
            let tokenFile = try user.string("tokenFile", field: userField)
            let username = try user.string("username", field: userField)
            let password = try user.string("password", field: userField)
            let hasToken = !(token ?? "").isEmpty || !(tokenFile ?? "").isEmpty
            let hasBasic = !(username ?? "").isEmpty || !(password ?? "").isEmpty
            if plugin != nil && (hasToken || hasBasic) {
                throw ConfigurationError(
                    file: user.file, field: userField,
                    "more than one authentication method found for user \"\(user.name)\"; found [\(hasToken ? "token" : "basicAuth") exec], only one is allowed"
                )
            }
            if let plugin { config.authentication = .exec(plugin) }
            if hasToken && hasBasic {
                throw ConfigurationError(
                    file: user.file, field: userField,
                    "more than one authentication method found for user \"\(user.name)\"; found [token basicAuth], only one is allowed")
            }
            if let token, !token.isEmpty {
                // client-go: a literal token takes precedence over tokenFile.
                config.authentication = .bearerToken(token)
            } else if let tokenFile, !tokenFile.isEmpty {
                let path = Self.absolutePath(tokenFile, relativeTo: user.baseDirectory)
                let text = try readText(path, file: user.file, field: "\(userField).tokenFile", what: "token file")
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    throw ConfigurationError(file: user.file, field: "\(userField).tokenFile", "token file \(path) is empty")
                }
                config.authentication = .tokenFile(path: path)
            } else if hasBasic {
                config.authentication = .basic(username: username ?? "", password: password ?? "")
            }
            let cert = try user.bytes(dataKey: "client-certificate-data", fileKey: "client-certificate", field: userField)
            let key = try user.bytes(dataKey: "client-key-data", fileKey: "client-key", field: userField)
            switch (cert, key) {
            case (let cert?, let key?):
                try Self.validateCertificates(cert.bytes, file: cert.file, field: cert.field)
                try Self.validatePrivateKey(key.bytes, file: key.file, field: key.field)
                config.tls.clientCertificatePEM = cert.bytes
                config.tls.clientKeyPEM = key.bytes
            case (.some, nil):
                throw ConfigurationError(
                    file: user.file, field: "\(userField).client-key",
                    "client-key or client-key-data is required when a client certificate is set")
            case (nil, .some):
                throw ConfigurationError(
                    file: user.file, field: "\(userField).client-certificate",
                    "client-certificate or client-certificate-data is required when a client key is set")
            case (nil, nil):
                break
            }
        }
        if config.tls.clientCertificatePEM != nil, !server.hasPrefix("https://") {
            throw ConfigurationError(
                file: cluster.file, field: "\(clusterField).server",
                "client certificates need an https:// server, got \(server)")
        }
        return config
    }

    /// The exec plugin declared at `field`, checked as client-go checks it.
    static func execPlugin(_ exec: JSON, file: String, field: String, baseDirectory: String) throws -> ClientConfiguration.ExecPlugin {
        let versions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
        guard let apiVersion = exec["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw ConfigurationError(file: file, field: "\(field).apiVersion", "required: one of \(versions.joined(separator: ", "))")
        }
        guard versions.contains(apiVersion) else {
            throw ConfigurationError(
                file: file, field: "\(field).apiVersion",
                "exec plugin: invalid apiVersion \"\(apiVersion)\" (supported: \(versions.joined(separator: ", ")); v1alpha1 was removed)")
        }
        guard let command = exec["command"]?.stringValue, !command.isEmpty else {
            throw ConfigurationError(file: file, field: "\(field).command", "required")
        }
        var args: [String] = []
        for (i, a) in (exec["args"]?.arrayValue ?? []).enumerated() {
            guard let s = a.stringValue else { throw ConfigurationError(file: file, field: "\(field).args[\(i)]", "must be a string") }
            args.append(s)
        }
        var env: [ClientConfiguration.ExecPlugin.EnvVar] = []
        for (i, e) in (exec["env"]?.arrayValue ?? []).enumerated() {
            guard let name = e["name"]?.stringValue, !name.isEmpty else {
                throw ConfigurationError(file: file, field: "\(field).env[\(i)].name", "required")
            }
            env.append(.init(name: name, value: e["value"]?.stringValue ?? ""))
        }
        let mode = exec["interactiveMode"]?.stringValue ?? ""
        if mode.isEmpty && apiVersion.hasSuffix("/v1") {
            throw ConfigurationError(file: file, field: "\(field).interactiveMode", "required for \(apiVersion): Never or IfAvailable")
        }
        if !["", "Never", "IfAvailable", "Always"].contains(mode) {
            throw ConfigurationError(file: file, field: "\(field).interactiveMode", "must be one of Never, IfAvailable, Always, got \"\(mode)\"")
        }
        if mode == "Always" {
            throw ConfigurationError(
                file: file, field: "\(field).interactiveMode",
                "exec plugin cannot support interactive mode: this client runs without a terminal (use Never or IfAvailable)")
        }
        return ClientConfiguration.ExecPlugin(
            apiVersion: apiVersion, command: command, args: args, env: env, interactiveMode: mode.isEmpty ? "IfAvailable" : mode,
            provideClusterInfo: exec["provideClusterInfo"]?.boolValue ?? false, installHint: exec["installHint"]?.stringValue,
            baseDirectory: baseDirectory)
    }

    subscript(section section: String) -> [String: Entry] {
        get {
            switch section {
            case "clusters": return clusters
            case "users": return users
            default: return contexts
            }
        }
        set {
            switch section {
            case "clusters": clusters = newValue
            case "users": users = newValue
            default: contexts = newValue
            }
        }
    }

    static func parseSection(_ value: JSON?, section: String, inner: String, file: String, base: String) throws -> [Entry] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else {
            throw ConfigurationError(file: file, field: section, "expected a list, found a \(value.typeName)")
        }
        var entries: [Entry] = []
        for (index, item) in items.enumerated() {
            guard case .object = item else {
                throw ConfigurationError(file: file, field: "\(section)[\(index)]", "expected a mapping, found a \(item.typeName)")
            }
            guard let name = item["name"]?.stringValue, !name.isEmpty else {
                throw ConfigurationError(file: file, field: "\(section)[\(index)].name", "required")
            }
            let body = item[inner] ?? .object([:])
            if !body.isNull && !body.isObject {
                throw ConfigurationError(file: file, field: "\(section)[\(index)].\(inner)", "expected a mapping, found a \(body.typeName)")
            }
            entries.append(Entry(name: name, value: body.isNull ? .object([:]) : body, file: file, index: index, baseDirectory: base))
        }
        return entries
    }

    /// Accepts `https://host:port[/prefix]`, `http://...`, and a bare `host:port` (https, as client-go).
    static func normalizeServer(_ raw: String, file: String?, field: String?) throws -> String {
        var server = raw.trimmingCharacters(in: .whitespaces)
        if !server.contains("://") { server = "https://" + server }
        guard let url = URLComponents(string: server), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(file: file, field: field, "invalid server URL \"\(raw)\" (expected https://host[:port])")
        }
        if url.query != nil || url.fragment != nil {
            throw ConfigurationError(file: file, field: field, "server URL \"\(raw)\" must not have a query or fragment")
        }
        while server.hasSuffix("/") { server.removeLast() }
        return server
    }

    static func validateCertificates(_ pem: [UInt8], file: String?, field: String?) throws {
        do {
            let certs = try NIOSSLCertificate.fromPEMBytes(pem)
            if certs.isEmpty { throw ConfigurationError(file: file, field: field, "no PEM certificate found") }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(file: file, field: field, "not a valid PEM certificate bundle (\(error))")
        }
    }

    static func validatePrivateKey(_ pem: [UInt8], file: String?, field: String?) throws {
        do {
            _ = try NIOSSLPrivateKey(bytes: pem, format: .pem)
        } catch {
            throw ConfigurationError(file: file, field: field, "not a valid PEM private key (\(error))")
        }
    }

    static func directory(of file: String) -> String {
        guard file.hasPrefix("/") else { return FileManager.default.currentDirectoryPath }
        return (file as NSString).deletingLastPathComponent
    }

    static func absolutePath(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/") {
            return NSHomeDirectory() + path.dropFirst()
        }
        return (base as NSString).appendingPathComponent(path)
    }
}

extension Kubeconfig.Entry {
    func string(_ key: String, field: String) throws -> String? {
        guard let value = value[key], !value.isNull else { return nil }
        guard let s = value.stringValue else {
            throw ConfigurationError(file: file, field: "\(field).\(key)", "expected a string, found a \(value.typeName)")
        }
        return s
    }

    func bool(_ key: String, field: String) throws -> Bool? {
        guard let value = value[key], !value.isNull else { return nil }
        if let b = value.boolValue { return b }
        if let s = value.stringValue {
            switch s {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        throw ConfigurationError(file: file, field: "\(field).\(key)", "expected true or false, found \(value.serializedString())")
    }

    /// Reads `<dataKey>` (base64, precedence as in client-go) or the file named by `<fileKey>`.
    func bytes(dataKey: String, fileKey: String, field: String) throws -> (bytes: [UInt8], file: String, field: String)? {
        if let data = try string(dataKey, field: field), !data.isEmpty {
            let cleaned = data.filter { !$0.isWhitespace }
            guard let decoded = Base64.decode(cleaned) else {
                throw ConfigurationError(file: file, field: "\(field).\(dataKey)", "not valid base64")
            }
            return ([UInt8](decoded), file, "\(field).\(dataKey)")
        }
        if let path = try string(fileKey, field: field), !path.isEmpty {
            let absolute = Kubeconfig.absolutePath(path, relativeTo: baseDirectory)
            let bytes = try readBytes(absolute, file: file, field: "\(field).\(fileKey)", what: fileKey)
            return (bytes, absolute, "\(field).\(fileKey) (\(absolute))")
        }
        return nil
    }
}

/// Reads a whole file, turning failures into a ``ConfigurationError`` that names the referring
/// file and field as well as the path that could not be read.
func readBytes(_ path: String, file: String?, field: String?, what: String) throws -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        let reason = !exists ? "no such file" : (isDir.boolValue ? "is a directory" : "permission denied")
        throw ConfigurationError(file: file, field: field, "cannot read \(what) \(path): \(reason)")
    }
    defer { try? handle.close() }
    do {
        let data = try handle.readToEnd() ?? Data()
        return [UInt8](data)
    } catch {
        throw ConfigurationError(file: file, field: field, "cannot read \(what) \(path): \(error)")
    }
}

func readText(_ path: String, file: String?, field: String?, what: String) throws -> String {
    let bytes = try readBytes(path, file: file, field: field, what: what)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ConfigurationError(file: file, field: field, "\(what) \(path) is not valid UTF-8")
    }
    return text
}

// MARK: - Loading with client-go precedence

extension ClientConfiguration {
    /// The service-account directory mounted into every pod.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Loads the configuration with the precedence of controller-runtime / client-go:
    /// 1. `kubeconfigPath` (the `--kubeconfig` flag) when non-empty — the file must exist;
    /// 2. env `KUBECONFIG` (colon-separated, merged as kubectl merges; missing files skipped);
    /// 3. in-cluster (`KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` set);
    /// 4. `~/.kube/config`.
    ///
    /// `context` selects a context (kubeconfig sources only); `masterURL` (`--master`)
    /// overrides the server URL. Environment and paths are injectable for tests.
    public static func load(
        kubeconfigPath: String? = nil, context: String? = nil, masterURL: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String? = nil,
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> ClientConfiguration {
        var config: ClientConfiguration
        if let kubeconfigPath, !kubeconfigPath.isEmpty {
            let kubeconfig = try Kubeconfig.load(files: [kubeconfigPath], skipMissing: false)
            config = try kubeconfig.configuration(context: context)
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            let files = list.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
            let kubeconfig = try Kubeconfig.load(files: files, skipMissing: true)
            if kubeconfig.files.isEmpty {
                throw ConfigurationError(field: "KUBECONFIG", "none of the listed files exists: \(files.joined(separator: ", "))")
            }
            config = try kubeconfig.configuration(context: context)
        } else if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        {
            config = try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        } else {
            let home = homeDirectory ?? environment["HOME"] ?? NSHomeDirectory()
            let path = (home as NSString).appendingPathComponent(".kube/config")
            guard FileManager.default.fileExists(atPath: path) else {
                throw ConfigurationError(
                    "no configuration found: no --kubeconfig given, KUBECONFIG is not set, not running in a cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset), and \(path) does not exist"
                )
            }
            let kubeconfig = try Kubeconfig.load(files: [path], skipMissing: false)
            config = try kubeconfig.configuration(context: context)
        }
        if let masterURL, !masterURL.isEmpty {
            config.server = try Kubeconfig.normalizeServer(masterURL, file: nil, field: "--master")
        }
        if config.proxyURL == nil { config.proxyURL = ClientConfiguration.environmentProxy(for: config.server, environment: environment) }
        return config
    }

    /// Builds a configuration from kubeconfig text (relative paths resolve against `baseDirectory`).
    public static func fromKubeconfig(
        yaml: String, context: String? = nil, file: String = "<inline>",
        baseDirectory: String? = nil
    ) throws -> ClientConfiguration {
        try Kubeconfig.parse(yaml: yaml, file: file, baseDirectory: baseDirectory).configuration(context: context)
    }

    /// Builds a configuration from a kubeconfig file.
    public static func fromKubeconfigFile(_ path: String, context: String? = nil) throws -> ClientConfiguration {
        try Kubeconfig.load(files: [path], skipMissing: false).configuration(context: context)
    }

    /// The in-cluster configuration of a pod: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
    /// the service-account token (as a token file, so kubelet rotations are picked up), `ca.crt`
    /// and `namespace` from `serviceAccountDirectory`.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> ClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw ConfigurationError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined")
        }
        guard let portNumber = Int(port), (1...65535).contains(portNumber) else {
            throw ConfigurationError(field: "KUBERNETES_SERVICE_PORT", "invalid port \"\(port)\"")
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var config = ClientConfiguration(server: "https://\(hostPart):\(portNumber)")
        config.source = "in-cluster (\(serviceAccountDirectory))"
        let dir = serviceAccountDirectory
        let tokenPath = (dir as NSString).appendingPathComponent("token")
        let token = try readText(tokenPath, file: tokenPath, field: nil, what: "service account token")
        if token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ConfigurationError(file: tokenPath, "service account token is empty")
        }
        config.authentication = .tokenFile(path: tokenPath)
        let caPath = (dir as NSString).appendingPathComponent("ca.crt")
        let ca = try readBytes(caPath, file: caPath, field: nil, what: "service account CA")
        try Kubeconfig.validateCertificates(ca, file: caPath, field: nil)
        config.tls.certificateAuthorityPEM = ca
        let nsPath = (dir as NSString).appendingPathComponent("namespace")
        if FileManager.default.fileExists(atPath: nsPath) {
            let ns = try readText(nsPath, file: nsPath, field: nil, what: "service account namespace")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if !ns.isEmpty { config.namespace = ns }
        }
        return config
    }
}
