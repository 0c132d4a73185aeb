import CalicoAPI
import KubeCore
import Testing

@testable import AdmissionCalico

/// AdmissionReview fixtures.
enum Fixtures {
    static func shoot(
        networking: JSON? = [
            "type": "calico", "pods": "100.96.0.0/11", "nodes": "10.250.0.0/16", "services": "100.64.0.0/13", "ipFamilies": ["IPv4"],
        ],
        providerConfig: JSON? = nil, kubeProxyEnabled: Bool? = nil, workers: Int = 1
    ) -> JSON {
        var s: JSON = [
            "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
            "metadata": ["name": "my-shoot", "namespace": "garden-dev", "labels": ["networking.extensions.gardener.cloud/calico": "true"]],
            "spec": [
                "kubernetes": ["version": "1.33.2"], "region": "local",
                "provider": [
                    "type": "local", "workers": .array((0..<workers).map { ["name": .string("worker-\($0)"), "minimum": 1, "maximum": 2] }),
                ],
            ],
        ]
        if var networking {
            if let providerConfig { networking["providerConfig"] = providerConfig }
            s[path: "spec", "networking"] = networking
        }
        if let kubeProxyEnabled { s[path: "spec", "kubernetes", "kubeProxy"] = ["enabled": .bool(kubeProxyEnabled)] }
        return s
    }

    static func review(
        _ object: JSON?, uid: String = "705ab4f5-6393-11e8-b7cc-42010a800002", operation: String = "CREATE",
        apiVersion: String = "admission.k8s.io/v1", oldObject: JSON? = nil
    ) -> JSON {
        var request: JSON = [
            "uid": .string(uid),
            "kind": ["group": "core.gardener.cloud", "version": "v1beta1", "kind": "Shoot"],
            "resource": ["group": "core.gardener.cloud", "version": "v1beta1", "resource": "shoots"],
            "name": "my-shoot", "namespace": "garden-dev", "operation": .string(operation),
            "userInfo": ["username": "admin", "groups": ["system:masters"]],
            "dryRun": false,
        ]
        if let object { request["object"] = object }
        if let oldObject { request["oldObject"] = oldObject }
        return ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "request": request]
    }
}

@Suite struct AdmissionHandlerTests {
    @Test func allowsValidShoot() {
        let r = AdmissionReviewHandler.handle(body: Fixtures.review(Fixtures.shoot(providerConfig: ["backend": "bird"])).serialized())
        #expect(r.httpStatus == 200)
        #expect(r.outcome == .allowed)
        #expect(r.body["apiVersion"] == "admission.k8s.io/v1")
        #expect(r.body["kind"] == "AdmissionReview")
        #expect(r.body[path: "response", "uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")
        #expect(r.body[path: "response", "allowed"] == true)
    }

