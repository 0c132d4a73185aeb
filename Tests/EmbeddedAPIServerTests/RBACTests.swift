import EmbeddedAPIServerTesting
import Foundation
import KubeCore
import TestSupport
import Testing

@testable import EmbeddedAPIServer

/// Authentication (admin token, ServiceAccount tokens, client certificates) and the RBAC
/// authorizer of the embedded API server (see docs/local.md).
@Suite struct RBACTests {
    static let rbac = "/apis/rbac.authorization.k8s.io/v1"
    static let ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    /// Creates ServiceAccount `ns/name` and answers a client holding a fresh token for it.
    static func serviceAccountClient(_ server: EmbeddedAPIServer, _ admin: LoopbackHTTPClient, namespace: String = "default", name: String = "robot")
        async throws -> (LoopbackHTTPClient, String)
    {
        let created = try await admin.post("/api/v1/namespaces/\(namespace)/serviceaccounts", ["metadata": ["name": .string(name)]])
        #expect(created.status == 201)
        let token = try await requestToken(admin, namespace: namespace, name: name)
        return (try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: token), token)
    }

    static func requestToken(_ admin: LoopbackHTTPClient, namespace: String, name: String, seconds: Int64 = 3600) async throws -> String {
        let r = try await admin.post(
            "/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)/token",
            ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": .int(seconds)]])
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["kind"] == "TokenRequest")
        #expect(r.json[path: "spec", "audiences"] == ["https://kubernetes.default.svc.cluster.local"])
        return try #require(r.json[path: "status", "token"]?.stringValue)
    }

    static func role(_ name: String, namespace: String?, _ rules: [JSON]) -> (String, JSON) {
        let path = namespace.map { "\(rbac)/namespaces/\($0)/roles" } ?? "\(rbac)/clusterroles"
        var meta: JSON = ["name": .string(name)]
        if let namespace { meta["namespace"] = .string(namespace) }
        return (path, ["metadata": meta, "rules": .array(rules)])
    }

    static func bind(
        _ admin: LoopbackHTTPClient, _ name: String, namespace: String?, roleKind: String, role: String, subject: JSON
    ) async throws {
        let path = namespace.map { "\(rbac)/namespaces/\($0)/rolebindings" } ?? "\(rbac)/clusterrolebindings"
        let r = try await admin.post(
            path,
            [
                "metadata": ["name": .string(name)],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(roleKind), "name": .string(role)],
                "subjects": [subject],
            ])
        #expect(r.status == 201, "\(r.text)")
    }

    static func create(_ admin: LoopbackHTTPClient, _ pathAndBody: (String, JSON)) async throws {
        let r = try await admin.post(pathAndBody.0, pathAndBody.1)
        #expect(r.status == 201, "\(r.text)")
    }

    static let robot: JSON = ["kind": "ServiceAccount", "name": "robot", "namespace": "default"]

    /// Asks the server whether the client may do something (SelfSubjectAccessReview).
    static func canI(_ client: LoopbackHTTPClient, _ attributes: JSON, nonResource: Bool = false) async throws -> Bool {
        let spec: JSON = nonResource ? ["nonResourceAttributes": attributes] : ["resourceAttributes": attributes]
        let r = try await client.post(ssar, ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec])
        #expect(r.status == 201, "\(r.text)")
        return r.json[path: "status", "allowed"]?.boolValue == true
    }

    @Test func forbiddenBodiesAreKubesWords() async throws {
        try await withServer(crd: false) { server, admin in
            let (sa, _) = try await Self.serviceAccountClient(server, admin)
            defer { Task { await sa.close() } }
            let user = "system:serviceaccount:default:robot"
            let get = try await sa.get("/api/v1/namespaces/default/secrets/x")
            #expect(get.status == 403)
            #expect(
                get.json == [
                    "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Failure",
                    "message": .string(
                        "secrets \"x\" is forbidden: User \"\(user)\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\""),
                    "reason": "Forbidden", "details": ["name": "x", "kind": "secrets"], "code": 403,
                ])
            let list = try await sa.get("/apis/apps/v1/deployments")
            #expect(
                list.json["message"]
                    == .string(
                        "deployments.apps is forbidden: User \"\(user)\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
                    ))
            #expect(list.json["details"] == ["group": "apps", "kind": "deployments"])
            let status = try await sa.request("PATCH", "/api/v1/namespaces/default/serviceaccounts/robot/status", json: .emptyObject)
            #expect(status.status == 403)
            #expect(server.authorizationDenials.count == 3)
            let path = try await sa.get("/foo")
            #expect(path.json["message"] == .string("forbidden: User \"\(user)\" cannot get path \"/foo\""))
            #expect(path.json["details"] == .emptyObject)
            // Discovery, /version and the self reviews are every authenticated user's.
            for p in ["/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/openapi/v3"] { #expect(try await sa.get(p).status == 200, "\(p)") }
            let bad = try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: "not-a-token")
            defer { Task { await bad.close() } }
            let unauthorized = try await bad.get("/api/v1/namespaces")
            #expect(
                unauthorized.json == [
                    "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Failure", "message": "Unauthorized",
                    "reason": "Unauthorized", "code": 401,
                ])
        }
    }

    @Test func rulesMatchAsKubeMatchesThem() async throws {
        try await withServer(crd: false) { server, admin in
            let (sa, _) = try await Self.serviceAccountClient(server, admin)
            defer { Task { await sa.close() } }
            try await Self.create(
                admin,
                Self.role(
                    "mixed", namespace: "default",
                    [
                        ["apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["one"], "verbs": ["get", "list", "create", "update"]],
                        ["apiGroups": ["apps"], "resources": ["*/status"], "verbs": ["patch"]],
                        ["apiGroups": ["*"], "resources": ["leases"], "verbs": ["*"]],
                    ]))
            try await Self.bind(admin, "mixed", namespace: "default", roleKind: "Role", role: "mixed", subject: Self.robot)
            func can(_ verb: String, _ group: String, _ resource: String, sub: String = "", name: String = "", ns: String = "default") async throws
                -> Bool
            {
                try await Self.canI(
                    sa,
                    [
                        "verb": .string(verb), "group": .string(group), "resource": .string(resource), "subresource": .string(sub),
                        "name": .string(name), "namespace": .string(ns),
                    ])
            }
            #expect(try await can("get", "", "configmaps", name: "one"))
            #expect(try await !can("get", "", "configmaps", name: "two"))
            // resourceNames never match a request without a name (list, create).
            #expect(try await !can("list", "", "configmaps"))
            #expect(try await !can("create", "", "configmaps"))
            #expect(try await can("patch", "apps", "deployments", sub: "status", name: "x"))
            #expect(try await !can("patch", "apps", "deployments", name: "x"))
            #expect(try await !can("patch", "", "pods", sub: "status", name: "x"))
            #expect(try await can("deletecollection", "coordination.k8s.io", "leases"))
            #expect(try await can("watch", "anything.example.com", "leases"))
            #expect(try await !can("get", "", "configmaps", name: "one", ns: "kube-system"))
            // A list narrowed to the one name by field selector counts as that name.
            let cm = try await admin.post("/api/v1/namespaces/default/configmaps", ["metadata": ["name": "one"]])
            #expect(cm.status == 201)
            #expect(try await sa.get("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Done").status == 200)
            #expect(try await sa.get("/api/v1/namespaces/default/configmaps").status == 403)

            // A ClusterRole through a RoleBinding acts in that namespace only; through a ClusterRoleBinding everywhere.
            try await Self.create(
                admin, Self.role("secret-reader", namespace: nil, [["apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]]]))
            try await Self.bind(admin, "secrets", namespace: "kube-public", roleKind: "ClusterRole", role: "secret-reader", subject: Self.robot)
            #expect(try await can("get", "", "secrets", name: "s", ns: "kube-public"))
            #expect(try await !can("get", "", "secrets", name: "s", ns: "default"))
            try await Self.create(
                admin,
                Self.role(
                    "node-reader", namespace: nil,
                    [
                        ["apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]],
                        ["nonResourceURLs": ["/logs/*", "/metrics"], "verbs": ["get"]],
                    ]))
            try await Self.bind(
                admin, "node-reader", namespace: nil, roleKind: "ClusterRole", role: "node-reader",
                subject: ["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:default"])
            #expect(try await can("list", "", "nodes", ns: ""))
            #expect(try await Self.canI(sa, ["path": "/logs/kube.log", "verb": "get"], nonResource: true))
            #expect(try await Self.canI(sa, ["path": "/metrics", "verb": "get"], nonResource: true))
            #expect(try await !Self.canI(sa, ["path": "/metrics/x", "verb": "get"], nonResource: true))
            #expect(try await !Self.canI(sa, ["path": "/metrics", "verb": "post"], nonResource: true))
            #expect(try await sa.get("/api/v1/nodes").status == 200)

            // The allowing binding is named as kube names it.
            let review = try await sa.post(
                Self.ssar, ["spec": ["resourceAttributes": ["verb": "get", "resource": "secrets", "namespace": "kube-public", "name": "s"]]])
            #expect(
                review.json[path: "status", "reason"]
                    == "RBAC: allowed by RoleBinding \"secrets/kube-public\" of ClusterRole \"secret-reader\" to ServiceAccount \"robot/default\"")

            // Rules review: the namespace's rules plus the cluster-wide ones and the discovery roles.
            let rules = try await sa.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", ["spec": ["namespace": "kube-public"]])
            #expect(rules.status == 201)
            let resourceRules = rules.json[path: "status", "resourceRules"]?.arrayValue ?? []
            #expect(resourceRules.contains(["verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]]))
            #expect(resourceRules.contains(["verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]]))
            #expect(!resourceRules.contains { $0["resources"] == ["configmaps"] })
            #expect(rules.json[path: "status", "incomplete"] == false)
        }
    }

    @Test func whoamiAndTheAdmin() async throws {
        try await withServer(crd: false) { server, admin in
            let (sa, _) = try await Self.serviceAccountClient(server, admin)
            defer { Task { await sa.close() } }
            let me = try await sa.post(
                "/apis/authentication.k8s.io/v1/selfsubjectreviews", ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
            #expect(me.status == 201)
            let info = me.json[path: "status", "userInfo"] ?? .null
            #expect(info["username"] == "system:serviceaccount:default:robot")
            #expect(info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
            let uid = try await admin.get("/api/v1/namespaces/default/serviceaccounts/robot").json[path: "metadata", "uid"]
            #expect(info["uid"] == uid)
            let adminInfo = try await admin.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", .emptyObject).json[path: "status", "userInfo"]
            #expect(adminInfo?["groups"] == ["system:masters", "system:authenticated"])
            #expect(try await Self.canI(admin, ["verb": "*", "group": "*", "resource": "*"]))
            // The bootstrap policy is stored, as kube-apiserver's is.
            let crbs = try await admin.get("\(Self.rbac)/clusterrolebindings").json["items"]?.arrayValue?.compactMap {
                $0[path: "metadata", "name"]?.stringValue
            }
            #expect(crbs == ["cluster-admin", "system:basic-user", "system:discovery", "system:public-info-viewer"])
            // Discovery lists the review resources and the token subresource.
            let core = try await admin.get("/api/v1").json["resources"]?.arrayValue ?? []
            #expect(core.contains { $0["name"] == "serviceaccounts/token" && $0["kind"] == "TokenRequest" && $0["verbs"] == ["create"] })
            let authz = try await admin.get("/apis/authorization.k8s.io/v1").json["resources"]?.arrayValue ?? []
            #expect(authz.compactMap { $0["name"]?.stringValue }.sorted() == ["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
            #expect(try await admin.get(Self.ssar).status == 405)
        }
    }

    @Test func clientCertificatesOutsideSystemMastersGoThroughRBAC() async throws {
        try await withServer(crd: false) { server, admin in
            let (cert, key) = try server.issueClientCertificate(commonName: "carol", groups: ["devs"])
            let carol = try LoopbackHTTPClient(
                port: server.port, caPEM: server.caCertificatePEM, token: nil, clientCertificatePEM: cert, clientKeyPEM: key)
            defer { Task { await carol.close() } }
            let denied = try await carol.get("/api/v1/namespaces")
            #expect(
                denied.json["message"]
                    == "namespaces is forbidden: User \"carol\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope")
            try await Self.create(
                admin, Self.role("ns-lister", namespace: nil, [["apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]]]))
            try await Self.bind(
                admin, "devs", namespace: nil, roleKind: "ClusterRole", role: "ns-lister",
                subject: ["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"])
            #expect(try await carol.get("/api/v1/namespaces").status == 200)
        }
    }

    @Test func validationAndImmutableRoleRef() async throws {
        try await withServer(crd: false) { _, admin in
            let bad = try await admin.post(
                "\(Self.rbac)/namespaces/default/roles",
                ["metadata": ["name": "bad"], "rules": [["nonResourceURLs": ["/x"], "verbs": ["get"]], ["verbs": []]]])
            #expect(bad.status == 422)
            #expect(
                bad.json["message"]
                    == "Role.rbac.authorization.k8s.io \"bad\" is invalid: [rules[0].nonResourceURLs: Invalid value: []string{\"/x\"}: namespaced rules cannot apply to non-resource URLs, rules[1].verbs: Required value: verbs must contain at least one value, rules[1].apiGroups: Required value: resource rules must supply at least one api group, rules[1].resources: Required value: resource rules must supply at least one resource]"
            )
            try await Self.bind(admin, "b", namespace: "default", roleKind: "Role", role: "r", subject: Self.robot)
            let changed = try await admin.patch("\(Self.rbac)/namespaces/default/rolebindings/b", ["roleRef": ["name": "other"]])
            #expect(changed.status == 422)
            #expect(
                changed.json["message"]
                    == "RoleBinding.rbac.authorization.k8s.io \"b\" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef"
            )
            let crb = try await admin.post(
                "\(Self.rbac)/clusterrolebindings",
                [
                    "metadata": ["name": "c"], "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"],
                    "subjects": [["kind": "ServiceAccount", "name": "x"]],
                ])
            #expect(crb.status == 422)
            #expect(
                crb.json["message"]
                    == "ClusterRoleBinding.rbac.authorization.k8s.io \"c\" is invalid: [roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: Required value]"
            )
            // An aggregated ClusterRole is stored as sent.
            let aggregated = try await admin.post(
                "\(Self.rbac)/clusterroles",
                ["metadata": ["name": "agg"], "aggregationRule": ["clusterRoleSelectors": [["matchLabels": ["a": "b"]]]]])
            #expect(aggregated.status == 201)
        }
    }

    @Test func tokensExpireEndWithTheirServiceAccountAndSurviveRestarts() async throws {
        let dir = try TestDirectories.make("apiserver-sa-tokens").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(dataDirectory: dir))
        let admin = try first.makeTestClient()
        defer { Task { await admin.close() } }
        let (sa, token) = try await Self.serviceAccountClient(first, admin)
        defer { Task { await sa.close() } }
        #expect(try await sa.get("/version").status == 200)
        let short = try await admin.post("/api/v1/namespaces/default/serviceaccounts/robot/token", ["spec": ["expirationSeconds": 60]])
        #expect(short.status == 422)
        #expect(
            short.json["message"]
                == "TokenRequest.authentication.k8s.io \"robot\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"
        )
        #expect(try await admin.post("/api/v1/namespaces/default/serviceaccounts/nobody/token", .emptyObject).status == 404)
        // Hashed at rest.
        let stored = try String(contentsOfFile: dir + "/serviceaccount-tokens.json", encoding: .utf8)
        #expect(!stored.contains(token))
        #expect(stored.contains(SHA256Digest.hex(token)))
        let port = first.port
        try await first.shutdown()

        var second: EmbeddedAPIServer?
        for _ in 0..<50 where second == nil {
            second = try? await EmbeddedAPIServer.start(EmbeddedAPIServerConfiguration(port: port, dataDirectory: dir))
            if second == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let server = try #require(second)
        #expect(try await sa.get("/version").status == 200)
        // Deleting the ServiceAccount ends its tokens; a new one of the same name does not revive them.
        #expect(try await admin.delete("/api/v1/namespaces/default/serviceaccounts/robot").status == 200)
        #expect(try await sa.get("/version").status == 401)
        #expect(try await admin.post("/api/v1/namespaces/default/serviceaccounts", ["metadata": ["name": "robot"]]).status == 201)
        #expect(try await sa.get("/version").status == 401)
        try await server.shutdown()
    }

    @Test func tokensExpireAndNeedTheAPIAudience() async throws {
        let tokens = ServiceAccountTokens()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let (token, expires) = try tokens.issue(
            namespace: "ns", name: "sa", uid: "u", audiences: [ServiceAccountTokens.apiAudience], seconds: 600, now: now)
        #expect(expires == now.addingTimeInterval(600))
        #expect(tokens.lookup(token, now: now.addingTimeInterval(599))?.name == "sa")
        #expect(tokens.lookup(token, now: now.addingTimeInterval(600)) == nil)
        #expect(tokens.lookup("not-issued", now: now) == nil)
        try await withServer(crd: false) { server, admin in
            #expect(try await admin.post("/api/v1/namespaces/default/serviceaccounts", ["metadata": ["name": "vault"]]).status == 201)
            let r = try await admin.post(
                "/api/v1/namespaces/default/serviceaccounts/vault/token", ["spec": ["audiences": ["vault"], "expirationSeconds": 3600]])
            #expect(r.json[path: "spec", "audiences"] == ["vault"])
            let token = try #require(r.json[path: "status", "token"]?.stringValue)
            let other = try LoopbackHTTPClient(port: server.port, caPEM: server.caCertificatePEM, token: token)
            defer { Task { await other.close() } }
            // A token for another audience is not one for the API server.
            #expect(try await other.get("/version").status == 401)
        }
    }

    @Test func policyRuleMatching() {
        func attrs(_ verb: String, _ group: String, _ resource: String, sub: String = "", name: String = "") -> AuthorizationAttributes {
            var a = AuthorizationAttributes(verb: verb, isResourceRequest: true)
            a.apiGroup = group
            a.resource = resource
            a.subresource = sub
            a.name = name
            return a
        }
        let status = PolicyRule(verbs: ["update"], apiGroups: [""], resources: ["pods/status"])
        #expect(status.allows(attrs("update", "", "pods", sub: "status")))
        #expect(!status.allows(attrs("update", "", "pods")))
        let all = PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])
        #expect(all.allows(attrs("escalate", "rbac.authorization.k8s.io", "clusterroles", sub: "x")))
        #expect(!all.allows(AuthorizationAttributes(verb: "get", isResourceRequest: false, path: "/healthz")))
        let urls = PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/api/*"])
        #expect(urls.allows(AuthorizationAttributes(verb: "get", isResourceRequest: false, path: "/api/v1")))
        #expect(urls.allows(AuthorizationAttributes(verb: "get", isResourceRequest: false, path: "/api/")))
        #expect(!urls.allows(AuthorizationAttributes(verb: "get", isResourceRequest: false, path: "/api")))
        #expect(!urls.allows(AuthorizationAttributes(verb: "get", isResourceRequest: false, path: "/healthz/ping")))
        // The request attributes kube-apiserver derives from a path.
        let ns = AuthorizationAttributes.of(
            method: "GET", path: "/api/v1/namespaces/a", segments: ["api", "v1", "namespaces", "a"], query: [:], verb: "get")
        #expect(ns.resource == "namespaces" && ns.name == "a" && ns.namespace == "a")
        let fin = AuthorizationAttributes.of(
            method: "PUT", path: "", segments: ["api", "v1", "namespaces", "a", "finalize"], query: [:], verb: "update")
        #expect(fin.resource == "namespaces" && fin.subresource == "finalize")
        let watch = AuthorizationAttributes.of(
            method: "GET", path: "", segments: ["apis", "apps", "v1", "watch", "namespaces", "b", "deployments"],
            query: ["fieldSelector": "metadata.name=d"], verb: "watch")
        #expect(watch.apiGroup == "apps" && watch.namespace == "b" && watch.resource == "deployments" && watch.name == "d")
    }
}
