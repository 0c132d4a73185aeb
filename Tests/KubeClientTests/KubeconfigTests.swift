import Foundation
import KubeCore
import Testing

@testable import KubeClient

/// Kubeconfig loading, merging, selection and error messages — pure, no server.
@Suite struct KubeconfigTests {
    static func kubeconfig(
        cluster: String = "c1", server: String = "https://10.0.0.1:6443", user: String = "u1",
        context: String = "ctx1", current: String? = "ctx1", namespace: String? = nil,
        userBody: String = "token: tok-1", clusterExtra: String = ""
    ) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: \(cluster)
          cluster:
            server: \(server)
        \(clusterExtra.isEmpty ? "" : "    " + clusterExtra)
        users:
        - name: \(user)
          user:
            \(userBody)
        contexts:
        - name: \(context)
          context:
            cluster: \(cluster)
            user: \(user)
        \(namespace.map { "    namespace: \($0)" } ?? "")
        \(current.map { "current-context: \($0)" } ?? "")
        """
    }

    @Test func selectsCurrentContextWithTokenAndNamespace() throws {
        let config = try ClientConfiguration.fromKubeconfig(yaml: Self.kubeconfig(namespace: "team-a"))
        #expect(config.server == "https://10.0.0.1:6443")
        #expect(config.authentication == .bearerToken("tok-1"))
        #expect(config.namespace == "team-a")
        #expect(config.qps == 5 && config.burst == 10)
        #expect(!config.description.contains("tok-1"), "description must not leak the token")
    }

    @Test func namespaceDefaultsToDefault() throws {
        let config = try ClientConfiguration.fromKubeconfig(yaml: Self.kubeconfig())
        #expect(config.namespace == "default")
    }

    @Test func explicitContextOverridesCurrentContext() throws {
        let yaml = """
            clusters:
            - {name: a, cluster: {server: "https://a:1"}}
            - {name: b, cluster: {server: "https://b:2"}}
            users:
            - {name: ua, user: {token: ta}}
            - {name: ub, user: {username: admin, password: secret}}
            contexts:
            - {name: ca, context: {cluster: a, user: ua}}
            - {name: cb, context: {cluster: b, user: ub, namespace: nb}}
            current-context: ca
            """
        let a = try ClientConfiguration.fromKubeconfig(yaml: yaml)
        #expect(a.server == "https://a:1")
        let b = try ClientConfiguration.fromKubeconfig(yaml: yaml, context: "cb")
        #expect(b.server == "https://b:2")
        #expect(b.authentication == .basic(username: "admin", password: "secret"))
        #expect(b.namespace == "nb")
    }

    @Test func kubeconfigEnvironmentMergeFirstFileWins() throws {
        let dir = try ScratchDirectory()
        let first = try dir.write(
            "one.yaml",
            """
            clusters:
            - {name: shared, cluster: {server: "https://first:1"}}
            users:
            - {name: shared-user, user: {token: first-token}}
            contexts:
            - {name: first-ctx, context: {cluster: shared, user: shared-user, namespace: first-ns}}
            """)
        let second = try dir.write(
            "two.yaml",
            """
            clusters:
            - {name: shared, cluster: {server: "https://second:2"}}
            - {name: only-second, cluster: {server: "https://only-second:3"}}
            users:
            - {name: shared-user, user: {token: second-token}}
            contexts:
            - {name: second-ctx, context: {cluster: only-second, user: shared-user}}
            - {name: first-ctx, context: {cluster: only-second, user: shared-user}}
            current-context: second-ctx
            """)
        let third = try dir.write("three.yaml", "current-context: first-ctx\n")
        let env = ["KUBECONFIG": "\(dir.path)/missing.yaml:\(first)::\(second):\(third)"]
        // current-context: the first file that sets it (two.yaml) wins over three.yaml.
        let config = try ClientConfiguration.load(environment: env)
        #expect(config.server == "https://only-second:3")
        // The user entry of the first file wins for the shared name.
        #expect(config.authentication == .bearerToken("first-token"))
        // Context of the first file wins: it points at cluster "shared", whose first definition wins.
        let firstCtx = try ClientConfiguration.load(context: "first-ctx", environment: env)
        #expect(firstCtx.server == "https://first:1")
        #expect(firstCtx.namespace == "first-ns")
    }

    @Test func precedenceFlagOverEnvironmentOverInClusterOverHome() throws {
        let dir = try ScratchDirectory()
        let flagFile = try dir.write("flag.yaml", Self.kubeconfig(server: "https://flag:1"))
        let envFile = try dir.write("env.yaml", Self.kubeconfig(server: "https://env:2"))
        try dir.write("home/.kube/config", Self.kubeconfig(server: "https://home:3"))
        let sa = try ScratchDirectory()
        try sa.write("token", "sa-token\n")
        try sa.write("ca.crt", TestPEM.certificate)
        try sa.write("namespace", "garden\n")
        let inClusterEnv = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        var env = inClusterEnv
        env["KUBECONFIG"] = envFile

        let flag = try ClientConfiguration.load(
            kubeconfigPath: flagFile, environment: env, homeDirectory: "\(dir.path)/home",
            serviceAccountDirectory: sa.path)
        #expect(flag.server == "https://flag:1")
        let fromEnv = try ClientConfiguration.load(environment: env, homeDirectory: "\(dir.path)/home", serviceAccountDirectory: sa.path)
        #expect(fromEnv.server == "https://env:2")
        let inCluster = try ClientConfiguration.load(environment: inClusterEnv, homeDirectory: "\(dir.path)/home", serviceAccountDirectory: sa.path)
        #expect(inCluster.server == "https://10.96.0.1:443")
        #expect(inCluster.namespace == "garden")
        #expect(inCluster.authentication == .tokenFile(path: "\(sa.path)/token"))
        #expect(inCluster.tls.certificateAuthorityPEM == Array(TestPEM.certificate.utf8))
        let home = try ClientConfiguration.load(environment: [:], homeDirectory: "\(dir.path)/home", serviceAccountDirectory: sa.path)
        #expect(home.server == "https://home:3")
        let master = try ClientConfiguration.load(masterURL: "https://override:9", environment: [:], homeDirectory: "\(dir.path)/home")
        #expect(master.server == "https://override:9")
    }

    @Test func inClusterIPv6HostIsBracketed() throws {
        let sa = try ScratchDirectory()
        try sa.write("token", "t")
        try sa.write("ca.crt", TestPEM.certificate)
        let config = try ClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
            serviceAccountDirectory: sa.path)
        #expect(config.server == "https://[fd00::1]:443")
        #expect(config.namespace == "default")
    }

    @Test func relativePathsResolveAgainstTheDefiningFile() throws {
        let dir = try ScratchDirectory()
        try dir.write("certs/ca.crt", TestPEM.certificate)
        try dir.write("certs/client.crt", TestPEM.certificate)
        try dir.write("certs/client.key", TestPEM.key)
        try dir.write("certs/token", "file-token\n")
        let file = try dir.write(
            "cfg/kubeconfig",
            """
            clusters:
            - name: c
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority: ../certs/ca.crt
                tls-server-name: api.example
            users:
            - name: u
              user:
                tokenFile: ../certs/token
                client-certificate: ../certs/client.crt
                client-key: ../certs/client.key
            contexts:
            - {name: x, context: {cluster: c, user: u}}
            current-context: x
            """)
        let config = try ClientConfiguration.fromKubeconfigFile(file)
        #expect(config.tls.certificateAuthorityPEM == Array(TestPEM.certificate.utf8))
        #expect(config.tls.clientCertificatePEM == Array(TestPEM.certificate.utf8))
        #expect(config.tls.clientKeyPEM == Array(TestPEM.key.utf8))
        #expect(config.tls.serverName == "api.example")
        let tokenPath = (dir.path as NSString).appendingPathComponent("cfg/../certs/token")
        #expect(config.authentication == .tokenFile(path: tokenPath))
    }

    @Test func inlineDataFieldsAndTokenPrecedence() throws {
        let yaml = """
            clusters:
            - name: c
              cluster:
                server: 127.0.0.1:6443
                certificate-authority-data: \(TestPEM.certificateBase64)
            users:
            - name: u
              user:
                token: literal
                tokenFile: /does/not/matter
                client-certificate-data: \(TestPEM.certificateBase64)
                client-key-data: \(TestPEM.keyBase64)
            contexts:
            - {name: x, context: {cluster: c, user: u}}
            current-context: x
            """
        let config = try ClientConfiguration.fromKubeconfig(yaml: yaml)
        // A bare host:port means https, as in client-go.
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.authentication == .bearerToken("literal"))
        #expect(config.tls.clientKeyPEM == Array(TestPEM.key.utf8))
    }

    // MARK: - Every error names the file and the field

    func expectError(
        _ yaml: String, context: String? = nil, file: String = "/etc/kc.yaml",
        field: String?, contains text: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = configurationError {
            try ClientConfiguration.fromKubeconfig(yaml: yaml, context: context, file: file, baseDirectory: "/nonexistent-base")
        }
        #expect(error != nil, "expected a ConfigurationError", sourceLocation: sourceLocation)
        guard let error else { return }
        #expect(error.file == file, "file: \(error)", sourceLocation: sourceLocation)
        if let field { #expect(error.field?.hasPrefix(field) == true, "field: \(error)", sourceLocation: sourceLocation) }
        #expect(error.description.contains(text), "message: \(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(file), "description starts with the file: \(error)", sourceLocation: sourceLocation)
    }

    @Test func errorInvalidYAML() {
        expectError("clusters: [\n  - {name: x", field: nil, contains: "invalid YAML")
    }

    @Test func errorTopLevelNotAMapping() {
        expectError("- a\n- b\n", field: nil, contains: "expected a mapping at the top level")
    }

    @Test func errorWrongKind() {
        expectError("kind: Pod\n", field: "kind", contains: "expected \"Config\"")
    }

    @Test func errorSectionNotAList() {
        expectError("clusters: {a: b}\n", field: "clusters", contains: "expected a list")
    }

    @Test func errorEntryWithoutName() {
        expectError("users:\n- user: {token: x}\n", field: "users[0].name", contains: "required")
    }

    @Test func errorCurrentContextMissing() {
        expectError(Self.kubeconfig(current: "nope"), field: "current-context", contains: "context \"nope\" not found")
    }

    @Test func errorNoCurrentContext() {
        expectError(Self.kubeconfig(current: nil), field: "current-context", contains: "not set")
    }

    @Test func errorExplicitContextMissing() {
        expectError(Self.kubeconfig(), context: "other", field: nil, contains: "context \"other\" not found (available: ctx1)")
    }

    @Test func errorEmptyConfig() {
        expectError("", field: nil, contains: "no configuration has been provided")
    }

    @Test func errorContextWithoutCluster() {
        let yaml = "contexts:\n- {name: x, context: {user: u}}\ncurrent-context: x\n"
        expectError(yaml, field: "contexts[0].context.cluster", contains: "required")
    }

    @Test func errorContextUnknownCluster() {
        let yaml = "contexts:\n- {name: x, context: {cluster: gone}}\ncurrent-context: x\n"
        expectError(yaml, field: "contexts[0].context.cluster", contains: "cluster \"gone\" not found")
    }

    @Test func errorContextUnknownUser() {
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a}}\ncontexts:\n- {name: x, context: {cluster: c, user: ghost}}\ncurrent-context: x\n"
        expectError(yaml, field: "contexts[0].context.user", contains: "user \"ghost\" not found")
    }

    @Test func errorClusterWithoutServer() {
        let yaml = "clusters:\n- {name: c, cluster: {}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(yaml, field: "clusters[0].cluster.server", contains: "required")
    }

    @Test func errorInvalidServerURL() {
        expectError(Self.kubeconfig(server: "ftp://host"), field: "clusters[0].cluster.server", contains: "invalid server URL")
    }

    @Test func errorInvalidBase64() {
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a, certificate-authority-data: '!!notbase64'}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(yaml, field: "clusters[0].cluster.certificate-authority-data", contains: "not valid base64")
    }

    @Test func errorCAIsNotPEM() {
        let garbage = Data("hello".utf8).base64EncodedString()
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a, certificate-authority-data: \(garbage)}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(yaml, field: "clusters[0].cluster.certificate-authority-data", contains: "PEM")
    }

    @Test func errorCAFileMissing() {
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a, certificate-authority: ca.crt}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(
            yaml, field: "clusters[0].cluster.certificate-authority",
            contains: "cannot read certificate-authority /nonexistent-base/ca.crt: no such file")
    }

    @Test func errorInsecureWithCA() {
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a, insecure-skip-tls-verify: true, certificate-authority-data: \(TestPEM.certificateBase64)}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(yaml, field: "clusters[0].cluster.insecure-skip-tls-verify", contains: "not allowed")
    }

    @Test func errorInsecureNotABool() {
        let yaml =
            "clusters:\n- {name: c, cluster: {server: https://a, insecure-skip-tls-verify: maybe}}\ncontexts:\n- {name: x, context: {cluster: c}}\ncurrent-context: x\n"
        expectError(yaml, field: "clusters[0].cluster.insecure-skip-tls-verify", contains: "expected true or false")
    }

    @Test func errorTokenAndBasicAuth() {
        expectError(
            Self.kubeconfig(userBody: "{token: t, username: a, password: b}"), field: "users[0].user",
            contains: "more than one authentication method found for user \"u1\"")
    }

    @Test func errorTokenFileMissing() {
        expectError(
            Self.kubeconfig(userBody: "tokenFile: /nope/token"), field: "users[0].user.tokenFile",
            contains: "cannot read token file /nope/token: no such file")
    }

    @Test func errorTokenNotAString() {
        expectError(Self.kubeconfig(userBody: "token: [1, 2]"), field: "users[0].user.token", contains: "expected a string")
    }

    @Test func errorClientCertificateWithoutKey() {
        expectError(
            Self.kubeconfig(userBody: "client-certificate-data: \(TestPEM.certificateBase64)"),
            field: "users[0].user.client-key", contains: "client-key or client-key-data is required")
    }

    @Test func errorClientKeyWithoutCertificate() {
        expectError(
            Self.kubeconfig(userBody: "client-key-data: \(TestPEM.keyBase64)"),
            field: "users[0].user.client-certificate", contains: "client-certificate or client-certificate-data is required")
    }

    @Test func errorClientKeyNotAKey() {
        expectError(
            Self.kubeconfig(userBody: "{client-certificate-data: \(TestPEM.certificateBase64), client-key-data: \(TestPEM.certificateBase64)}"),
            field: "users[0].user.client-key-data", contains: "not a valid PEM private key")
    }

    @Test func execPluginIsParsed() throws {
        let config = try ClientConfiguration.fromKubeconfig(
            yaml: Self.kubeconfig(
                userBody:
                    "exec: {command: ./bin/plugin, args: [get-token, --x], env: [{name: A, value: b}], apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, provideClusterInfo: true}"
            ), baseDirectory: "/etc/kube")
        guard case .exec(let plugin) = config.authentication else {
            Issue.record("not an exec plugin: \(config.authentication)")
            return
        }
        #expect(plugin.command == "./bin/plugin" && plugin.args == ["get-token", "--x"] && plugin.env == [.init(name: "A", value: "b")])
        #expect(plugin.interactiveMode == "Never" && plugin.provideClusterInfo && plugin.baseDirectory == "/etc/kube")
        #expect(config.description.contains("auth exec ./bin/plugin"))
    }

    @Test func errorExecPluginWithoutInteractiveModeInV1() {
        expectError(
            Self.kubeconfig(userBody: "exec: {command: p, apiVersion: client.authentication.k8s.io/v1}"),
            field: "users[0].user.exec.interactiveMode", contains: "required for client.authentication.k8s.io/v1")
    }

    @Test func errorExecPluginAlwaysInteractive() {
        expectError(
            Self.kubeconfig(userBody: "exec: {command: p, apiVersion: client.authentication.k8s.io/v1beta1, interactiveMode: Always}"),
            field: "users[0].user.exec.interactiveMode", contains: "cannot support interactive mode")
    }

    @Test func errorExecPluginRemovedAPIVersion() {
        expectError(
            Self.kubeconfig(userBody: "exec: {command: p, apiVersion: client.authentication.k8s.io/v1alpha1}"),
            field: "users[0].user.exec.apiVersion", contains: "v1alpha1 was removed")
    }

    @Test func errorAuthProviderRemoved() {
        expectError(
            Self.kubeconfig(userBody: "auth-provider: {name: gcp, config: {}}"),
            field: "users[0].user.auth-provider", contains: "the \"gcp\" auth-provider was removed")
    }

    @Test func proxyURLFromTheClusterOrTheEnvironment() throws {
        let fromCluster = try ClientConfiguration.fromKubeconfig(
            yaml: Self.kubeconfig(server: "https://a:6443", clusterExtra: "proxy-url: http://u:pw@proxy:3128"))
        #expect(fromCluster.proxyURL == "http://u:pw@proxy:3128")
        #expect(fromCluster.description.contains("proxy http://***@proxy:3128") && !fromCluster.description.contains("pw"))
        let env = ["HTTPS_PROXY": "proxy:3128", "NO_PROXY": "localhost,.internal,10.0.0.0/8,b:443"]
        #expect(ClientConfiguration.environmentProxy(for: "https://api.example.com", environment: env) == "http://proxy:3128")
        #expect(ClientConfiguration.environmentProxy(for: "https://api.internal:6443", environment: env) == nil)
        #expect(ClientConfiguration.environmentProxy(for: "https://10.1.2.3:6443", environment: env) == nil)
        #expect(ClientConfiguration.environmentProxy(for: "https://b", environment: env) == nil)
        #expect(ClientConfiguration.environmentProxy(for: "https://b:6443", environment: env) == "http://proxy:3128")
        #expect(ClientConfiguration.environmentProxy(for: "http://api.example.com", environment: env) == nil)
        #expect(ClientConfiguration.environmentProxy(for: "https://x", environment: ["https_proxy": "http://p:1", "NO_PROXY": "*"]) == nil)
    }

    @Test func errorClientCertificateOverPlainHTTP() {
        expectError(
            Self.kubeconfig(
                server: "http://a:80", userBody: "{client-certificate-data: \(TestPEM.certificateBase64), client-key-data: \(TestPEM.keyBase64)}"),
            field: "clusters[0].cluster.server", contains: "client certificates need an https:// server")
    }

    @Test func errorExplicitKubeconfigFileMissing() {
        let error = configurationError { try ClientConfiguration.load(kubeconfigPath: "/no/such/kubeconfig", environment: [:]) }
        #expect(error?.file == "/no/such/kubeconfig")
        #expect(error?.description.contains("no such file") == true)
    }

    @Test func errorKubeconfigEnvironmentAllMissing() {
        let error = configurationError { try ClientConfiguration.load(environment: ["KUBECONFIG": "/no/a:/no/b"]) }
        #expect(error?.field == "KUBECONFIG")
        #expect(error?.description.contains("/no/a, /no/b") == true)
    }

    @Test func errorNothingConfigured() throws {
        let home = try ScratchDirectory()
        let error = configurationError { try ClientConfiguration.load(environment: [:], homeDirectory: home.path) }
        #expect(error?.description.contains("\(home.path)/.kube/config does not exist") == true)
    }

    @Test func errorInClusterMissingToken() throws {
        let sa = try ScratchDirectory()
        let env = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let error = configurationError { try ClientConfiguration.load(environment: env, serviceAccountDirectory: sa.path) }
        #expect(error?.file == "\(sa.path)/token")
        #expect(error?.description.contains("cannot read service account token") == true)
    }

    @Test func errorInClusterBadPort() throws {
        let error = configurationError {
            try ClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "http"])
        }
        #expect(error?.field == "KUBERNETES_SERVICE_PORT")
    }

    @Test func errorInClusterNoEnvironment() {
        let error = configurationError { try ClientConfiguration.inCluster(environment: [:]) }
        #expect(error?.description.contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined") == true)
    }

    @Test func errorBadCAInMergedSecondFileNamesThatFile() throws {
        let dir = try ScratchDirectory()
        let first = try dir.write("a.yaml", "current-context: x\n")
        let second = try dir.write(
            "b.yaml",
            "clusters:\n- {name: c, cluster: {server: https://a, certificate-authority-data: '%%%'}}\ncontexts:\n- {name: x, context: {cluster: c}}\n"
        )
        let error = configurationError { try ClientConfiguration.load(environment: ["KUBECONFIG": "\(first):\(second)"]) }
        #expect(error?.file == second)
        #expect(error?.field == "clusters[0].cluster.certificate-authority-data")
    }
}