    @Test func echoesV1beta1() {
        let r = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(), uid: "abc", apiVersion: "admission.k8s.io/v1beta1"))
        #expect(r.body["apiVersion"] == "admission.k8s.io/v1beta1")
        #expect(r.body[path: "response", "uid"] == "abc")
    }

    @Test func deniesWithEveryError() {
        let pc: JSON = ["backend": "foo", "ipv4": ["pool": "gre", "mode": "Sometimes"], "vethMTU": "abc"]
        let r = AdmissionReviewHandler.handle(
            review: Fixtures.review(Fixtures.shoot(providerConfig: pc), operation: "UPDATE", oldObject: Fixtures.shoot()))
        #expect(r.outcome == .denied)
        #expect(r.body[path: "response", "allowed"] == false)
        #expect(r.body[path: "response", "status", "code"] == 403)
        #expect(r.body[path: "response", "status", "reason"] == "Forbidden")
        let message = r.body[path: "response", "status", "message"]?.stringValue ?? ""
        for field in [
            "spec.networking.providerConfig.backend", "spec.networking.providerConfig.ipv4.pool",
            "spec.networking.providerConfig.ipv4.mode", "spec.networking.providerConfig.vethMTU",
        ] {
            #expect(message.contains(field), "\(message)")
        }
        #expect(message.hasPrefix("[") && message.hasSuffix("]"))
    }

    @Test func deniesKubeProxyWithoutEBPF() {
        let r = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(kubeProxyEnabled: false)))
        #expect(r.outcome == .denied)
        #expect(
            r.body[path: "response", "status", "message"]
                == "spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction with calico without running in ebpf dataplane"
        )
        let ok = AdmissionReviewHandler.handle(
            review: Fixtures.review(Fixtures.shoot(providerConfig: ["ebpfDataplane": ["enabled": true]], kubeProxyEnabled: false)))
        #expect(ok.outcome == .allowed)
    }

    @Test func deniesShootNetworkingErrors() {
        let r = AdmissionReviewHandler.handle(
            review: Fixtures.review(Fixtures.shoot(networking: ["type": "calico", "pods": "nope", "ipFamilies": ["IPv4", "IPv4"]])))
        #expect(r.outcome == .denied)
        let message = r.body[path: "response", "status", "message"]?.stringValue ?? ""
        #expect(message.contains("spec.networking.pods: Invalid value: \"nope\": pods is not a valid CIDR: \"nope\""))
        #expect(message.contains("spec.networking.ipFamilies"))
    }

    @Test func deniesUnknownProviderConfigField() {
        let r = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(providerConfig: ["IPAM": ["type": "host-local"]])))
        #expect(r.outcome == .denied)
        #expect(r.body[path: "response", "status", "message"]?.stringValue?.contains("unknown field \"IPAM\"") == true)
    }

    @Test func skips() {
        let other = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(networking: ["type": "cilium", "pods": "garbage"])))
        #expect(other.outcome == .skipped && other.body[path: "response", "allowed"] == true)
        let noNetworking = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(networking: nil)))
        #expect(noNetworking.outcome == .skipped)
        let workerless = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(providerConfig: ["backend": "bad"], workers: 0)))
        #expect(workerless.outcome == .skipped)
        let delete = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(providerConfig: ["backend": "bad"]), operation: "DELETE"))
        #expect(delete.outcome == .skipped)
        var notShoot = Fixtures.review(Fixtures.shoot(providerConfig: ["backend": "bad"]))
        notShoot[path: "request", "kind"] = ["group": "", "version": "v1", "kind": "ConfigMap"]
        #expect(AdmissionReviewHandler.handle(review: notShoot).outcome == .skipped)
    }

    @Test func erroredObjects() {
        let notObject = AdmissionReviewHandler.handle(review: Fixtures.review("a string"))
        #expect(notObject.outcome == .errored)
        #expect(notObject.httpStatus == 200)
        #expect(notObject.body[path: "response", "status", "code"] == 400)
        #expect(notObject.body[path: "response", "uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")
        let missing = AdmissionReviewHandler.handle(review: Fixtures.review(nil))
        #expect(missing.outcome == .errored)
        let badType = AdmissionReviewHandler.handle(review: Fixtures.review(["spec": ["networking": ["type": 5]]]))
        #expect(badType.outcome == .errored)
        #expect(badType.message?.contains("could not decode request object") == true)
        let badOld = AdmissionReviewHandler.handle(review: Fixtures.review(Fixtures.shoot(), operation: "UPDATE", oldObject: [1]))
        #expect(badOld.message?.contains("could not decode old object") == true)
    }

    @Test(arguments: [
        ("", "empty"), ("not json", "could not decode"), ("[1,2]", "expected a JSON object"),
        (#"{"apiVersion":"v1","kind":"Pod"}"#, "unsupported admission review"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "no request"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":{}}}"#, "no uid"),
    ])
    func malformed(_ body: String, _ expected: String) {
        let r = AdmissionReviewHandler.handle(body: Array(body.utf8))
        #expect(r.outcome == .malformed)
        #expect(r.httpStatus == 400)
        #expect(r.message?.contains(expected) == true, "\(r.message ?? "")")
        #expect(r.body[path: "response", "allowed"] == false)
    }

    @Test func webhookConfigurationObject() {
        let o = WebhookRegistrationOptions(mode: .service, namespace: "extension-admission-calico", servicePort: 0, serverPort: 10250)
        let c = WebhookConfiguration.build(o, caBundlePEM: "PEM", ownerNamespaceUID: "uid-1")
        #expect(c["kind"] == "ValidatingWebhookConfiguration")
        #expect(c[path: "metadata", "name"] == "gardener-extension-admission-calico")
        #expect(c[path: "metadata", "labels", "remediation.webhook.shoot.gardener.cloud/exclude"] == "true")
        #expect(c[path: "metadata", "ownerReferences"]?[0]?["blockOwnerDeletion"] == false)
        #expect(c[path: "metadata", "ownerReferences"]?[0]?["name"] == "extension-admission-calico")
        let w = c["webhooks"]?[0]
        #expect(w?["name"] == "validator.admission-calico.extensions.gardener.cloud")
        #expect(
            w?["rules"] == [
                ["operations": ["CREATE", "UPDATE"], "apiGroups": ["core.gardener.cloud"], "apiVersions": ["*"], "resources": ["shoots"]]
            ])
        #expect(w?["objectSelector"] == ["matchLabels": ["networking.extensions.gardener.cloud/calico": "true"]])
        #expect(w?["namespaceSelector"] == nil)
        #expect(w?["failurePolicy"] == "Fail")
        #expect(w?["matchPolicy"] == "Exact")
        #expect(w?["sideEffects"] == "None")
        #expect(w?["timeoutSeconds"] == 10)
        #expect(w?["admissionReviewVersions"] == ["v1", "v1beta1"])
        #expect(
            w?["clientConfig"] == [
                "service": [
                    "namespace": "extension-admission-calico", "name": "gardener-extension-admission-calico", "path": "/webhooks/validate",
                    "port": 10250,
                ], "caBundle": "UEVN",
            ])

        let url = WebhookConfiguration.build(.init(mode: .url, url: "10.0.0.1:9443"), caBundlePEM: "x")
        #expect(url[path: "webhooks"]?[0]?[path: "clientConfig", "url"] == "https://10.0.0.1:9443/webhooks/validate")
        #expect(url[path: "metadata", "ownerReferences"] == nil)
        let us = WebhookConfiguration.build(.init(mode: .urlService, namespace: "ns", servicePort: 443, serverPort: 10250), caBundlePEM: "x")
        #expect(us[path: "webhooks"]?[0]?[path: "clientConfig", "url"] == "https://gardener-extension-admission-calico.ns:443/webhooks/validate")
        #expect(WebhookConfiguration.name(namespace: "runtime-extension-calico") == "gardener-extension-admission-calico-runtime")
        #expect(WebhookConfiguration.servingNames(.init(mode: .url, url: "[::1]:8443")) == ["::1"])
        #expect(WebhookConfiguration.servingNames(.init(mode: .service, namespace: "ns")).contains("gardener-extension-admission-calico.ns.svc"))
        #expect(Base64.decode(Base64.encode(Array("hello!?".utf8))) == Array("hello!?".utf8))
    }

    @Test func optionsParsing() throws {
        var o = AdmissionOptions()
        o.disableWebhooks = ["validator"]
        #expect(try o.webhookDisabled())
        o.disableWebhooks = ["*"]
        #expect(try o.webhookDisabled())
        o.disableWebhooks = ["foo"]
        #expect(throws: AdmissionOptions.Invalid("cannot disable unknown webhook \"foo\"")) { try o.webhookDisabled() }
        o.mode = "bogus"
        #expect(throws: AdmissionOptions.Invalid.self) { try o.registrationOptions() }
        o.mode = "url"
        #expect(throws: AdmissionOptions.Invalid.self) { try o.registrationOptions() }
        o.applyEnvironment(
            ["GARDEN_KUBECONFIG": "/k", "WEBHOOK_CONFIG_NAMESPACE": "ns", "LEADER_ELECTION_NAMESPACE": "le"], namespaceFlagSet: false)
        #expect(o.kubeconfig == "/k" && o.namespace == "ns")
    }

    @Test func certificatesCoverNames() throws {
        let certs = try CertificateGenerator.generate(names: ["webhook.example", "10.1.2.3", "::1"])
        let sans = try CertificateAuthority.subjectAlternativeNames(ofPEM: certs.serverCertificatePEM)
        #expect(sans == ["webhook.example", "10.1.2.3", "::1"])
        #expect(certs.caCertificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }
}
